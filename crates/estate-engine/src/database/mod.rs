//! The one boundary between estate and the database engines.
//!
//! A [`Database`] is one migrated database (the landlord, or one tenant's) behind a small
//! connection pool; a [`Tx`] is a transaction on it. Code above this module writes its SQL once,
//! with `$1`-style parameters that every supported engine accepts, and runs it through the
//! [`on_pool!`](crate::on_pool) / [`on_tx!`](crate::on_tx) macros, which hand the body the
//! engine's own connection type. Adding an engine means adding a variant here, not touching
//! the ledger or the registry.

mod interrupt;
mod introspect;
mod lock;
mod postgres;
mod program;
mod session;
mod sqlite;
mod tx;

use std::path::PathBuf;
use std::time::Duration;

pub use interrupt::{interrupt_statements, kill_programs};
pub(crate) use interrupt::{interrupted, program_ended, program_started};
pub use lock::{DatabaseLock, holder_id};
pub use postgres::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_SCHEMA_SERVER_CONCURRENCY, DEFAULT_SERVER_CONCURRENCY, Server,
};
pub use session::{Session, SessionInner};
pub use tx::{RENEW_SAVEPOINT, SET_SAVEPOINT, Tx, TxInner};

use crate::error::{Error, Result};
pub use crate::sql::Engine;
use crate::sql::quote_ident;

#[doc(hidden)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
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

/// estate's tables whose presence a schema-layout tenant's opening reads, so a job's first
/// [`Database::has_table`] about them costs no round trip: the ledger and the record of
/// unfinished migrations (the migrator's `LEDGER_TABLE` and `UNFINISHED_TABLE`).
pub(crate) const TABLES_READ_AT_OPEN: [&str; 2] = ["estate_ledger", "estate_unfinished"];

/// How long the tables found at a tenant's opening answer [`Database::has_table`].
const FOUND_AT_OPEN_FOR: Duration = Duration::from_secs(1);

