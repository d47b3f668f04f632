//! What a table, column or index may be called in a blueprint. The names are spliced into
//! DDL (quoted) on two engines, so they are held to what means the same everywhere, and kept
//! off the names an engine or estate itself owns.

/// PostgreSQL truncates longer identifiers, which would make two names one.
pub(super) const MAX_IDENTIFIER: usize = 63;

/// Table, column and index names: lowercase so they mean the same quoted or not, and short
/// enough that PostgreSQL keeps them whole.
pub fn is_valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= MAX_IDENTIFIER
}

/// Names an engine keeps for itself: SQLite's `sqlite_` objects, estate's `estate_` tables
/// (the ledger, the registry), PostgreSQL's system columns.
pub(super) fn reserved(name: &str, column: bool) -> Option<&'static str> {
    const SYSTEM_COLUMNS: [&str; 6] = ["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"];
    if name.starts_with("sqlite_") {
        Some("SQLite keeps names starting with sqlite_ for itself")
    } else if column && SYSTEM_COLUMNS.contains(&name) {
        Some("PostgreSQL has a system column of that name in every table")
    } else if !column && name.starts_with("estate_") {
        Some("estate keeps names starting with estate_ for its ledger and registry")
    } else {
        None
    }
}

/// The fix offered wherever a name breaks [`is_valid_identifier`], so each says the same.
pub(super) const IDENTIFIER_FIX: &str =
    "use lowercase letters, digits and _, starting with a letter or _, at most 63 characters";
