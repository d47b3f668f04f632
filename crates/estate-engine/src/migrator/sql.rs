//! The built-in migrator: applies and reverts a context's SQL migration folders.
//!
//! A step's migrations run in one transaction, each inside a savepoint together with its
//! ledger row: a migration is applied whole with its row or not at all, a failing one is
//! undone alone and the ones before it commit, and a step costs one commit however many
//! migrations it has (commits, not SQL, are what a fleet of small databases spends its time
//! on). Before anything runs, every applied migration is compared with its file: a changed
//! file (drift) or a vanished one stops the run, because reverting or building on SQL that
//! no longer matches what ran would corrupt the schema silently.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{
    Ledger, LedgerEntry, MigrationInfo, MigrationRun, ModuleMigrator, Present, RunContext,
    RunDirection, ScopeStatus, Target, Unfinished, split_statements,
};
use crate::catalog::{Context, Migration, MigrationSet, Scope, SqlFile};
use crate::clock::now;
use crate::database::{Database, Tx};
use crate::error::{Error, Result};
use crate::sql::Engine;

/// A step's transaction, begun with the ledger read inside it.
struct Started {
    tx: Tx,
    /// The ledger table exists (else the first migration applied creates it).
    has_ledger: bool,
    /// The batch number of what this step applies: one more than the database's last.
    batch: i64,
}

/// Migrates a context from its migration sets (read from `contexts/`, or embedded).
#[derive(Debug, Clone)]
pub struct SqlMigrator {
    context: String,
    sets: BTreeMap<Scope, MigrationSet>,
}

