//! The advisory lock that keeps two estate jobs from migrating the same database at once.
//!
//! For SQLite it is an OS file lock on a sidecar `<file>.lock`, not on the database file
//! itself: SQLite's own POSIX locks are dropped when any descriptor of the file is closed, so
//! estate must never open the database file outside SQLite. The holder writes who it is into
//! the file. For PostgreSQL it is a session advisory lock keyed by (server, database, schema)
//! on a connection of its own: different schemas of one database never block each other, and
//! the holder is read from `pg_stat_activity`. Either lock dies with its process, so a killed
//! job never leaves a stale lock behind.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

use super::Address;
use crate::error::{Error, Result};

const RETRY: Duration = Duration::from_millis(100);

/// Held while a job migrates a database; released on drop.
#[derive(Debug)]
pub enum DatabaseLock {
    File { _file: File, path: PathBuf },
    Postgres { _conn: PgConnection },
}

/// Who holds a lock, as the lock file and `application_name` record it.
pub fn holder_id() -> String {
    let op = crate::operator::Operator::current();
    let host = whoami::hostname().unwrap_or_else(|_| "unknown-host".to_string());
    format!("estate {}@{host} pid {}", op.user, std::process::id())
}

impl DatabaseLock {
    pub async fn acquire(label: &str, address: &Address, wait: Duration) -> Result<DatabaseLock> {
        Self::acquire_named(label, address, None, wait).await
    }

    /// The lock a running job holds on the landlord for its whole life: whoever can take it
    /// knows that job's process is gone. `job_id` is estate's own (letters, digits, `-`).
    pub async fn job(label: &str, address: &Address, job_id: &str) -> Result<DatabaseLock> {
        Self::acquire_named(label, address, Some(&job_lock_name(job_id)), Duration::ZERO).await
    }

    /// Whether the process that runs job `job_id` is still there, holding the job's lock.
    pub async fn job_alive(address: &Address, job_id: &str) -> Result<bool> {
        let name = job_lock_name(job_id);
        match address {
            Address::Sqlite { path } => {
                let path = named_path(path, Some(&name));
                // Never created, or removed at the job's end: nobody holds it.
                let Ok(file) = crate::files::open_rw(&path, false) else {
                    return Ok(false);
                };
                match file.try_lock() {
                    Ok(()) => {
                        drop(file);
                        let _ = std::fs::remove_file(&path);
                        Ok(false)
                    }
                    Err(TryLockError::WouldBlock) => Ok(true),
                    Err(TryLockError::Error(e)) => {
                        Err(Error::io(format!("locking {}", path.display()), e))
                    }
                }
            }
            Address::Postgres {
                server, database, ..
            } => {
                let key = named_key(&server.name, database, &name);
                let fail = |e| Error::db(format!("landlord on server {}", server.name), e);
                let mut conn = server.connect_to(database).await?.map_err(fail)?;
                let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut conn)
                    .await
                    .map_err(fail)?;
                let _ = conn.close().await;
                Ok(!got)
            }
        }
    }

    /// Lets go of the lock, removing a job's lock file (a database's stays, for the next
    /// job: removing it could let two processes lock two different files).
    pub fn release(self) {
        if let DatabaseLock::File { _file, path } = self {
            let is_job = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".job-"));
            drop(_file);
            if is_job {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    async fn acquire_named(
        label: &str,
        address: &Address,
        name: Option<&str>,
        wait: Duration,
    ) -> Result<DatabaseLock> {
        match address {
            Address::Sqlite { path } => Self::file(label, &named_path(path, name), wait).await,
            Address::Postgres {
                server,
                database,
                schema,
            } => {
                let key = match name {
                    Some(name) => named_key(&server.name, database, name),
                    None => lock_key(&server.name, database, schema.as_deref()),
                };
                let fail = |e| Error::db(super::postgres::with_server(label, &server.name), e);
                let mut conn = server.connect_to(database).await?.map_err(fail)?;
                advisory(&mut conn, key, false, wait, label, address).await?;
                Ok(DatabaseLock::Postgres { _conn: conn })
            }
        }
    }

    async fn file(label: &str, path: &std::path::Path, wait: Duration) -> Result<DatabaseLock> {
        let path = path.to_path_buf();
        let mut file = crate::files::open_rw(&path, true)
            .map_err(|e| Error::io(format!("opening lock file {}", path.display()), e))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    // Say who holds it, for whoever waits (best effort: the lock is what counts).
                    let _ = file.set_len(0);
                    let _ = file.rewind();
                    let _ = write!(file, "{} since {}", holder_id(), crate::clock::now());
                    return Ok(DatabaseLock::File { _file: file, path });
                }
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(RETRY).await
                }
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = if holder.trim().is_empty() {
                        "held by another process".to_string()
                    } else {
                        format!("held by {}", holder.trim())
                    };
                    return Err(Error::Locked {
                        database: label.to_string(),
                        holder: format!("{}: {holder}", path.display()),
                    });
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::io(format!("locking {}", path.display()), e));
                }
            }
        }
    }
}

