//! Property tests: no input panics; injected fake addresses in attacker-controlled fields are
//! never reported as the source.

use proptest::prelude::*;
use sipsentry_logs::{fuzz_line, parse_line_detailed, LineContext, LogParser};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn ctx() -> LineContext {
    LineContext::new(2024)
}

/// Attacker-ish text: printable ASCII including quotes, commas, brackets, `=`, plus a little
/// UTF-8, but no line breaks (a line break would be log injection, out of scope per line).
fn junk() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::range(' ', '~'),
            1 => Just('Н'),
            1 => Just('"'),
            1 => Just('\''),
        ],
        0..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn ipv4() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)))
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        3 => ipv4(),
        1 => any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s)).to_canonical()),
    ]
}

fn fmt_ip_port(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v) => format!("{v}:{port}"),
        IpAddr::V6(v) => format!("[{v}]:{port}"),
    }
}

fn ipv(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPV4"
    } else {
        "IPV6"
    }
}

/// Fragments of real lines to splice into arbitrary input.
const FRAGMENTS: &[&str] = &[
    "[2012-02-13 17:21:54] ",
    "NOTICE[1638] ",
    "SECURITY[1] res_security_log.c: ",
    "SecurityEvent=\"InvalidPassword\"",
    ",RemoteAddress=\"IPV4/UDP/1.2.3.4/5060\"",
    ",LocalAddress=\"IPV6/UDP/[::1]/5060\"",
    "chan_sip.c: Registration from '",
    "' failed for '",
    "' - Wrong password",
    "res_pjsip/pjsip_distributor.c: Request 'INVITE' from '",
    "' (callid: ",
    ") - No matching endpoint found",
    "Call from '",
    "' (UDP:[2001:db8::1]:5060) to extension '",
    "' rejected because extension not found in context '",
    "2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1478 ",
    "SIP auth failure (INVITE) on sofia profile 'p' for [",
    "] from ip ",
    "Can't find user [",
    "IP 1.2.3.4 Rejected by register acl",
    "02/05/2021 2:18:24 PM - [CM102001]: Authentication failed for AuthFail Recv Req REGISTER from ",
    "Jul  8 22:25:10 alba asterisk[1]: ",
    "WARNING: pike [pike_funcs.c:151]: pike_check_req(): PIKE - BLOCKing ip ",
    "ALERT: pike blocking REGISTER from sip:a@b (IP:",
    "<--- SIP read from UDP:1.2.3.4:5060 --->\n",
    "<------------->\n",
    "<--- Received SIP request (20 bytes) from UDP:1.2.3.4:5060 --->\n",
    "Ext. s: \"Rejecting unknown SIP connection from ",
    "1.2.3.4",
    "2001:db8::1",
    ":5060",
    "\r",
    "\n",
    "'",
    "\"",
    " ",
];

