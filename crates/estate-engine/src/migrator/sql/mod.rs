//! The built-in migrator: applies and reverts a context's SQL migration folders.
//!
//! Before anything runs, every applied migration is compared with its file: a changed file
//! (drift) or a vanished one stops the run, because reverting or building on SQL that no
//! longer matches what ran would corrupt the schema silently. A step's migrations then run in
//! one transaction (`transaction.rs`; on a server, quick ones in one round trip: `batch.rs`),
//! except a `-- no-transaction` one, which runs on its own, statement by statement
//! (`outside.rs`).

mod batch;
mod outside;
mod transaction;

use std::collections::BTreeMap;
use std::time::Instant;

use super::{
    Ledger, LedgerEntry, MigrationInfo, MigrationRun, ModuleMigrator, Present, RunContext,
    RunDirection, ScopeStatus, Target, Unfinished,
};
use crate::catalog::{Context, Migration, MigrationSet, Scope, SqlFile};
use crate::clock::now;
use crate::database::{Database, Tx};
use crate::error::{Error, Result};
use crate::sql::Engine;

/// Migrates a context from its migration sets (read from `contexts/`, or embedded).
#[derive(Debug, Clone)]
pub struct SqlMigrator {
    context: String,
    sets: BTreeMap<Scope, MigrationSet>,
    /// How long its migrations took here, to judge which steps may be batched.
    durations: batch::Durations,
}

impl SqlMigrator {
    pub fn new(context: impl Into<String>, sets: BTreeMap<Scope, MigrationSet>) -> Self {
        SqlMigrator {
            context: context.into(),
            sets,
            durations: batch::Durations::default(),
        }
    }

    pub fn for_context(context: &Context) -> Self {
        SqlMigrator::new(context.name(), context.sets.clone())
    }

    fn set(&self, scope: Scope) -> &[Migration] {
        self.sets
            .get(&scope)
            .map_or(&[], |s| s.migrations.as_slice())
    }

    /// The up and down files of `m` on `engine`. The catalog only admits migrations that have
    /// both on every engine, so this fails only for a set built by hand.
    fn files(m: &Migration, engine: Engine) -> Result<(&SqlFile, &SqlFile)> {
        match (m.up(engine), m.down(engine)) {
            (Some(up), Some(down)) => Ok((up, down)),
            _ => Err(Error::Migrator(format!(
                "migration {} has no up and down files for {engine}",
                m.file_name()
            ))),
        }
    }

    /// This context's status in `scope` from a database's whole ledger.
    fn status_of(&self, scope: Scope, engine: Engine, ledger: &[LedgerEntry]) -> ScopeStatus {
        let mine: Vec<LedgerEntry> = ledger
            .iter()
            .filter(|e| e.context == self.context && e.scope == scope.as_str())
            .cloned()
            .collect();
        ScopeStatus::compare(&self.migrations(scope, engine), mine)
    }

    /// Refuses when an applied migration's file changed or vanished, naming the folder a
    /// vanished one was in.
    fn check_applied(&self, scope: Scope, db: &Database, status: &ScopeStatus) -> Result<()> {
        let folder = self
            .sets
            .get(&scope)
            .map_or("the context".to_string(), |s| s.dir.display().to_string());
        status.refuse_unclean(db.label(), &self.context, scope, Some(&folder))
    }

    fn run_record(
        &self,
        scope: Scope,
        db: &Database,
        m: &Migration,
        direction: RunDirection,
        millis: u64,
    ) -> MigrationRun {
        MigrationRun {
            context: self.context.clone(),
            scope,
            database: db.label().to_string(),
            version: m.version,
            description: m.description.clone(),
            direction,
            millis,
        }
    }

    /// Refuses while a migration of this context's scope is unfinished there (stopped
    /// partway, or run by another job now).
    async fn refuse_unfinished(
        &self,
        scope: Scope,
        db: &Database,
        tx: &mut Tx,
        present: Present,
    ) -> Result<()> {
        let unfinished = Unfinished::read(tx, present)
            .await
            .map_err(|e| Error::db(db.label(), e))?;
        match unfinished
            .iter()
            .find(|u| u.context == self.context && u.scope == scope.as_str())
        {
            Some(u) => Err(Error::refused(
                format!("{}: {}", db.label(), u.describe()),
                u.fix(db),
            )),
            None => Ok(()),
        }
    }

    /// The ledger row of `m` applied: the up file's checksum is what every later drift
    /// check compares with the file.
    fn entry(
        &self,
        scope: Scope,
        m: &Migration,
        up: &SqlFile,
        batch: i64,
        started: Instant,
        run: &RunContext,
    ) -> LedgerEntry {
        LedgerEntry {
            context: self.context.clone(),
            scope: scope.as_str().to_string(),
            version: m.version,
            description: m.description.clone(),
            checksum: up.checksum.clone(),
            batch,
            applied_at: now(),
            execution_ms: started.elapsed().as_millis() as i64,
            applied_by: run.applied_by.clone(),
        }
    }
}

#[async_trait::async_trait]
impl ModuleMigrator for SqlMigrator {
    fn context(&self) -> &str {
        &self.context
    }

    fn migrations(&self, scope: Scope, engine: Engine) -> Vec<MigrationInfo> {
        self.set(scope)
            .iter()
            .filter_map(|m| {
                let (up, down) = Self::files(m, engine).ok()?;
                Some(MigrationInfo {
                    version: m.version,
                    description: m.description.clone(),
                    source: up.path.display().to_string(),
                    down_source: Some(down.path.display().to_string()),
                    checksum: up.checksum.clone(),
                    up_sql: Some(up.sql.clone()),
                    down_sql: Some(down.sql.clone()),
                    up_outside_transaction: up.no_transaction(),
                    down_outside_transaction: down.no_transaction(),
                })
            })
            .collect()
    }

    fn status_from(
        &self,
        scope: Scope,
        engine: Engine,
        ledger: &[LedgerEntry],
    ) -> Option<ScopeStatus> {
        Some(self.status_of(scope, engine, ledger))
    }

    async fn status(&self, scope: Scope, db: &Database) -> Result<ScopeStatus> {
        let applied = Ledger::entries(db, &self.context, scope).await?;
        Ok(ScopeStatus::compare(
            &self.migrations(scope, db.engine()),
            applied,
        ))
    }

    async fn migrate(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        let (started, status) = self.begin(scope, db).await?;
        let pending: Vec<&Migration> = status
            .pending
            .iter()
            .filter(|p| target.includes(p.version))
            .filter_map(|p| self.sets.get(&scope)?.get(p.version))
            .collect();
        if pending.is_empty() {
            // Nothing written: ending it either way releases the lock.
            started.tx.rollback().await?;
            return Ok(Vec::new());
        }
        self.apply(scope, db, started, &pending, RunDirection::Up, run)
            .await
    }

    async fn rollback(
        &self,
        scope: Scope,
        db: &Database,
        target: Target,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        let (started, status) = self.begin(scope, db).await?;
        let keep = target.keeps();
        let reverting: Vec<&Migration> = status
            .applied
            .iter()
            .rev()
            .filter(|e| e.version > keep)
            .filter_map(|e| self.sets.get(&scope)?.get(e.version))
            .collect();
        if reverting.is_empty() {
            started.tx.rollback().await?;
            return Ok(Vec::new());
        }
        self.apply(scope, db, started, &reverting, RunDirection::Down, run)
            .await
    }
}