/// One database estate migrates.
pub struct Database {
    /// How messages name it: `landlord`, `tenant acme`.
    label: String,
    address: Address,
    #[doc(hidden)]
    pub pool: Pool,
    /// The pool is the server's, shared by the tenants of a schema layout: closing this
    /// database leaves it open.
    shared: bool,
    /// Set by [`Database::lock_transactions`]: each transaction first takes the database's
    /// advisory lock, waiting at most this long.
    xact_lock: std::sync::Mutex<Option<Duration>>,
    /// Which of [`TABLES_READ_AT_OPEN`] a schema-layout tenant held as it was opened, read in the
    /// round trip that made sure the schema is there: [`Database::has_table`]'s first answer,
    /// so a job's check of the ledger costs no round trip of its own. Gone once used, once a
    /// transaction begins (what this process does there may change it), once a lock is
    /// waited for (what another job did meanwhile is not in it), and after
    /// [`FOUND_AT_OPEN_FOR`]: a read outside a transaction is as old as its round trip, and
    /// this one is barely older.
    found_at_open:
        std::sync::Mutex<Option<(std::time::Instant, std::collections::BTreeSet<String>)>>,
    /// The opening found none of [`TABLES_READ_AT_OPEN`]: the first step may begin assuming
    /// so, which its transaction's first round trip checks under the lock
    /// ([`Database::begin_assuming_fresh`]). Taken by the first transaction begun.
    fresh_at_open: std::sync::atomic::AtomicBool,
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
        let (pool, shared, found) = match address {
            Address::Sqlite { path } => (
                Pool::Sqlite(sqlite::open(&label, path, open).await?),
                false,
                None,
            ),
            Address::Postgres {
                server,
                database,
                schema,
            } => {
                let (pool, shared, found) =
                    postgres::open(&label, server, database, schema.as_deref(), open).await?;
                (Pool::Postgres(pool), shared, found)
            }
        };
        // Every later error on it names the server too: with a server down, "tenant acme on
        // server pg2" says which of a fleet's servers to look at.
        let label = match address {
            Address::Postgres { server, .. } => format!("{label} on server {}", server.name),
            Address::Sqlite { .. } => label,
        };
        Ok(Database {
            label,
            address: address.clone(),
            pool,
            shared,
            xact_lock: std::sync::Mutex::new(None),
            fresh_at_open: std::sync::atomic::AtomicBool::new(
                found.as_ref().is_some_and(|f| f.is_empty()),
            ),
            found_at_open: std::sync::Mutex::new(found.map(|f| (std::time::Instant::now(), f))),
        })
    }

    /// A read-only second handle on this SQLite database, so a long read runs beside what its
    /// one connection is doing; `None` on PostgreSQL, whose pool has connections to spare.
    pub async fn reader(&self) -> Result<Option<Database>> {
        let Address::Sqlite { path } = &self.address else {
            return Ok(None);
        };
        Ok(Some(Database {
            label: self.label.clone(),
            address: self.address.clone(),
            pool: Pool::Sqlite(sqlite::open_reader(&self.label, path).await?),
            shared: false,
            xact_lock: std::sync::Mutex::new(None),
            found_at_open: std::sync::Mutex::new(None),
            fresh_at_open: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// The schema every transaction is pinned to (PostgreSQL schema layout).
    fn pinned(&self) -> Option<&str> {
        match &self.address {
            Address::Postgres { schema, .. } => schema.as_deref(),
            Address::Sqlite { .. } => None,
        }
    }

    /// `table` as SQL outside a transaction names it in this database: schema-qualified where
    /// the connection is shared by several schemas.
    pub fn qualified(&self, table: &str) -> String {
        match self.pinned() {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(table)),
            None => quote_ident(table),
        }
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

    /// Which of `addresses` exist, without creating or opening any: a file check for SQLite,
    /// one query per server (and per shared database) for PostgreSQL. `None` where the server
    /// could not be asked.
    pub async fn existing(addresses: &[&Address]) -> Vec<Option<bool>> {
        let mut out = vec![None; addresses.len()];
        type Places<'a> = (&'a Server, Vec<(usize, (&'a str, Option<&'a str>))>);
        let mut by_server: std::collections::BTreeMap<&str, Places> =
            std::collections::BTreeMap::new();
        for (i, address) in addresses.iter().enumerate() {
            match address {
                Address::Sqlite { path } => out[i] = Some(path.is_file()),
                Address::Postgres {
                    server,
                    database,
                    schema,
                } => by_server
                    .entry(server.name.as_str())
                    .or_insert((server, Vec::new()))
                    .1
                    .push((i, (database.as_str(), schema.as_deref()))),
            }
        }
        for (server, places) in by_server.into_values() {
            let (indexes, places): (Vec<usize>, Vec<(&str, Option<&str>)>) =
                places.into_iter().unzip();
            match postgres::existing(server, &places).await {
                Ok(found) => {
                    for (i, f) in indexes.into_iter().zip(found) {
                        out[i] = Some(f);
                    }
                }
                Err(e) => {
                    tracing::warn!(server = %server.name, error = %e, "could not list the server's databases")
                }
            }
        }
        out
    }

    /// Starts a transaction. A step's migrations run in one, each inside a savepoint with its
    /// ledger row.
    pub async fn begin(&self) -> Result<Tx> {
        crate::sync::lock(&self.found_at_open).take();
        self.fresh_at_open
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let err = |e| Error::db(&self.label, e);
        let inner = match &self.pool {
            // IMMEDIATE takes the write lock up front, so a migration never fails halfway
            // with SQLITE_BUSY when it upgrades from a read to a write.
            Pool::Sqlite(pool) => {
                TxInner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await.map_err(err)?)
            }
            // A server gone since the tenant was opened fails this at once, rather than
            // after the pool's acquire timeout, tenant after tenant.
            Pool::Postgres(pool) => {
                let wait = *crate::sync::lock(&self.xact_lock);
                TxInner::Postgres(
                    lock::begin_pinned_and_locked(
                        &self.label,
                        &self.address,
                        pool,
                        self.pinned(),
                        wait,
                    )
                    .await?,
                )
            }
        };
        Ok(Tx {
            label: self.label.clone(),
            inner,
        })
    }

    /// The first transaction on a schema-layout tenant whose opening found none of estate's
    /// tables, begun assuming they are still not there, with the savepoint `estate_migration`
    /// set: the assumption is checked under the lock in the same round trip, so a fresh
    /// tenant's step costs no read of which tables exist. `None` when there was nothing to
    /// assume, or a table is there now (another job made it since): begin as usual.
    pub async fn begin_assuming_fresh(&self) -> Result<Option<Tx>> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        if !self
            .fresh_at_open
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            return Ok(None);
        }
        crate::sync::lock(&self.found_at_open).take();
        let wait = *crate::sync::lock(&self.xact_lock);
        let begun =
            lock::begin_assuming_fresh(&self.label, &self.address, pool, self.pinned(), wait)
                .await?;
        Ok(begun.map(|tx| Tx {
            label: self.label.clone(),
            inner: TxInner::Postgres(tx),
        }))
    }

    /// Locks the database for a job's work on it. SQLite: the lock file, held until the
    /// returned lock drops. PostgreSQL: from now on each transaction takes the database's
    /// advisory lock (a transaction-level one, on the transaction's own connection), so the
    /// lock costs no connection of its own; migrators read the ledger inside that transaction,
    /// so two jobs taking turns never apply a migration twice.
    pub async fn lock_transactions(&self, wait: Duration) -> Result<Option<DatabaseLock>> {
        match self.engine() {
            Engine::Sqlite => self.lock(wait).await.map(Some),
            Engine::Postgres => {
                *crate::sync::lock(&self.xact_lock) = Some(wait);
                Ok(None)
            }
        }
    }

    /// Takes this database's advisory lock, waiting at most `wait`, so two estate jobs never
    /// migrate it at once.
    pub async fn lock(&self, wait: Duration) -> Result<DatabaseLock> {
        // What another job did while this one waited is not in it.
        crate::sync::lock(&self.found_at_open).take();
        DatabaseLock::acquire(&self.label, &self.address, wait).await
    }

    /// Whether a table exists (in the pinned schema, on PostgreSQL), without creating anything.
    pub async fn has_table(&self, table: &str) -> Result<bool> {
        if TABLES_READ_AT_OPEN.contains(&table)
            && let Some((at, found)) = crate::sync::lock(&self.found_at_open).take()
            && at.elapsed() < FOUND_AT_OPEN_FOR
        {
            return Ok(found.contains(table));
        }
        let err = |e| Error::db(&self.label, e);
        let found: Option<(i32,)> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1")
                    .bind(table)
                    .fetch_optional(pool)
                    .await
                    .map_err(err)?
            }
            // to_regclass resolves a name as a query would (search_path, or the schema it
            // is qualified with) without the catalog views' joins.
            Pool::Postgres(pool) => sqlx::query_as("SELECT 1 WHERE to_regclass($1) IS NOT NULL")
                .bind(self.qualified(table))
                .fetch_optional(pool)
                .await
                .map_err(err)?,
        };
        Ok(found.is_some())
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
                 WHERE table_schema = COALESCE($1, current_schema()) AND table_type = 'BASE TABLE'
                 ORDER BY table_name",
            )
            .bind(self.pinned())
            .fetch_all(pool)
            .await
            .map_err(err)?,
        };
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Closes the pool, waiting for its connections to finish, so files are released.
    pub async fn close(&self) {
        if self.shared {
            return;
        }
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
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
