//! The one boundary between estate and the database engines.
//!
//! A [`Database`] is one migrated database (the landlord, or one tenant's) behind a small
//! connection pool; a [`Tx`] is a transaction on it. Code above this module writes its SQL once,
//! with `$1`-style parameters that every supported engine accepts, and runs it through the
//! [`on_pool!`](crate::on_pool) / [`on_tx!`](crate::on_tx) macros, which hand the body the
//! engine's own connection type. Adding an engine means adding a variant here, not touching
//! the ledger or the registry.

mod ident;
mod lock;
mod postgres;
mod sqlite;

use std::path::PathBuf;
use std::time::Duration;

pub use ident::quote_ident;
pub use lock::{DatabaseLock, holder_id};
pub use postgres::Server;

pub use crate::engine::Engine;
use crate::error::{Error, Result};

#[doc(hidden)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

#[doc(hidden)]
pub enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Whether opening a database may create it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// The database must exist: used for every tenant once provisioned, so a typo or a lost
    /// file is an error rather than a fresh empty database.
    Existing,
    /// Create the database (file, PostgreSQL database, schema) when it is missing.
    CreateIfMissing,
}

/// Where one database is.
#[derive(Debug, Clone)]
pub enum Address {
    Sqlite {
        path: PathBuf,
    },
    /// A PostgreSQL database on a named server; with `schema`, every connection is pinned to
    /// that schema and nothing can land in `public`.
    Postgres {
        server: Server,
        database: String,
        schema: Option<String>,
    },
}

impl Address {
    pub fn engine(&self) -> Engine {
        match self {
            Address::Sqlite { .. } => Engine::Sqlite,
            Address::Postgres { .. } => Engine::Postgres,
        }
    }

    /// How messages name the place, never with credentials: a path, or
    /// `server pg1, database tenant_acme` (`, schema s`).
    pub fn describe(&self) -> String {
        match self {
            Address::Sqlite { path } => path.display().to_string(),
            Address::Postgres {
                server,
                database,
                schema,
            } => match schema {
                Some(s) => format!("server {}, database {database}, schema {s}", server.name),
                None => format!("server {}, database {database}", server.name),
            },
        }
    }
}

/// One database estate migrates.
pub struct Database {
    /// How messages name it: `landlord`, `tenant acme`.
    label: String,
    address: Address,
    #[doc(hidden)]
    pub pool: Pool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("label", &self.label)
            .field("address", &self.address.describe())
            .finish()
    }
}

impl Database {
    /// Opens (or with [`Open::CreateIfMissing`], creates) the database at `address`.
    pub async fn open(label: impl Into<String>, address: &Address, open: Open) -> Result<Database> {
        let label = label.into();
        let pool = match address {
            Address::Sqlite { path } => Pool::Sqlite(sqlite::open(&label, path, open).await?),
            Address::Postgres {
                server,
                database,
                schema,
            } => Pool::Postgres(
                postgres::open(&label, server, database, schema.as_deref(), open).await?,
            ),
        };
        Ok(Database {
            label,
            address: address.clone(),
            pool,
        })
    }

    pub fn engine(&self) -> Engine {
        self.address.engine()
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Whether the database exists, without creating it.
    pub async fn exists(address: &Address) -> Result<bool> {
        match address {
            Address::Sqlite { path } => Ok(path.is_file()),
            Address::Postgres {
                server,
                database,
                schema,
            } => postgres::exists(server, database, schema.as_deref()).await,
        }
    }

    /// Starts a transaction. A step's migrations run in one, each inside a savepoint with its
    /// ledger row.
    pub async fn begin(&self) -> Result<Tx> {
        let err = |e| Error::db(&self.label, e);
        let inner = match &self.pool {
            // IMMEDIATE takes the write lock up front, so a migration never fails halfway
            // with SQLITE_BUSY when it upgrades from a read to a write.
            Pool::Sqlite(pool) => {
                TxInner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await.map_err(err)?)
            }
            Pool::Postgres(pool) => TxInner::Postgres(pool.begin().await.map_err(err)?),
        };
        Ok(Tx {
            label: self.label.clone(),
            inner,
        })
    }

    /// Takes this database's advisory lock, waiting at most `wait`, so two estate jobs never
    /// migrate it at once.
    pub async fn lock(&self, wait: Duration) -> Result<DatabaseLock> {
        DatabaseLock::acquire(&self.label, &self.address, wait).await
    }

    /// Whether a table exists (in the pinned schema, on PostgreSQL), without creating anything.
    pub async fn has_table(&self, table: &str) -> Result<bool> {
        Ok(self.tables().await?.iter().any(|t| t == table))
    }

    /// The user tables of this database (of its schema, on PostgreSQL), sorted.
    pub async fn tables(&self) -> Result<Vec<String>> {
        let err = |e| Error::db(&self.label, e);
        let rows: Vec<(String,)> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .map_err(err)?,
            Pool::Postgres(pool) => sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
            )
            .fetch_all(pool)
            .await
            .map_err(err)?,
        };
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Closes the pool, waiting for its connections to finish, so files are released.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// A transaction on one [`Database`]. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    label: String,
    #[doc(hidden)]
    pub inner: TxInner,
}

impl Tx {
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Runs a script of one or more statements (a migration file) as it is.
    pub async fn execute_script(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        crate::on_tx!(self, conn => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(|_| ())
        })
    }

    /// Marks a point the transaction can return to: each migration of a step runs between
    /// a savepoint and its release, so a failing one is undone alone and the step's earlier
    /// migrations commit with one commit.
    pub async fn savepoint(&mut self) -> Result<()> {
        self.control("SAVEPOINT estate_migration").await
    }

    pub async fn release(&mut self) -> Result<()> {
        self.control("RELEASE SAVEPOINT estate_migration").await
    }

    /// Undoes everything since [`Tx::savepoint`] (and leaves a failed PostgreSQL transaction
    /// usable again).
    pub async fn rollback_to_savepoint(&mut self) -> Result<()> {
        self.control("ROLLBACK TO SAVEPOINT estate_migration")
            .await?;
        self.release().await
    }

    async fn control(&mut self, sql: &'static str) -> Result<()> {
        let label = self.label.clone();
        crate::on_tx!(self, conn => {
            sqlx::raw_sql(sql)
                .execute(conn)
                .await
                .map(|_| ())
                .map_err(|e| Error::db(label, e))
        })
    }

    pub async fn commit(self) -> Result<()> {
        let label = self.label;
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await.map_err(|e| Error::db(label, e)),
            TxInner::Postgres(tx) => tx.commit().await.map_err(|e| Error::db(label, e)),
        }
    }
}

/// Runs `$body` with `$pool` bound to the engine's own pool type of database `$db`.
#[macro_export]
#[doc(hidden)]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match &$db.pool {
            $crate::database::Pool::Sqlite($pool) => $body,
            $crate::database::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the engine's own connection inside transaction `$tx`.
#[macro_export]
#[doc(hidden)]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::database::TxInner::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::database::TxInner::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
