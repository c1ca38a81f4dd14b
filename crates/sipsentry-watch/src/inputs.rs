//! Inputs: HEP listeners (UDP, TCP), followed log files, live capture. Each runs on its own
//! thread and hands owned events to the detector thread through one bounded queue; when the
//! queue is full the event is dropped and counted — an input never blocks on a slow detector,
//! and memory never grows with a flood.

use crate::metrics::Metrics;
use crate::Input;
use sipsentry_ingest::Transport;
use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// How often blocking reads wake up to notice a stop request.
pub(crate) const POLL: Duration = Duration::from_millis(200);
/// Concurrent HEP/TCP connections accepted (agents are few: one per PBX).
const MAX_TCP_CONNECTIONS: usize = 64;
/// A HEP/TCP peer must deliver an accepted frame this soon after connecting. Agents connect to
/// send, so they do at once; a peer that only holds the socket open (or lacks the key) would
/// otherwise keep one of the [`MAX_TCP_CONNECTIONS`] slots forever and, 64 times over, lock
/// every real agent out.
const HEP_TCP_FIRST_FRAME: Duration = Duration::from_secs(5);

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

/// Bytes the detector queue may hold. The queue's length bound (`inputs.queue`, 65,536) alone
/// would allow 4 GiB of 64 KiB HEP payloads while the detector is held up (a stalled responder,
/// a flood of large messages); small messages never reach this.
pub(crate) const MAX_QUEUE_BYTES: usize = 128 << 20;

/// What an input costs the queue: its payload plus the bookkeeping around it.
pub(crate) fn input_bytes(ev: &Input) -> usize {
    128 + match ev {
        Input::Sip { data, .. } => data.len(),
        Input::Log { user, .. } => user.len(),
    }
}

/// Sends without blocking; a full queue (by count or by bytes) drops and counts.
pub(crate) fn offer(tx: &SyncSender<Input>, m: &Metrics, input: usize, ev: Input) -> bool {
    offer_capped(tx, m, input, ev, MAX_QUEUE_BYTES)
}

fn offer_capped(
    tx: &SyncSender<Input>,
    m: &Metrics,
    input: usize,
    ev: Input,
    max_bytes: usize,
) -> bool {
    let size = input_bytes(&ev);
    // Counted before the send so the detector's subtraction never runs ahead of it.
    let before = m.queued_bytes.fetch_add(size, Relaxed);
    if before.saturating_add(size) > max_bytes {
        m.queued_bytes.fetch_sub(size, Relaxed);
        m.dropped[input].fetch_add(1, Relaxed);
        return false;
    }
    match tx.try_send(ev) {
        Ok(()) => {
            m.received[input].fetch_add(1, Relaxed);
            true
        }
        Err(TrySendError::Full(_)) => {
            m.queued_bytes.fetch_sub(size, Relaxed);
            m.dropped[input].fetch_add(1, Relaxed);
            false
        }
        Err(TrySendError::Disconnected(_)) => {
            m.queued_bytes.fetch_sub(size, Relaxed);
            false
        }
    }
}

/// HEP acceptance rules: optional shared key, optional capture-id allow-list.
#[derive(Clone)]
pub(crate) struct HepFilter {
    pub key: Option<Vec<u8>>,
    pub capture_ids: Vec<u32>,
}

impl std::fmt::Debug for HepFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HepFilter")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("capture_ids", &self.capture_ids)
            .finish()
    }
}

