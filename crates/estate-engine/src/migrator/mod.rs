//! The migrator contract every context fulfils, the SQL-folder migrator, and the ledger.
//!
//! [`ModuleMigrator`] is the shared kernel's contract: it migrates one scope of one context on
//! one database (to the latest version or to a given one), rolls it back (to a version, or to
//! zero), and reports its status there. The registry only ever holds migrators as trait
//! objects keyed by context name, so a context may bring a hand-written Rust migrator instead
//! of SQL files and the registry does not change.

pub mod adopt;
mod command;
mod elsewhere;
mod ledger;
mod registered;
mod sql;
mod status;
mod unfinished;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use crate::sql::statements::split as split_statements;
pub use command::{CommandMigrator, PROTOCOL_VERSION};
pub use elsewhere::{ElsewhereMigrator, not_here};
pub use ledger::{LEDGER_TABLE, Ledger, LedgerEntry, Present};
pub(crate) use registered::check_versions;
pub use registered::{MigratorFactory, RegisteredMigrators};
pub use sql::SqlMigrator;
pub use status::{Drift, ScopeStatus, Standing, verify_database};
pub use unfinished::{UNFINISHED_TABLE, Unfinished};

use crate::catalog::Scope;
use crate::database::Database;
use crate::error::Result;
use crate::sql::Engine;

/// How far to migrate or roll back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every migration of the set (migrate), or none of them (rollback).
    Latest,
    /// Up to and including this version (migrate), or down to it, keeping it (rollback);
    /// rolling back to `Version(0)` removes every migration.
    Version(i64),
}

impl Target {
    /// Roll back everything.
    pub const ZERO: Target = Target::Version(0);

    /// Whether a migrate to this target applies `version`.
    pub fn includes(self, version: i64) -> bool {
        match self {
            Target::Latest => true,
            Target::Version(v) => version <= v,
        }
    }

    /// The highest version a rollback to this target keeps (0: none).
    pub fn keeps(self) -> i64 {
        match self {
            Target::Latest => 0,
            Target::Version(v) => v,
        }
    }
}

/// What a migrator says about one of its migrations, for plans and dry runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
    /// The file (or the Rust type) the migration comes from, for messages.
    pub source: String,
    /// Where its revert comes from, when that is not `source` (the `.down.sql` file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down_source: Option<String>,
    pub checksum: String,
    /// The SQL it runs, when it is SQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub up_sql: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down_sql: Option<String>,
    /// It runs outside a transaction going up (a `-- no-transaction` first line, or diesel's
    /// `run_in_transaction = false`); plans say so, since such a migration can stop partway.
    pub up_outside_transaction: bool,
    /// The same, reverting.
    pub down_outside_transaction: bool,
}

impl MigrationInfo {
    /// The SQL it runs going up (or, with `down`, reverting), `None` when it runs Rust code,
    /// and where that comes from: what a dry run and the console's plan window show.
    pub fn script(&self, down: bool) -> (Option<&str>, &str) {
        if down {
            (
                self.down_sql.as_deref(),
                self.down_source.as_deref().unwrap_or(&self.source),
            )
        } else {
            (self.up_sql.as_deref(), &self.source)
        }
    }

    /// Whether it runs outside a transaction going up (or, with `down`, reverting).
    pub fn outside_transaction(&self, down: bool) -> bool {
        if down {
            self.down_outside_transaction
        } else {
            self.up_outside_transaction
        }
    }
}

/// What a scope of a database has applied, as the registry keeps it: the highest version and
/// a digest of the checksums up to it (see [`Applied::of`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    pub version: i64,
    pub digest: String,
}

impl Applied {
    /// The state of a database that applied every migration of `known` up to `version`:
    /// comparing digests finds a changed file without reading the database.
    pub fn of(known: &[MigrationInfo], version: i64) -> Applied {
        Self::digest(known.iter().map(|m| (m.version, &m.checksum)), version)
    }

    /// What a ledger says is applied up to `version`, digested from the checksums it recorded:
    /// equal to [`Applied::of`] the files exactly when none of them changed since.
    pub fn from_ledger(entries: &[&LedgerEntry], version: i64) -> Applied {
        Self::digest(entries.iter().map(|e| (e.version, &e.checksum)), version)
    }

    fn digest<'a>(checksums: impl Iterator<Item = (i64, &'a String)>, version: i64) -> Applied {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for (v, checksum) in checksums.filter(|(v, _)| *v <= version) {
            hash.update(format!("{v}:{checksum};"));
        }
        Applied {
            version,
            digest: format!("{:x}", hash.finalize()),
        }
    }
}

