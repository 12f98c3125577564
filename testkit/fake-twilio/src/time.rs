//! Timestamps in the formats Twilio prints: RFC 2822 in the 2010-04-01 API
//! (`Thu, 24 Aug 2023 05:01:45 +0000`), ISO 8601 in the v1 Messaging API
//! (`2023-08-24T05:01:45Z`), and the `YYMMDDhhmm` DLR "done date" of status
//! callbacks. Always UTC; no time-zone database is needed.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Broken-down UTC time.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    /// 0 = Thursday (1970-01-01 was one).
    weekday_from_thursday: i64,
}

fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days, valid for the whole i64 day range we use.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month: u32::try_from(month).unwrap_or(1),
        day: u32::try_from(day).unwrap_or(1),
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        second: rem % 60,
        weekday_from_thursday: days.rem_euclid(7),
    }
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Thu, 24 Aug 2023 05:01:45 +0000`
pub(crate) fn rfc2822(secs: i64) -> String {
    let c = civil(secs);
    let weekday = WEEKDAYS[usize::try_from(c.weekday_from_thursday).unwrap_or(0) % 7];
    let month = MONTHS[(c.month as usize).saturating_sub(1) % 12];
    format!(
        "{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} +0000",
        c.day, c.year, c.hour, c.minute, c.second
    )
}

/// `2023-08-24T05:01:45Z`
pub(crate) fn iso8601(secs: i64) -> String {
    let c = civil(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `RawDlrDoneDate`: `YYMMDDhhmm`.
pub(crate) fn dlr_done_date(secs: i64) -> String {
    let c = civil(secs);
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        c.year.rem_euclid(100),
        c.month,
        c.day,
        c.hour,
        c.minute
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_documented_example() {
        // Twilio's create-message example: "Thu, 24 Aug 2023 05:01:45 +0000".
        let secs = 1_692_853_305;
        assert_eq!(rfc2822(secs), "Thu, 24 Aug 2023 05:01:45 +0000");
        assert_eq!(iso8601(secs), "2023-08-24T05:01:45Z");
        assert_eq!(dlr_done_date(secs), "2308240501");
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }
}
