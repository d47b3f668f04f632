//! A step's migrations sent to a server in one round trip.
//!
//! On PostgreSQL every round trip is a wait at both ends, and a step of small migrations on a
//! fleet of schemas spends more on those waits than on its SQL. So the step's migrations go
//! together: each script, then its ledger change, after the savepoint the transaction holds,
//! and then the commit. When all of it succeeds, that is the step, committed in the same
//! round trip. When anything in it fails (the commit included), the
//! savepoint undoes all of it and the migrations run again one round trip each
//! (`transaction.rs`), which says which one failed and keeps the ones before it, as if there
//! had been no batch: PostgreSQL parses a whole message before it runs any of it, so the
//! message alone cannot say that. (What a migration does outside its transaction, such as a
//! sequence's `nextval`, then happens twice.) A batch stopped on purpose (an interrupt, a
//! cancelled statement) is undone whole and not run again.
//!
//! A cancel lands at the next migration boundary, and a batch has none inside it: only a step
//! whose migrations this process has seen run quickly goes in one (a fleet's first tenants
//! teach it), so a cancel usually waits a fraction of a second longer. A migration quick on
//! one tenant may be slow on the next; an interrupt (a second signal) stops it there all the
//! same, undoing the whole step.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::SqlMigrator;
use crate::catalog::{Migration, Scope};
use crate::database::{Database, Tx};
use crate::migrator::ledger::{CREATE_LEDGER, Since};
use crate::migrator::{Ledger, MigrationRun, RunContext, RunDirection};

/// The longest a migration may have taken, the last time it ran, for its step to be batched.
const QUICK_MS: u64 = 50;

/// The longest the migrations of a batch may have taken together, the last time each ran.
const BATCH_MS: u64 = 250;

/// A migration going one way: its scope, version, and whether up.
type Run = (Scope, i64, bool);

/// How long each migration took the last time it ran in this process, going each way: the
/// last time, not the longest, so one slow moment (a cold cache, a busy server) does not keep
/// the rest of a fleet from batching.
#[derive(Debug, Default, Clone)]
pub(super) struct Durations(Arc<Mutex<BTreeMap<Run, u64>>>);

impl Durations {
    pub(super) fn note(&self, scope: Scope, m: &Migration, direction: RunDirection, ms: u64) {
        let up = direction == RunDirection::Up;
        crate::sync::lock(&self.0).insert((scope, m.version, up), ms);
    }

    /// Whether every one of `migrations` ran before, quickly, and all of them together too.
    pub(super) fn quick(
        &self,
        scope: Scope,
        migrations: &[&Migration],
        direction: RunDirection,
    ) -> bool {
        let up = direction == RunDirection::Up;
        let seen = crate::sync::lock(&self.0);
        let mut total = 0;
        for m in migrations {
            match seen.get(&(scope, m.version, up)) {
                Some(ms) if *ms <= QUICK_MS => total += ms,
                _ => return false,
            }
        }
        total <= BATCH_MS
    }
}

/// Ends a batch. sqlx counts the transactions it began and would send its own `COMMIT` (a
/// round trip a tenant) for the one it knows of: the `BEGIN` after the batch's commit gives it
/// an empty transaction to end instead. Dropped, that one's `ROLLBACK` goes with the ping the
/// pool sends as the connection comes back, in the same round trip. (When the commit itself
/// fails, a deferred constraint say, that `ROLLBACK` finds no transaction and the server logs
/// a warning.)
const COMMIT_IN_BATCH: &str = "COMMIT;\nBEGIN";

/// The column of the rows that give each migration's time on the server.
const MILLIS_COLUMN: &str = "estate_execution_ms";

/// What became of a batch.
pub(super) enum Batched {
    /// Applied with their ledger changes and committed; the step's `Tx` holds a new, empty
    /// transaction, for dropping.
    Committed(Vec<MigrationRun>),
    /// Not tried: a migration must run outside a transaction, or its files are missing.
    NotTried,
    /// Tried, failed, and undone to the savepoint, which the transaction still holds: run
    /// them one by one.
    Undone,
}

