//! Applying a step's migrations in one transaction.
//!
//! A step's migrations run in one transaction, each inside a savepoint together with its
//! ledger row: a migration is applied whole with its row or not at all, a failing one is
//! undone alone and the ones before it commit, and a step costs one commit however many
//! migrations it has (commits, not SQL, are what a fleet of small databases spends its time
//! on). The ledger is read inside that transaction, under the database's lock, so what is
//! found pending is what is applied even with another job taking turns.

use std::time::Instant;

use super::SqlMigrator;
use super::batch::Batched;
use crate::catalog::{Migration, Scope, SqlFile};
use crate::database::{Database, Tx};
use crate::error::{Error, Result};
use crate::migrator::ledger::{CREATE_LEDGER, Since};
use crate::migrator::{Ledger, MigrationRun, RunContext, RunDirection, ScopeStatus};
use crate::sql::Engine;

/// A step's transaction, begun with the ledger read inside it.
pub(super) struct Started {
    pub(super) tx: Tx,
    /// The ledger table exists (else the first migration applied creates it).
    has_ledger: bool,
    /// The batch number of what this step applies: one more than the database's last.
    batch: i64,
}

impl SqlMigrator {
    /// Starts the step's transaction and reads the ledger inside it, under the database's lock,
    /// so what it finds pending is what it applies even with another job taking turns. Refuses
    /// a drifted or vanished migration. Returns the transaction, whether the ledger table
    /// exists, this scope's status and the batch number for what it applies.
    pub(super) async fn begin(
        &self,
        scope: Scope,
        db: &Database,
    ) -> Result<(Started, ScopeStatus)> {
        if let Some(tx) = db.begin_assuming_fresh().await? {
            // Checked under the lock: neither the ledger nor the record of unfinished
            // migrations is there, so nothing is applied and nothing unfinished.
            let status = self.status_of(scope, db.engine(), &[]);
            return Ok((
                Started {
                    tx,
                    has_ledger: false,
                    batch: 1,
                },
                status,
            ));
        }
        let mut tx = db.begin().await?;
        let (present, all) = Ledger::read_setting_savepoint(&mut tx)
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

    /// Runs `migrations` in `direction` in one transaction, each in a savepoint with its
    /// ledger change. Whatever stops the loop (a failure, a cancel), what completed commits;
    /// listeners hear of a migration only once it is committed.
    pub(super) async fn apply(
        &self,
        scope: Scope,
        db: &Database,
        started: Started,
        migrations: &[&Migration],
        direction: RunDirection,
        run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        let Started {
            mut tx,
            mut has_ledger,
            batch,
        } = started;
        // The open transaction holds a savepoint, for its next migration: set with the read
        // of the ledger, then renewed after each migration.
        let mut done: Vec<MigrationRun> = Vec::with_capacity(migrations.len());
        // On a server, the whole step and its commit in one round trip when it all succeeds.
        if db.engine() == Engine::Postgres
            && migrations.len() > 1
            && self.durations.quick(scope, migrations, direction)
        {
            match self
                .apply_batch(
                    scope, db, &mut tx, migrations, direction, batch, has_ledger, run,
                )
                .await?
            {
                Batched::Committed(records) => {
                    // The empty transaction the batch left ends as the connection goes back.
                    drop(tx);
                    for record in &records {
                        run.report(record);
                    }
                    return Ok(records);
                }
                Batched::NotTried | Batched::Undone => {}
            }
        }
        let mut tx = Some(tx);
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
                    has_ledger = Ledger::read_setting_savepoint(&mut fresh)
                        .await
                        .map_err(|e| Error::db(db.label(), e))?
                        .0
                        .ledger;
                    fresh
                }
            };
            let started = Instant::now();
            // The table is made once, by the first migration that needs it, inside that
            // migration's savepoint.
            let before: &[&str] = if direction == RunDirection::Up && !has_ledger {
                &[CREATE_LEDGER]
            } else {
                &[]
            };
            // On a server the ledger change rides in the script's round trip; SQLite has no
            // round trips to save, and its row is bound as usual.
            let inline = (db.engine() == Engine::Postgres).then(|| match direction {
                RunDirection::Up => Ledger::pg_insert_statement(
                    &self.entry(scope, m, up, batch, started, run),
                    Since::Message,
                ),
                RunDirection::Down => Ledger::pg_erase_statement(&self.context, scope, m.version),
            });
            let result = match open
                .execute_in_savepoint(before, &file.sql, inline.as_deref())
                .await
            {
                Err(e) => Err(failed(file, db, e)),
                Ok(()) if inline.is_some() => Ok(()),
                Ok(()) => {
                    let row = if direction == RunDirection::Up {
                        let entry = self.entry(scope, m, up, batch, started, run);
                        Ledger::insert(&mut open, &entry).await
                    } else {
                        Ledger::erase(&mut open, &self.context, scope, m.version).await
                    };
                    match row {
                        Ok(()) => open.renew_savepoint().await,
                        Err(e) => Err(Error::db(db.label(), e)),
                    }
                }
            };
            if let Err(e) = result {
                if let Err(undo) = open.rollback_to_savepoint().await {
                    // The engine ended the transaction itself (an interrupted statement
                    // rolls all of it back on SQLite): none of it stays, the step's earlier
                    // migrations in it included, and the first error is the one to tell.
                    tracing::warn!(database = db.label(), error = %undo, "the transaction ended with the failed migration");
                    drop(open);
                    return Err(e);
                }
                tx = Some(open);
                stopped = Err(e);
                break;
            }
            tx = Some(open);
            if direction == RunDirection::Up {
                has_ledger = true;
            }
            let millis = started.elapsed().as_millis() as u64;
            self.durations.note(scope, m, direction, millis);
            tracing::info!(context = %self.context, %scope, database = db.label(), version = m.version, millis, ?direction, "migration done, commits with its step");
            done.push(self.run_record(scope, db, m, direction, millis));
        }
        if let Some(open) = tx {
            settle(open, &done, committed, run).await?;
        }
        stopped.map(|()| done)
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

fn failed(file: &SqlFile, db: &Database, e: sqlx::Error) -> Error {
    failed_at(file.path.display().to_string(), db, e)
}

/// A failed migration's error: `file` names what failed.
pub(super) fn failed_at(file: String, db: &Database, e: sqlx::Error) -> Error {
    let message = match &e {
        // SQLITE_INTERRUPT, and PostgreSQL's query_canceled: estate stopped it.
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("9") | Some("57014")) => {
            format!("{} (interrupted: the job was told to stop)", d.message())
        }
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    };
    Error::MigrationFailed {
        file,
        database: db.label().to_string(),
        message,
    }
}
