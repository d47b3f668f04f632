//! A connection outside any transaction, for the statements an engine refuses inside one
//! (PostgreSQL's `CREATE INDEX CONCURRENTLY`, SQLite's `VACUUM`): what a `-- no-transaction`
//! migration runs on. Each statement commits on its own, so a failure or a kill leaves the ones
//! before it in place; the migrator records how far it got.

use super::{Database, Pool};
use crate::error::{Error, Result};
use crate::sql::quote_ident;

#[doc(hidden)]
pub enum SessionInner {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    /// Detached from the pool: its session settings (the pinned schema) must never reach
    /// another user of the pool.
    Postgres(sqlx::PgConnection),
}

pub struct Session {
    label: String,
    #[doc(hidden)]
    pub inner: SessionInner,
}

impl Database {
    /// A connection of its own, in autocommit, pinned to this database's schema.
    pub async fn session(&self) -> Result<Session> {
        let err = |e| Error::db(&self.label, e);
        let inner = match &self.pool {
            Pool::Sqlite(pool) => SessionInner::Sqlite(pool.acquire().await.map_err(err)?),
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(err)?.detach();
                if let Some(schema) = self.pinned() {
                    sqlx::query("SELECT set_config('search_path', $1, false)")
                        .bind(quote_ident(schema))
                        .execute(&mut conn)
                        .await
                        .map_err(err)?;
                }
                SessionInner::Postgres(conn)
            }
        };
        Ok(Session {
            label: self.label.clone(),
            inner,
        })
    }
}

impl Session {
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Runs one statement as it is; it commits on its own.
    pub async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        crate::on_session!(self, conn => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(|_| ())
        })
    }

    pub async fn close(self) {
        match self.inner {
            SessionInner::Sqlite(conn) => drop(conn),
            SessionInner::Postgres(conn) => {
                use sqlx::Connection;
                if let Err(e) = conn.close().await {
                    tracing::debug!(database = self.label, error = %e, "closing a session");
                }
            }
        }
    }
}

/// Runs `$body` with `$conn` bound to the engine's own connection of session `$session`.
#[macro_export]
#[doc(hidden)]
macro_rules! on_session {
    ($session:expr, $conn:ident => $body:expr) => {
        match &mut $session.inner {
            $crate::database::SessionInner::Sqlite(c) => {
                let $conn = &mut **c;
                $body
            }
            $crate::database::SessionInner::Postgres(c) => {
                let $conn = &mut *c;
                $body
            }
        }
    };
}
