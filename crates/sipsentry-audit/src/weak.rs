//! Weak-secret heuristics. They return a reason that names no part of the secret, except when
//! the value is a well-known published default (`ClueCon`, `1234`): saying so is the finding.

/// Stock defaults shipped in PBX samples and docs: naming them reveals nothing private.
const PUBLIC_DEFAULTS: [&str; 12] = [
    "1234",
    "ClueCon",
    "mysecret",
    "secret",
    "password",
    "admin",
    "1000",
    "12345",
    "123456",
    "changeme",
    "asterisk",
    "freeswitch",
];

/// Why `secret` is weak, or `None`.
pub fn weak_secret(secret: &str, username: &str) -> Option<String> {
    let s = secret.trim();
    if let Some(d) = PUBLIC_DEFAULTS.iter().find(|d| d.eq_ignore_ascii_case(s)) {
        return Some(format!("is the well-known default \"{d}\""));
    }
    if s.is_empty() {
        return Some("is empty".into());
    }
    if !username.is_empty() && s.eq_ignore_ascii_case(username) {
        return Some("equals the username".into());
    }
    if s.chars().all(|c| c.is_ascii_digit()) && s.len() < 12 {
        return Some(format!("is only {} digits", s.len()));
    }
    if s.chars().count() < 10 {
        return Some(format!(
            "is shorter than 10 characters ({})",
            s.chars().count()
        ));
    }
    None
}

/// Why a numeric PIN (voicemail) is weak, or `None`: PINs are digits by design, so only
/// defaults, the extension itself, short or trivially patterned ones count.
pub fn weak_pin(pin: &str, username: &str) -> Option<String> {
    let s = pin.trim();
    if let Some(d) = PUBLIC_DEFAULTS.iter().find(|d| d.eq_ignore_ascii_case(s)) {
        return Some(format!("is the well-known default \"{d}\""));
    }
    if !username.is_empty() && s == username {
        return Some("equals the extension number".into());
    }
    if s.len() < 6 {
        return Some(format!("is shorter than 6 digits ({})", s.len()));
    }
    let b = s.as_bytes();
    if b.iter().all(|&c| c == b[0]) || b.windows(2).all(|w| w[1] == w[0].wrapping_add(1)) {
        return Some("is a repeated or sequential pattern".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_do_not_leak_private_secrets() {
        assert_eq!(
            weak_secret("ClueCon", "x").unwrap(),
            "is the well-known default \"ClueCon\""
        );
        let r = weak_secret("s3cr3t!", "x").unwrap();
        assert!(!r.contains("s3cr3t"));
        assert!(weak_secret("6001", "6001").unwrap().contains("username"));
        assert!(weak_secret("Zx9!kq2#Lm7$Vb4", "6001").is_none());
    }
}
