//! The rule catalogue: every finding ID this crate can emit, with its severity, the hardening
//! control it maps to and the remediation. `docs/audit.md` documents the same list (a test
//! checks that none is missing there).

use sipsentry_report::{Finding, RuleMeta, Severity};
use Severity::*;

/// Control areas of the hardening guide; the score is computed per area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    Mfa,
    LeastPrivilege,
    AllowLists,
    Lockout,
    Passwords,
    Countries,
    Encryption,
    Services,
    ApiExposure,
    AuditLogging,
    Backups,
    Patching,
    SipAlg,
    ChangeReview,
}

impl Area {
    pub const ALL: [Area; 14] = [
        Area::Mfa,
        Area::LeastPrivilege,
        Area::AllowLists,
        Area::Lockout,
        Area::Passwords,
        Area::Countries,
        Area::Encryption,
        Area::Services,
        Area::ApiExposure,
        Area::AuditLogging,
        Area::Backups,
        Area::Patching,
        Area::SipAlg,
        Area::ChangeReview,
    ];

    /// Stable key used in JSON (`score.areas.<key>`).
    pub fn key(self) -> &'static str {
        match self {
            Area::Mfa => "mfa",
            Area::LeastPrivilege => "least-privilege",
            Area::AllowLists => "ip-allow-lists",
            Area::Lockout => "lockout",
            Area::Passwords => "strong-passwords",
            Area::Countries => "allowed-countries",
            Area::Encryption => "tls-srtp",
            Area::Services => "minimal-services",
            Area::ApiExposure => "api-exposure",
            Area::AuditLogging => "audit-logging",
            Area::Backups => "backups",
            Area::Patching => "patching",
            Area::SipAlg => "sip-alg-off",
            Area::ChangeReview => "change-review",
        }
    }

    /// The seed control, as the hardening guide words it.
    pub fn control(self) -> &'static str {
        match self {
            Area::Mfa => "MFA for every admin",
            Area::LeastPrivilege => "Least-privilege roles",
            Area::AllowLists => "IP allow-lists on management and SIP",
            Area::Lockout => "Lockout thresholds",
            Area::Passwords => "Strong passwords",
            Area::Countries => "Allowed countries only",
            Area::Encryption => "TLS + SRTP",
            Area::Services => "Minimal services",
            Area::ApiExposure => "API exposure restricted",
            Area::AuditLogging => "Audit logging on",
            Area::Backups => "Encrypted offsite backups",
            Area::Patching => "Patching",
            Area::SipAlg => "SIP ALG off",
            Area::ChangeReview => "Review diffs after upgrades",
        }
    }
}

/// One rule of the catalogue.
#[derive(Debug)]
pub struct RuleDef {
    pub id: &'static str,
    pub severity: Severity,
    pub area: Area,
    pub title: &'static str,
    pub remediation: &'static str,
}

impl RuleDef {
    /// A finding of this rule at `target` with `evidence` (already free of secrets).
    pub fn finding(&self, target: impl Into<String>, evidence: Vec<String>) -> Finding {
        Finding {
            id: self.id.to_string(),
            severity: self.severity,
            title: self.title.to_string(),
            target: target.into(),
            evidence,
            control: self.area.control().to_string(),
            remediation: self.remediation.to_string(),
        }
    }
}

macro_rules! rules {
    ($( $id:literal, $sev:ident, $area:ident, $title:literal, $fix:literal; )*) => {
        /// Every rule, in catalogue order.
        pub static RULES: &[RuleDef] = &[
            $( RuleDef { id: $id, severity: $sev, area: Area::$area, title: $title, remediation: $fix }, )*
        ];
    };
}

