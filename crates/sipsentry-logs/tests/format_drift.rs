//! Format variants beyond the fixtures: syslog/journald prefixes (Asterisk 21 syslog formatter,
//! RFC 3339 timestamps, `<PRI>`), ports after IPs, IPv6, CRLF, long lines, other formats.

mod common;

use sipsentry_logs::crowdsec::{crowdsec_like_decision_with, ASTERISK_BF};
use sipsentry_logs::{
    crowdsec_like_decision, detect_format, lines, parse_line, parse_line_detailed, Format,
    LineContext, LogEvent, LogEventKind, LogParser, OwnedLogEvent, Rejection, Transport,
    MAX_LINE_LEN,
};
use std::net::IpAddr;

fn ctx() -> LineContext {
    LineContext::new(2024)
}

fn ev(line: &str) -> LogEvent<'_> {
    parse_line_detailed(line.as_bytes(), &ctx()).unwrap_or_else(|r| panic!("{line}\n -> {r}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn secs(e: &LogEvent<'_>) -> i64 {
    e.ts.unwrap().div_euclid(1_000_000_000)
}

fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
    common::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s
}

/// Asterisk's syslog formatter (`LEVEL[lwp][C-...]: file:line in func: msg`) behind rsyslog's
/// RFC 3339 high-precision timestamp, as current Asterisk (20/21) + rsyslog write it.
#[test]
fn asterisk21_syslog_rfc3339() {
    let e = ev("2024-07-08T22:25:10.826513-06:00 alba asterisk[112836]: SECURITY[112882][C-0000001a]: res_security_log.c:114 in security_event_stasis_cb: SecurityEvent=\"ChallengeResponseFailed\",EventTV=\"2024-07-08T22:25:10.826-0600\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"<unknown>\",SessionID=\"9860f048\",LocalAddress=\"IPV4/TCP/192.168.100.62/5060\",RemoteAddress=\"IPV4/TCP/192.168.100.12/33021\",Challenge=\"1/5\",Response=\"2e\",ExpectedResponse=\"\"");
    assert_eq!(e.source, ip("192.168.100.12"));
    assert_eq!(e.transport, Some(Transport::Tcp));
    assert_eq!(secs(&e), utc(2024, 7, 9, 4, 25, 10));
    assert_eq!(e.ts.unwrap() % 1_000_000_000, 826_513_000);
}

#[test]
fn asterisk_syslog_bsd_variants() {
    for (line, day) in [
        ("Jul  8 22:25:10 alba asterisk[1]: NOTICE[2]: chan_sip.c:23417 in handle_request_register: Registration from '<sip:301@x>' failed for '198.51.100.4:5062' - Wrong password", 8),
        ("<29>Jul 18 22:25:10 alba asterisk[1]: NOTICE[2]: chan_sip.c:23417 in handle_request_register: Registration from '<sip:301@x>' failed for '198.51.100.4:5062' - Wrong password", 18),
        ("Jul 08 22:25:10 alba /usr/sbin/asterisk[1]: NOTICE[2]: chan_sip.c:23417 in handle_request_register: Registration from '<sip:301@x>' failed for '198.51.100.4:5062' - Wrong password", 8),
    ] {
        let e = ev(line);
        assert_eq!(e.source, ip("198.51.100.4"), "{line}");
        assert_eq!(e.source_port, Some(5062));
        assert_eq!(secs(&e), utc(2024, 7, day, 22, 25, 10));
    }
    // Journal without date.
    let e = ev("pbx asterisk[123]: WARNING[9]: chan_sip.c:1 in x: Registration from '<sip:1@x>' failed for '198.51.100.4' - Device does not match ACL");
    assert_eq!(e.kind, LogEventKind::AclReject);
    assert_eq!(e.ts, None);
}

/// Asterisk `[plain]` formatter with millisecond dateformat.
#[test]
fn asterisk_plain_formatter_millis() {
    let e = ev("[2024-07-08 22:25:10.123] NOTICE[1][C-0000001a]: res_pjsip/pjsip_distributor.c:676 log_failed_request: Request 'REGISTER' from '<sip:100@x>' failed for '203.0.113.5:5060' (callid: abc) - No matching endpoint found");
    assert_eq!(e.source, ip("203.0.113.5"));
    assert_eq!(e.ts.unwrap() % 1_000_000_000, 123_000_000);
    assert_eq!(e.user, Some(&b"100"[..]));
}

