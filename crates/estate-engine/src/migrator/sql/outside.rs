//! Applying a `-- no-transaction` migration: outside any transaction, statement by statement.
//!
//! Some statements refuse a transaction (PostgreSQL's `CREATE INDEX CONCURRENTLY`, SQLite's
//! `VACUUM`), so such a migration cannot be undone when it fails partway. An `Unfinished` row
//! written before the first statement says how far it got, so a failure or a kill is never
//! silent: the next run refuses the scope until the operator says what happened
//! (`estate resolve`), and `verify` reports it.

use std::time::Instant;

use super::SqlMigrator;
use crate::catalog::{Migration, Scope, SqlFile};
use crate::clock::now;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrator::{
    Ledger, MigrationRun, RunContext, RunDirection, Unfinished, split_statements,
};

impl SqlMigrator {
    /// Runs a `-- no-transaction` migration: the statements one by one, each committing on
    /// its own, with an [`Unfinished`] row that says how far it got; then its ledger change
    /// and the row's removal in one transaction. A failure (or a kill) leaves the row, and
    /// the error says what stays applied.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply_outside(
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

/// A statement's first line, cut short, to name it in a message.
fn excerpt(statement: &str) -> String {
    let line = statement.lines().next().unwrap_or_default();
    match line.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None if statement.lines().nth(1).is_some() => format!("{line} …"),
        None => line.to_string(),
    }
}
