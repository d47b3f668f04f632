//! The migrator protocol's `status` answer (docs/MIGRATOR-PROTOCOL.md, version 1) read and
//! checked: one JSON object, `{"migrations":[{"version":1,"description":"…","applied":true,
//! "checksum":"…"}, …]}`, versions positive and each once. What it says becomes the
//! migrations estate knows for the context and what is applied.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::migrator::MigrationInfo;

/// The protocol version estate speaks, `ESTATE_PROTOCOL` in the program's environment.
pub const PROTOCOL_VERSION: &str = "1";

#[derive(Debug, Deserialize)]
struct RawStatus {
    migrations: Vec<RawMigration>,
}

#[derive(Debug, Deserialize)]
struct RawMigration {
    version: i64,
    description: String,
    applied: bool,
    #[serde(default)]
    checksum: Option<String>,
}

/// What a program says of one scope: its migrations, ascending, and which are applied.
#[derive(Debug, Clone, Default)]
pub struct ProgramStatus {
    pub migrations: Vec<(MigrationInfo, bool)>,
}

impl ProgramStatus {
    /// The versions applied, ascending.
    pub fn applied(&self) -> Vec<i64> {
        self.migrations
            .iter()
            .filter(|(_, applied)| *applied)
            .map(|(m, _)| m.version)
            .collect()
    }

    pub fn known(&self) -> Vec<MigrationInfo> {
        self.migrations.iter().map(|(m, _)| m.clone()).collect()
    }

    pub fn is_applied(&self, version: i64) -> bool {
        self.migrations
            .iter()
            .any(|(m, applied)| m.version == version && *applied)
    }
}

/// Reads `stdout`, a `status` answer from `program`; the error says what is wrong with it, for
/// the caller to name the context and the program.
pub fn parse(stdout: &str, program: &str) -> Result<ProgramStatus, String> {
    let text = stdout.trim();
    if text.is_empty() {
        return Err("printed nothing on stdout".to_string());
    }
    let raw: RawStatus = serde_json::from_str(text).map_err(|e| {
        let shown: String = text.chars().take(120).collect();
        format!("printed something that is not the status JSON ({e}): {shown:?}")
    })?;
    let mut migrations = Vec::with_capacity(raw.migrations.len());
    for m in raw.migrations {
        if m.version <= 0 {
            return Err(format!(
                "says it has migration version {}: versions are positive integers",
                m.version
            ));
        }
        if migrations
            .iter()
            .any(|(i, _): &(MigrationInfo, bool)| i.version == m.version)
        {
            return Err(format!("lists migration {} twice", m.version));
        }
        if m.description.chars().any(|c| c.is_control()) {
            return Err(format!(
                "gives migration {} a description with a control character",
                m.version
            ));
        }
        let checksum = m.checksum.unwrap_or_else(|| {
            // No checksum: the version and description stand for the migration, so a renamed
            // one still shows as changed.
            format!(
                "{:x}",
                Sha256::digest(format!("{}\n{}", m.version, m.description))
            )
        });
        let info = MigrationInfo {
            version: m.version,
            source: format!("{}, by {program}", m.description),
            description: m.description,
            down_source: None,
            checksum,
            up_sql: None,
            down_sql: None,
            // Whether the program wraps a migration in a transaction is its own affair.
            up_outside_transaction: false,
            down_outside_transaction: false,
        };
        migrations.push((info, m.applied));
    }
    migrations.sort_by_key(|(m, _)| m.version);
    Ok(ProgramStatus { migrations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_read_sorted() {
        let s = parse(
            r#"{"migrations":[{"version":2,"description":"b","applied":false},
                {"version":1,"description":"a","applied":true,"checksum":"abc"}]}"#,
            "./m.sh",
        )
        .unwrap();
        assert_eq!(s.applied(), vec![1]);
        assert_eq!(s.known()[0].checksum, "abc");
        assert_eq!(s.known()[1].version, 2);
        assert_eq!(s.known()[1].checksum.len(), 64);
    }

    #[test]
    fn what_is_not_a_status_is_named() {
        for (text, says) in [
            ("", "printed nothing"),
            ("migrated!", "not the status JSON"),
            (
                r#"{"migrations":[{"version":0,"description":"a","applied":true}]}"#,
                "positive",
            ),
            (
                r#"{"migrations":[{"version":1,"description":"a","applied":true},{"version":1,"description":"b","applied":false}]}"#,
                "twice",
            ),
            (
                r#"{"migrations":[{"version":1,"applied":true}]}"#,
                "description",
            ),
        ] {
            let e = parse(text, "./m.sh").unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
