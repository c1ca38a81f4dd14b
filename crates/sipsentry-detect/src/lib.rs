//! # sipsentry-detect
//!
//! Attack detectors over [`sipsentry_ingest::SipEvent`]s: pure functions of events and packet
//! time, all state bounded. Every alert has a stable [`AlertId`], a severity, the transport
//! source (never a header value), a target, first/last seen, count, evidence without secrets,
//! the hardening control it maps to and a suggested action.
//!
//! Implemented so far: AUTH-BRUTEFORCE, AUTH-SUCCESS-AFTER-FAILURES, SIP-ENUMERATION,
//! SIP-SCANNER, SIP-FLOOD, TOLL-FRAUD-UNAUTH-CALL. The rest of issue 4 is not done yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alert;
pub mod engine;
pub mod fraud;
pub mod policy;
mod short;

pub use alert::{Action, Alert, AlertId, Severity};
pub use engine::{AlertChange, Engine, LogSignal, Thresholds};
pub use policy::{BusinessHours, CallLimits, Net, Policy};