/// Takes the advisory lock `key` on `conn` (for the session, or with `xact` for the
/// transaction under way), trying until `wait` runs out; then names who holds it.
async fn advisory(
    conn: &mut PgConnection,
    key: i64,
    xact: bool,
    wait: Duration,
    label: &str,
    address: &Address,
) -> Result<()> {
    let server = match address {
        Address::Postgres { server, .. } => server.name.as_str(),
        Address::Sqlite { .. } => "",
    };
    let fail = |e| Error::db(super::postgres::with_server(label, server), e);
    let sql = if xact {
        "SELECT pg_try_advisory_xact_lock($1)"
    } else {
        "SELECT pg_try_advisory_lock($1)"
    };
    let deadline = Instant::now() + wait;
    loop {
        let (got,): (bool,) = sqlx::query_as(sql)
            .bind(key)
            .fetch_one(&mut *conn)
            .await
            .map_err(fail)?;
        if got {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Locked {
                database: label.to_string(),
                holder: format!("{}: {}", address.describe(), holder(conn, key).await),
            });
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Who holds advisory lock `key`, from `pg_stat_activity`.
async fn holder(conn: &mut PgConnection, key: i64) -> String {
    let holder: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT a.application_name::text, host(a.client_addr), a.backend_start::text
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted
           AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1",
    )
    .bind((key >> 32) & 0xffff_ffff)
    .bind(key & 0xffff_ffff)
    .fetch_optional(conn)
    .await
    .unwrap_or(None);
    match holder {
        Some((app, addr, since)) => format!(
            "held by {} from {} since {}",
            app.filter(|a| !a.is_empty())
                .unwrap_or_else(|| "another session".into()),
            addr.unwrap_or_else(|| "a local socket".into()),
            since.unwrap_or_else(|| "an unknown time".into())
        ),
        None => "held by another session".to_string(),
    }
}

/// Begins a transaction on a PostgreSQL database, pinned to `schema` and with `wait` holding
/// its transaction-level advisory lock (see [`pin_and_lock`]). When the lock is free, all of
/// it is one round trip: the pin, and the lock taken with a `lock_timeout` of 1 ms that is set
/// back at once, in the implicit transaction of a message of several statements, which the
/// `BEGIN` at its end makes the transaction. When another session holds the lock, the lock's
/// statement fails, which ends that implicit transaction whole (the connection is left as
/// clean as before; the server logs the timeout), and a second transaction waits for the lock
/// as [`pin_and_lock`] does, naming who holds it should `wait` run out.
pub(super) async fn begin_pinned_and_locked(
    label: &str,
    address: &Address,
    pool: &sqlx::PgPool,
    schema: Option<&str>,
    wait: Option<Duration>,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let (server, database) = on_server(label, address)?;
    let statement = pinned_and_locked(server, database, schema, wait) + "BEGIN";
    if let Some(tx) =
        super::postgres::begin_with(label, server, database, pool, statement, &[]).await?
    {
        return Ok(tx);
    }
    let mut tx = super::postgres::begin(label, server, database, pool).await?;
    pin_and_lock(&mut tx, label, address, schema, wait).await?;
    Ok(tx)
}

/// [`begin_pinned_and_locked`] for a tenant whose opening found none of estate's tables: in
/// the same round trip, under the lock, asserts that none is there yet, and sets the savepoint
/// `estate_migration`. `None` when the lock was held or a table is there now (another job made
/// it since): nothing was begun, and the caller begins as usual.
pub(super) async fn begin_assuming_fresh(
    label: &str,
    address: &Address,
    pool: &sqlx::PgPool,
    schema: Option<&str>,
    wait: Option<Duration>,
) -> Result<Option<sqlx::Transaction<'static, sqlx::Postgres>>> {
    let (server, database) = on_server(label, address)?;
    let statement = format!(
        "{}{}; BEGIN; {}",
        pinned_and_locked(server, database, schema, wait),
        *NONE_OF_ESTATES_TABLES,
        super::SET_SAVEPOINT
    );
    super::postgres::begin_with(label, server, database, pool, statement, &[TABLE_FOUND]).await
}

/// A statement that fails with [`TABLE_FOUND`] when the schema a transaction is pinned to has
/// one of the tables an opening looks for ([`super::TABLES_READ_AT_OPEN`]): a table's name
/// cast to a number, so the error comes from a row found and never from planning (a constant
/// would be cast, and fail, before any row is read). Read from pg_class with the statement's
/// own snapshot, taken after the lock, as the ledger's read of which tables exist is
/// ([`crate::migrator::Present`]). Built once: every fresh tenant's first round trip
/// carries it.
static NONE_OF_ESTATES_TABLES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let names: Vec<String> = super::TABLES_READ_AT_OPEN
        .iter()
        .map(|t| crate::sql::quote_pg_literal(t))
        .collect();
    format!(
        "SELECT relname::text::integer FROM pg_catalog.pg_class
         WHERE relname IN ({})
           AND relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema())",
        names.join(", ")
    )
});

