//! PostgreSQL: named servers, a database per tenant or a schema per tenant.
//!
//! Connections are what a fleet of PostgreSQL tenants spends its time on (a backend to fork and
//! a SCRAM exchange each), so estate makes as few as it can. A tenant in database layout gets a
//! pool of its own that connects once; its first connection goes through the pool and stays
//! there for the tenant's work. Tenants in schema layout share one pool per server and
//! database, sized by the server's concurrency (`shared.rs`): every transaction of a tenant pins
//! `search_path` to its schema alone (`set_config(.., true)`, undone at commit), and the
//! shared connections start with an empty `search_path`, so a statement outside a tenant's
//! transaction finds no schema to land in, never `public`.
//!
//! sqlx's pool retries a refused connection until its acquire timeout, while an operator must
//! hear at once that a server is down or a database is missing: until a connection to a server
//! has succeeded (and again after one failed), the first connection is made by hand, and a
//! pool still waiting after a moment is raced by one made by hand. Credentials stay inside
//! [`Server`]: its `Debug` and every message name the server only.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use super::Open;
use crate::error::{Error, Result};
use crate::sql::quote_ident;

mod admin;
mod libpq;
mod reach;
mod shared;

pub(super) use reach::{begin, begin_with, with_server};
use reach::{fail_fast, first_connection};
use shared::shared_pool;

/// How many tenants of one server are migrated at once, unless the config says.
pub const DEFAULT_SERVER_CONCURRENCY: usize = 8;

/// [`DEFAULT_SERVER_CONCURRENCY`] when the tenants are schemas of one database. Each backend
/// at work there replays the catalog changes of all the others, so that database's DDL does
/// not grow with backends as separate databases' does: it costs more CPU for the same work.
/// On 300 schemas on a 2-core machine, the install took 0.83 s at 2 at once, 0.86 s at 3 and
/// 1.09 s at 8 (medians of 5 in one run; a script running the same SQL over 2 sessions,
/// 0.64 s). Like django-tenants' one at a time, it leaves the live application's database
/// room; a server with cores to spare is given more in its `[[servers]]` section.
pub const DEFAULT_SCHEMA_SERVER_CONCURRENCY: usize = 2;

/// How long a connection to a server may take, unless the config says: a server that is
/// gone costs this, not minutes.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What every clone of a [`Server`] shares.
#[derive(Default)]
struct ServerState {
    /// Pools of the databases shared by schema-layout tenants, by database.
    shared: Mutex<HashMap<String, PgPool>>,
    /// A connection succeeded and none failed since: pools connect without a check first.
    up: AtomicBool,
    /// One per tenant at work on the server, whichever job of this process it belongs to.
    permits: std::sync::OnceLock<Arc<tokio::sync::Semaphore>>,
}

