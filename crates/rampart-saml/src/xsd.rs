//! XML Schema date and time values as SAML uses them (SAML core 2.0, 1.3.3: xs:dateTime in
//! UTC), and xs:duration for metadata `cacheDuration`.
//!
//! Parsed by hand: the grammar is small and `time`'s RFC 3339 parser refuses forms that
//! real IdPs send (no time zone, more than nine fractional digits are not in RFC 3339 either
//! but are legal xs:dateTime). Everything is checked; bad input is an error, never a panic.

use std::time::{Duration, SystemTime};

use rampart_xmldsig::trim_xml_white_space;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::error::{Error, TimeError};

/// Longest xs:dateTime text accepted (the longest sane form is ~35 characters).
const MAX_LEN: usize = 64;

/// Parses an xs:dateTime. A value without a time zone is taken as UTC (SAML core 1.3.3 says
/// all SAML times are UTC); an explicit offset is honoured.
pub(crate) fn parse_datetime(s: &str) -> Result<OffsetDateTime, Error> {
    let bad = || Error::Time(TimeError::Invalid(truncate(s)));
    // whiteSpace="collapse": XML white space only; a U+00A0 makes the value invalid.
    let t = trim_xml_white_space(s);
    if t.len() > MAX_LEN || !t.is_ascii() {
        return Err(bad());
    }
    let b = t.as_bytes();
    // YYYY-MM-DDThh:mm:ss (years before 1000 or after 9999 are not plausible for SAML).
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, Error> {
        let part = &t[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse::<u32>().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let year = i32::try_from(num(0..4)?).map_err(|_| bad())?;
    let month = u8::try_from(num(5..7)?).map_err(|_| bad())?;
    let day = u8::try_from(num(8..10)?).map_err(|_| bad())?;
    let hour = u8::try_from(num(11..13)?).map_err(|_| bad())?;
    let minute = u8::try_from(num(14..16)?).map_err(|_| bad())?;
    let second = u8::try_from(num(17..19)?).map_err(|_| bad())?;
    let mut rest = &t[19..];
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        // Keep nanosecond precision; further digits are legal and ignored (truncation).
        for (i, c) in frac.bytes().take(digits).enumerate() {
            if i < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
            }
        }
        for _ in digits..9 {
            nanos *= 10;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "" | "Z" => UtcOffset::UTC,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || rb[3] != b':' || !(rb[0] == b'+' || rb[0] == b'-') {
                return Err(bad());
            }
            let oh: i8 = rest[1..3].parse().map_err(|_| bad())?;
            let om: i8 = rest[4..6].parse().map_err(|_| bad())?;
            if !rest[1..3].bytes().all(|c| c.is_ascii_digit())
                || !rest[4..6].bytes().all(|c| c.is_ascii_digit())
                || oh > 14
                || om > 59
            {
                return Err(bad());
            }
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * oh, sign * om, 0).map_err(|_| bad())?
        }
    };
    let month = Month::try_from(month).map_err(|_| bad())?;
    let date = Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
    // xs:dateTime allows 24:00:00 as the end of a day; SAML IdPs do not send it: refuse.
    let time = Time::from_hms_nano(hour, minute, second, nanos).map_err(|_| bad())?;
    // `to_offset` panics when the UTC value leaves time's range (year 9999 with a negative
    // offset is year 10000 in UTC): input must never panic us.
    PrimitiveDateTime::new(date, time)
        .assume_offset(offset)
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(bad)
}

/// Parses an xs:dateTime into a `SystemTime`.
pub(crate) fn parse_system_time(s: &str) -> Result<SystemTime, Error> {
    parse_datetime(s).map(SystemTime::from)
}

