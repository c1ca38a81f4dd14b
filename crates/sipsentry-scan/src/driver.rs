//! Thin tokio driver: moves bytes between one socket and many sans-IO client transactions.
//!
//! All SIP behaviour (retransmission, ACK, absorbing duplicates) lives in [`crate::txn`]; this
//! module only paces new transactions (rate and concurrency), dispatches received messages by
//! `(branch, CSeq method)`, sleeps until the earliest timer, and applies the probe policies that
//! span transactions: CANCEL an INVITE after a provisional response, ACK + BYE a 2xx, and stop
//! when the target goes silent.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use sipsentry_sip::{FrameEvent, Limits, Message, StreamFramer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, UdpSocket};

use crate::msg::{Request, Response, Transport};
use crate::txn::{ClientTransaction, Event, Timers};
use crate::ScanError;

/// Any byte stream (TCP, TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

enum Wire {
    /// The socket and a reusable receive buffer (allocating 64 KiB per datagram dominated
    /// large enumerations).
    Udp(UdpSocket, Vec<u8>),
    Stream {
        io: Box<dyn Io>,
        framer: StreamFramer,
    },
    /// RFC 7118: one SIP message per WebSocket frame.
    Ws {
        io: Box<dyn Io>,
        buf: Vec<u8>,
        partial: Vec<u8>,
    },
}

fn mask() -> [u8; 4] {
    let mut m = [0u8; 4];
    rand::Rng::fill(&mut rand::thread_rng(), &mut m[..]);
    m
}

impl Wire {
    async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Wire::Udp(s, _) => s.send(bytes).await.map(|_| ()),
            Wire::Stream { io, .. } => io.write_all(bytes).await,
            Wire::Ws { io, .. } => io.write_all(&crate::ws::encode_frame(bytes, mask())).await,
        }
    }

    /// One message. Cancel-safe: a dropped future loses no bytes (UDP recv and stream `read`
    /// are both cancel-safe, and framed bytes stay in the framer).
    async fn recv(&mut self) -> std::io::Result<Vec<u8>> {
        match self {
            Wire::Udp(s, buf) => {
                let n = s.recv(buf).await?;
                Ok(buf[..n].to_vec())
            }
            Wire::Stream { io, framer } => loop {
                while let Some(ev) = framer.next_event() {
                    if let FrameEvent::Message(m) = ev {
                        return Ok(m);
                    }
                }
                let mut buf = [0u8; 16_384];
                let n = io.read(&mut buf).await?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "peer closed the connection",
                    ));
                }
                framer.push(&buf[..n]);
            },
            Wire::Ws { io, buf, partial } => loop {
                loop {
                    match crate::ws::decode_frame(buf) {
                        Ok(Some((frame, used))) => {
                            buf.drain(..used);
                            match frame {
                                crate::ws::Frame::Data(fin, data) => {
                                    if partial.len() + data.len() > crate::ws::MAX_FRAME {
                                        partial.clear();
                                        continue;
                                    }
                                    partial.extend_from_slice(&data);
                                    if fin {
                                        return Ok(std::mem::take(partial));
                                    }
                                }
                                crate::ws::Frame::Ping(p) => {
                                    io.write_all(&crate::ws::pong(&p, mask())).await?;
                                }
                                crate::ws::Frame::Pong => {}
                                crate::ws::Frame::Close => {
                                    return Err(std::io::Error::new(
                                        std::io::ErrorKind::ConnectionAborted,
                                        "websocket closed by peer",
                                    ));
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
                        }
                    }
                }
                let mut chunk = [0u8; 16_384];
                let n = io.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "peer closed the connection",
                    ));
                }
                buf.extend_from_slice(&chunk[..n]);
            },
        }
    }
}