/// A PostgreSQL server named in the config.
#[derive(Clone)]
pub struct Server {
    pub name: String,
    /// The environment variable holding the password, read when connecting, so commands that
    /// never connect (`estate check`) do not need it.
    password_env: Option<String>,
    /// The URL's own password, for the programs estate starts (libpq's `PGPASSWORD`): sqlx
    /// keeps it too, but does not give it back.
    url_password: Option<String>,
    // Shared: every tenant's address holds its server.
    options: Arc<PgConnectOptions>,
    /// How many of its tenants are migrated at once; also the size of its shared pools.
    pub concurrency: usize,
    /// How long a connection may take before it is given up.
    pub connect_timeout: Duration,
    /// How long one statement may run (PostgreSQL's `statement_timeout`); `None`: as long as
    /// it needs.
    pub statement_timeout: Option<Duration>,
    state: Arc<ServerState>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name)
            .field("host", &self.options.get_host())
            .field("port", &self.options.get_port())
            .field("user", &self.options.get_username())
            .field("concurrency", &self.concurrency)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl Server {
    /// Reads a server's URL; `password` (from the environment) overrides one in the URL. The
    /// error never repeats the URL, which may hold a password.
    pub fn parse(
        name: &str,
        url: &str,
        password_env: Option<&str>,
        application_name: &str,
    ) -> Result<Server, String> {
        // sqlx reads any URL it can (`mysql://` included) and tries it at the first job:
        // estate's servers are PostgreSQL's, said now. Only the scheme is shown.
        let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
        if !matches!(scheme, "postgres" | "postgresql") {
            return Err(format!(
                "the URL of server {name} is not a PostgreSQL URL (its scheme is {scheme:?}): estate's servers are PostgreSQL servers"
            ));
        }
        // sqlx's parse errors can repeat any part of the URL (a query value, the password):
        // none of it is shown.
        let options = PgConnectOptions::from_str(url).map_err(|_| {
            format!(
                "the URL of server {name} cannot be read: it is not a postgres://USER@HOST:PORT/DATABASE URL estate understands (options in it are left out of this message, in case one is secret)"
            )
        })?;
        let url_password = url::Url::parse(url).ok().and_then(|u| {
            let password = u.password()?;
            let decoded = percent_encoding::percent_decode_str(password)
                .decode_utf8()
                .ok()?;
            Some(decoded.into_owned())
        });
        let options = options
            .application_name(application_name)
            // Statements are logged by estate itself, without their parameters.
            .disable_statement_logging();
        Ok(Server {
            name: name.to_string(),
            password_env: password_env.map(str::to_string),
            url_password,
            options: Arc::new(options),
            concurrency: DEFAULT_SERVER_CONCURRENCY,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            statement_timeout: None,
            state: Arc::default(),
        })
    }

    /// The same server with another concurrency limit.
    pub fn with_concurrency(mut self, concurrency: usize) -> Server {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The same server with other timeouts.
    pub fn with_timeouts(mut self, connect: Duration, statement: Option<Duration>) -> Server {
        self.connect_timeout = connect;
        self.statement_timeout = statement;
        self
    }

    /// How long a pool waits for a connection: a connection's time.
    fn acquire_timeout(&self) -> Duration {
        self.connect_timeout
    }

    fn is_up(&self) -> bool {
        self.state.up.load(Ordering::Relaxed)
    }

    fn set_up(&self, up: bool) {
        self.state.up.store(up, Ordering::Relaxed);
    }

    /// The database the URL names, used for CREATE DATABASE and for the landlord by default.
    pub fn default_database(&self) -> String {
        self.options
            .get_database()
            .map(str::to_string)
            .unwrap_or_else(|| self.options.get_username().to_string())
    }

    pub(crate) fn options_for(&self, database: &str) -> Result<PgConnectOptions> {
        let mut options = (*self.options).clone().database(database);
        if let Some(limit) = self.statement_timeout {
            options = options.options([("statement_timeout", format!("{}ms", limit.as_millis()))]);
        }
        if let Some(password) = self.password_from_env()? {
            options = options.password(&password);
        }
        Ok(options)
    }

    /// `e` named after `label` on this server. An error that says the server cannot be
    /// reached marks it down: its next tenants check it by hand, at the cost of one connect,
    /// rather than each waiting out a pool's acquire timeout.
    fn fail(&self, label: &str, e: sqlx::Error) -> Error {
        self.note(&e);
        Error::db(with_server(label, &self.name), e)
    }
}

impl Server {
    /// A connection to `database` on this server, errors naming `label` and the server.
    async fn connect(&self, label: &str, database: &str) -> Result<sqlx::PgConnection> {
        let conn = self
            .connect_to(database)
            .await?
            .map_err(|e| self.fail(label, e))?;
        self.set_up(true);
        Ok(conn)
    }

    /// Whether the server takes a connection at all: a TCP (or Unix socket) connect, within
    /// the connect timeout, that starts no session. A refused or silent server is what a
    /// pool would wait out until its acquire timeout; anything PostgreSQL itself refuses (a
    /// password, a missing database) the pool's own connect says at once. A session made by
    /// hand to ask cost the server a backend and an authentication, and every command a few
    /// milliseconds, before the pool made the same connection again.
    pub(crate) async fn answers(
        &self,
        database: &str,
    ) -> Result<std::result::Result<(), sqlx::Error>> {
        let options = self.options_for(database)?;
        let port = options.get_port();
        let socket = match options.get_socket() {
            Some(dir) => Some(dir.join(format!(".s.PGSQL.{port}"))),
            None if options.get_host().starts_with('/') => {
                Some(std::path::Path::new(options.get_host()).join(format!(".s.PGSQL.{port}")))
            }
            None => None,
        };
        let host = options.get_host().to_string();
        let reached = async move {
            match socket {
                #[cfg(unix)]
                Some(path) => tokio::net::UnixStream::connect(path).await.map(drop),
                #[cfg(not(unix))]
                Some(_) => Ok(()),
                None => tokio::net::TcpStream::connect((host.as_str(), port))
                    .await
                    .map(drop),
            }
            .map_err(sqlx::Error::Io)
        };
        Ok(within(self.connect_timeout, reached).await)
    }

    /// A connection to `database`, given up after the server's connect timeout (a server
    /// that is gone can otherwise hold a connection attempt for minutes).
    pub(crate) async fn connect_to(
        &self,
        database: &str,
    ) -> Result<std::result::Result<sqlx::PgConnection, sqlx::Error>> {
        let options = self.options_for(database)?;
        Ok(within(self.connect_timeout, options.connect()).await)
    }
}

/// `connecting`, or a timed-out error once `limit` has passed.
async fn within<T>(
    limit: Duration,
    connecting: impl std::future::Future<Output = std::result::Result<T, sqlx::Error>>,
) -> std::result::Result<T, sqlx::Error> {
    tokio::time::timeout(limit, connecting)
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "no connection within {} s (the server's connect_timeout_seconds)",
                    limit.as_secs()
                ),
            )))
        })
}

