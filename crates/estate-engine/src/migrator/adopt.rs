//! Adopting a schema another tool made (`estate adopt`): which of a module's migrations a
//! database already shows (from another tool's ledger when it has one, else every one up to
//! the target), whether it holds what those migrations create (tables, and their columns and
//! indexes where the catalog knows them), and recording them in estate's ledger as applied by
//! `adopted`, with their checksums, nothing run.

use std::collections::BTreeSet;

use super::{Ledger, LedgerEntry, MigrationInfo, MigrationRun, RunContext, RunDirection};
use crate::catalog::{MigrationSet, OwnedTable, Scope, tables_up_to};
use crate::database::Database;
use crate::error::{Error, Result};

/// The ledger's `applied_by` for an adopted migration.
pub const ADOPTED_BY: &str = "adopted";

/// The ledgers of other tools estate can read: table, the column naming a migration, tool.
const FOREIGN: [(&str, &str, &str); 3] = [
    ("_sqlx_migrations", "version", "sqlx-cli"),
    ("__diesel_schema_migrations", "version", "diesel"),
    ("migrations", "migration", "Laravel"),
];

/// What adopting a module's scope on one database would do.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Decision {
    /// The migrations to record, ascending (those estate's ledger has already are left out).
    pub adopt: Vec<MigrationInfo>,
    /// The highest version the database is taken to be at.
    pub version: i64,
    /// Where that version came from: another tool's ledger, or the target asked for.
    pub source: String,
    /// What the database lacks of what those migrations create; empty when it matches.
    pub differences: Vec<String>,
}

/// Decides, from the database as it is, what adopting `known` (a module's migrations of one
/// scope) up to `to` records there, and what in the schema stands in the way.
pub async fn decide(
    db: &Database,
    set: Option<&MigrationSet>,
    known: &[MigrationInfo],
    recorded: &BTreeSet<i64>,
    to: Option<i64>,
) -> Result<Decision> {
    let candidates: Vec<&MigrationInfo> = known
        .iter()
        .filter(|m| to.is_none_or(|to| m.version <= to))
        .collect();
    let wanted: BTreeSet<i64> = candidates.iter().map(|m| m.version).collect();
    let mut version = wanted.last().copied().unwrap_or(0);
    let mut source = match to {
        Some(to) => format!("up to version {to}, as asked"),
        None => "every migration of the module".to_string(),
    };
    for (table, column, tool) in FOREIGN {
        if !db.has_table(table).await? {
            continue;
        }
        let Some(rows) = db.column_texts(table, column).await? else {
            continue;
        };
        let listed: BTreeSet<i64> = rows.iter().filter_map(|r| version_of(r)).collect();
        let hits: Vec<i64> = wanted.intersection(&listed).copied().collect();
        if let Some(&last) = hits.last() {
            version = last;
            source = format!(
                "{tool}'s ledger {table} lists {} of its migrations, up to {last}",
                hits.len()
            );
            break;
        }
    }
    let adopt: Vec<MigrationInfo> = candidates
        .into_iter()
        .filter(|m| m.version <= version && !recorded.contains(&m.version))
        .cloned()
        .collect();
    let expected = set.map(|s| tables_up_to(s, version)).unwrap_or_default();
    let differences = differences(db, &expected).await?;
    Ok(Decision {
        adopt,
        version,
        source,
        differences,
    })
}

/// [`decide`] for `module`'s `scope` on `db`, with what estate's ledger has of it already:
/// the plan's reading and the job's, under the lock, are the same question.
pub async fn decide_module(
    db: &Database,
    set: Option<&MigrationSet>,
    known: &[MigrationInfo],
    module: &str,
    scope: Scope,
    to: Option<i64>,
) -> Result<Decision> {
    let recorded: BTreeSet<i64> = Ledger::entries(db, module, scope)
        .await?
        .into_iter()
        .map(|e| e.version)
        .collect();
    decide(db, set, known, &recorded, to).await
}

/// A version from another tool's ledger row: the digits of its leading timestamp or number
/// (`20240115093000`, `2024-01-15-093000`, `2024_01_10_000001_create_rooms_table`).
fn version_of(row: &str) -> Option<i64> {
    let digits: String = row
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '_' || *c == '-')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// What `db` lacks of `expected`: a missing table, column or index, by name.
async fn differences(db: &Database, expected: &[OwnedTable]) -> Result<Vec<String>> {
    let lower = |names: Vec<String>| -> BTreeSet<String> {
        names.into_iter().map(|n| n.to_lowercase()).collect()
    };
    let tables = lower(db.tables().await?);
    let indexes = lower(db.indexes().await?);
    let mut found = Vec::new();
    for t in expected {
        let name = t.name.to_lowercase();
        if !tables.contains(&name) {
            found.push(format!(
                "table {} is missing (migration {} creates it)",
                t.name, t.version
            ));
            continue;
        }
        if let Some(columns) = &t.columns {
            let have = lower(db.columns(&t.name).await?);
            for c in columns
                .iter()
                .filter(|c| !have.contains(&c.name.to_lowercase()))
            {
                found.push(format!("table {} has no column {}", t.name, c.name));
            }
        }
        for i in t
            .indexes
            .iter()
            .filter(|i| !indexes.contains(&i.to_lowercase()))
        {
            found.push(format!("index {i} on {} is missing", t.name));
        }
    }
    Ok(found)
}

/// Records `adopt` in estate's ledger on `db`, in one transaction, as applied by `adopted`,
/// and reports each as a migration run (so a job's history lists the versions).
pub async fn record(
    db: &Database,
    context: &str,
    scope: Scope,
    adopt: &[MigrationInfo],
    run: &RunContext,
) -> Result<()> {
    if adopt.is_empty() {
        return Ok(());
    }
    let batch = Ledger::next_batch(db).await?;
    let mut tx = db.begin().await?;
    let at = crate::clock::now();
    let err = |e| Error::db(db.label(), e);
    Ledger::create(&mut tx).await.map_err(err)?;
    for m in adopt {
        let entry = LedgerEntry {
            context: context.to_string(),
            scope: scope.as_str().to_string(),
            version: m.version,
            description: m.description.clone(),
            checksum: m.checksum.clone(),
            batch,
            applied_at: at.clone(),
            execution_ms: 0,
            applied_by: ADOPTED_BY.to_string(),
        };
        Ledger::insert(&mut tx, &entry).await.map_err(err)?;
    }
    tx.commit().await?;
    for m in adopt {
        run.report(&MigrationRun {
            context: context.to_string(),
            scope,
            database: db.label().to_string(),
            version: m.version,
            description: m.description.clone(),
            direction: RunDirection::Up,
            millis: 0,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::version_of;

    #[test]
    fn versions_of_other_tools_rows() {
        assert_eq!(version_of("20240115093000"), Some(20240115093000));
        assert_eq!(version_of("2024-01-15-093000"), Some(20240115093000));
        assert_eq!(
            version_of("2024_01_10_000001_create_rooms_table"),
            Some(20240110000001)
        );
        assert_eq!(version_of("create_rooms"), None);
    }
}
