//! TLS checks (filled in below).
use std::net::SocketAddr;
use sipsentry_report::Finding;
use crate::checks::ServiceInfo;
use crate::Config;

/// Result of the TLS checks.
#[derive(Debug, Default)]
pub struct TlsReport {
    /// Ports.
    pub services: Vec<ServiceInfo>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Notes.
    pub notes: Vec<String>,
}

/// Check TLS ports.
pub async fn check_ports(_ports: &[SocketAddr], _domain: &str, _config: &Config, _sip_open: bool) -> TlsReport {
    TlsReport::default()
}
