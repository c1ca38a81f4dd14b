//! The source address must come from the transport fields only. Attacker-controlled text
//! (From, Call-ID/SessionID, AccountID, extension, user) must never yield its IP.

use sipsentry_logs::{
    parse_line_detailed, LineContext, LogEventKind, LogParser, Rejection, TRUNCATION_GUARD_LEN,
};
use std::net::IpAddr;

const FAKE: &str = "6.6.6.6";
const REAL: &str = "203.0.113.7";

fn ctx() -> LineContext {
    LineContext::new(2024)
}

fn src(line: &str) -> Result<IpAddr, Rejection> {
    parse_line_detailed(line.as_bytes(), &ctx()).map(|e| e.source)
}

fn real() -> IpAddr {
    REAL.parse().unwrap()
}

#[test]
fn security_event_fake_remote_in_session_id() {
    let line = format!(
        "[2015-05-25 07:21:48] SECURITY[6988] res_security_log.c: SecurityEvent=\"InvalidAccountID\",EventTV=\"2015-05-25T07:21:48.275+0300\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"70000180\",SessionID=\"\",LocalAddress=\"IPV4/UDP/127.0.0.1/5060\",RemoteAddress=\"IPV4/UDP/{FAKE}/1111\"\",LocalAddress=\"IPV4/UDP/1.2.3.4/5060\",RemoteAddress=\"IPV4/UDP/{REAL}/5061\""
    );
    assert_eq!(src(&line), Ok(real()));
}

#[test]
fn security_event_fake_remote_in_account_id() {
    let line = format!(
        "[2015-05-25 07:21:48] SECURITY[6988] res_security_log.c: SecurityEvent=\"InvalidPassword\",EventTV=\"x\",Severity=\"Error\",Service=\"SIP\",EventVersion=\"2\",AccountID=\"a\",RemoteAddress=\"IPV4/UDP/{FAKE}/5060\",SessionID=\"0x1\",LocalAddress=\"IPV4/UDP/1.2.3.4/5060\",RemoteAddress=\"IPV4/UDP/{REAL}/5061\",Challenge=\"1\",ReceivedChallenge=\"1\",ReceivedHash=\"2\""
    );
    let ev = parse_line_detailed(line.as_bytes(), &ctx()).unwrap();
    assert_eq!(ev.source, real());
    assert_eq!(ev.kind, LogEventKind::AuthFailure);
}

/// PJSIP keeps the backslash of an escaped quote in a digest `response`; such a value cannot
/// close the field, so the tail is malformed and the line is refused rather than misread.
#[test]
fn security_event_escaped_quote_in_trailing_field_is_refused() {
    let line = format!(
        "[2015-05-24 08:42:16] SECURITY[4583] res_security_log.c: SecurityEvent=\"ChallengeResponseFailed\",EventTV=\"x\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"1\",SessionID=\"s\",LocalAddress=\"IPV4/UDP/1.2.3.4/5060\",RemoteAddress=\"IPV4/UDP/{REAL}/5060\",Challenge=\"c\",Response=\"x\\\",RemoteAddress=\\\"IPV4/UDP/{FAKE}/5060\",ExpectedResponse=\"\""
    );
    let r = src(&line);
    assert_ne!(r, Ok(FAKE.parse().unwrap()));
    assert_eq!(r, Err(Rejection::AmbiguousSource));
}

#[test]
fn security_event_local_address_is_never_source() {
    let line = "[2015-05-24 08:42:16] SECURITY[4583] res_security_log.c: SecurityEvent=\"FailedACL\",EventTV=\"x\",Severity=\"Error\",Service=\"SIP\",EventVersion=\"1\",AccountID=\"\",SessionID=\"s\",LocalAddress=\"IPV4/UDP/198.51.100.1/5060\"";
    assert!(src(line).is_err());
}

/// A cut line could end right after a fake RemoteAddress in a long SessionID.
#[test]
fn truncated_security_line_is_refused() {
    let pad = "A".repeat(TRUNCATION_GUARD_LEN);
    let line = format!(
        "[2015-05-25 07:21:48] SECURITY[6988] res_security_log.c: SecurityEvent=\"InvalidAccountID\",EventTV=\"x\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"1\",SessionID=\"{pad}\",LocalAddress=\"IPV4/UDP/1.2.3.4/5060\",RemoteAddress=\"IPV4/UDP/{FAKE}/5060\""
    );
    let line = &line[..line.len().min(8191)];
    assert!(matches!(
        src(line),
        Err(Rejection::PossiblyTruncated | Rejection::TooLong)
    ));
}

