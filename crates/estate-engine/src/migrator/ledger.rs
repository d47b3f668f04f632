//! The ledger: the table in each migrated database that records which migrations of which
//! context are applied there.
//!
//! A ledger row is written in the same transaction as its migration, so the ledger never
//! claims a migration that is not there, nor misses one that is. The table is created by the
//! first migration that needs it, inside that migration's transaction: a database where
//! nothing was ever applied stays untouched.

use std::time::Instant;

use super::{MigrationInfo, RunContext};
use crate::catalog::Scope;
use crate::clock::now;
use crate::database::{Database, Tx};
use crate::error::{Error, Result};
use crate::sql::Engine;

pub const LEDGER_TABLE: &str = "estate_ledger";

const COLUMNS: &str =
    "context, scope, version, description, checksum, batch, applied_at, execution_ms, applied_by";

fn tx_engine(tx: &Tx) -> Engine {
    match tx.inner {
        crate::database::TxInner::Sqlite(_) => Engine::Sqlite,
        crate::database::TxInner::Postgres(_) => Engine::Postgres,
    }
}

/// The ledger table, made if missing (the statement of [`Ledger::create`], for a caller that
/// sends it with other statements in one round trip).
pub const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS estate_ledger (
    context      VARCHAR(63)  NOT NULL,
    scope        VARCHAR(8)   NOT NULL,
    version      BIGINT       NOT NULL,
    description  TEXT         NOT NULL,
    checksum     CHAR(64)     NOT NULL,
    batch        BIGINT       NOT NULL,
    applied_at   VARCHAR(40)  NOT NULL,
    execution_ms BIGINT       NOT NULL,
    applied_by   TEXT         NOT NULL,
    PRIMARY KEY (context, scope, version)
)";

/// Where the server counts a migration's `execution_ms` from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// The round trip's start (`statement_timestamp()`): the migration had it to itself.
    Message,
    /// The mark [`Since::MARK`] set just before the migration's script (by a statement of
    /// its own before the first, then by the one that ends the migration before it):
    /// migrations that share a round trip share its start too.
    Mark,
}

impl Since {
    /// An expression that marks now as the start of the next migration, for [`Since::Mark`].
    pub const MARK: &'static str =
        "set_config('estate.migration_started', clock_timestamp()::text, true)";

    /// The milliseconds from this start to now, as a PostgreSQL `bigint` expression.
    pub fn elapsed_ms(self) -> &'static str {
        match self {
            Since::Message => {
                "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::bigint"
            }
            Since::Mark => {
                "(extract(epoch FROM clock_timestamp() - current_setting('estate.migration_started')::timestamptz) * 1000)::bigint"
            }
        }
    }
}

/// One applied migration, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct LedgerEntry {
    pub context: String,
    pub scope: String,
    pub version: i64,
    pub description: String,
    pub checksum: String,
    pub batch: i64,
    /// RFC 3339, UTC.
    pub applied_at: String,
    pub execution_ms: i64,
    pub applied_by: String,
}

impl LedgerEntry {
    /// The row of `info` applied now in `context`'s `scope`, in `batch`, its migration begun
    /// at `started`, for a Rust migrator to record in its migration's transaction.
    pub fn applied(
        context: &str,
        scope: Scope,
        info: &MigrationInfo,
        batch: i64,
        started: Instant,
        run: &RunContext,
    ) -> LedgerEntry {
        LedgerEntry {
            context: context.to_string(),
            scope: scope.as_str().to_string(),
            version: info.version,
            description: info.description.clone(),
            checksum: info.checksum.clone(),
            batch,
            applied_at: now(),
            execution_ms: started.elapsed().as_millis() as i64,
            applied_by: run.applied_by.clone(),
        }
    }
}

/// Reads and writes a database's ledger.
pub struct Ledger;

