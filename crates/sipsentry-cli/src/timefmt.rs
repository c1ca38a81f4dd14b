//! Packet-time formatting without a time-zone database: captures are shown in UTC.

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for nanoseconds since the Unix epoch.
pub fn rfc3339_micros(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let micros = ns.rem_euclid(1_000_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
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

/// Howard Hinnant's days-from-civil inverse: proleptic Gregorian date of a day number.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
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
