//! Sans-IO SIP client transactions (RFC 3261 §17.1).
//!
//! A [`ClientTransaction`] owns no socket and reads no clock: the driver passes `now` in,
//! feeds received bytes to [`ClientTransaction::handle_input`], sends whatever
//! [`ClientTransaction::poll_transmit`] yields, sleeps until
//! [`ClientTransaction::poll_timeout`] and then calls [`ClientTransaction::handle_timeout`].
//! That makes retransmission and timeout behaviour testable on a virtual clock, and lets the
//! same state machine run over UDP (retransmits) and TCP/TLS (no retransmits, RFC 3261 §17.1.1.2
//! and §17.1.2.2).
//!
//! One deliberate addition to the RFC: an INVITE in *Proceeding* has no transaction timeout in
//! RFC 3261 (the TU is expected to CANCEL), so a scanner facing a PBX that answers 100 Trying
//! and then nothing would wait forever. [`Timers::max_lifetime`] bounds every transaction.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sipsentry_sip::Message;

use crate::msg::{Request, Response};

/// Retransmission timer values (RFC 3261 §17.1.1.1 and table 4). All configurable because a
/// scanner on a lossy path wants a larger T1 and a test wants a smaller one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate (default 500 ms).
    pub t1: Duration,
    /// Largest retransmit interval for non-INVITE requests (default 4 s).
    pub t2: Duration,
    /// How long the network may hold a message (default 5 s): timer K.
    pub t4: Duration,
    /// Timer D: how long an INVITE client absorbs final-response retransmissions over an
    /// unreliable transport (RFC: at least 32 s; a scanner does not need to linger that long,
    /// default 4 s).
    pub timer_d: Duration,
    /// Upper bound on any transaction's life (see module docs). Default 64*T1.
    pub max_lifetime: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers::with_t1(Duration::from_millis(500))
    }
}

impl Timers {
    /// RFC defaults scaled from `t1` (T2 = 8*T1, T4 = 10*T1, B/F = 64*T1).
    pub fn with_t1(t1: Duration) -> Self {
        Timers {
            t1,
            t2: t1 * 8,
            t4: t1 * 10,
            timer_d: t1 * 8,
            max_lifetime: t1 * 64,
        }
    }

    /// Timer B / F: 64*T1.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }
}

/// What the transaction reports to its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A 1xx response.
    Provisional(Response),
    /// The final response (first one only; retransmissions are absorbed).
    Final(Response),
    /// Timer B/F (or the lifetime bound) fired before any final response.
    Timeout,
}

/// RFC 3261 client transaction states (figures 5 and 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// INVITE sent, nothing received.
    Calling,
    /// Non-INVITE sent, nothing received.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; absorbing retransmissions (timer D/K).
    Completed,
    /// Done.
    Terminated,
}

/// One client transaction.
#[derive(Debug)]
pub struct ClientTransaction {
    request: Request,
    invite: bool,
    reliable: bool,
    timers: Timers,
    state: State,
    encoded: Vec<u8>,
    ack: Option<Vec<u8>>,
    /// Next retransmission (timer A/E) and its current interval.
    retransmit_at: Option<Instant>,
    interval: Duration,
    /// Timer B/F.
    timeout_at: Option<Instant>,
    /// Lifetime bound.
    give_up_at: Instant,
    /// Timer D/K.
    linger_until: Option<Instant>,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    sent: u32,
}

impl ClientTransaction {
    /// Start a transaction: the request is queued for sending at once.
    pub fn new(request: Request, now: Instant, timers: Timers, reliable: bool) -> Self {
        let invite = request.method == "INVITE";
        let encoded = request.encode();
        let mut t = ClientTransaction {
            invite,
            reliable,
            timers,
            state: if invite {
                State::Calling
            } else {
                State::Trying
            },
            ack: None,
            retransmit_at: (!reliable).then(|| now + timers.t1),
            interval: timers.t1,
            timeout_at: Some(now + timers.timeout()),
            give_up_at: now + timers.max_lifetime.max(timers.t1),
            linger_until: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            encoded,
            request,
            sent: 0,
        };
        t.transmits.push_back(t.encoded.clone());
        t.sent = 1;
        t
    }