/// Constant-time comparison: the key must not leak through timing to a sender on the network.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes one HEP packet into an owned SIP input. `Err(())` (counted as rejected) when it
/// fails the filter or does not decode; `Ok(None)` for an accepted packet that is not SIP.
pub(crate) fn hep_to_input(
    buf: &[u8],
    filter: &HepFilter,
    m: &Metrics,
    input: usize,
) -> Result<Option<Input>, ()> {
    let reject = || {
        m.hep_rejected.fetch_add(1, Relaxed);
        Err(())
    };
    let Ok(h) = sipsentry_hep::decode(buf) else {
        return reject();
    };
    if let Some(key) = &filter.key {
        let ok = h.auth_key.as_ref().is_some_and(|k| ct_eq(k.expose(), key));
        if !ok {
            return reject();
        }
    }
    if !filter.capture_ids.is_empty() && !filter.capture_ids.contains(&h.capture_id) {
        return reject();
    }
    if h.proto_type != sipsentry_hep::ProtoType::SIP {
        return Ok(None);
    }
    let now = now_ns();
    let ts = if h.ts_secs == 0 {
        now
    } else {
        i64::from(h.ts_secs) * 1_000_000_000 + i64::from(h.ts_micros.min(999_999)) * 1000
    };
    m.lag_ms.store((now - ts) / 1_000_000, Relaxed);
    let transport = match h.ip_proto {
        6 => Transport::Tcp,
        _ => Transport::Udp,
    };
    Ok(Some(Input::Sip {
        input,
        ts_ns: ts,
        src: h.src,
        dst: h.dst,
        transport,
        data: h.payload.to_vec(),
    }))
}

pub(crate) fn hep_udp(
    sock: UdpSocket,
    filter: HepFilter,
    tx: SyncSender<Input>,
    m: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) {
    let _ = sock.set_read_timeout(Some(POLL));
    let input = Metrics::input_index("hep_udp");
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Relaxed) {
        let n = match sock.recv_from(&mut buf) {
            Ok((n, _)) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => continue,
        };
        if let Ok(Some(ev)) = hep_to_input(&buf[..n], &filter, &m, input) {
            offer(&tx, &m, input, ev);
        }
    }
}

pub(crate) fn hep_tcp(
    listener: TcpListener,
    filter: HepFilter,
    tx: SyncSender<Input>,
    m: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) {
    let _ = listener.set_nonblocking(true);
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Relaxed) {
        let (conn, _) = match listener.accept() {
            Ok(c) => c,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if active.load(Relaxed) >= MAX_TCP_CONNECTIONS {
            m.hep_rejected.fetch_add(1, Relaxed);
            continue;
        }
        active.fetch_add(1, Relaxed);
        let (filter, tx, m, stop, active) = (
            filter.clone(),
            tx.clone(),
            m.clone(),
            stop.clone(),
            active.clone(),
        );
        std::thread::spawn(move || {
            let _ = conn.set_nonblocking(false);
            let _ = conn.set_read_timeout(Some(POLL));
            let input = Metrics::input_index("hep_tcp");
            let mut framer = sipsentry_hep::HepStreamFramer::new();
            let mut buf = vec![0u8; 65_536];
            let mut conn = conn;
            let connected = std::time::Instant::now();
            let mut accepted = false;
            'conn: while !stop.load(Relaxed) {
                if !accepted && connected.elapsed() > HEP_TCP_FIRST_FRAME {
                    m.hep_rejected.fetch_add(1, Relaxed);
                    break;
                }
                let n = match conn.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        continue
                    }
                    Err(_) => break,
                };
                let mut off = 0;
                while off < n {
                    let took = framer.push(&buf[off..n]);
                    off += took;
                    while let Some(frame) = framer.next_frame() {
                        if let Ok(ev) = hep_to_input(frame, &filter, &m, input) {
                            accepted = true;
                            if let Some(ev) = ev {
                                offer(&tx, &m, input, ev);
                            }
                        }
                    }
                    if took == 0 && off < n {
                        // The framer is full of garbage it cannot frame: this peer is not HEP.
                        m.hep_rejected.fetch_add(1, Relaxed);
                        break 'conn;
                    }
                }
            }
            active.fetch_sub(1, Relaxed);
        });
    }
}

