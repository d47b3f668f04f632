//! The time as estate records it (the ledger, the registry, lock files): one format, RFC 3339
//! in UTC to the millisecond, so rows written by different processes sort as text. And the
//! times operators type (`--since 12h`), read into that format.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};

/// The current time as the ledger and the registry record it.
pub fn now() -> String {
    format(Utc::now())
}

fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The time `text` names, in the registry's format: a span back from now (`90s`, `30m`,
/// `12h`, `7d`, `2w`), a date (`2026-12-01`, its midnight UTC) or an RFC 3339 time.
pub fn parse_since(text: &str) -> Result<String> {
    since_from(text, Utc::now())
}

fn since_from(text: &str, now: DateTime<Utc>) -> Result<String> {
    let text = text.trim();
    let refused = || {
        Error::refused(
            format!("{text:?} is neither a span of time nor a date"),
            "write a span back from now (30m, 12h, 7d, 2w) or a date (2026-12-01)",
        )
    };
    if let Some(unit) = text.chars().last().filter(char::is_ascii_alphabetic) {
        let n: i64 = text[..text.len() - 1].parse().map_err(|_| refused())?;
        let seconds = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(refused()),
        };
        let span = n
            .checked_mul(seconds)
            .and_then(chrono::Duration::try_seconds)
            .filter(|_| n >= 0)
            .ok_or_else(refused)?;
        return Ok(format(now - span));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(format(
            day.and_hms_opt(0, 0, 0).ok_or_else(refused)?.and_utc(),
        ));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| format(t.with_timezone(&Utc)))
        .map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-05T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn spans_dates_and_times_read_as_registry_times() {
        let since = |t| since_from(t, at()).unwrap();
        assert_eq!(since("12h"), "2026-12-05T06:00:00.000Z");
        assert_eq!(since("30m"), "2026-12-05T17:30:00.000Z");
        assert_eq!(since("2w"), "2026-11-21T18:00:00.000Z");
        assert_eq!(since("2026-12-01"), "2026-12-01T00:00:00.000Z");
        assert_eq!(
            since("2026-12-01T10:00:00+01:00"),
            "2026-12-01T09:00:00.000Z"
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_it_takes() {
        for bad in [
            "",
            "12",
            "h",
            "12x",
            "-3h",
            "1.5h",
            "yesterday",
            "2026-13-01",
        ] {
            let e = since_from(bad, at()).unwrap_err().to_string();
            assert!(
                e.contains("neither a span of time nor a date"),
                "{bad}: {e}"
            );
        }
    }
}