/// Whether `sql` (one `$1` parameter) finds a row on `conn`.
async fn found(
    server: &Server,
    label: &str,
    conn: &mut sqlx::PgConnection,
    sql: &'static str,
    name: &str,
) -> Result<bool> {
    let row: Option<(i32,)> = sqlx::query_as(sql)
        .bind(name)
        .fetch_optional(conn)
        .await
        .map_err(|e| server.fail(label, e))?;
    Ok(row.is_some())
}

const HAS_DATABASE: &str = "SELECT 1 FROM pg_database WHERE datname = $1";
const HAS_SCHEMA: &str = "SELECT 1 FROM pg_namespace WHERE nspname = $1";

/// Whether schema `$1` (quoted) exists, and whether each of the tables `$2` (qualified with
/// it) does. By the server's lookups of names, not a query of the catalog: a query of
/// `pg_class` is planned anew at each tenant, and the backends migrating the other schemas
/// keep invalidating what that planning reads, which cost a tenant 0.2 ms of the server's
/// time; this costs it a hundredth of that. Outside a transaction, the statement's own
/// starts by taking in every catalog change committed before it, so nothing here is stale.
const SCHEMA_AND_ESTATE_TABLES: &str = "SELECT to_regnamespace($1) IS NOT NULL,
            ARRAY(SELECT to_regclass(t) IS NOT NULL FROM unnest($2::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i)";

pub(super) async fn exists(server: &Server, database: &str, schema: Option<&str>) -> Result<bool> {
    let label = format!("database {database}");
    let mut conn = server.connect(&label, &server.default_database()).await?;
    let has_database = found(server, &label, &mut conn, HAS_DATABASE, database).await?;
    let _ = conn.close().await;
    let (true, Some(schema)) = (has_database, schema) else {
        return Ok(has_database);
    };
    let mut conn = server.connect(&label, database).await?;
    let has_schema = found(server, &label, &mut conn, HAS_SCHEMA, schema).await?;
    let _ = conn.close().await;
    Ok(has_schema)
}

async fn create(label: &str, server: &Server, database: &str, schema: Option<&str>) -> Result<()> {
    let mut conn = server.connect(label, &server.default_database()).await?;
    if !found(server, label, &mut conn, HAS_DATABASE, database).await? {
        let sql = format!("CREATE DATABASE {}", quote_ident(database));
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            Ok(_) => tracing::info!(server = %server.name, database, "database created"),
            // Another estate created it at the same moment: that is what we wanted. The loser
            // of that race hears "already exists", or the catalog's unique index refusing.
            Err(sqlx::Error::Database(d))
                if matches!(d.code().as_deref(), Some("42P04") | Some("23505")) => {}
            Err(e) => return Err(server.fail(label, e)),
        }
    }
    let _ = conn.close().await;
    if let Some(schema) = schema {
        let mut conn = server.connect(label, database).await?;
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            Ok(_) => {}
            // Two concurrent IF NOT EXISTS can still collide on the catalog's unique index.
            Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("23505") => {}
            Err(e) => return Err(server.fail(label, e)),
        }
        let _ = conn.close().await;
    }
    Ok(())
}