impl SqlMigrator {
    pub fn new(context: impl Into<String>, sets: BTreeMap<Scope, MigrationSet>) -> Self {
        SqlMigrator {
            context: context.into(),
            sets,
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
}

impl SqlMigrator {
    /// Starts the step's transaction and reads the ledger inside it, under the database's lock,
    /// so what it finds pending is what it applies even with another job taking turns. Refuses
    /// a drifted or vanished migration. Returns the transaction, whether the ledger table
    /// exists, this scope's status and the batch number for what it applies.
    async fn begin(&self, scope: Scope, db: &Database) -> Result<(Started, ScopeStatus)> {
        let mut tx = db.begin().await?;
        let (present, all) = Ledger::read(&mut tx)
            .await
            .map_err(|e| Error::db(db.label(), e))?;
        let batch = all.iter().map(|e| e.batch).max().unwrap_or(0) + 1;
        let status = self.status_of(scope, db.engine(), &all);
        self.check_applied(scope, db, &status)?;
        self.refuse_unfinished(scope, db, &mut tx, present).await?;
        Ok((
            Started {
                tx,
                has_ledger: present.ledger,
                batch,
            },
            status,
        ))
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

    /// Runs `migrations` in `direction` in one transaction, each in a savepoint with its
    /// ledger change. Whatever stops the loop (a failure, a cancel), what completed commits;
    /// listeners hear of a migration only once it is committed.
    async fn apply(
        &self,
        scope: Scope,
        db: &Database,
        started: Started,
        migrations: &[&Migration],
        direction: RunDirection,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        let Started {
            tx,
            mut has_ledger,
            batch,
        } = started;
        let mut tx = Some(tx);
        let mut done: Vec<MigrationRun> = Vec::with_capacity(migrations.len());
        // `done[..committed]` is committed and reported; the rest waits for `tx`'s commit.
        let mut committed = 0;
        let mut stopped: Result<()> = Ok(());
        for m in migrations {
            if let Err(e) =
                run.stop_before(done.len(), &format!("{:04} ({})", m.version, m.description))
            {
                stopped = Err(e);
                break;
            }
            let (up, down) = match Self::files(m, db.engine()) {
                Ok(files) => files,
                Err(e) => {
                    stopped = Err(e);
                    break;
                }
            };
            let file = if direction == RunDirection::Up {
                up
            } else {
                down
            };
            if file.no_transaction() {
                // What came before commits first: a statement that refuses a transaction
                // cannot share one.
                if let Some(open) = tx.take() {
                    committed = settle(open, &done, committed, run).await?;
                }
                match self
                    .apply_outside(scope, db, m, file, up, direction, batch, run)
                    .await
                {
                    Ok(None) => continue,
                    Ok(Some(record)) => {
                        run.report(&record);
                        done.push(record);
                        committed = done.len();
                        has_ledger |= direction == RunDirection::Up;
                        continue;
                    }
                    Err(e) => {
                        stopped = Err(e);
                        break;
                    }
                }
            }
            let mut open = match tx.take() {
                Some(open) => open,
                None => {
                    let mut fresh = db.begin().await?;
                    has_ledger = Ledger::read(&mut fresh)
                        .await
                        .map_err(|e| Error::db(db.label(), e))?
                        .0
                        .ledger;
                    fresh
                }
            };
            let started = Instant::now();
            open.savepoint().await?;
            let result = match open.execute_script(&file.sql).await {
                Err(e) => Err(failed(file, db, e)),
                Ok(()) if direction == RunDirection::Up => {
                    let entry = self.entry(scope, m, up, batch, started, run);
                    // The table is made once, by the first migration that needs it, inside
                    // that migration's savepoint.
                    let created = if has_ledger {
                        Ok(())
                    } else {
                        Ledger::create(&mut open).await
                    };
                    match created {
                        Ok(()) => Ledger::insert(&mut open, &entry).await,
                        Err(e) => Err(e),
                    }
                    .map_err(|e| Error::db(db.label(), e))
                }
                Ok(()) => Ledger::erase(&mut open, &self.context, scope, m.version)
                    .await
                    .map_err(|e| Error::db(db.label(), e)),
            };
            if let Err(e) = result {
                open.rollback_to_savepoint().await?;
                tx = Some(open);
                stopped = Err(e);
                break;
            }
            open.release().await?;
            tx = Some(open);
            if direction == RunDirection::Up {
                has_ledger = true;
            }
            let millis = started.elapsed().as_millis() as u64;
            tracing::info!(context = %self.context, %scope, database = db.label(), version = m.version, millis, ?direction, "migration done, commits with its step");
            done.push(self.run_record(scope, db, m, direction, millis));
        }
        if let Some(open) = tx {
            settle(open, &done, committed, run).await?;
        }
        stopped.map(|()| done)
    }

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

    /// Runs a `-- no-transaction` migration: the statements one by one, each committing on
    /// its own, with an [`Unfinished`] row that says how far it got; then its ledger change
    /// and the row's removal in one transaction. A failure (or a kill) leaves the row, and
    /// the error says what stays applied.
    #[allow(clippy::too_many_arguments)]
    async fn apply_outside(
        &self,
        scope: Scope,
        db: &Database,
        m: &Migration,
        file: &SqlFile,
        up: &SqlFile,
        direction: RunDirection,
        batch: i64,
        run: &RunContext,
    ) -> Result<Option<MigrationRun>> {
        let statements = split_statements(&file.sql, db.engine());
        let started = Instant::now();
        let marker = Unfinished {
            context: self.context.clone(),
            scope: scope.as_str().to_string(),
            version: m.version,
            description: m.description.clone(),
            direction: if direction == RunDirection::Up {
                "up"
            } else {
                "down"
            }
            .to_string(),
            statements: statements.len() as i64,
            done: 0,
            started_at: now(),
            started_by: run.applied_by.clone(),
            error: None,
        };
        let db_err = |e| Error::db(db.label(), e);
        tracing::warn!(context = %self.context, %scope, database = db.label(), version = m.version, statements = statements.len(), "running a migration outside a transaction: a failure leaves what ran in place");
        // Written first, in its own transaction: from here on, whatever happens, the
        // database says this migration is under way. Under the database's lock, the ledger
        // and the unfinished record are read again: on PostgreSQL the lock is per
        // transaction, and another job may have run it, or be running it, since this step
        // read them.
        let mut tx = db.begin().await?;
        let (present, ledger) = Ledger::read(&mut tx).await.map_err(db_err)?;
        let applied = ledger.iter().any(|e| {
            e.context == self.context && e.scope == scope.as_str() && e.version == m.version
        });
        if applied == (direction == RunDirection::Up) {
            // Another job got there first: nothing left to do here.
            tracing::info!(context = %self.context, %scope, database = db.label(), version = m.version, "another job ran this migration meanwhile");
            return Ok(None);
        }
        self.refuse_unfinished(scope, db, &mut tx, present).await?;
        marker.start(&mut tx).await.map_err(db_err)?;
        tx.commit().await?;
        let mut session = db.session().await?;
        for (i, statement) in statements.iter().enumerate() {
            if let Err(e) = session.execute(statement).await {
                let message = match &e {
                    sqlx::Error::Database(d) => d.message().to_string(),
                    other => other.to_string(),
                };
                if let Err(e) = marker
                    .progress(&mut session, i as i64, Some(&message))
                    .await
                {
                    tracing::error!(database = db.label(), error = %e, "could not record the failed statement");
                }
                session.close().await;
                let stopped = Unfinished {
                    done: i as i64,
                    error: Some(message),
                    ..marker
                };
                return Err(Error::MigrationFailed {
                    file: file.path.display().to_string(),
                    database: db.label().to_string(),
                    message: format!(
                        "{}\n  statement {}: {}\n  {}",
                        stopped.describe(),
                        i + 1,
                        excerpt(statement),
                        stopped.fix(db)
                    ),
                });
            }
            if let Err(e) = marker.progress(&mut session, i as i64 + 1, None).await {
                session.close().await;
                return Err(db_err(e));
            }
        }
        session.close().await;
        let mut tx = db.begin().await?;
        let recorded = if direction == RunDirection::Up {
            Ledger::record(&mut tx, &self.entry(scope, m, up, batch, started, run)).await
        } else {
            Ledger::erase(&mut tx, &self.context, scope, m.version).await
        };
        recorded.map_err(db_err)?;
        Unfinished::forget(&mut tx, &self.context, scope, m.version)
            .await
            .map_err(db_err)?;
        tx.commit().await?;
        let millis = started.elapsed().as_millis() as u64;
        tracing::info!(context = %self.context, %scope, database = db.label(), version = m.version, millis, ?direction, "migration done outside a transaction");
        Ok(Some(self.run_record(scope, db, m, direction, millis)))
    }
}

/// Commits `tx` when it holds migrations (`done[committed..]`) and tells the listeners of
/// them; else ends it. Returns how many of `done` are now committed.
async fn settle(
    tx: Tx,
    done: &[MigrationRun],
    committed: usize,
    run: &RunContext,
) -> Result<usize> {
    if done.len() == committed {
        // Nothing to keep: dropping the transaction rolls it back.
        drop(tx);
        return Ok(committed);
    }
    tx.commit().await?;
    for record in &done[committed..] {
        run.report(record);
    }
    Ok(done.len())
}

/// A statement's first line, cut short, to name it in a message.
fn excerpt(statement: &str) -> String {
    let line = statement.lines().next().unwrap_or_default();
    match line.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None if statement.lines().nth(1).is_some() => format!("{line} …"),
        None => line.to_string(),
    }
}

fn failed(file: &SqlFile, db: &Database, e: sqlx::Error) -> Error {
    let file = &file.path;
    let message = match &e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    };
    Error::MigrationFailed {
        file: file.display().to_string(),
        database: db.label().to_string(),
        message,
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
        let keep = match target {
            Target::Latest => 0,
            Target::Version(v) => v,
        };
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
