//! Packet-time formatting without a time-zone database: captures are shown in UTC.

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for nanoseconds since the Unix epoch (the same format the live
/// guard writes, so `analyze` and `watch` timestamps compare as text).
pub fn rfc3339_micros(ns: i64) -> String {
    sipsentry_watch::outputs::rfc3339(ns)
}

/// `HH:MM:SS.ffffff` (UTC) for the table view.
pub fn clock_micros(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let micros = ns.rem_euclid(1_000_000_000) / 1000;
    let sod = secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{micros:06}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000Z");
        // 2005-07-04 09:32:20.839312 UTC (first packet of sngrep_aaa.pcap)
        assert_eq!(
            rfc3339_micros(1_120_469_540_839_312_000),
            "2005-07-04T09:32:20.839312Z"
        );
        assert_eq!(
            rfc3339_micros(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(clock_micros(1_120_469_540_839_312_000), "09:32:20.839312");
        assert_eq!(rfc3339_micros(-1_000), "1969-12-31T23:59:59.999999Z");
    }
}
