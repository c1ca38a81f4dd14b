//! Builds the enforcer the configuration asks for.
use crate::actions::Enforcer;
use crate::config::{Config, Mode};

/// The enforcer for `cfg.response.mode`.
pub fn enforcer(
    cfg: &Config,
    _policy: &sipsentry_detect::Policy,
) -> Result<Box<dyn Enforcer>, String> {
    match cfg.response.mode {
        Mode::Off => Ok(Box::new(crate::NoEnforcer)),
        Mode::Enforce | Mode::DryRun => {
            Err("nftables enforcement is being integrated; use response.mode = \"off\"".into())
        }
    }
}