impl Ledger {
    /// The entries of one context's scope, ascending by version. Empty when the database has
    /// no ledger yet.
    pub async fn entries(db: &Database, context: &str, scope: Scope) -> Result<Vec<LedgerEntry>> {
        if !db.has_table(LEDGER_TABLE).await? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM {} WHERE context = $1 AND scope = $2 ORDER BY version",
            db.qualified(LEDGER_TABLE)
        );
        crate::on_pool!(db, pool => {
            sqlx::query_as::<_, LedgerEntry>(sqlx::AssertSqlSafe(sql))
            .bind(context)
            .bind(scope.as_str())
            .fetch_all(pool)
            .await
            .map_err(|e| Error::db(db.label(), e))
        })
    }

    /// Every entry of the database, by context, scope and version.
    pub async fn all(db: &Database) -> Result<Vec<LedgerEntry>> {
        all_rows(db, LEDGER_TABLE, COLUMNS).await
    }

    /// The batch number the next run on this database records: one more than the last.
    pub async fn next_batch(db: &Database) -> Result<i64> {
        if !db.has_table(LEDGER_TABLE).await? {
            return Ok(1);
        }
        let sql = format!("SELECT MAX(batch) FROM {}", db.qualified(LEDGER_TABLE));
        crate::on_pool!(db, pool => {
            let (max,): (Option<i64>,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_one(pool)
                .await
                .map_err(|e| Error::db(db.label(), e))?;
            Ok(max.unwrap_or(0) + 1)
        })
    }

    /// Every entry of the database, read inside `tx` (so under its locks, and on PostgreSQL
    /// in its pinned schema), with which of estate's tables exist there.
    pub async fn read(tx: &mut Tx) -> Result<(Present, Vec<LedgerEntry>), sqlx::Error> {
        let present = Present::read(tx).await?;
        Self::rows_if(tx, present).await
    }

    /// [`Ledger::read`] for a step about to migrate: sets the savepoint its first migration
    /// rolls back to (`estate_migration`), after the lock and before anything is applied, in
    /// the same round trip as the read of which tables exist.
    pub async fn read_setting_savepoint(
        tx: &mut Tx,
    ) -> Result<(Present, Vec<LedgerEntry>), sqlx::Error> {
        let present = Present::read_setting_savepoint(tx).await?;
        Self::rows_if(tx, present).await
    }

    async fn rows_if(
        tx: &mut Tx,
        present: Present,
    ) -> Result<(Present, Vec<LedgerEntry>), sqlx::Error> {
        if !present.ledger {
            return Ok((present, Vec::new()));
        }
        let sql = format!("SELECT {COLUMNS} FROM estate_ledger ORDER BY context, scope, version");
        crate::on_tx!(tx, conn => {
            let rows = sqlx::query_as::<_, LedgerEntry>(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *conn)
                .await?;
            Ok((present, rows))
        })
    }

    /// Creates the ledger table inside `tx` if it is not there yet.
    pub async fn create(tx: &mut Tx) -> Result<(), sqlx::Error> {
        crate::on_tx!(tx, conn => {
            sqlx::query(CREATE_LEDGER).execute(&mut *conn).await.map(|_| ())
        })
    }

    /// Records an applied migration inside the migration's own transaction (creating the
    /// ledger table there the first time).
    pub async fn record(tx: &mut Tx, entry: &LedgerEntry) -> Result<(), sqlx::Error> {
        Self::create(tx).await?;
        Self::insert(tx, entry).await
    }

    /// Records an applied migration in a ledger known to exist.
    pub async fn insert(tx: &mut Tx, entry: &LedgerEntry) -> Result<(), sqlx::Error> {
        crate::on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO estate_ledger
                 (context, scope, version, description, checksum, batch, applied_at, execution_ms, applied_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&entry.context)
            .bind(&entry.scope)
            .bind(entry.version)
            .bind(&entry.description)
            .bind(&entry.checksum)
            .bind(entry.batch)
            .bind(&entry.applied_at)
            .bind(entry.execution_ms)
            .bind(&entry.applied_by)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })
    }

    /// [`Ledger::insert`] as one PostgreSQL statement with its values quoted in, sent in the
    /// migration's own round trip after its script: on a server, round trips are what a
    /// fleet of small schemas spends its time on. `execution_ms` is the server's, counted
    /// from `since`; the entry's `applied_at` is when the round trip was sent.
    pub fn pg_insert_statement(entry: &LedgerEntry, since: Since) -> String {
        let q = crate::sql::quote_pg_literal;
        format!(
            "INSERT INTO estate_ledger ({COLUMNS}) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
            q(&entry.context),
            q(&entry.scope),
            entry.version,
            q(&entry.description),
            q(&entry.checksum),
            entry.batch,
            q(&entry.applied_at),
            since.elapsed_ms(),
            q(&entry.applied_by),
        )
    }

    /// [`Ledger::erase`] as one PostgreSQL statement, for the revert's own round trip.
    pub fn pg_erase_statement(context: &str, scope: Scope, version: i64) -> String {
        let q = crate::sql::quote_pg_literal;
        format!(
            "DELETE FROM estate_ledger WHERE context = {} AND scope = {} AND version = {version}",
            q(context),
            q(scope.as_str()),
        )
    }

    /// Removes the entry of a reverted migration inside the revert's own transaction.
    pub async fn erase(
        tx: &mut Tx,
        context: &str,
        scope: Scope,
        version: i64,
    ) -> Result<(), sqlx::Error> {
        delete_row(tx, LEDGER_TABLE, context, scope, version).await
    }
}