#[test]
fn ports_and_ipv6() {
    let cases: [(&str, &str, Option<u16>); 10] = [
        ("[2024-01-01 00:00:00] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '[2001:db8::5]:5060' - Wrong password", "2001:db8::5", Some(5060)),
        ("[2024-01-01 00:00:00] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '2001:db8::5' - Wrong password", "2001:db8::5", None),
        ("[2024-01-01 00:00:00] SECURITY[1] res_security_log.c: SecurityEvent=\"InvalidAccountID\",EventTV=\"x\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"1\",SessionID=\"s\",LocalAddress=\"IPV6/UDP/2001:db8::1/5060\",RemoteAddress=\"IPV6/UDP/2001:db8::6/5070\"", "2001:db8::6", Some(5070)),
        ("[2024-01-01 00:00:00] SECURITY[1] res_security_log.c: SecurityEvent=\"InvalidAccountID\",EventTV=\"x\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"1\",SessionID=\"s\",LocalAddress=\"IPV6/UDP/[2001:db8::1]/5060\",RemoteAddress=\"IPV6/WSS/[2001:db8::6]/443\"", "2001:db8::6", Some(443)),
        ("[2024-01-01 00:00:00] NOTICE[1] manager.c: 2001:db8::7 failed to authenticate as 'admin'", "2001:db8::7", None),
        ("[2024-01-01 00:00:00] NOTICE[1] res_pjsip_session.c:1 new_invite: Call from 'a' (UDP:[2001:db8::8]:5060) to extension '1' rejected because extension not found in context 'c'.", "2001:db8::8", Some(5060)),
        ("2024-01-01 00:00:00.000001 [WARNING] sofia_reg.c:1 SIP auth failure (REGISTER) on sofia profile 'p' for [1@x] from ip 2001:db8::9", "2001:db8::9", None),
        ("2024-01-01 00:00:00.000001 [WARNING] sofia_reg.c:1 Can't find user [1@x] from 198.51.100.9:5080", "198.51.100.9", Some(5080)),
        ("2024-01-01 00:00:00.000001 [WARNING] sofia_reg.c:1 IP ::ffff:198.51.100.10 Rejected by register acl \"domains\"", "198.51.100.10", None),
        ("ALERT: <script>: pike blocking INVITE from sip:a@b (IP:2001:db8::a:5060)", "2001:db8::a", Some(5060)),
    ];
    for (line, want, port) in cases {
        let e = ev(line);
        assert_eq!(e.source, ip(want), "{line}");
        assert_eq!(e.source_port, port, "{line}");
    }
}

#[test]
fn crlf_line_endings() {
    let buf = common::read("asterisk.fail2ban.log");
    let crlf: Vec<u8> = buf
        .split(|&b| b == b'\n')
        .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
        .collect();
    let collect = |b: &[u8]| {
        let mut p = LogParser::new(ctx());
        let mut v = Vec::new();
        p.push_buffer(b, |e| v.push((e.source, e.kind, e.ts)));
        p.finish(|e| v.push((e.source, e.kind, e.ts)));
        v
    };
    let a = collect(&buf);
    let b = collect(&crlf);
    assert_eq!(a.len(), 48);
    assert_eq!(a, b);
    let e = ev("2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:2531 Can't find user [1001@x] from 5.11.47.236\r\n");
    assert_eq!(e.source, ip("5.11.47.236"));
}