fn spliced() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            3 => proptest::sample::select(FRAGMENTS).prop_map(|s| s.as_bytes().to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 0..8),
        ],
        0..24,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        fuzz_line(&data);
    }

    #[test]
    fn spliced_fragments_never_panic(data in spliced()) {
        fuzz_line(&data);
        let mut c = ctx();
        c.year_rollover_reference = Some(0);
        c.utc_offset_seconds = -86_399;
        let _ = parse_line_detailed(&data, &c);
    }

    /// A fake RemoteAddress (or any address) inside SessionID or AccountID never becomes the
    /// source, and the real one is still found.
    #[test]
    fn security_event_injection(
        real in any_ip(), fake in any_ip(), port in any::<u16>(), fport in any::<u16>(),
        j1 in junk(), j2 in junk(), j3 in junk(), in_account in any::<bool>(),
    ) {
        prop_assume!(real != fake);
        let injected = format!(
            "{j1}\",LocalAddress=\"IPV4/UDP/127.0.0.1/5060\",RemoteAddress=\"{}/UDP/{fake}/{fport}\"{j2}",
            ipv(fake)
        );
        let (account, session) = if in_account {
            (injected, j3)
        } else {
            (j3, injected)
        };
        let line = format!(
            "[2015-05-25 07:21:48] SECURITY[6988] res_security_log.c: SecurityEvent=\"InvalidAccountID\",EventTV=\"2015-05-25T07:21:48.275+0300\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"{account}\",SessionID=\"{session}\",LocalAddress=\"IPV4/UDP/1.2.3.4/5060\",RemoteAddress=\"{}/UDP/{real}/{port}\"",
            ipv(real)
        );
        let r = parse_line_detailed(line.as_bytes(), &ctx());
        prop_assert!(r.is_ok(), "{line}\n -> {r:?}");
        let ev = r.unwrap();
        prop_assert_eq!(ev.source, real);
        prop_assert_eq!(ev.source_port, Some(port));
    }

    /// chan_sip: a fake address anywhere in the From text is never the source.
    #[test]
    fn chan_sip_from_injection(real in any_ip(), fake in any_ip(), j1 in junk(), j2 in junk()) {
        prop_assume!(real != fake);
        let line = format!(
            "[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '{j1}' failed for '{}' - Wrong password{j2}' failed for '{}' - Wrong password",
            fmt_ip_port(fake, 5060), fmt_ip_port(real, 5061)
        );
        let r = parse_line_detailed(line.as_bytes(), &ctx());
        prop_assert_eq!(r.map(|e| e.source), Ok(real));
    }

    /// PJSIP distributor: fake in From or Call-ID is refused or ignored, never reported.
    #[test]
    fn pjsip_injection(
        real in any_ip(), fake in any_ip(), j1 in junk(), j2 in junk(), j3 in junk(),
        in_callid in any::<bool>(),
    ) {
        prop_assume!(real != fake);
        let fake_part = format!("{j1}' failed for '{}' (callid: {j2}", fmt_ip_port(fake, 5060));
        let (from, callid) = if in_callid {
            (j3, fake_part)
        } else {
            (fake_part, j3)
        };
        let line = format!(
            "[2016-05-23 10:18:16] NOTICE[19388] res_pjsip/pjsip_distributor.c: Request 'INVITE' from '{from}' failed for '{}' (callid: {callid}) - No matching endpoint found",
            fmt_ip_port(real, 48336)
        );
        let r = parse_line_detailed(line.as_bytes(), &ctx()).map(|e| e.source);
        prop_assert_ne!(r, Ok(fake));
    }

    /// `Call from` with fakes in caller name and extension.
    #[test]
    fn call_from_injection(real in any_ip(), fake in any_ip(), j1 in junk(), j2 in junk()) {
        prop_assume!(real != fake);
        let line = format!(
            "[2013-02-05 23:44:42] NOTICE[436] chan_sip.c: Call from '{j1}' ({}) to extension '{j2}' ({}) to extension '{j1}' rejected because extension not found in context 'default'.",
            fmt_ip_port(real, 10836), fmt_ip_port(fake, 1)
        );
        let r = parse_line_detailed(line.as_bytes(), &ctx()).map(|e| e.source);
        prop_assert_ne!(r, Ok(fake));
    }

    /// FreeSWITCH: fake inside the user part.
    #[test]
    fn freeswitch_user_injection(real in any_ip(), fake in any_ip(), j1 in junk(), j2 in junk()) {
        prop_assume!(real != fake);
        for line in [
            format!("2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:2531 Can't find user [{j1}] from {fake}{j2}@x] from {real}"),
            format!("2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1478 SIP auth failure (INVITE) on sofia profile 'p' for [{j1}] from ip {fake}{j2}] from ip {real}"),
        ] {
            let r = parse_line_detailed(line.as_bytes(), &ctx()).map(|e| e.source);
            prop_assert_eq!(r, Ok(real), "{}", line);
        }
    }

    /// The stateful parser never emits more than one event per line and never panics on
    /// multi-line soups of fragments.
    #[test]
    fn parser_bounded(data in spliced()) {
        let mut p = LogParser::new(ctx());
        let mut n = 0u64;
        p.push_buffer(&data, |_| n += 1);
        p.finish(|_| n += 1);
        prop_assert!(n <= p.stats().lines + 1);
    }
}