/// How an INVITE probe ends without ever carrying media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitePolicy {
    /// Wait for the final response (use only for non-INVITE requests).
    Wait,
    /// CANCEL as soon as a provisional response with status >= `min_status` arrives, or
    /// `after` a 100 Trying if nothing better came; a 2xx is ACKed and BYEd at once.
    Cancel {
        /// Provisional status that triggers the CANCEL at once (100 = any).
        min_status: u16,
        /// Longest wait after a 100 before cancelling anyway.
        after: Duration,
    },
}

/// One request to send.
#[derive(Clone, Debug)]
pub struct Job {
    /// The request.
    pub request: Request,
    /// INVITE handling.
    pub policy: InvitePolicy,
}

impl Job {
    /// A non-INVITE request.
    pub fn plain(request: Request) -> Job {
        Job {
            request,
            policy: InvitePolicy::Wait,
        }
    }
}

/// What happened to one job.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Provisional responses in arrival order.
    pub provisional: Vec<Response>,
    /// The final response.
    pub final_response: Option<Response>,
    /// No final response before timer B/F.
    pub timed_out: bool,
    /// We sent a CANCEL.
    pub cancelled: bool,
    /// We answered a 2xx with ACK and BYE.
    pub hung_up: bool,
    /// Times the request went out (1 + retransmissions).
    pub sent: u32,
    /// Time from first send to final response (or give-up).
    pub elapsed: Duration,
    /// The port refused (ICMP port unreachable on UDP).
    pub refused: bool,
}

impl Outcome {
    /// The most telling status seen: the final one, else the highest provisional.
    pub fn status(&self) -> Option<u16> {
        self.final_response
            .as_ref()
            .map(|r| r.status)
            .or_else(|| self.provisional.iter().map(|r| r.status).max())
    }

    /// Whether anything at all came back.
    pub fn answered(&self) -> bool {
        self.final_response.is_some() || !self.provisional.is_empty()
    }
}

/// Pacing of new transactions (retransmissions are never delayed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pace {
    /// New requests per second.
    pub rate: f64,
    /// Transactions in flight at once.
    pub concurrency: usize,
    /// Stop after this many consecutive unanswered requests once the target had answered
    /// (it blacklisted us). `0` disables.
    pub silence_after: usize,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            rate: 100.0,
            concurrency: 16,
            silence_after: 8,
        }
    }
}

/// Longest pause between two new requests, whatever the rate says (one an hour).
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// Result of a batch.
#[derive(Debug, Default)]
pub struct Batch {
    /// One outcome per job, in job order (jobs never started stay `Default`).
    pub outcomes: Vec<Outcome>,
    /// The target stopped answering mid-batch and the rest was skipped.
    pub silenced: bool,
    /// Jobs actually started.
    pub started: usize,
}

/// A connected socket to one target plus the transactions running over it.
pub struct Session {
    wire: Wire,
    local: SocketAddr,
    remote: SocketAddr,
    transport: Transport,
    timers: Timers,
    /// Requests sent (first sends and retransmissions).
    pub packets_sent: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("local", &self.local)
            .field("remote", &self.remote)
            .field("transport", &self.transport)
            .finish()
    }
}

/// Open a UDP or TCP session. `bind` picks the source address (port is ephemeral).
pub async fn connect(
    transport: Transport,
    remote: SocketAddr,
    bind: Option<IpAddr>,
    timers: Timers,
    connect_timeout: Duration,
) -> Result<Session, ScanError> {
    let bind_addr = SocketAddr::new(
        bind.unwrap_or(if remote.is_ipv4() {
            IpAddr::from([0, 0, 0, 0])
        } else {
            IpAddr::from([0u16; 8])
        }),
        0,
    );
    match transport {
        Transport::Udp => {
            let s = UdpSocket::bind(bind_addr).await.map_err(ScanError::Io)?;
            s.connect(remote).await.map_err(ScanError::Io)?;
            let local = s.local_addr().map_err(ScanError::Io)?;
            Ok(Session {
                wire: Wire::Udp(s, vec![0u8; 65_536]),
                local,
                remote,
                transport,
                timers,
                packets_sent: 0,
            })
        }
        Transport::Ws | Transport::Wss => {
            let stream = tcp_connect(remote, bind, connect_timeout).await?;
            let local = stream.local_addr().map_err(ScanError::Io)?;
            let io: Box<dyn Io> = if transport == Transport::Wss {
                Box::new(
                    crate::tls::connect_unverified(stream, remote, None, connect_timeout).await?,
                )
            } else {
                Box::new(stream)
            };
            Session::websocket(
                io,
                local,
                remote,
                transport,
                timers,
                connect_timeout,
                user_agent_default(),
            )
            .await
        }
        Transport::Tcp | Transport::Tls => {
            let stream = tcp_connect(remote, bind, connect_timeout).await?;
            let local = stream.local_addr().map_err(ScanError::Io)?;
            Ok(Session::from_stream(
                Box::new(stream),
                local,
                remote,
                Transport::Tcp,
                timers,
            ))
        }
    }
}

