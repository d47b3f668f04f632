//! One migration file read into memory, with the checksum it is recorded under and whether it
//! runs outside a transaction (sqlx-cli's `-- no-transaction` first line, or diesel's
//! metadata).

use std::path::PathBuf;

use super::checksum::checksum;
use super::names::file_name;

/// One migration file, read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFile {
    pub path: PathBuf,
    pub sql: String,
    /// SHA-256 of the file, line endings normalised, in hex.
    pub checksum: String,
    outside_transaction: bool,
}

impl SqlFile {
    pub fn new(path: PathBuf, sql: String) -> SqlFile {
        SqlFile {
            checksum: checksum(sql.as_bytes()),
            outside_transaction: is_no_transaction(&sql),
            path,
            sql,
        }
    }

    /// SQL rendered from a blueprint: its checksum is the blueprint's, the file written by
    /// hand.
    pub fn rendered(path: PathBuf, sql: String, checksum: String) -> SqlFile {
        SqlFile {
            checksum,
            outside_transaction: false,
            path,
            sql,
        }
    }

    /// Marks the file to run outside a transaction whatever its first line (diesel's
    /// `run_in_transaction = false`).
    pub fn outside_transaction(mut self) -> SqlFile {
        self.outside_transaction = true;
        self
    }

    /// The file's name, with its folder for a diesel-layout migration (`…_x/up.sql`).
    pub fn name(&self) -> String {
        let name = file_name(&self.path);
        if name.starts_with("up.") || name.starts_with("down.") {
            let folder = self.path.parent().map(file_name).unwrap_or_default();
            format!("{folder}/{name}")
        } else {
            name
        }
    }

    /// Whether the file runs outside a transaction: its first line is `-- no-transaction`,
    /// sqlx-cli's marker, for statements an engine refuses inside one (`CREATE INDEX
    /// CONCURRENTLY`, `VACUUM`), or diesel's metadata said so.
    pub fn no_transaction(&self) -> bool {
        self.outside_transaction
    }
}

/// The first line that makes a migration file run outside a transaction.
pub const NO_TRANSACTION: &str = "-- no-transaction";

/// Whether migration SQL opens with [`NO_TRANSACTION`].
pub fn is_no_transaction(sql: &str) -> bool {
    sql.trim_start_matches('\u{feff}')
        .lines()
        .next()
        .is_some_and(|l| l.trim() == NO_TRANSACTION)
}