/// Which of `places` (a database, and a schema in it) exist on `server`: one query for the
/// databases and one per database for its schemas, not a connection per place.
pub(super) async fn existing(
    server: &Server,
    places: &[(&str, Option<&str>)],
) -> Result<Vec<bool>> {
    let label = format!("server {}", server.name);
    let names: Vec<&str> = places.iter().map(|(d, _)| *d).collect();
    // Schemas only, on a server that answered: each database is asked through the pool its
    // tenants' work will use, and a missing one says so there (3D000), so the catalog of
    // databases costs no connection of its own.
    let databases: std::collections::BTreeSet<String> =
        if server.is_up() && places.iter().all(|(_, s)| s.is_some()) {
            names.iter().map(|d| d.to_string()).collect()
        } else {
            let mut conn = server.connect(&label, &server.default_database()).await?;
            let found: Vec<(String,)> =
                sqlx::query_as("SELECT datname::text FROM pg_database WHERE datname = ANY($1)")
                    .bind(&names)
                    .fetch_all(&mut conn)
                    .await
                    .map_err(|e| server.fail(&label, e))?;
            let _ = conn.close().await;
            found.into_iter().map(|r| r.0).collect()
        };
    let mut schemas: HashMap<&str, std::collections::BTreeSet<String>> = HashMap::new();
    for (database, schema) in places {
        if schema.is_none() || !databases.contains(*database) || schemas.contains_key(database) {
            continue;
        }
        let wanted: Vec<&str> = places
            .iter()
            .filter(|(d, _)| d == database)
            .filter_map(|(_, s)| *s)
            .collect();
        // The pool the tenants' work will use: this connection is not wasted.
        let pool = shared_pool(&label, server, database).await?;
        let rows: Vec<(String,)> =
            match sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname = ANY($1)")
                .bind(&wanted)
                .fetch_all(&pool)
                .await
            {
                Ok(rows) => rows,
                Err(e) if is_missing_database(&e) => Vec::new(),
                Err(e) => return Err(server.fail(&label, e)),
            };
        schemas.insert(database, rows.into_iter().map(|r| r.0).collect());
    }
    Ok(places
        .iter()
        .map(|(database, schema)| match schema {
            None => databases.contains(*database),
            Some(s) => schemas
                .get(database)
                .is_some_and(|found| found.contains(*s)),
        })
        .collect())
}

/// The refusal for a tenant whose database or schema is not there.
fn missing(label: &str, server: &Server, database: &str, schema: Option<&str>) -> Error {
    let what = match schema {
        Some(s) => format!("schema {s} in database {database}"),
        None => format!("database {database}"),
    };
    Error::refused(
        format!(
            "the {label} {what} does not exist on server {}",
            server.name
        ),
        "check the server and the tenancy settings in the config; restore the tenant's database from a backup, or provision a new tenant with `estate tenants add`",
    )
}

fn is_missing_database(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000"))
}

/// Opens a database on `server`: its own pool, or with `schema`, the server's shared pool of
/// `database` (the returned flag says it is shared: closing the tenant must not close it).
/// With `schema`, also returns which of [`super::TABLES_READ_AT_OPEN`] are there, read in the
/// round trip that makes sure the schema exists.
pub(super) async fn open(
    label: &str,
    server: &Server,
    database: &str,
    schema: Option<&str>,
    open: Open,
) -> Result<(PgPool, bool, Option<BTreeSet<String>>)> {
    match open {
        Open::CreateIfMissing => create(label, server, database, schema).await?,
        // A missing database or schema shows up as the first connection's own error, or the
        // schema lookup's: no extra round trips to look first.
        Open::Existing => {}
    }
    if let Some(schema) = schema {
        let pool = shared_pool(label, server, database).await?;
        let quoted = quote_ident(schema);
        let qualified: Vec<String> = super::TABLES_READ_AT_OPEN
            .iter()
            .map(|t| format!("{quoted}.{}", quote_ident(t)))
            .collect();
        let (exists, found): (bool, Vec<bool>) = fail_fast(label, server, database, async {
            sqlx::query_as(SCHEMA_AND_ESTATE_TABLES)
                .bind(&quoted)
                .bind(&qualified)
                .fetch_one(&pool)
                .await
        })
        .await?;
        if !exists {
            return Err(missing(label, server, database, Some(schema)));
        }
        let tables = super::TABLES_READ_AT_OPEN
            .iter()
            .zip(found)
            .filter(|(_, there)| *there)
            .map(|(t, _)| t.to_string())
            .collect();
        return Ok((pool, true, Some(tables)));
    }
    let options = server.options_for(database)?;
    let pool = PgPoolOptions::new()
        // A second connection lets the registry's recorder write to the landlord while a
        // landlord migration holds the first; a tenant's work uses one at a time.
        .max_connections(2)
        .acquire_timeout(server.acquire_timeout())
        // Every use is a short transaction or read; a dead connection fails that use alone.
        .test_before_acquire(false)
        .connect_lazy_with(options);
    first_connection(label, server, database, &pool).await?;
    Ok((pool, false, None))
}