/// One PBX log file followed like `tail -F`: survives rotation by rename (the rest of the old
/// file is read first) and by copytruncate (the size drops below our offset).
pub(crate) fn follow_log(
    path: PathBuf,
    from_start: bool,
    tx: SyncSender<Input>,
    m: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) {
    use std::os::unix::fs::MetadataExt;
    let input = Metrics::input_index("log");
    let mut file: Option<(std::fs::File, u64)> = None; // (file, inode)
    let mut offset = 0u64;
    let mut partial: Vec<u8> = Vec::new();
    let mut first_open = true;
    let year = 1970 + (now_ns() / 1_000_000_000 / 31_556_952) as i32;
    let mut parser = sipsentry_logs::LogParser::new(sipsentry_logs::LineContext::new(year));
    let mut buf = vec![0u8; 64 * 1024];
    // `skip`: the start of the current line was thrown away, so its rest is not a line either.
    let mut skip = false;
    let emit_lines = |data: &[u8],
                      partial: &mut Vec<u8>,
                      skip: &mut bool,
                      parser: &mut sipsentry_logs::LogParser| {
        partial.extend_from_slice(data);
        let mut start = 0;
        while let Some(i) = partial[start..].iter().position(|&b| b == b'\n') {
            let line = &partial[start..start + i + 1];
            if !std::mem::take(skip) {
                parser.push_line(line, |ev| {
                    if let Some(inp) = crate::log_input(&ev) {
                        offer(&tx, &m, input, inp);
                    }
                });
            }
            start += i + 1;
        }
        partial.drain(..start);
        // An endless line is dropped up to its newline (the parser caps lines at 8 KiB anyway);
        // its tail must not pass for a record: that part of a line may be attacker text.
        if partial.len() > 64 * 1024 {
            partial.clear();
            *skip = true;
        }
    };
    while !stop.load(Relaxed) {
        let meta = std::fs::metadata(&path).ok();
        match (&mut file, &meta) {
            // Only regular files: opening a FIFO blocks until a writer appears (see Guard::start).
            (None, Some(meta)) if meta.is_file() => {
                if let Ok(mut f) = std::fs::File::open(&path) {
                    offset = if first_open && !from_start {
                        meta.len()
                    } else {
                        0
                    };
                    let _ = f.seek(SeekFrom::Start(offset));
                    file = Some((f, meta.ino()));
                    first_open = false;
                }
            }
            (Some((f, ino)), meta) => {
                let rotated = meta.as_ref().map(|m| m.ino() != *ino).unwrap_or(true);
                if rotated {
                    // Renamed away: finish the old file, then reopen the new one from 0.
                    while let Ok(n) = f.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        emit_lines(&buf[..n], &mut partial, &mut skip, &mut parser);
                    }
                    partial.clear();
                    skip = false;
                    file = None;
                    first_open = false;
                    continue;
                }
                let len = meta.as_ref().map(|m| m.len()).unwrap_or(0);
                if len < offset {
                    // copytruncate: the file was emptied under us.
                    offset = 0;
                    partial.clear();
                    skip = false;
                    let _ = f.seek(SeekFrom::Start(0));
                }
            }
            (None, _) => {}
        }
        let mut progressed = false;
        if let Some((f, _)) = &mut file {
            for _ in 0..64 {
                match f.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        offset += n as u64;
                        progressed = true;
                        emit_lines(&buf[..n], &mut partial, &mut skip, &mut parser);
                    }
                }
            }
        }
        if !progressed {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// BPF filter for live capture: the SIP ports over UDP and TCP, and IPv4 fragments (a
/// fragmented INVITE's later fragments carry no ports).
pub fn bpf_filter(ports: &[u16]) -> String {
    let mut parts: Vec<String> = ports.iter().map(|p| format!("port {p}")).collect();
    parts.push("(ip[6:2] & 0x1fff != 0)".into());
    parts.push("(ip6 and ip6[6] == 44)".into());
    parts.join(" or ")
}

#[cfg(feature = "live-capture")]
pub(crate) fn capture(
    cfg: crate::config::CaptureCfg,
    tx: SyncSender<Input>,
    m: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    let cap = pcap::Capture::from_device(cfg.interface.as_str())
        .map_err(|e| format!("capture on {}: {e}", cfg.interface))?
        .promisc(false)
        .snaplen(65_535)
        .immediate_mode(true)
        .timeout(POLL.as_millis() as i32)
        .open()
        .map_err(|e| format!("capture on {}: {e} (needs CAP_NET_RAW)", cfg.interface))?;
    let mut cap = cap;
    cap.filter(&bpf_filter(&cfg.sip_ports), true)
        .map_err(|e| format!("capture filter: {e}"))?;
    let linktype = cap.get_datalink().0 as u32;
    std::thread::spawn(move || {
        let input = Metrics::input_index("capture");
        let mut decoder = sipsentry_capture::Decoder::new(sipsentry_capture::Config::default());
        let mut ingest = sipsentry_ingest::Ingest::new(sipsentry_ingest::IngestConfig::default());
        while !stop.load(Relaxed) {
            match cap.next_packet() {
                Ok(p) => {
                    let ts = p
                        .header
                        .ts
                        .tv_sec
                        .saturating_mul(1_000_000_000)
                        .saturating_add(p.header.ts.tv_usec * 1000);
                    let pkt = sipsentry_capture::Packet {
                        ts_nanos: ts,
                        linktype,
                        orig_len: p.header.len,
                        interface: 0,
                        data: p.data,
                    };
                    decoder.push(&pkt, |e| {
                        ingest.on_event(&e, &mut |ev| {
                            let inp = Input::Sip {
                                input,
                                ts_ns: ev.ts_nanos,
                                src: ev.src,
                                dst: ev.dst,
                                transport: ev.transport,
                                data: ev.data.to_vec(),
                            };
                            offer(&tx, &m, input, inp);
                        })
                    });
                }
                Err(pcap::Error::TimeoutExpired) => continue,
                Err(_) => break,
            }
        }
    });
    Ok(())
}

/// Binds a UDP or TCP listener, naming the address in the error.
pub(crate) fn bind_udp(addr: &str) -> Result<UdpSocket, String> {
    let a: SocketAddr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an address:port"))?;
    let s = UdpSocket::bind(a).map_err(|e| format!("HEP UDP listener on {a}: {e}"))?;
    // A deep kernel buffer absorbs bursts while the detector thread catches up.
    set_rcvbuf(&s, 8 << 20);
    Ok(s)
}

fn set_rcvbuf(s: &UdpSocket, bytes: libc::c_int) {
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt on a socket we own, with a pointer to a live c_int and its size. A
    // failure only leaves the kernel default in place.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &bytes as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

pub(crate) fn bind_tcp(addr: &str) -> Result<TcpListener, String> {
    let a: SocketAddr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an address:port"))?;
    TcpListener::bind(a).map_err(|e| format!("HEP TCP listener on {a}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAIL: &str = "[2015-05-24 08:42:16] SECURITY[4583] res_security_log.c: SecurityEvent=\"ChallengeResponseFailed\",EventTV=\"2015-05-24T08:42:16.296+0300\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"<unknown>\",SessionID=\"17a483d-eb8cc0-556164ab@1.2.3.4\",LocalAddress=\"IPV4/UDP/1.2.3.4/5060\",RemoteAddress=\"IPV4/UDP/203.0.113.9/5060\",Challenge=\"1432446136/6d16ccf29ff59d423c6d548af00bf9b4\",Response=\"849dfcf133d8156f77ef11a9194119df\",ExpectedResponse=\"\"\n";

    /// Follows `content` from the start for a moment and returns the sources it reported.
    fn follow(content: &[u8]) -> Vec<SocketAddr> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("security.log");
        std::fs::write(&path, content).unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(64);
        let m = Arc::new(Metrics::default());
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let t = std::thread::spawn(move || follow_log(path, true, tx, m, s2));
        std::thread::sleep(Duration::from_millis(600));
        stop.store(true, Relaxed);
        t.join().unwrap();
        rx.try_iter()
            .filter_map(|i| match i {
                Input::Log { src, .. } => Some(src),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn regression_overlong_log_line_tail_parsed_as_a_new_line() {
        // Control: the line on its own is an auth failure from 203.0.113.9.
        assert_eq!(follow(FAIL.as_bytes()).len(), 1);
        // The same text at the end of one overlong line (cut at a read boundary) is not a line
        // of its own: whoever controls part of a logged value must not forge a log record.
        let mut forged = vec![b'A'; 2 * 64 * 1024];
        forged.extend_from_slice(FAIL.as_bytes());
        let got = follow(&forged);
        assert!(got.is_empty(), "forged record accepted: {got:?}");
        // Lines after the overlong one are read normally.
        forged.extend_from_slice(FAIL.as_bytes());
        assert_eq!(follow(&forged).len(), 1);
    }

    #[test]
    fn regression_idle_hep_tcp_connections_lock_out_agents() {
        let l = bind_tcp("127.0.0.93:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(64);
        let m = Arc::new(Metrics::default());
        let stop = Arc::new(AtomicBool::new(false));
        let filter = HepFilter {
            key: None,
            capture_ids: Vec::new(),
        };
        let (m2, s2) = (m.clone(), stop.clone());
        let t = std::thread::spawn(move || hep_tcp(l, filter, tx, m2, s2));
        // Every slot taken by a peer that never sends anything.
        let idle: Vec<std::net::TcpStream> = (0..MAX_TCP_CONNECTIONS)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        std::thread::sleep(HEP_TCP_FIRST_FRAME + Duration::from_millis(1500));
        // A real agent connects and sends one SIP message.
        let sip = b"OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:pbx>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        let pkt = sipsentry_hep::HepPacket::new(
            "192.0.2.9:5060".parse().unwrap(),
            "192.0.2.1:5060".parse().unwrap(),
            sip.as_slice(),
        )
        .to_v3_bytes()
        .unwrap();
        let mut agent = std::net::TcpStream::connect(addr).unwrap();
        use std::io::Write;
        agent.write_all(&pkt).unwrap();
        let got = rx.recv_timeout(Duration::from_secs(3));
        stop.store(true, Relaxed);
        drop(idle);
        t.join().unwrap();
        assert!(got.is_ok(), "the agent was locked out by idle connections");
    }

    #[test]
    fn regression_input_queue_bounded_by_count_not_bytes() {
        let (tx, rx) = std::sync::mpsc::sync_channel(65_536);
        let m = Metrics::default();
        let big = |i: u16| Input::Sip {
            input: 0,
            ts_ns: 0,
            src: SocketAddr::from(([192, 0, 2, 1], i)),
            dst: SocketAddr::from(([192, 0, 2, 2], 5060)),
            transport: Transport::Udp,
            data: vec![b'x'; 64 * 1024],
        };
        // A 4 MiB budget: 63 payloads of 64 KiB fit, the rest is dropped and counted.
        let cap = 4 << 20;
        let taken = (0..200)
            .filter(|&i| offer_capped(&tx, &m, 0, big(i), cap))
            .count();
        assert_eq!(taken, 63);
        assert_eq!(m.dropped[0].load(Relaxed), 200 - 63);
        assert!(m.queued_bytes.load(Relaxed) <= cap);
        // The detector hands the budget back as it takes inputs.
        for ev in rx.try_iter() {
            m.queued_bytes.fetch_sub(input_bytes(&ev), Relaxed);
        }
        assert_eq!(m.queued_bytes.load(Relaxed), 0);
        assert!(offer_capped(&tx, &m, 0, big(1), cap));
        // The production budget is far below count × largest payload.
        const { assert!(MAX_QUEUE_BYTES <= 256 << 20) };
    }
}
