//! Regression tests from the adversarial review, each named after the bug it pins.
//!
//! Peers here are plain loopback sockets (ephemeral ports on 127.0.0.6x): the bugs are in
//! how the scanner and the reflector handle what arrives, not in any product's behaviour.

use sipsentry_scan::driver::{self, Job, Pace};
use sipsentry_scan::{Timers, Transport};
use std::time::Duration;
use tokio::net::UdpSocket;

/// Regression: a very low `--rate` (any positive number passes the CLI check) panicked the
/// driver: `Duration::from_secs_f64(1/rate)` overflows for rate 1e-30, and `now - interval`
/// underflows `Instant` for an interval longer than the machine's uptime (rate 1e-9).
#[tokio::test(flavor = "current_thread")]
async fn tiny_rate_does_not_panic_the_driver() {
    let silent = UdpSocket::bind("127.0.0.61:0").await.unwrap();
    let target = silent.local_addr().unwrap();
    let timers = Timers {
        max_lifetime: Duration::from_millis(150),
        ..Timers::with_t1(Duration::from_millis(50))
    };
    for rate in [1e-30, 1e-9] {
        let mut s = driver::connect(
            Transport::Udp,
            target,
            Some("127.0.0.60".parse().unwrap()),
            timers,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        let req = s.request("OPTIONS", "sip:127.0.0.61", "t");
        let pace = Pace {
            rate,
            concurrency: 1,
            silence_after: 0,
        };
        let b = tokio::time::timeout(
            Duration::from_secs(5),
            s.run(vec![Job::plain(req)], pace, |_, _| {}),
        )
        .await
        .expect("one job finishes")
        .expect("no error");
        assert_eq!(b.started, 1);
        assert!(b.outcomes[0].timed_out);
    }
}