/// Deletes the row of one migration from one of estate's per-database tables (`table`, a
/// constant), inside `tx`.
pub(super) async fn delete_row(
    tx: &mut Tx,
    table: &'static str,
    context: &str,
    scope: Scope,
    version: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!("DELETE FROM {table} WHERE context = $1 AND scope = $2 AND version = $3");
    crate::on_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(context)
            .bind(scope.as_str())
            .bind(version)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
}

/// Every row of one of estate's per-database tables (`columns` of `table`, a constant), by
/// context, scope and version; none when the table was never made there.
pub(super) async fn all_rows<T>(db: &Database, table: &str, columns: &str) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    if !db.has_table(table).await? {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {columns} FROM {} ORDER BY context, scope, version",
        db.qualified(table)
    );
    crate::on_pool!(db, pool => {
        sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .map_err(|e| Error::db(db.label(), e))
    })
}

/// Which of estate's tables a database has, seen from inside a transaction (in its pinned
/// schema, on PostgreSQL): learned in one round trip, since every step asks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Present {
    pub ledger: bool,
    /// `estate_unfinished`: made the first time a `-- no-transaction` migration ran there.
    pub unfinished: bool,
}

/// Which of estate's tables exist in the schema a PostgreSQL transaction is pinned to:
/// through pg_class and the statement's own snapshot, taken after the lock was, so a table
/// another job created and committed while this one waited is seen. (to_regclass reads the
/// session's catalog cache, which waiting on an advisory lock does not refresh: it could say
/// "no ledger" here and this job would run migrations already applied.) In current_schema(),
/// where the unqualified names resolve. One table's index scan: the query is planned anew for
/// each tenant (its schema changes the plan's inputs), and a join costs the server more to
/// plan than to run. `$1` and `$2` are the two tables' names.
const PRESENT_PG: &str =
    "SELECT COALESCE(bool_or(relname = $1), false), COALESCE(bool_or(relname = $2), false)
     FROM pg_catalog.pg_class
     WHERE relname IN ($1, $2)
       AND relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema())";

impl Present {
    pub async fn read(tx: &mut Tx) -> Result<Present, sqlx::Error> {
        let engine = tx_engine(tx);
        let (ledger, unfinished): (bool, bool) = crate::on_tx!(tx, conn => {
            match engine {
                Engine::Sqlite => sqlx::query_as(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1),
                            EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $2)",
                )
                .bind(LEDGER_TABLE)
                .bind(super::UNFINISHED_TABLE)
                .fetch_one(&mut *conn)
                .await?,
                Engine::Postgres => sqlx::query_as(PRESENT_PG)
                .bind(LEDGER_TABLE)
                .bind(super::UNFINISHED_TABLE)
                .fetch_one(&mut *conn)
                .await?,
            }
        });
        Ok(Present { ledger, unfinished })
    }

    /// [`Present::read`] after setting the savepoint `estate_migration`: on a server in the
    /// same round trip, its table names quoted in (they are estate's own).
    pub async fn read_setting_savepoint(tx: &mut Tx) -> Result<Present, sqlx::Error> {
        use sqlx::Row;
        let crate::database::TxInner::Postgres(pg) = &mut tx.inner else {
            tx.execute_script(crate::database::SET_SAVEPOINT).await?;
            return Present::read(tx).await;
        };
        let q = crate::sql::quote_pg_literal;
        let sql = format!(
            "{};\n{}",
            crate::database::SET_SAVEPOINT,
            PRESENT_PG
                .replace("$1", &q(LEDGER_TABLE))
                .replace("$2", &q(super::UNFINISHED_TABLE))
        );
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut **pg)
            .await?;
        let row = rows.last().ok_or(sqlx::Error::RowNotFound)?;
        Ok(Present {
            ledger: row.try_get(0)?,
            unfinished: row.try_get(1)?,
        })
    }
}
