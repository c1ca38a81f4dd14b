//! # sipsentry-ingest
//!
//! Every input of the detectors — pcap files, live capture, HEP mirrors — becomes one stream of
//! [`SipEvent`]s here. Sans-IO: packets in (with their capture time), events out through a
//! callback, deterministic for a replayed capture.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod event;
pub mod pipeline;
pub mod summary;

pub use event::{Origin, SipEvent, Transport};
pub use pipeline::{Ingest, IngestConfig, IngestStats};