rules! {
    // ---- Asterisk
    "AST-SECURITY-LOG-OFF", Medium, AuditLogging, "Asterisk security log channel is not enabled",
        "In logger.conf [logfiles] add `security.log => security` (fail2ban/CrowdSec read it).";
    "AST-SYSLOG-OFF", Low, AuditLogging, "Asterisk logs are not forwarded to syslog",
        "In logger.conf [logfiles] add a `syslog.local0 => notice,warning,error,security` channel and forward it off the host.";
    "AST-AMI-EXPOSED", High, ApiExposure, "Asterisk Manager Interface enabled on all interfaces",
        "In manager.conf set `bindaddr = 127.0.0.1` (or a management address) and firewall port 5038.";
    "AST-AMI-NO-ACL", Medium, AllowLists, "AMI user without a permit/deny allow-list",
        "Give every manager.conf user `deny = 0.0.0.0/0.0.0.0` and `permit = <admin network>`.";
    "AST-AMI-WEAK-SECRET", High, Passwords, "AMI user with a weak or sample secret",
        "Set a long random `secret` for every manager.conf user.";
    "AST-AMI-BROAD-PERMISSIONS", Medium, LeastPrivilege, "AMI user can write system or command",
        "Restrict manager.conf `write` to the classes the integration needs; drop `system`, `command`, `all`.";
    "AST-HTTP-EXPOSED", Medium, ApiExposure, "Asterisk HTTP/ARI server enabled on a public address without TLS",
        "In http.conf bind to 127.0.0.1 or enable `tlsenable=yes` with a certificate and restrict with ACLs.";
    "AST-PJSIP-NO-SRTP", Medium, Encryption, "PJSIP endpoint without media encryption",
        "Set `media_encryption=sdes` (with a TLS transport) or `dtls` on every endpoint.";
    "AST-PJSIP-NO-TLS", Medium, Encryption, "No PJSIP TLS transport configured",
        "Add a `type=transport` with `protocol=tls`, a certificate, and move endpoints to it.";
    "AST-PJSIP-UNAUTH-OPTIONS", Medium, AllowLists, "PJSIP endpoint answers OPTIONS without authentication",
        "Remove `allow_unauthenticated_options=yes` (the default `no` challenges OPTIONS like INVITE).";
    "AST-PJSIP-NO-ACL", Low, AllowLists, "PJSIP has no IP allow-list",
        "Add a `type=acl` section (deny all, permit office/trunk networks) or `acl=`/`permit=` on endpoints.";
    "AST-PJSIP-WEAK-PASSWORD", High, Passwords, "PJSIP auth with a weak password",
        "Use long random passwords (16+ characters) that do not repeat the username.";
    "AST-SIP-ALLOWGUEST", High, AllowLists, "chan_sip accepts unauthenticated guest calls",
        "In sip.conf [general] set `allowguest=no`.";
    "AST-SIP-AUTHREJECT-OFF", Medium, Lockout, "chan_sip reveals which extensions exist (alwaysauthreject=no)",
        "In sip.conf [general] set `alwaysauthreject=yes`.";
    "AST-SIP-NO-SRTP", Medium, Encryption, "chan_sip peers without media encryption",
        "Set `encryption=yes` with `transport=tls`, or migrate to PJSIP with SRTP.";
    "AST-SIP-DEPRECATED", Medium, Patching, "chan_sip (sip.conf) in use: removed from Asterisk 21",
        "Migrate to chan_pjsip (pjsip.conf) and a supported Asterisk release.";
    "AST-DIALPLAN-GUEST-DIALS-OUT", High, Countries, "Unauthenticated calls reach a context that dials out",
        "Point guest/anonymous calls at a context that only reaches local extensions.";
    // ---- FreeSWITCH
    "FS-DEFAULT-PASSWORD", Critical, Passwords, "FreeSWITCH default_password is the stock value",
        "Change `default_password` in vars.xml to a long random value (every directory user inherits it).";
    "FS-USER-WEAK-PASSWORD", High, Passwords, "Directory user with a weak SIP or voicemail password",
        "Give each directory user its own long random `password` and a non-trivial `vm-password`.";
    "FS-ESL-EXPOSED", High, ApiExposure, "Event socket listens on all interfaces",
        "In event_socket.conf.xml set `listen-ip` to 127.0.0.1 (or ::1).";
    "FS-ESL-DEFAULT-PASSWORD", Critical, Passwords, "Event socket password is weak or the stock `ClueCon`",
        "Set a long random `password` in event_socket.conf.xml.";
    "FS-ESL-NO-ACL", Medium, AllowLists, "Event socket without an inbound ACL",
        "Add `<param name=\"apply-inbound-acl\" value=\"loopback.auto\"/>` (or a management list).";
    "FS-PROFILE-AUTH-CALLS-OFF", High, AllowLists, "SIP profile accepts calls without authentication or ACL",
        "Set `auth-calls=true`, or restrict the profile with `apply-inbound-acl` to the trunk provider's addresses.";
    "FS-LOG-AUTH-FAILURES-OFF", Medium, AuditLogging, "SIP profile does not log authentication failures",
        "Set `log-auth-failures=true` so fail2ban/CrowdSec see brute force.";
    "FS-PROFILE-NO-TLS", Medium, Encryption, "No SIP profile has TLS enabled",
        "Set `internal_ssl_enable`/`external_ssl_enable=true` (vars.xml) with certificates.";
    "FS-NO-SRTP", Medium, Encryption, "SRTP is not required for calls",
        "Set `rtp_secure_media=mandatory` (vars.xml, or per call in the dialplan) with SRTP-capable phones and trunks.";
    "FS-TLS-OLD-VERSIONS", Medium, Encryption, "SIP TLS allows TLS 1.0/1.1",
        "Set `sip_tls_version=tlsv1.2` (vars.xml).";
    "FS-ACL-DEFAULT-ALLOW", Low, AllowLists, "ACL list that allows by default",
        "Use `default=\"deny\"` and list the allowed networks.";
    // ---- 3CX
    "3CX-ADMIN-NO-2FA", High, Mfa, "Administrator without two-factor authentication",
        "Enable 2FA (Users > user > Security) for every user with an admin role.";
    "3CX-2FA-NOT-REQUIRED", Medium, Mfa, "2FA not required for an administrator",
        "Set `Require2FA` for every admin so it cannot be switched off by the user.";
    "3CX-CONSOLE-UNRESTRICTED", High, AllowLists, "Management console reachable from any IP",
        "Admin > Security > Console Restrictions: restrict access to the admin networks.";
    "3CX-ANTIHACK-LAX", Medium, Lockout, "Anti-hacking thresholds laxer than the policy",
        "Admin > Security > Anti-Hacking: lower the failed-auth/challenge limits, lengthen the blacklist time.";
    "3CX-BLOCKLIST-BROAD-ALLOW", High, AllowLists, "IP blocklist holds an allow entry for a broad range",
        "Replace broad Allow entries with the exact addresses of trunks/offices.";
    "3CX-COUNTRIES-BROAD", High, Countries, "Outbound calls allowed to more countries than the policy",
        "Admin > Security > Allowed Country Codes: keep only the countries you call.";
    "3CX-EXT-OUTSIDE-LAN", Medium, AllowLists, "Extension allowed outside the LAN without tunnel or SBC",
        "Set `AllowLanOnly`, or connect remote phones through the 3CX tunnel/SBC.";
    "3CX-EXT-NO-SRTP", Medium, Encryption, "Remote extension without SRTP",
        "Set the extension's SRTP mode to Enabled/Enforced.";
    "3CX-TRUNK-NO-SRTP", Medium, Encryption, "Trunk without SRTP",
        "Set the trunk gateway's SRTP mode to Enabled/Enforced where the provider supports it.";
    "3CX-TRUNK-ANY-TRANSPORT", Medium, AllowLists, "Trunk accepts any transport",
        "Restrict the trunk transport to TLS (or the one transport the provider uses).";
    "3CX-TRUNK-ANY-SOURCE", High, AllowLists, "Trunk accepts inbound calls without source identification",
        "Add source identification (the provider's IP/host) so only the provider can use the trunk.";
    "3CX-NO-TLS-CERT", Medium, Encryption, "No TLS certificate for secure SIP",
        "Admin > Settings > Security > Secure SIP: upload a certificate and private key.";
    "3CX-PROVISIONING-SECRET-OFF", High, ApiExposure, "Phone provisioning does not use a secret",
        "Enable `UseProvisioningSecret` so provisioning URLs cannot be guessed.";
    "PBX-KNOWN-CVE", High, Patching, "The PBX version has known vulnerabilities",
        "Upgrade to a fixed version (see the CVE's advisory); until then restrict SIP and management ports to trusted networks.";
    "3CX-AUTO-UPDATE-OFF", Medium, Patching, "Automatic updates are off",
        "Enable automatic updates, or schedule a monthly patch review.";
    "3CX-AUDIT-LOG-OFF", Medium, AuditLogging, "Audit log is off",
        "Enable the audit log (Admin > Advanced > Audit log).";
    "3CX-SYSLOG-OFF", Low, AuditLogging, "Logs are not forwarded to a syslog server",
        "Configure a Custom syslog relay with audit logs and system alerts.";
    "3CX-BACKUP-NOT-SCHEDULED", High, Backups, "Backups are not scheduled",
        "Enable a backup schedule (daily or weekly) with rotation.";
    "3CX-BACKUP-NOT-ENCRYPTED", Medium, Backups, "Backups are not encrypted",
        "Enable backup encryption with a password kept outside the PBX.";
    "3CX-BACKUP-LOCAL-ONLY", Medium, Backups, "Backups are stored only on the PBX",
        "Store backups offsite (SFTP, S3, Google Drive, network share).";
    "3CX-REMOTE-SUPPORT", High, ApiExposure, "Remote support access is granted or requested",
        "Revoke remote support access when no support case is open.";
    "3CX-SERVICE-UNNEEDED", Low, Services, "Service running that the policy does not need",
        "Stop and disable the service, or list it in the policy's `services.pbx`.";
    "3CX-DIRECT-SIP-EXTERNAL", Medium, AllowLists, "Direct SIP from external sources allowed",
        "Disable `DirectSIPAllowExternal` unless a documented integration needs it.";
    // ---- Firewall
    "FW-SIP-OPEN-ANY", High, AllowLists, "SIP port open to any source",
        "Allow SIP only from the policy's trusted networks and trunk IPs (or put an SBC in front).";
    "FW-MGMT-OPEN-ANY", Critical, ApiExposure, "Management port open to any source",
        "Allow management ports (AMI, ESL, web console, SSH) only from admin networks.";
    "FW-RTP-OPEN-ANY", Low, AllowLists, "RTP range open to any source",
        "Restrict RTP to trunk and office networks where remote phones do not need it.";
    "FW-NO-RATE-LIMIT", Medium, Lockout, "No rate-limit rule for SIP",
        "Add a rate limit on new SIP flows (nft `limit`/`meter`, iptables `hashlimit`/`recent`).";
    "FW-SIP-HELPER", Medium, SipAlg, "Firewall assigns the SIP conntrack helper (SIP ALG)",
        "Remove `ct helper` objects/rules of type sip (or `-j CT --helper sip`).";
    "FW-NO-INPUT-FILTER", High, AllowLists, "No input filtering: everything is reachable",
        "Add an input chain with `policy drop` and explicit allow rules.";
    // ---- Host
    "HOST-SIP-ALG-LOADED", Medium, SipAlg, "SIP ALG kernel module loaded",
        "Unload and blacklist nf_nat_sip and nf_conntrack_sip (`/etc/modprobe.d`).";
    "HOST-MGMT-LISTENING", High, ApiExposure, "Management service listening on all interfaces",
        "Bind the service to loopback or a management address.";
    "HOST-UNEXPECTED-LISTENER", Low, Services, "Listening socket the policy does not expect",
        "Stop the service or add its port to the policy's `services.listen`.";
    // ---- Drift
    "DRIFT-ADDED", Medium, ChangeReview, "Setting added since the baseline",
        "Review the new setting; save a new baseline when it is intended.";
    "DRIFT-REMOVED", Medium, ChangeReview, "Setting removed since the baseline",
        "Review the removal; save a new baseline when it is intended.";
    "DRIFT-CHANGED", Medium, ChangeReview, "Setting changed since the baseline",
        "Review the change (upgrades reset settings); save a new baseline when it is intended.";
}