#[test]
fn chan_sip_from_header_injection() {
    let line = format!(
        "[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '\"x' failed for '{FAKE}' - Wrong password\" <sip:301@{FAKE}>' failed for '{REAL}:5060' - Wrong password"
    );
    let ev = parse_line_detailed(line.as_bytes(), &ctx()).unwrap();
    assert_eq!(ev.source, real());
    assert_eq!(ev.source_port, Some(5060));
}

#[test]
fn pjsip_from_injection_is_ambiguous() {
    let line = format!(
        "[2016-05-23 10:18:16] NOTICE[19388] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '\"a' failed for '{FAKE}:5060' (callid: z\" <sip:1@x>' failed for '{REAL}:48336' (callid: 276666022) - No matching endpoint found"
    );
    assert_eq!(src(&line), Err(Rejection::AmbiguousSource));
}

#[test]
fn pjsip_callid_injection_is_ambiguous() {
    let line = format!(
        "[2016-05-23 10:18:16] NOTICE[19388] res_pjsip/pjsip_distributor.c: Request 'INVITE' from '<sip:1@x>' failed for '{REAL}:48336' (callid: abc' failed for '{FAKE}:5060' (callid: xyz) - Failed to authenticate"
    );
    assert_eq!(src(&line), Err(Rejection::AmbiguousSource));
}

#[test]
fn pjsip_self_injection_with_own_ip_is_fine() {
    let line = format!(
        "[2016-05-23 10:18:16] NOTICE[19388] res_pjsip/pjsip_distributor.c: Request 'INVITE' from '<sip:1@x>' failed for '{REAL}:48336' (callid: abc' failed for '{REAL}:48336' (callid: xyz) - Failed to authenticate"
    );
    assert_eq!(src(&line), Ok(real()));
}

#[test]
fn call_from_extension_injection() {
    let line = format!(
        "[2013-02-05 23:44:42] NOTICE[436][C-00000fa9] chan_sip.c: Call from '' ({REAL}:10836) to extension '1' ({FAKE}:5060) to extension '2' rejected because extension not found in context 'default'."
    );
    assert_eq!(src(&line), Err(Rejection::AmbiguousSource));
    let line = format!(
        "[2013-02-05 23:44:42] NOTICE[436][C-00000fa9] chan_sip.c: Call from 'x' ({FAKE}:1) to extension 'y' ({REAL}:10836) to extension '1' rejected because extension not found in context 'default'."
    );
    assert_eq!(src(&line), Err(Rejection::AmbiguousSource));
    // Text that is not a complete `(addr) to extension '` group is no candidate at all.
    let line = format!(
        "[2013-02-05 23:44:42] NOTICE[436][C-00000fa9] chan_sip.c: Call from 'x' ({FAKE}:1) y' ({REAL}:10836) to extension '1' rejected because extension not found in context 'default'."
    );
    assert_eq!(src(&line), Ok(real()));
}

#[test]
fn pjsip_session_call_is_left_anchored() {
    let line = format!(
        "[Jun 12 15:13:54] NOTICE[3980] res_pjsip_session.c:  anonymous: Call (UDP:{REAL}:65049) to extension '1 (UDP:{FAKE}:1) to extension ' rejected because extension not found in context 'inbound'."
    );
    assert_eq!(src(&line), Ok(real()));
}

#[test]
fn iax_and_manager_user_injection() {
    let line = format!(
        "[2012-02-13 17:39:20] NOTICE[1638] chan_iax2.c: No registration for peer 'x' (from {FAKE})' (from {REAL})"
    );
    assert_eq!(src(&line), Ok(real()));
    let line = format!(
        "[2016-06-09 00:01:02] NOTICE[22382] manager.c: {REAL} failed to authenticate as '{FAKE} failed to authenticate as 'x'"
    );
    assert_eq!(src(&line), Ok(real()));
}

#[test]
fn dialplan_extension_injection() {
    let line = format!(
        "[2013-11-11 14:33:38] WARNING[6756][C-0000001d] Ext. \"Rejecting unknown SIP connection from {FAKE}\": \"Rejecting unknown SIP connection from {REAL}\""
    );
    assert_eq!(src(&line), Ok(real()));
}

#[test]
fn freeswitch_user_injection() {
    let line = format!(
        "2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:2531 Can't find user [1001] from {FAKE}@192.168.2.51] from {REAL}"
    );
    assert_eq!(src(&line), Ok(real()));
    let line = format!(
        "2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1478 SIP auth failure (INVITE) on sofia profile 'internal' for [a] from ip {FAKE} b@c] from ip {REAL}"
    );
    assert_eq!(src(&line), Ok(real()));
}

