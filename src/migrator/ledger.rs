//! The ledger: the table in each migrated database that records which migrations of which
//! context are applied there.
//!
//! A ledger row is written in the same transaction as its migration, so the ledger never
//! claims a migration that is not there, nor misses one that is. The table is created by the
//! first migration that needs it, inside that migration's transaction: a database where
//! nothing was ever applied stays untouched.

use crate::catalog::Scope;
use crate::database::{Database, Tx};
use crate::error::{Error, Result};

pub const LEDGER_TABLE: &str = "estate_ledger";

const CREATE: &str = "CREATE TABLE IF NOT EXISTS estate_ledger (
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

/// Reads and writes a database's ledger.
pub struct Ledger;

impl Ledger {
    /// The entries of one context's scope, ascending by version. Empty when the database has
    /// no ledger yet.
    pub async fn entries(db: &Database, context: &str, scope: Scope) -> Result<Vec<LedgerEntry>> {
        if !db.has_table(LEDGER_TABLE).await? {
            return Ok(Vec::new());
        }
        crate::on_pool!(db, pool => {
            sqlx::query_as::<_, LedgerEntry>(
                "SELECT context, scope, version, description, checksum, batch, applied_at, execution_ms, applied_by
                 FROM estate_ledger WHERE context = $1 AND scope = $2 ORDER BY version",
            )
            .bind(context)
            .bind(scope.as_str())
            .fetch_all(pool)
            .await
            .map_err(|e| Error::db(db.label(), e))
        })
    }

    /// Every entry of the database, by context, scope and version.
    pub async fn all(db: &Database) -> Result<Vec<LedgerEntry>> {
        if !db.has_table(LEDGER_TABLE).await? {
            return Ok(Vec::new());
        }
        crate::on_pool!(db, pool => {
            sqlx::query_as::<_, LedgerEntry>(
                "SELECT context, scope, version, description, checksum, batch, applied_at, execution_ms, applied_by
                 FROM estate_ledger ORDER BY context, scope, version",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| Error::db(db.label(), e))
        })
    }

    /// The batch number the next run on this database records: one more than the last.
    pub async fn next_batch(db: &Database) -> Result<i64> {
        if !db.has_table(LEDGER_TABLE).await? {
            return Ok(1);
        }
        crate::on_pool!(db, pool => {
            let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(batch) FROM estate_ledger")
                .fetch_one(pool)
                .await
                .map_err(|e| Error::db(db.label(), e))?;
            Ok(max.unwrap_or(0) + 1)
        })
    }

    /// Records an applied migration inside the migration's own transaction (creating the
    /// ledger table there the first time).
    pub async fn record(tx: &mut Tx, entry: &LedgerEntry) -> Result<(), sqlx::Error> {
        crate::on_tx!(tx, conn => {
            sqlx::query(CREATE).execute(&mut *conn).await?;
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

    /// Removes the entry of a reverted migration inside the revert's own transaction.
    pub async fn erase(
        tx: &mut Tx,
        context: &str,
        scope: Scope,
        version: i64,
    ) -> Result<(), sqlx::Error> {
        crate::on_tx!(tx, conn => {
            sqlx::query("DELETE FROM estate_ledger WHERE context = $1 AND scope = $2 AND version = $3")
                .bind(context)
                .bind(scope.as_str())
                .bind(version)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })
    }
}

/// The current time as the ledger and the registry record it: RFC 3339, UTC, milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
