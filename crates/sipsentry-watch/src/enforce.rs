//! The nftables enforcer: sipsentry-nft's `Firewall` behind the responder's [`Enforcer`] trait,
//! with the allow-list built from the policy's trusted networks, `response.allow`, loopback,
//! link-local and this host's own addresses.
use crate::actions::Enforcer;
use crate::config::{Config, Mode};
use sipsentry_nft::{
    AllowList, Ban, Firewall, FirewallConfig, IpNet, PersistedBan, PortRange, Proto,
};
use std::time::Duration;

/// The enforcer for `cfg.response.mode`.
pub fn enforcer(
    cfg: &Config,
    policy: &sipsentry_detect::Policy,
) -> Result<Box<dyn Enforcer>, String> {
    if cfg.response.mode == Mode::Off {
        return Ok(Box::new(crate::NoEnforcer));
    }
    let ports = cfg
        .protect_ports()
        .into_iter()
        .map(|p| PortRange {
            proto: if p.tcp { Proto::Tcp } else { Proto::Udp },
            lo: p.lo,
            hi: p.hi,
        })
        .collect();
    let fw_cfg = FirewallConfig {
        table: cfg.response.table.clone(),
        ports,
        netns: cfg.response.netns.clone(),
        dry_run: cfg.response.mode == Mode::DryRun,
        nft_path: cfg.response.nft.clone(),
    };
    let mut allow = AllowList::new(std::iter::empty());
    for n in &policy.trusted {
        if let Some(net) = IpNet::new(n.addr, n.prefix) {
            allow.add_trusted(net, "policy trusted_networks");
        }
    }
    for a in &cfg.response.allow {
        let net: IpNet = a
            .parse()
            .map_err(|e| format!("response.allow: {a:?}: {e}"))?;
        allow.add_trusted(net, "response.allow");
    }
    let allow = allow
        .with_host_addresses(cfg.response.netns.as_deref())
        .map_err(|e| format!("reading this host's addresses: {e}"))?;
    let fw = Firewall::new(fw_cfg)
        .map_err(|e| e.to_string())?
        .with_allow_list(allow.clone());
    Ok(Box::new(NftEnforcer { fw, allow }))
}

pub struct NftEnforcer {
    fw: Firewall,
    allow: AllowList,
}

fn parse(net: &str) -> Result<IpNet, String> {
    net.parse().map_err(|e| format!("{net:?}: {e}"))
}

impl Enforcer for NftEnforcer {
    fn install(&mut self) -> Result<(), String> {
        let script = self.fw.install().map_err(|e| e.to_string())?;
        if self.fw.config().dry_run {
            eprintln!("sipsentry: dry-run: would install:\n{script}");
        }
        Ok(())
    }

    fn ban(&mut self, bans: &[(String, u64)]) -> Result<(), String> {
        let list = bans
            .iter()
            .map(|(n, s)| {
                Ok(Ban {
                    net: parse(n)?,
                    timeout: Duration::from_secs(*s),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let out = self.fw.ban_batch(&list).map_err(|e| e.to_string())?;
        if out.dry_run && !out.script.is_empty() {
            eprintln!("sipsentry: dry-run: would run:\n{}", out.script.trim_end());
        }
        if let Some(r) = out.refused.first() {
            return Err(r.to_string());
        }
        Ok(())
    }

    fn unban(&mut self, net: &str) -> Result<(), String> {
        self.fw
            .unban(&parse(net)?)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn reconcile(&mut self, bans: &[(String, i64)], now_unix: i64) -> Result<(), String> {
        let list = bans
            .iter()
            .filter_map(|(n, e)| {
                Some(PersistedBan {
                    net: parse(n).ok()?,
                    expires_unix: *e,
                })
            })
            .collect::<Vec<_>>();
        let out = self
            .fw
            .reconcile(&list, now_unix)
            .map_err(|e| e.to_string())?;
        if !out.added.is_empty() {
            eprintln!(
                "sipsentry: restored {} ban(s) from the store ({} already in the kernel)",
                out.added.len(),
                out.present.len()
            );
        }
        Ok(())
    }

    fn refuse(&self, net: &str) -> Option<String> {
        match parse(net) {
            Ok(n) => self.allow.check(&n).err().map(|r| r.reason),
            Err(e) => Some(e),
        }
    }

    fn dry_run(&self) -> bool {
        self.fw.config().dry_run
    }
}
