//! Management interface checks (filled in below).
use crate::checks::ServiceInfo;
use crate::{Config, Port};
use sipsentry_report::Finding;
use std::net::IpAddr;

/// Result of the management checks.
#[derive(Debug, Default)]
pub struct MgmtReport {
    /// Ports.
    pub services: Vec<ServiceInfo>,
    /// Findings.
    pub findings: Vec<Finding>,
}

/// Check management ports.
pub async fn check_ports(_ip: IpAddr, _ports: &[Port], _config: &Config) -> MgmtReport {
    MgmtReport::default()
}
