//! The time as estate records it (the ledger, the registry, lock files): one format, RFC 3339
//! in UTC to the millisecond, so rows written by different processes sort as text.

/// The current time as the ledger and the registry record it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