/// TCP connect from `bind` with a timeout.
pub async fn tcp_connect(
    remote: SocketAddr,
    bind: Option<IpAddr>,
    timeout: Duration,
) -> Result<tokio::net::TcpStream, ScanError> {
    let sock = if remote.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(ScanError::Io)?;
    if let Some(ip) = bind {
        sock.bind(SocketAddr::new(ip, 0)).map_err(ScanError::Io)?;
    }
    match tokio::time::timeout(timeout, sock.connect(remote)).await {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Ok(Err(e)) => Err(ScanError::Connect(remote, e.kind())),
        Err(_) => Err(ScanError::Connect(remote, std::io::ErrorKind::TimedOut)),
    }
}

struct Active {
    job: usize,
    txn: ClientTransaction,
    /// Main (the job's own request) or auxiliary (CANCEL, BYE).
    main: bool,
}

fn user_agent_default() -> &'static str {
    crate::DEFAULT_USER_AGENT
}

impl Session {
    /// Open SIP over WebSocket on an established stream: RFC 6455 handshake with the `sip`
    /// subprotocol, checked (status 101, accept key, subprotocol).
    pub async fn websocket(
        mut io: Box<dyn Io>,
        local: SocketAddr,
        remote: SocketAddr,
        transport: Transport,
        timers: Timers,
        timeout: Duration,
        user_agent: &str,
    ) -> Result<Session, ScanError> {
        let key = crate::ws::new_key();
        let host = remote.to_string();
        io.write_all(&crate::ws::handshake_request(&host, "/", &key, user_agent))
            .await
            .map_err(ScanError::Io)?;
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        let until = tokio::time::Instant::now() + timeout;
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            if head.len() > 16_384 {
                return Err(ScanError::Invalid(
                    "websocket handshake answer too long".into(),
                ));
            }
            match tokio::time::timeout_at(until, io.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => head.extend_from_slice(&chunk[..n]),
                _ => return Err(ScanError::Invalid("no websocket handshake answer".into())),
            }
        }
        let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
        crate::ws::check_handshake(&head[..end], &key)
            .map_err(|e| ScanError::Invalid(format!("websocket: {e}")))?;
        let rest = head[end..].to_vec();
        Ok(Session {
            wire: Wire::Ws {
                io,
                buf: rest,
                partial: Vec::new(),
            },
            local,
            remote,
            transport,
            timers,
            packets_sent: 0,
        })
    }

    /// Wrap an established stream (TCP or TLS).
    pub fn from_stream(
        io: Box<dyn Io>,
        local: SocketAddr,
        remote: SocketAddr,
        transport: Transport,
        timers: Timers,
    ) -> Session {
        Session {
            wire: Wire::Stream {
                io,
                framer: StreamFramer::new(Limits::default()),
            },
            local,
            remote,
            transport,
            timers,
            packets_sent: 0,
        }
    }

    /// Our address as the target sees it (before NAT).
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The target.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// Transport named in Via.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Current timers.
    pub fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Replace the timers for transactions started from now on; returns the old ones.
    pub fn set_timers(&mut self, t: Timers) -> Timers {
        std::mem::replace(&mut self.timers, t)
    }

    /// A request addressed to `uri`, with our Via/Contact filled in.
    pub fn request(&self, method: &str, uri: &str, user_agent: &str) -> Request {
        Request::new(method, uri, self.local, self.transport, user_agent)
    }

    /// Run one job to completion.
    pub async fn one(&mut self, job: Job) -> Result<Outcome, ScanError> {
        let pace = Pace {
            rate: 1000.0,
            concurrency: 1,
            silence_after: 0,
        };
        let mut b = self.run(vec![job], pace, |_, _| {}).await?;
        Ok(b.outcomes.pop().unwrap_or_default())
    }

    /// Run `jobs` with pacing; `progress(done, total)` is called as outcomes complete.
    pub async fn run(
        &mut self,
        jobs: Vec<Job>,
        pace: Pace,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Batch, ScanError> {
        let total = jobs.len();
        let mut batch = Batch {
            outcomes: vec![Outcome::default(); total],
            ..Batch::default()
        };
        let mut pending: VecDeque<(usize, Job)> = jobs.into_iter().enumerate().collect();
        let mut active: HashMap<(String, String), Active> = HashMap::new();
        let mut policies: Vec<InvitePolicy> = Vec::with_capacity(total);
        let mut requests: Vec<Option<Request>> = vec![None; total];
        let mut started_at: Vec<Option<Instant>> = vec![None; total];
        let mut done = vec![false; total];
        // Per job: when to CANCEL anyway (after a 100), and when to stop waiting after CANCEL.
        let mut cancel_at: HashMap<usize, Instant> = HashMap::new();
        let mut abandon_at: HashMap<usize, Instant> = HashMap::new();
        let mut cancelled = vec![false; total];
        let mut done_count = 0usize;
        let mut main_active = 0usize;
        let mut consecutive_silent = 0usize;
        let mut ever_answered = false;
        // Any positive rate is accepted, so bound the interval: 1/rate may not fit a Duration,
        // and `now - interval` must not reach back before the clock's epoch.
        let interval = if pace.rate > 0.0 {
            Duration::try_from_secs_f64(1.0 / pace.rate.min(100_000.0))
                .unwrap_or(MAX_INTERVAL)
                .min(MAX_INTERVAL)
        } else {
            Duration::ZERO
        };
        let mut next_start = Instant::now();
        let reliable = self.transport.reliable();
        let timers = self.timers;
        for (_, j) in pending.iter() {
            policies.push(j.policy);
        }
        let grace = timers.t1 * 4;

        loop {
            let now = Instant::now();
            // Start new transactions within pacing limits.
            while !batch.silenced && main_active < pace.concurrency.max(1) && now >= next_start {
                let Some((idx, job)) = pending.pop_front() else {
                    break;
                };
                let txn = ClientTransaction::new(job.request.clone(), now, timers, reliable);
                requests[idx] = Some(job.request);
                started_at[idx] = Some(now);
                active.insert(
                    (txn.branch().to_string(), txn.request().method.clone()),
                    Active {
                        job: idx,
                        txn,
                        main: true,
                    },
                );
                main_active += 1;
                batch.started += 1;
                next_start = now
                    .checked_sub(interval)
                    .map_or(next_start, |earliest| next_start.max(earliest))
                    + interval;
            }

            // Flush everything the transactions want to send.
            for a in active.values_mut() {
                while let Some(bytes) = a.txn.poll_transmit() {
                    self.packets_sent += 1;
                    if let Err(e) = self.wire.send(&bytes).await {
                        // ICMP port unreachable shows up as ECONNREFUSED on a connected UDP
                        // socket: the port is closed, which is an answer, not a failure.
                        if e.kind() == std::io::ErrorKind::ConnectionRefused {
                            continue;
                        }
                        return Err(ScanError::Io(e));
                    }
                }
            }

            // Collect events.
            let mut new_aux: Vec<(usize, Request)> = Vec::new();
            let mut raw_out: Vec<Vec<u8>> = Vec::new();
            let now = Instant::now();
            for a in active.values_mut() {
                while let Some(ev) = a.txn.poll_event() {
                    let idx = a.job;
                    if !a.main {
                        continue;
                    }
                    let out = &mut batch.outcomes[idx];
                    match ev {
                        Event::Provisional(r) => {
                            ever_answered = true;
                            consecutive_silent = 0;
                            let status = r.status;
                            out.provisional.push(r);
                            if let InvitePolicy::Cancel { min_status, after } = policies[idx] {
                                if !cancelled[idx] {
                                    if status >= min_status {
                                        cancelled[idx] = true;
                                        out.cancelled = true;
                                        new_aux.push((idx, a.txn.request().cancel()));
                                        abandon_at.insert(idx, now + grace);
                                    } else {
                                        cancel_at.entry(idx).or_insert(now + after);
                                    }
                                }
                            }
                        }
                        Event::Final(r) => {
                            ever_answered = true;
                            consecutive_silent = 0;
                            if a.txn.request().method == "INVITE" && (200..300).contains(&r.status)
                            {
                                // Never let a call stand: ACK and hang up at once.
                                let to_tag = r.to_tag();
                                let target = r.contact_uri();
                                let req = a.txn.request();
                                raw_out.push(
                                    req.in_dialog("ACK", to_tag.as_deref(), target.as_deref())
                                        .encode(),
                                );
                                new_aux.push((
                                    idx,
                                    req.in_dialog("BYE", to_tag.as_deref(), target.as_deref()),
                                ));
                                out.hung_up = true;
                            }
                            out.final_response = Some(r);
                            if !done[idx] {
                                done[idx] = true;
                                done_count += 1;
                                main_active -= 1;
                                out.elapsed = started_at[idx].map(|s| now - s).unwrap_or_default();
                                progress(done_count, total);
                            }
                        }
                        Event::Timeout => {
                            if !done[idx] {
                                out.timed_out = true;
                                done[idx] = true;
                                done_count += 1;
                                main_active -= 1;
                                out.elapsed = started_at[idx].map(|s| now - s).unwrap_or_default();
                                progress(done_count, total);
                                if !out.answered() {
                                    consecutive_silent += 1;
                                    if pace.silence_after > 0
                                        && ever_answered
                                        && consecutive_silent >= pace.silence_after
                                    {
                                        batch.silenced = true;
                                    }
                                }
                            }
                        }
                    }
                }
                if a.main {
                    batch.outcomes[a.job].sent = a.txn.sent();
                }
            }
            for bytes in raw_out {
                self.packets_sent += 1;
                let _ = self.wire.send(&bytes).await;
            }
            for (idx, req) in new_aux {
                let txn = ClientTransaction::new(req, now, timers, reliable);
                active.insert(
                    (txn.branch().to_string(), txn.request().method.clone()),
                    Active {
                        job: idx,
                        txn,
                        main: false,
                    },
                );
            }
            // Deferred CANCELs and abandoned INVITEs.
            let due: Vec<usize> = cancel_at
                .iter()
                .filter(|(i, t)| **t <= now && !done[**i])
                .map(|(i, _)| *i)
                .collect();
            for idx in due {
                cancel_at.remove(&idx);
                if !cancelled[idx] {
                    cancelled[idx] = true;
                    batch.outcomes[idx].cancelled = true;
                    if let Some(r) = &requests[idx] {
                        let txn = ClientTransaction::new(r.cancel(), now, timers, reliable);
                        active.insert(
                            (txn.branch().to_string(), "CANCEL".to_string()),
                            Active {
                                job: idx,
                                txn,
                                main: false,
                            },
                        );
                    }
                    abandon_at.insert(idx, now + grace);
                }
            }
            let gone: Vec<usize> = abandon_at
                .iter()
                .filter(|(_, t)| **t <= now)
                .map(|(i, _)| *i)
                .collect();
            for idx in gone {
                abandon_at.remove(&idx);
                if !done[idx] {
                    done[idx] = true;
                    done_count += 1;
                    main_active -= 1;
                    batch.outcomes[idx].elapsed =
                        started_at[idx].map(|s| now - s).unwrap_or_default();
                    progress(done_count, total);
                }
            }
            // Drop finished transactions; a main one whose job was abandoned (cancelled and
            // never answered) goes too, but a completed one lingers to absorb retransmissions.
            active.retain(|_, a| {
                let abandoned =
                    a.main && done[a.job] && a.txn.state() != crate::txn::State::Completed;
                !a.txn.is_terminated() && !abandoned
            });
            let aux_busy = active
                .values()
                .any(|a| !a.main && a.txn.state() != crate::txn::State::Completed);
            if (pending.is_empty() || batch.silenced) && main_active == 0 && !aux_busy {
                break;
            }
            if done_count == total && !aux_busy {
                break;
            }

            // Transactions created above (CANCEL, BYE, ACK re-sends) go out before we sleep.
            for a in active.values_mut() {
                while let Some(bytes) = a.txn.poll_transmit() {
                    self.packets_sent += 1;
                    if let Err(e) = self.wire.send(&bytes).await {
                        if e.kind() != std::io::ErrorKind::ConnectionRefused {
                            return Err(ScanError::Io(e));
                        }
                    }
                }
            }

            // Sleep until the next timer, a new start slot, or a message.
            let mut wake = active.values().filter_map(|a| a.txn.poll_timeout()).min();
            let mut consider = |t: Instant| {
                wake = Some(wake.map_or(t, |w| w.min(t)));
            };
            if !pending.is_empty() && !batch.silenced && main_active < pace.concurrency.max(1) {
                consider(next_start);
            }
            for t in cancel_at.values().chain(abandon_at.values()) {
                consider(*t);
            }
            let wake = wake.unwrap_or_else(|| Instant::now() + Duration::from_millis(50));
            let any_txn = active.values().any(|a| a.txn.poll_timeout().is_some());
            if wake <= Instant::now() && !any_txn && pending.is_empty() {
                continue;
            }
            tokio::select! {
                r = self.wire.recv() => {
                    match r {
                        Ok(bytes) => {
                            let now = Instant::now();
                            let msg = Message::parse(&bytes);
                            let key = match (msg.top_via(), msg.cseq()) {
                                (Some(Ok(v)), Some(Ok(c))) => v.branch().map(|b| (
                                    String::from_utf8_lossy(b).into_owned(),
                                    String::from_utf8_lossy(c.method).into_owned(),
                                )),
                                _ => None,
                            };
                            if let Some(a) = key.and_then(|k| active.get_mut(&k)) {
                                a.txn.handle_input(now, &bytes);
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                            // ICMP port unreachable: the UDP port is closed; nothing in flight
                            // will be answered.
                            for (i, d) in done.iter_mut().enumerate() {
                                if !*d && started_at[i].is_some() {
                                    *d = true;
                                    batch.outcomes[i].timed_out = true;
                                    batch.outcomes[i].refused = true;
                                }
                            }
                            return Ok(batch);
                        }
                        Err(e) => {
                            // Stream closed: every open transaction ends unanswered.
                            if matches!(self.wire, Wire::Stream { .. } | Wire::Ws { .. }) {
                                for (i, d) in done.iter_mut().enumerate() {
                                    if !*d && started_at[i].is_some() {
                                        *d = true;
                                        batch.outcomes[i].timed_out = true;
                                    }
                                }
                                let _ = e;
                                batch.silenced = batch.silenced || ever_answered;
                                return Ok(batch);
                            }
                            return Err(ScanError::Io(e));
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    for a in active.values_mut() {
                        if a.txn.poll_timeout().is_some_and(|t| t <= now) {
                            a.txn.handle_timeout(now);
                        }
                    }
                }
            }
        }
        Ok(batch)
    }
}