    /// The request this transaction carries.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The branch that identifies it (RFC 3261 §17.1.3).
    pub fn branch(&self) -> &str {
        &self.request.branch
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// How many times the request went out (1 + retransmissions).
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// Whether the transaction is over and can be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// Whether `msg` is a response belonging to this transaction: same top Via branch and
    /// the CSeq method of the request (§17.1.3).
    pub fn matches(&self, msg: &Message<'_>) -> bool {
        if !msg.is_response() {
            return false;
        }
        let Some(Ok(via)) = msg.top_via() else {
            return false;
        };
        if via.branch() != Some(self.request.branch.as_bytes()) {
            return false;
        }
        match msg.cseq() {
            Some(Ok(cseq)) => cseq.method == self.request.method.as_bytes(),
            _ => false,
        }
    }

    /// Feed one received message. Returns whether it belonged to this transaction.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> bool {
        let msg = Message::parse(bytes);
        if !self.matches(&msg) {
            return false;
        }
        let Some(resp) = Response::from_message(&msg) else {
            return false;
        };
        self.on_response(now, resp);
        true
    }

    fn on_response(&mut self, now: Instant, resp: Response) {
        let status = resp.status;
        match self.state {
            State::Calling | State::Trying | State::Proceeding => {
                if status < 200 {
                    self.state = State::Proceeding;
                    if self.invite {
                        // Timer A stops once anything comes back (§17.1.1.2).
                        self.retransmit_at = None;
                        self.timeout_at = None;
                    } else if !self.reliable {
                        // Timer E continues at T2 in Proceeding (§17.1.2.2).
                        self.interval = self.timers.t2;
                        self.retransmit_at = Some(now + self.timers.t2);
                    }
                    self.events.push_back(Event::Provisional(resp));
                } else if self.invite && status < 300 {
                    // 2xx: the TU acknowledges it (the ACK is its own transaction).
                    self.state = State::Terminated;
                    self.clear_timers();
                    self.events.push_back(Event::Final(resp));
                } else {
                    if self.invite {
                        let ack = self.request.ack_for(resp.to.as_deref()).encode();
                        self.transmits.push_back(ack.clone());
                        self.ack = Some(ack);
                    }
                    self.clear_timers();
                    let linger = if self.reliable {
                        Duration::ZERO
                    } else if self.invite {
                        self.timers.timer_d
                    } else {
                        self.timers.t4
                    };
                    if linger.is_zero() {
                        self.state = State::Terminated;
                    } else {
                        self.state = State::Completed;
                        self.linger_until = Some(now + linger);
                    }
                    self.events.push_back(Event::Final(resp));
                }
            }
            State::Completed => {
                // A retransmitted final response: re-send the ACK (§17.1.1.2), absorb otherwise.
                if status >= 300 {
                    if let Some(ack) = &self.ack {
                        self.transmits.push_back(ack.clone());
                    }
                }
            }
            State::Terminated => {}
        }
    }

    fn clear_timers(&mut self) {
        self.retransmit_at = None;
        self.timeout_at = None;
    }