#[test]
fn long_lines_never_panic() {
    // Just under the cap: FreeSWITCH lines are not cut by the PBX, so they still parse.
    let head = "2024-01-01 00:00:00.000001 [WARNING] sofia_reg.c:1 Can't find user [";
    let tail = "@x] from 198.51.100.11";
    let pad = "u".repeat(MAX_LINE_LEN - head.len() - tail.len());
    let line = format!("{head}{pad}{tail}");
    assert_eq!(line.len(), MAX_LINE_LEN);
    assert_eq!(ev(&line).source, ip("198.51.100.11"));
    let longer = format!("{head}u{pad}{tail}");
    assert_eq!(
        parse_line_detailed(longer.as_bytes(), &ctx()),
        Err(Rejection::TooLong)
    );
    // Asterisk near its 8 KiB buffer: refused as possibly truncated.
    let line = format!(
        "[2024-01-01 00:00:00] NOTICE[1] chan_sip.c: Registration from '<sip:{}@x>' failed for '198.51.100.12' - Wrong password",
        "u".repeat(8000)
    );
    assert_eq!(
        parse_line_detailed(line.as_bytes(), &ctx()),
        Err(Rejection::PossiblyTruncated)
    );
    // Huge garbage and huge buffers of separators.
    for big in [
        vec![b'['; 1 << 20],
        vec![b'"'; 1 << 20],
        b"RemoteAddress=\"".repeat(50_000),
        b"' failed for '1.2.3.4' (callid: ".repeat(30_000),
        vec![b'\n'; 1 << 16],
    ] {
        let _ = parse_line(&big, &ctx());
        let mut p = LogParser::new(ctx());
        p.push_buffer(&big, |_| {});
        p.finish(|_| {});
        let _ = detect_format(lines(&big));
    }
}

#[test]
fn non_utf8_user_is_kept_as_bytes() {
    let mut line = b"[2015-05-25 07:52:36] SECURITY[6988] res_security_log.c: SecurityEvent=\"InvalidAccountID\",EventTV=\"x\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"".to_vec();
    line.extend_from_slice(&[0xff, 0xfe, b'1']);
    line.extend_from_slice(b"\",SessionID=\"\xd0\x9d\",LocalAddress=\"IPV4/UDP/1.2.3.4/5060\",RemoteAddress=\"IPV4/UDP/10.250.251.252/5061\"");
    let e = parse_line(&line, &ctx()).unwrap();
    assert_eq!(e.user, Some(&[0xff, 0xfe, b'1'][..]));
    assert_eq!(e.source, ip("10.250.251.252"));
    assert_eq!(
        &line[e.source_span.clone()],
        b"IPV4/UDP/10.250.251.252/5061"
    );
}

#[test]
fn security_events_successful_auth_and_challenge() {
    let base = "[2024-01-01 00:00:00] SECURITY[1] res_security_log.c: SecurityEvent=\"NAME\",EventTV=\"x\",Severity=\"Informational\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"100\",SessionID=\"s\",LocalAddress=\"IPV4/UDP/192.0.2.1/5060\",RemoteAddress=\"IPV4/UDP/198.51.100.20/5060\",UsingPassword=\"1\"";
    let kind = |name: &str| ev(&base.replace("NAME", name)).kind;
    assert_eq!(kind("SuccessfulAuth"), LogEventKind::AuthSuccess);
    assert!(!kind("SuccessfulAuth").is_failure());
    assert_eq!(kind("ChallengeSent"), LogEventKind::AuthChallenge);
    assert_eq!(kind("RequestNotAllowed"), LogEventKind::PolicyViolation);
    let ami = base
        .replace("NAME", "InvalidPassword")
        .replace("PJSIP", "AMI");
    assert_eq!(ev(&ami).kind, LogEventKind::ManagerAuthFailure);
    assert_eq!(
        parse_line_detailed(base.replace("NAME", "Whatever").as_bytes(), &ctx()),
        Err(Rejection::NotSecurityEvent)
    );
    let e = ev(
        "[2024-01-01 00:00:00] NOTICE[1] manager.c: Manager 'admin' logged on from 198.51.100.21",
    );
    assert_eq!(
        (e.kind, e.source),
        (LogEventKind::AuthSuccess, ip("198.51.100.21"))
    );
}

#[test]
fn detect_format_per_fixture() {
    let cases = [
        ("asterisk.fail2ban.log", Format::AsteriskFull),
        ("freeswitch.fail2ban.log", Format::FreeSwitch),
        ("3cx.samples.log", Format::ThreeCx),
        ("kamailio.samples.log", Format::Kamailio),
        (
            "crowdsec/asterisk-bf/asterisk-bf.log",
            Format::AsteriskSecurity,
        ),
        (
            "crowdsec/asterisk-syslogs/asterisk-logs.log",
            Format::AsteriskSyslog,
        ),
    ];
    for (f, want) in cases {
        let buf = common::read(f);
        assert_eq!(detect_format(lines(&buf)), want, "{f}");
    }
    let fs_syslog = b"2016-09-25T18:57:58.150982 www.srv.tld freeswitch[122921]: 2016-09-25 18:57:58.150982 [WARNING] sofia_reg.c:2889 Can't find user [201@::1] from 192.0.2.1";
    assert_eq!(detect_format([&fs_syslog[..]]), Format::FreeSwitchSyslog);
    assert_eq!(detect_format([&b"hello world"[..]]), Format::Unknown);
}

