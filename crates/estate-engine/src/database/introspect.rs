//! What a database holds, read for `estate adopt`: a table's columns, the indexes, and the
//! text of a query's first column (another tool's ledger), on either engine.

use super::{Database, Pool};
use crate::error::{Error, Result};
use crate::sql::quote_ident;

impl Database {
    /// The columns of `table` (in the pinned schema, on PostgreSQL); empty if there is none.
    pub async fn columns(&self, table: &str) -> Result<Vec<String>> {
        let err = |e| Error::db(&self.label, e);
        let rows: Vec<(String,)> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as("SELECT name FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(pool)
                .await
                .map_err(err)?,
            Pool::Postgres(pool) => sqlx::query_as(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2",
            )
            .bind(self.pinned())
            .bind(table)
            .fetch_all(pool)
            .await
            .map_err(err)?,
        };
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The names of the indexes (of the pinned schema, on PostgreSQL).
    pub async fn indexes(&self) -> Result<Vec<String>> {
        let err = |e| Error::db(&self.label, e);
        let rows: Vec<(String,)> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'index'")
                    .fetch_all(pool)
                    .await
                    .map_err(err)?
            }
            Pool::Postgres(pool) => sqlx::query_as(
                "SELECT indexname::text FROM pg_indexes
                 WHERE schemaname = COALESCE($1, current_schema())",
            )
            .bind(self.pinned())
            .fetch_all(pool)
            .await
            .map_err(err)?,
        };
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Column `column` of every row of `table` as text, or `None` when the table has no such
    /// column: another tool's ledger, read without trusting its shape.
    pub async fn column_texts(&self, table: &str, column: &str) -> Result<Option<Vec<String>>> {
        if !self.columns(table).await?.iter().any(|c| c == column) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT CAST({} AS TEXT) FROM {}",
            quote_ident(column),
            self.qualified(table)
        );
        let err = |e| Error::db(&self.label, e);
        let rows: Vec<(Option<String>,)> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(err)?,
            Pool::Postgres(pool) => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(err)?,
        };
        Ok(Some(rows.into_iter().filter_map(|r| r.0).collect()))
    }
}
