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
mod sqlite;

use std::path::{Path, PathBuf};

pub use ident::quote_ident;
pub use lock::DatabaseLock;

use crate::error::{Error, Result};

/// A database engine estate can migrate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// The embedded default: one file per database, nothing to install.
    #[default]
    Sqlite,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
        }
    }

    pub fn parse(s: &str) -> Option<Engine> {
        match s {
            "sqlite" => Some(Engine::Sqlite),
            _ => None,
        }
    }
}

#[doc(hidden)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
}

#[doc(hidden)]
pub enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

/// Whether opening a database may create it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// The database must exist: used for every tenant once provisioned, so a typo or a lost
    /// file is an error rather than a fresh empty database.
    Existing,
    /// Create the database when it is missing (the landlord, provisioning a tenant).
    CreateIfMissing,
}

/// One database estate migrates.
pub struct Database {
    engine: Engine,
    /// How messages name it: `landlord`, `tenant acme`.
    label: String,
    location: PathBuf,
    #[doc(hidden)]
    pub pool: Pool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("engine", &self.engine)
            .field("label", &self.label)
            .field("location", &self.location)
            .finish()
    }
}

impl Database {
    /// Opens (or with [`Open::CreateIfMissing`], creates) the database at `location`.
    pub async fn open(
        engine: Engine,
        label: impl Into<String>,
        location: &Path,
        open: Open,
    ) -> Result<Database> {
        let label = label.into();
        let pool = match engine {
            Engine::Sqlite => Pool::Sqlite(sqlite::open(&label, location, open).await?),
        };
        Ok(Database {
            engine,
            label,
            location: location.to_path_buf(),
            pool,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn location(&self) -> &Path {
        &self.location
    }

    /// Whether the database exists, without creating it.
    pub fn exists(engine: Engine, location: &Path) -> bool {
        match engine {
            Engine::Sqlite => location.is_file(),
        }
    }

    /// Starts a transaction. Migrations run each in their own, with their ledger row.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => TxInner::Sqlite(
                // IMMEDIATE takes the write lock up front, so a migration never fails halfway
                // with SQLITE_BUSY when it upgrades from a read to a write.
                pool.begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(|e| Error::db(&self.label, e))?,
            ),
        };
        Ok(Tx {
            label: self.label.clone(),
            inner,
        })
    }

    /// Takes this database's advisory lock, so two estate jobs never migrate it at once.
    pub fn lock(&self) -> Result<DatabaseLock> {
        DatabaseLock::acquire(&self.label, &self.location)
    }

    /// Whether a table exists, without creating anything.
    pub async fn has_table(&self, table: &str) -> Result<bool> {
        crate::on_pool!(self, pool => {
            let found: Option<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1",
            )
            .bind(table)
            .fetch_optional(pool)
            .await
            .map_err(|e| Error::db(&self.label, e))?;
            Ok(found.is_some())
        })
    }

    /// The user tables of this database (not the engine's own), sorted.
    pub async fn tables(&self) -> Result<Vec<String>> {
        crate::on_pool!(self, pool => {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| Error::db(&self.label, e))?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        })
    }

    /// Closes the pool, waiting for its connections to finish, so files are released.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
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

    pub async fn commit(self) -> Result<()> {
        let label = self.label;
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await.map_err(|e| Error::db(label, e)),
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
        }
    };
}