/// The rule with this ID. Every ID used in this crate is in [`RULES`] (checked by a test);
/// an unknown one maps to a neutral placeholder rather than a panic.
pub fn rule(id: &str) -> &'static RuleDef {
    static UNKNOWN: RuleDef = RuleDef {
        id: "AUDIT-UNKNOWN-RULE",
        severity: Info,
        area: Area::ChangeReview,
        title: "Unknown rule",
        remediation: "",
    };
    RULES.iter().find(|r| r.id == id).unwrap_or(&UNKNOWN)
}

/// SARIF rule descriptions for every rule.
pub fn sarif_rules() -> Vec<RuleMeta> {
    RULES
        .iter()
        .map(|r| RuleMeta {
            id: r.id,
            title: r.title,
            help: r.remediation,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_upper_kebab() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                r.id
            );
            assert!(RULES[i + 1..].iter().all(|o| o.id != r.id), "dup {}", r.id);
        }
    }

    #[test]
    fn every_rule_is_documented() {
        let doc = include_str!("../../../docs/audit.md");
        for r in RULES {
            assert!(
                doc.contains(&format!("`{}`", r.id)),
                "{} missing from docs/audit.md",
                r.id
            );
        }
    }

    #[test]
    fn every_rule_id_used_in_sources_is_in_the_catalogue() {
        for src in [
            include_str!("asterisk.rs"),
            include_str!("freeswitch.rs"),
            include_str!("threecx.rs"),
            include_str!("firewall.rs"),
            include_str!("host.rs"),
            include_str!("baseline.rs"),
        ] {
            for part in src.split("rule(\"").skip(1) {
                let id = part.split('"').next().unwrap_or("");
                assert!(RULES.iter().any(|r| r.id == id), "{id} not in catalogue");
            }
        }
    }
}