impl SqlMigrator {
    /// Sends `migrations` and the commit in one round trip on `tx`, which holds the savepoint
    /// `estate_migration`. `has_ledger`: the ledger table exists (else the first migration
    /// going up creates it).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply_batch(
        &self,
        scope: Scope,
        db: &Database,
        tx: &mut Tx,
        migrations: &[&Migration],
        direction: RunDirection,
        batch: i64,
        has_ledger: bool,
        run: &RunContext,
    ) -> crate::Result<Batched> {
        let started = std::time::Instant::now();
        let mut script = String::new();
        for (i, m) in migrations.iter().enumerate() {
            let Ok((up, down)) = Self::files(m, db.engine()) else {
                return Ok(Batched::NotTried);
            };
            let file = match direction {
                RunDirection::Up => up,
                RunDirection::Down => down,
            };
            if file.no_transaction() {
                return Ok(Batched::NotTried);
            }
            if i == 0 && direction == RunDirection::Up && !has_ledger {
                script.push_str(CREATE_LEDGER);
                script.push_str(";\n");
            }
            if i == 0 {
                script.push_str("SELECT ");
                script.push_str(Since::MARK);
                script.push_str(";\n");
            }
            script.push_str(&file.sql);
            // On lines of their own: a script may end in a comment or without a `;`.
            script.push_str("\n;\n");
            // The migration's time on the server comes back with its ledger change, which
            // also marks the start of the next one: two statements a migration fewer than a
            // mark and a query of their own (every statement is parsed and planned anew).
            match direction {
                RunDirection::Up => {
                    script.push_str(&Ledger::pg_insert_statement(
                        &self.entry(scope, m, up, batch, started, run),
                        Since::Mark,
                    ));
                    script.push_str(" RETURNING execution_ms AS ");
                }
                RunDirection::Down => {
                    // A DELETE returns no row when the ledger had none: a query of its own.
                    script.push_str(&Ledger::pg_erase_statement(&self.context, scope, m.version));
                    script.push_str(";\nSELECT ");
                    script.push_str(Since::Mark.elapsed_ms());
                    script.push_str(" AS ");
                }
            }
            script.push_str(MILLIS_COLUMN);
            script.push_str(", ");
            script.push_str(Since::MARK);
            script.push_str(";\n");
        }
        script.push_str(COMMIT_IN_BATCH);
        let millis = match tx.execute_collecting(&script, MILLIS_COLUMN).await {
            Ok(millis) => millis,
            Err(e) => {
                if let Err(undo) = tx.rollback_to_savepoint_keeping_it().await {
                    // The transaction is gone (a failed commit ends it, a lost connection
                    // too), none of the step with it: the first error is the one to tell.
                    tracing::warn!(database = db.label(), error = %undo, "the transaction ended with the failed migrations");
                    return Err(crate::Error::db(db.label(), e));
                }
                // Stopped on purpose: none of the step stays, and none of it runs again.
                if crate::database::interrupted() || is_query_canceled(&e) {
                    let (first, last) = (migrations[0], migrations[migrations.len() - 1]);
                    let what = format!(
                        "{} to {} (one round trip, undone whole)",
                        first.file_name(),
                        last.file_name()
                    );
                    return Err(super::transaction::failed_at(what, db, e));
                }
                tracing::info!(database = db.label(), error = %e, "a step's migrations failed together; running them one by one");
                return Ok(Batched::Undone);
            }
        };
        let whole = started.elapsed().as_millis() as u64;
        let records = migrations
            .iter()
            .enumerate()
            .map(|(i, m)| {
                // The server's own count; a share of the round trip should it be missing.
                let ms = millis
                    .get(i)
                    .map_or(whole / migrations.len() as u64, |ms| (*ms).max(0) as u64);
                self.durations.note(scope, m, direction, ms);
                tracing::info!(context = %self.context, %scope, database = db.label(), version = m.version, millis = ms, ?direction, "migration done, commits with its step");
                self.run_record(scope, db, m, direction, ms)
            })
            .collect();
        Ok(Batched::Committed(records))
    }
}

/// PostgreSQL's `query_canceled`: estate's interrupt, or a statement timeout.
fn is_query_canceled(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("57014"))
}