/// One migration applied or reverted, as reported to the caller and to listeners.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationRun {
    pub context: String,
    pub scope: Scope,
    pub database: String,
    pub version: i64,
    pub description: String,
    pub direction: RunDirection,
    pub millis: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunDirection {
    Up,
    Down,
}

/// Called after each migration commits, so a job can report progress while a step runs.
pub type OnMigration = Arc<dyn Fn(&MigrationRun) + Send + Sync>;

/// Called with each line a migrator's program writes on stderr, as it comes.
pub type OnLine = Arc<dyn Fn(&str) + Send + Sync>;

/// What a migrator needs to know about the run it is part of.
#[derive(Clone)]
pub struct RunContext {
    /// Recorded in the ledger's `applied_by`.
    pub applied_by: String,
    pub on_migration: Option<OnMigration>,
    /// Where a program's log lines go (a job's live log), besides the log file.
    pub on_line: Option<OnLine>,
    /// Set when the operator cancels the job: a migrator checks it between migrations and
    /// stops there with [`Error::Cancelled`](crate::Error::Cancelled), never in the middle of one.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl RunContext {
    pub fn new(applied_by: impl Into<String>) -> Self {
        RunContext {
            applied_by: applied_by.into(),
            on_migration: None,
            on_line: None,
            cancel: None,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// The error a migrator returns when it stops at a boundary: `done` migrations ran, `next`
    /// names the one it did not start.
    pub fn stop_before(&self, done: usize, next: &str) -> Result<()> {
        if done > 0 && self.is_cancelled() {
            return Err(crate::Error::Cancelled {
                done,
                next: next.to_string(),
            });
        }
        Ok(())
    }

    pub fn report(&self, run: &MigrationRun) {
        if let Some(f) = &self.on_migration {
            f(run);
        }
    }

    /// Hands on a line a migrator's program wrote.
    pub fn say(&self, line: &str) {
        if let Some(f) = &self.on_line {
            f(line);
        }
    }
}

/// The contract a context's migrator fulfils. Implementations must make each migration atomic
/// with its ledger row wherever the engine allows (one transaction), so that a failure or a
/// kill leaves every migration either applied and recorded, or neither. A job's lock on a
/// PostgreSQL tenant is taken by each transaction ([`Database::begin`]): read what is applied
/// inside the transaction ([`Ledger::read`]), and two jobs taking turns on a tenant never
/// apply a migration twice.
#[async_trait::async_trait]
pub trait ModuleMigrator: Send + Sync {
    /// The context this migrator belongs to.
    fn context(&self) -> &str;

    /// The migrations this migrator knows in `scope` as they run on `engine`, ascending; empty
    /// when the context has nothing in that scope.
    fn migrations(&self, scope: Scope, engine: Engine) -> Vec<MigrationInfo>;

    /// What is applied, pending, changed or missing for `scope` on `db`. Reads only.
    async fn status(&self, scope: Scope, db: &Database) -> Result<ScopeStatus>;

    /// The same status from a database's whole ledger, already read (a plan over many modules
    /// reads it once), for a migrator whose state is the ledger; `None` otherwise, and
    /// [`ModuleMigrator::status`] is asked.
    fn status_from(
        &self,
        _scope: Scope,
        _engine: Engine,
        _ledger: &[LedgerEntry],
    ) -> Option<ScopeStatus> {
        None
    }

    /// Applies the pending migrations of `scope` on `db` up to `target`, in order.
    async fn migrate(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>>;

    /// Reverts the applied migrations of `scope` on `db` above `target`, newest first.
    async fn rollback(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>>;

    /// The binary that holds this migrator's code, when this one does not (its context.toml
    /// says `[migrator] binary = NAME` and nothing here registered it): plans that would run
    /// it are refused, naming that binary, and its ledger rows are that binary's to judge.
    fn elsewhere(&self) -> Option<&str> {
        None
    }

    /// Whether the migrator keeps its state in a ledger of its own and says it when asked
    /// ([`ModuleMigrator::status`], a program's `status`): estate's ledger rows only mirror
    /// it, so they are not judged against files, plans ask each database rather than trust
    /// the registry, and a job holds the database's lock across the call (the program works
    /// outside estate's transactions).
    fn keeps_own_ledger(&self) -> bool {
        false
    }

    /// Whether the context has anything in `scope`.
    fn has_scope(&self, scope: Scope) -> bool {
        Engine::ALL
            .iter()
            .any(|e| !self.migrations(scope, *e).is_empty())
    }
}