/// Formats a time as SAML wants it: UTC, `Z`, whole seconds (SAML core 1.3.3).
pub(crate) fn format_datetime(t: SystemTime) -> String {
    // `OffsetDateTime::from(SystemTime)` panics outside years -9999..=9999; a caller's `now`
    // may be anything, so convert with checked arithmetic.
    let dt = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => time::Duration::try_from(d)
            .ok()
            .and_then(|d| OffsetDateTime::UNIX_EPOCH.checked_add(d)),
        Err(e) => time::Duration::try_from(e.duration())
            .ok()
            .and_then(|d| OffsetDateTime::UNIX_EPOCH.checked_sub(d)),
    };
    let Some(dt) = dt else {
        return "(out of range)".into();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Parses an xs:duration (`PnYnMnDTnHnMnS`) as used by metadata `cacheDuration`.
/// Years count 365 days and months 30 days (metadata caching needs no calendar precision).
/// Negative durations are refused.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, Error> {
    let bad = || Error::Metadata(format!("invalid xs:duration {:?}", truncate(s)));
    let t = trim_xml_white_space(s);
    if t.len() > MAX_LEN {
        return Err(bad());
    }
    let body = t.strip_prefix('P').ok_or_else(bad)?;
    let (date_part, time_part) = match body.split_once('T') {
        Some((d, tm)) => {
            if tm.is_empty() {
                return Err(bad());
            }
            (d, Some(tm))
        }
        None => (body, None),
    };
    if date_part.is_empty() && time_part.is_none() {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut scan = |part: &str, units: &[(char, f64)]| -> Result<(), Error> {
        let mut num = String::new();
        let mut next_unit = 0usize;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
                continue;
            }
            let idx = units[next_unit..]
                .iter()
                .position(|(u, _)| *u == c)
                .ok_or_else(bad)?;
            let value: f64 = num.parse().map_err(|_| bad())?;
            total += value * units[next_unit + idx].1;
            next_unit += idx + 1;
            num.clear();
        }
        if num.is_empty() { Ok(()) } else { Err(bad()) }
    };
    scan(
        date_part,
        &[
            ('Y', 365.0 * 86400.0),
            ('M', 30.0 * 86400.0),
            ('D', 86400.0),
        ],
    )?;
    if let Some(tm) = time_part {
        scan(tm, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    if !total.is_finite() || total > 1e12 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_utc_with_and_without_fraction() {
        assert_eq!(
            parse_datetime("2011-06-22T12:49:30Z").unwrap(),
            datetime!(2011-06-22 12:49:30 UTC)
        );
        assert_eq!(
            parse_datetime("2011-06-22T12:49:30.348Z").unwrap(),
            datetime!(2011-06-22 12:49:30.348 UTC)
        );
        assert_eq!(
            parse_datetime("2011-06-22T12:49:30.1234567891234Z").unwrap(),
            datetime!(2011-06-22 12:49:30.123456789 UTC)
        );
    }

    #[test]
    fn parses_offsets_and_missing_zone() {
        assert_eq!(
            parse_datetime("2015-08-31T08:54:06+00:00").unwrap(),
            datetime!(2015-08-31 08:54:06 UTC)
        );
        assert_eq!(
            parse_datetime("2015-08-31T10:54:06+02:00").unwrap(),
            datetime!(2015-08-31 08:54:06 UTC)
        );
        assert_eq!(
            parse_datetime("2015-08-31T08:54:06-01:30").unwrap(),
            datetime!(2015-08-31 10:24:06 UTC)
        );
        assert_eq!(
            parse_datetime("2015-08-31T08:54:06").unwrap(),
            datetime!(2015-08-31 08:54:06 UTC)
        );
    }

    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "2015-08-31",
            "2015-13-01T00:00:00Z",
            "2015-02-30T00:00:00Z",
            "2015-08-31T25:00:00Z",
            "2015-08-31T08:54:06.Z",
            "2015-08-31T08:54:06+2:00",
            "2015-08-31T08:54:06+25:00",
            "2015-08-31T08:54:06ZZ",
            "+015-08-31T08:54:06Z",
            "2015-08-31T08:54:06\u{e9}",
            "2015-08-31 08:54:06Z",
        ] {
            assert!(parse_datetime(s).is_err(), "{s:?} accepted");
        }
    }

    #[test]
    fn refuses_values_that_leave_the_representable_range() {
        // In UTC these are in year 10000; `to_offset` would panic on them.
        for s in [
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:00:00-14:00",
            "9999-12-31T23:59:59.999999999-00:01",
        ] {
            assert!(
                matches!(parse_datetime(s), Err(Error::Time(TimeError::Invalid(_)))),
                "{s:?}"
            );
        }
        // The last representable instant still parses.
        assert_eq!(
            parse_datetime("9999-12-31T23:59:59Z").unwrap(),
            datetime!(9999-12-31 23:59:59 UTC)
        );
    }

    #[test]
    fn formats_whole_seconds_utc() {
        let t = SystemTime::from(datetime!(2026-11-23 10:51:52.7 UTC));
        assert_eq!(format_datetime(t), "2026-11-23T10:51:52Z");
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(format_datetime(far), "(out of range)");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1H").unwrap(), Duration::from_secs(3600));
        assert_eq!(
            parse_duration("P1DT2H3M4S").unwrap(),
            Duration::from_secs(86400 + 7384)
        );
        assert_eq!(
            parse_duration("PT604800S").unwrap(),
            Duration::from_secs(604_800)
        );
        assert_eq!(
            parse_duration("P1M").unwrap(),
            Duration::from_secs(30 * 86400)
        );
        assert_eq!(
            parse_duration("PT0.5S").unwrap(),
            Duration::from_millis(500)
        );
        for s in ["", "P", "PT", "1D", "-P1D", "P1H", "PT1D", "P1D2", "PT1S1H"] {
            assert!(parse_duration(s).is_err(), "{s:?} accepted");
        }
    }
}