/// Restricting the format keeps other services' lines out.
#[test]
fn format_restriction() {
    let fs = b"2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:2531 Can't find user [1001@x] from 5.11.47.236";
    let mut c = ctx();
    c.format = Some(Format::AsteriskFull);
    assert!(parse_line(fs, &c).is_none());
    c.format = Some(Format::FreeSwitch);
    assert!(parse_line(fs, &c).is_some());
}

#[test]
fn threecx_multiline_entry() {
    let buf = common::read("3cx.samples.log");
    let mut p = LogParser::new(ctx());
    let mut v: Vec<OwnedLogEvent> = Vec::new();
    p.push_buffer(&buf, |e| v.push(e.to_owned_event()));
    p.finish(|e| v.push(e.to_owned_event()));
    assert_eq!(v.len(), 1);
    let e = &v[0];
    assert_eq!(e.source, ip("192.168.4.226"));
    assert_eq!(e.source_port, Some(18437));
    assert_eq!(e.kind, LogEventKind::AuthFailure);
    assert_eq!(e.user.as_deref(), Some(&b"103"[..]));
    assert_eq!(e.transport, Some(Transport::Tcp));
    assert_eq!(e.service, "3cx");
    assert_eq!(
        e.ts.unwrap().div_euclid(1_000_000_000),
        utc(2021, 2, 5, 14, 18, 24)
    );
    // Continuation lines alone are not events.
    for l in lines(&buf).filter(|l| l.starts_with(b"Via:") || l.starts_with(b"Contact:")) {
        assert!(parse_line(l, &ctx()).is_none());
    }
}

#[test]
fn kamailio_pike() {
    let buf = common::read("kamailio.samples.log");
    let mut p = LogParser::new(ctx());
    let mut v = Vec::new();
    p.push_buffer(&buf, |e| v.push((e.source, e.kind, e.reason)));
    assert_eq!(
        v,
        vec![
            (
                ip("10.10.10.10"),
                LogEventKind::FloodOrBlocked,
                "kamailio.pike_block"
            ),
            (
                ip("10.10.10.10"),
                LogEventKind::FloodOrBlocked,
                "kamailio.pike_blocking_alert"
            ),
        ]
    );
    let e = ev("Dec  2 10:00:00 sip /usr/sbin/kamailio[3037]: WARNING: pike [pike_funcs.c:151]: pike_check_req(): PIKE - BLOCKing ip 198.51.100.30, node=0x1");
    assert_eq!(e.source, ip("198.51.100.30"));
    assert_eq!(e.service, "kamailio");
}

#[test]
fn leaky_bucket_helper() {
    let mk = |t: i64| OwnedLogEvent {
        ts: Some(t * 1_000_000_000),
        source: ip("198.51.100.40"),
        source_port: None,
        kind: LogEventKind::AuthFailure,
        reason: "x",
        user: None,
        service: "asterisk",
        transport: None,
        raw_span: 0..0,
        source_span: 0..0,
    };
    let five: Vec<_> = (0..5).map(mk).collect();
    assert!(crowdsec_like_decision(&five, 5, 10).is_empty());
    let six: Vec<_> = (0..6).map(mk).collect();
    let o = crowdsec_like_decision(&six, 5, 10);
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].events, 6);
    // One event per leak period never overflows.
    let slow: Vec<_> = (0..100).map(|i| mk(i * 10)).collect();
    assert!(crowdsec_like_decision(&slow, 5, 10).is_empty());
    // Blackhole: a second burst inside the minute raises no second alert.
    let bursts: Vec<_> = (0..6).map(mk).chain((30..36).map(mk)).collect();
    assert_eq!(crowdsec_like_decision_with(&bursts, &ASTERISK_BF).len(), 1);
    assert_eq!(crowdsec_like_decision(&bursts, 5, 10).len(), 2);
}
