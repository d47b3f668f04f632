//! What a scope of a database has applied against what its migrator knows now, and the one
//! drift check.
//!
//! An applied migration must still match its file: the ledger records each one's checksum
//! when it runs, and building on (or reverting) SQL that no longer matches what ran would
//! corrupt a schema silently. [`Standing::of`] is that comparison, and the only one: the
//! migrator before it runs anything, the planner on every database it opens, a job on the
//! tenants planned from the registry alone, and `estate verify` all ask it, and the refusals
//! below are the words each of them uses.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{Ledger, LedgerEntry, MigrationInfo, ModuleMigrator};
use crate::catalog::Scope;
use crate::database::Database;
use crate::error::{Error, Result};

/// A migration whose file changed after it was applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    pub version: i64,
    pub source: String,
    pub recorded: String,
    pub actual: String,
}

impl Drift {
    /// The refusal a changed file earns on `database`.
    pub fn refusal(&self, database: &str) -> Error {
        Error::Drift {
            file: self.source.clone(),
            database: database.to_string(),
            recorded: self.recorded.clone(),
            actual: self.actual.clone(),
        }
    }
}

/// How an applied migration stands against the migration its migrator knows now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Its file is as it was when it ran.
    Intact,
    /// Its file changed since it ran.
    Changed(Drift),
    /// Its file is gone.
    Gone,
}

impl Standing {
    /// The drift check: `entry`, a ledger row, against `info`, the migration of the same
    /// version its migrator knows now (`None` when it knows none).
    pub fn of(entry: &LedgerEntry, info: Option<&MigrationInfo>) -> Standing {
        match info {
            Some(info) if info.checksum != entry.checksum => Standing::Changed(Drift {
                version: entry.version,
                source: info.source.clone(),
                recorded: entry.checksum.clone(),
                actual: info.checksum.clone(),
            }),
            Some(_) => Standing::Intact,
            None => Standing::Gone,
        }
    }
}

/// The refusal an applied migration whose file is gone earns on `database`; `gone_from`
/// names the folder it was in, when the migrator knows one.
fn vanished(
    database: &str,
    context: &str,
    scope: Scope,
    entry: &LedgerEntry,
    gone_from: Option<&str>,
) -> Error {
    let (version, description) = (entry.version, &entry.description);
    let problem = match gone_from {
        Some(folder) => format!(
            "{database} has {context} {scope} migration {version} ({description}) applied, but its file is gone from {folder}"
        ),
        None => format!(
            "{database} has {context} {scope} migration {version} ({description}) applied, but no file for it"
        ),
    };
    Error::refused(
        problem,
        "restore the migration file (git log shows it); applied migrations must stay",
    )
}

/// The state of one scope of one context on one database.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ScopeStatus {
    pub applied: Vec<LedgerEntry>,
    /// Known to the migrator, not in the ledger, ascending.
    pub pending: Vec<MigrationInfo>,
    pub drifted: Vec<Drift>,
    /// In the ledger, unknown to the migrator (the file was removed).
    pub missing: Vec<LedgerEntry>,
}

impl ScopeStatus {
    /// The status of a scope from the migrations a migrator knows and the ledger's entries.
    /// Any migrator that keeps its state in the ledger can use it.
    pub fn compare(known: &[MigrationInfo], applied: Vec<LedgerEntry>) -> ScopeStatus {
        let by_version: BTreeMap<i64, &MigrationInfo> =
            known.iter().map(|i| (i.version, i)).collect();
        let applied_versions: BTreeSet<i64> = applied.iter().map(|e| e.version).collect();
        let mut status = ScopeStatus::default();
        for entry in applied {
            match Standing::of(&entry, by_version.get(&entry.version).copied()) {
                Standing::Changed(drift) => status.drifted.push(drift),
                Standing::Intact => {}
                Standing::Gone => status.missing.push(entry.clone()),
            }
            status.applied.push(entry);
        }
        status.pending = known
            .iter()
            .filter(|i| !applied_versions.contains(&i.version))
            .cloned()
            .collect();
        status
    }

    /// Whether anything is wrong beyond pending migrations.
    pub fn is_clean(&self) -> bool {
        self.drifted.is_empty() && self.missing.is_empty()
    }

    /// Refuses when an applied migration of `context`'s `scope` changed (the first one) or,
    /// else, lost its file, on `database`; `gone_from` as in the refusal of a vanished file.
    pub fn refuse_unclean(
        &self,
        database: &str,
        context: &str,
        scope: Scope,
        gone_from: Option<&str>,
    ) -> Result<()> {
        if let Some(d) = self.drifted.first() {
            return Err(d.refusal(database));
        }
        if let Some(m) = self.missing.first() {
            return Err(vanished(database, context, scope, m, gone_from));
        }
        Ok(())
    }
}

/// Refuses a database where any applied migration (of any context) no longer matches its
/// file, or lost it: nothing may be built on, or reverted from, SQL that no longer matches
/// what ran. One read of the ledger, returned for the caller to keep. The planner runs it on
/// every database it opens; a job runs it on the tenants planned from the registry alone,
/// before their first step.
pub async fn verify_database(
    migrators: &BTreeMap<String, Arc<dyn ModuleMigrator>>,
    db: &Database,
) -> Result<Vec<LedgerEntry>> {
    let entries = Ledger::all(db).await?;
    let mut known: BTreeMap<(String, Scope), Vec<MigrationInfo>> = BTreeMap::new();
    for entry in &entries {
        let (Some(migrator), Some(scope)) =
            (migrators.get(&entry.context), Scope::parse(&entry.scope))
        else {
            // Contexts no longer in the catalog (and estate's own registry) are not ours to judge.
            continue;
        };
        if migrator.elsewhere().is_some() || migrator.keeps_own_ledger() {
            // Another binary's migrations, or a program's whose own ledger is the truth:
            // there are no files here to judge them by.
            continue;
        }
        let infos = known
            .entry((entry.context.clone(), scope))
            .or_insert_with(|| migrator.migrations(scope, db.engine()));
        let info = infos.iter().find(|i| i.version == entry.version);
        match Standing::of(entry, info) {
            Standing::Intact => {}
            Standing::Changed(drift) => return Err(drift.refusal(db.label())),
            Standing::Gone => {
                return Err(vanished(db.label(), &entry.context, scope, entry, None));
            }
        }
    }
    Ok(entries)
}