    /// Next datagram/segment to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    /// Next event for the user, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Terminated {
            return None;
        }
        [
            self.retransmit_at,
            self.timeout_at,
            self.linger_until,
            (self.state != State::Completed).then_some(self.give_up_at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advance timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Terminated {
            return;
        }
        if let Some(t) = self.linger_until {
            if now >= t {
                self.state = State::Terminated;
                self.linger_until = None;
                return;
            }
        }
        let timed_out = self.timeout_at.is_some_and(|t| now >= t)
            || (self.state != State::Completed && now >= self.give_up_at);
        if timed_out {
            self.state = State::Terminated;
            self.clear_timers();
            self.events.push_back(Event::Timeout);
            return;
        }
        if let Some(t) = self.retransmit_at {
            if now >= t {
                self.transmits.push_back(self.encoded.clone());
                self.sent += 1;
                // Timer A doubles without bound; timer E doubles up to T2 (§17.1.1.2, §17.1.2.2).
                self.interval = if self.invite {
                    self.interval * 2
                } else {
                    (self.interval * 2).min(self.timers.t2)
                };
                if self.state == State::Proceeding && !self.invite {
                    self.interval = self.timers.t2;
                }
                self.retransmit_at = Some(now + self.interval);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Request, Transport};

    fn req(method: &str) -> Request {
        let mut r = Request::new(
            method,
            "sip:1001@127.0.0.50",
            "127.0.0.60:40000".parse().unwrap(),
            Transport::Udp,
            "sipsentry-test",
        );
        r.branch = "z9hG4bK-test1".into();
        r
    }

    fn resp(r: &Request, status: u16, reason: &str) -> Vec<u8> {
        format!(
            "SIP/2.0 {status} {reason}\r\nVia: SIP/2.0/UDP 127.0.0.60:40000;branch={}\r\n\
             From: <sip:x@y>;tag=a\r\nTo: <sip:1001@127.0.0.50>;tag=srv\r\nCall-ID: {}\r\n\
             CSeq: {} {}\r\nContent-Length: 0\r\n\r\n",
            r.branch, r.call_id, r.cseq, r.method
        )
        .into_bytes()
    }

    fn drain(t: &mut ClientTransaction) -> usize {
        let mut n = 0;
        while t.poll_transmit().is_some() {
            n += 1;
        }
        n
    }

    #[test]
    fn non_invite_retransmits_with_timer_e_capped_at_t2_then_times_out_at_f() {
        let t0 = Instant::now();
        let timers = Timers::default();
        let mut t = ClientTransaction::new(req("OPTIONS"), t0, timers, false);
        assert_eq!(drain(&mut t), 1);
        let mut fire_times = Vec::new();
        let mut now = t0;
        while let Some(next) = t.poll_timeout() {
            now = next;
            t.handle_timeout(now);
            if drain(&mut t) > 0 {
                fire_times.push((now - t0).as_millis());
            }
            if t.is_terminated() {
                break;
            }
        }
        // 0.5, 1.5, 3.5, 7.5, 11.5, ... every 4 s (T2) until 32 s.
        assert_eq!(&fire_times[..5], &[500, 1500, 3500, 7500, 11500]);
        assert!(fire_times.windows(2).skip(3).all(|w| w[1] - w[0] == 4000));
        assert_eq!((now - t0).as_millis(), 32_000);
        assert_eq!(t.poll_event(), Some(Event::Timeout));
    }

    #[test]
    fn invite_timer_a_doubles_without_cap_and_stops_on_provisional() {
        let t0 = Instant::now();
        let r = req("INVITE");
        let mut t = ClientTransaction::new(r.clone(), t0, Timers::default(), false);
        drain(&mut t);
        let mut now = t0;
        let mut fires = Vec::new();
        for _ in 0..4 {
            now = t.poll_timeout().unwrap();
            t.handle_timeout(now);
            drain(&mut t);
            fires.push((now - t0).as_millis());
        }
        assert_eq!(fires, vec![500, 1500, 3500, 7500]);
        assert!(t.handle_input(now, &resp(&r, 100, "Trying")));
        assert!(matches!(t.poll_event(), Some(Event::Provisional(p)) if p.status == 100));
        // Only the lifetime bound remains.
        assert_eq!(t.poll_timeout(), Some(t0 + Timers::default().max_lifetime));
    }

    #[test]
    fn invite_non_2xx_is_acked_and_retransmitted_final_reacked() {
        let t0 = Instant::now();
        let r = req("INVITE");
        let mut t = ClientTransaction::new(r.clone(), t0, Timers::default(), false);
        drain(&mut t);
        assert!(t.handle_input(t0, &resp(&r, 401, "Unauthorized")));
        let ack = t.poll_transmit().expect("ACK");
        let ack_s = String::from_utf8(ack).unwrap();
        assert!(ack_s.starts_with("ACK sip:1001@127.0.0.50 SIP/2.0\r\n"));
        assert!(ack_s.contains(&format!("branch={}", r.branch)));
        assert!(ack_s.contains(&format!("CSeq: {} ACK", r.cseq)));
        assert!(ack_s.contains(";tag=srv"));
        assert_eq!(t.state(), State::Completed);
        assert!(t.handle_input(t0, &resp(&r, 401, "Unauthorized")));
        assert!(t.poll_transmit().is_some(), "re-ACK");
        assert!(matches!(t.poll_event(), Some(Event::Final(f)) if f.status == 401));
        assert_eq!(t.poll_event(), None, "retransmission absorbed");
        t.handle_timeout(t.poll_timeout().unwrap());
        assert!(t.is_terminated());
    }

    #[test]
    fn reliable_transport_never_retransmits() {
        let t0 = Instant::now();
        let mut t = ClientTransaction::new(req("REGISTER"), t0, Timers::default(), true);
        assert_eq!(drain(&mut t), 1);
        assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(32)));
        t.handle_timeout(t0 + Duration::from_secs(32));
        assert_eq!(drain(&mut t), 0);
        assert_eq!(t.poll_event(), Some(Event::Timeout));
    }

    #[test]
    fn foreign_branch_or_method_is_not_matched() {
        let t0 = Instant::now();
        let r = req("OPTIONS");
        let mut t = ClientTransaction::new(r.clone(), t0, Timers::default(), false);
        let mut other = r.clone();
        other.branch = "z9hG4bK-other".into();
        assert!(!t.handle_input(t0, &resp(&other, 200, "OK")));
        let mut cancel = r.clone();
        cancel.method = "CANCEL".into();
        assert!(!t.handle_input(t0, &resp(&cancel, 200, "OK")));
        assert!(!t.handle_input(t0, b"\x00garbage"));
        assert!(t.handle_input(t0, &resp(&r, 200, "OK")));
        // Non-INVITE Completed lingers T4 on UDP.
        assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    }
}