/// invalid_text_representation: [`NONE_OF_ESTATES_TABLES`] found a table.
const TABLE_FOUND: &str = "22P02";

/// The server and database of a PostgreSQL `address`.
fn on_server<'a>(label: &str, address: &'a Address) -> Result<(&'a super::Server, &'a str)> {
    match address {
        Address::Postgres {
            server, database, ..
        } => Ok((server, database)),
        Address::Sqlite { .. } => Err(Error::Migrator(format!(
            "{label}: a PostgreSQL transaction on a database that is not PostgreSQL's"
        ))),
    }
}

/// The statements that open a transaction's round trip, before its `BEGIN`: one SELECT whose
/// columns run in order (the pin, a lock timeout of a millisecond, the lock), then the
/// timeout set back. Each statement of a round trip is parsed and run on its own, and a
/// tenant's statements are what a fleet of small schemas spends the server's time on.
fn pinned_and_locked(
    server: &super::Server,
    database: &str,
    schema: Option<&str>,
    wait: Option<Duration>,
) -> String {
    let mut columns: Vec<String> = Vec::new();
    if let Some(schema) = schema {
        columns.push(format!(
            "set_config('search_path', {}, true)",
            crate::sql::quote_pg_literal(&crate::sql::quote_ident(schema))
        ));
    }
    if wait.is_some() {
        // A number, not text from anywhere: nothing to quote.
        let key = lock_key(&server.name, database, schema);
        columns.push("set_config('lock_timeout', '1', true)".to_string());
        columns.push(format!("pg_advisory_xact_lock({key})"));
    }
    let mut statement = String::new();
    if !columns.is_empty() {
        statement.push_str(&format!("SELECT {}; ", columns.join(", ")));
    }
    if wait.is_some() {
        statement.push_str("SET LOCAL lock_timeout TO DEFAULT; ");
    }
    statement
}

/// At the start of a PostgreSQL transaction: pins `search_path` to `schema` for the
/// transaction alone, and with `wait`, takes the database's transaction-level advisory lock.
/// Both in one round trip when the lock is free.
pub(super) async fn pin_and_lock(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    label: &str,
    address: &Address,
    schema: Option<&str>,
    wait: Option<Duration>,
) -> Result<()> {
    let Address::Postgres {
        server, database, ..
    } = address
    else {
        return Ok(());
    };
    let fail = |e| Error::db(super::postgres::with_server(label, &server.name), e);
    let key = lock_key(&server.name, database, schema);
    let conn: &mut PgConnection = tx;
    let got = match (schema, wait) {
        (None, None) => return Ok(()),
        (Some(schema), None) => {
            sqlx::query("SELECT set_config('search_path', $1, true)")
                .bind(crate::sql::quote_ident(schema))
                .execute(&mut *conn)
                .await
                .map_err(fail)?;
            return Ok(());
        }
        (Some(schema), Some(_)) => {
            let (_, got): (String, bool) = sqlx::query_as(
                "SELECT set_config('search_path', $1, true), pg_try_advisory_xact_lock($2)",
            )
            .bind(crate::sql::quote_ident(schema))
            .bind(key)
            .fetch_one(&mut *conn)
            .await
            .map_err(fail)?;
            got
        }
        (None, Some(_)) => false,
    };
    match wait {
        Some(wait) if !got => advisory(conn, key, true, wait, label, address).await,
        _ => Ok(()),
    }
}

/// `job-ID`, with anything but letters, digits and `-` left out: ids come back from the
/// registry, and a lock file's name must stay a plain name.
fn job_lock_name(job_id: &str) -> String {
    let id: String = job_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("job-{id}")
}

/// The lock file of a database (`<file>.lock`), or of a named lock on it (`<file>.NAME.lock`).
fn named_path(database: &std::path::Path, name: Option<&str>) -> PathBuf {
    let mut path = database.as_os_str().to_owned();
    if let Some(name) = name {
        path.push(".");
        path.push(name);
    }
    path.push(".lock");
    PathBuf::from(path)
}

/// A stable 64-bit key for a named lock on (server, database), apart from the databases' keys.
fn named_key(server: &str, database: &str, name: &str) -> i64 {
    let digest = Sha256::digest(format!("estate-named:{server}/{database}/{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// A stable 64-bit key for (server, database, schema).
fn lock_key(server: &str, database: &str, schema: Option<&str>) -> i64 {
    let digest =
        Sha256::digest(format!("estate:{server}/{database}/{}", schema.unwrap_or("")).as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_schema_and_are_stable() {
        assert_eq!(
            lock_key("pg1", "db", Some("a")),
            lock_key("pg1", "db", Some("a"))
        );
        assert_ne!(
            lock_key("pg1", "db", Some("a")),
            lock_key("pg1", "db", Some("b"))
        );
        assert_ne!(lock_key("pg1", "db", None), lock_key("pg2", "db", None));
    }
}