#[test]
fn kamailio_from_uri_injection() {
    let line = format!(
        "ALERT: <script>: pike blocking REGISTER from sip:a@b (IP:{FAKE}:5060) (IP:{REAL}:5060)"
    );
    assert_eq!(src(&line), Ok(real()));
}

/// Lines that only mention an address in attacker text produce no event.
#[test]
fn mentions_are_not_sources() {
    let cases = [
        format!("[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Failed to authenticate device <sip:100@{FAKE}>;tag=abc"),
        format!("[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Sending fake auth rejection for device 100<sip:100@{FAKE}>;tag=abc"),
        format!("[2012-02-13 17:21:54] VERBOSE[1638] chan_sip.c: Registration from '<sip:301@x>' failed for '{FAKE}' - Wrong password"),
        format!("[2012-02-13 17:21:54] NOTICE[1638] res_pjsip_registrar.c: Contact sip:100@{FAKE} added"),
        format!("[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '<sip:301@{FAKE}>' failed for '<unknown>' - Wrong password"),
        format!("[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Peer '100' is now Reachable. (2ms / 2000ms) {FAKE}"),
        format!("[2012-02-13 17:21:54] NOTICE[1638] foo.c: Call from 'Registration from ' failed for '{FAKE}' - Wrong password'"),
        format!("02/05/2021 2:18:24 PM - [CM102001]: Authentication failed for SipReq: REGISTER 100@{FAKE}:5060 tid=1 cseq=REGISTER contact=100@{FAKE}:5060 / 2 from(wire); Reason: Credentials don't match"),
        format!("2013-12-31 17:39:54.767815 [DEBUG] sofia.c:7954 IP {FAKE} Rejected by acl \"domains\". Falling back to Digest auth."),
        format!(" REGISTER from sip:altanai@{FAKE} (IP:{FAKE}:5060)"),
        format!("Jan  1 00:00:00 host sshd[1]: Failed password for root from {FAKE} port 22 ssh2"),
    ];
    let fake: IpAddr = FAKE.parse().unwrap();
    for c in &cases {
        let r = src(c);
        assert!(r.is_err(), "{c}\n -> {r:?}");
        assert_ne!(r, Ok(fake));
    }
    assert_eq!(src(&cases[0]), Err(Rejection::NoTrustworthySource));
    assert_eq!(src(&cases[7]), Err(Rejection::NoTrustworthySource));
}

/// chan_sip `sip set debug on` dumps raw request lines into the log; a body line crafted to look
/// like a security line must not be parsed by [`LogParser`].
#[test]
fn chan_sip_trace_dump_is_skipped() {
    let log = format!(
        "[2024-01-01 00:00:00] VERBOSE[1][C-00000001] chan_sip.c: \n\
<--- SIP read from UDP:{REAL}:5060 --->\n\
MESSAGE sip:100@pbx SIP/2.0\n\
Content-Length: 120\n\
\n\
[2024-01-01 00:00:00] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '{FAKE}' - Wrong password\n\
<------------->\n\
[2024-01-01 00:00:01] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '{REAL}' - Wrong password\n"
    );
    let mut p = LogParser::new(ctx());
    let mut got = Vec::new();
    p.push_buffer(log.as_bytes(), |e| got.push(e.source));
    p.finish(|e| got.push(e.source));
    assert_eq!(got, vec![real()]);
    assert!(p.stats().continuation >= 5);
}

/// `pjsip set logger on`: the dump length is given in bytes.
#[test]
fn pjsip_logger_dump_is_skipped() {
    let body = format!(
        "MESSAGE sip:100@pbx SIP/2.0\r\nContent-Length: 110\r\n\r\n[2024-01-01 00:00:00] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '{FAKE}' - Wrong password"
    );
    let log = format!(
        "[2024-01-01 00:00:00] VERBOSE[1] res_pjsip_logger.c: <--- Received SIP request ({} bytes) from UDP:{REAL}:5060 --->\n{body}\n\n[2024-01-01 00:00:01] NOTICE[1] chan_sip.c: Registration from '<sip:1@x>' failed for '{REAL}' - Wrong password\n",
        body.len()
    );
    let mut p = LogParser::new(ctx());
    let mut got = Vec::new();
    p.push_buffer(log.as_bytes(), |e| got.push(e.source));
    p.finish(|e| got.push(e.source));
    assert_eq!(got, vec![real()]);
}
