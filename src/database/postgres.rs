//! PostgreSQL: named servers, a database per tenant or a schema per tenant.
//!
//! A tenant in schema layout gets connections whose `search_path` is its schema alone, set at
//! connection start-up and checked right after: if the schema is missing, `current_schema()` is
//! NULL and the connection is refused, so nothing can fall back to `public` (the trap sqlx-cli
//! and Laravel users fall into with a `search_path` URL parameter that is silently ignored).
//! Credentials stay inside [`Server`]: its `Debug` and every message name the server only.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

use super::{Open, quote_ident};
use crate::error::{Error, Result};

/// A PostgreSQL server named in the config.
#[derive(Clone)]
pub struct Server {
    pub name: String,
    /// The environment variable holding the password, read when connecting, so commands that
    /// never connect (`estate check`) do not need it.
    password_env: Option<String>,
    // Shared: every tenant's address holds its server.
    options: std::sync::Arc<PgConnectOptions>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name)
            .field("host", &self.options.get_host())
            .field("port", &self.options.get_port())
            .field("user", &self.options.get_username())
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
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            let reason = e.to_string();
            // sqlx's parse errors name the part that is wrong, not the URL, but be sure.
            let reason = if reason.contains(url) {
                "it is not a postgres:// URL".to_string()
            } else {
                reason
            };
            format!("the URL of server {name} cannot be read: {reason}")
        })?;
        let options = options
            .application_name(application_name)
            // Statements are logged by estate itself, without their parameters.
            .disable_statement_logging();
        Ok(Server {
            name: name.to_string(),
            password_env: password_env.map(str::to_string),
            options: std::sync::Arc::new(options),
        })
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
        if let Some(var) = &self.password_env {
            let password = std::env::var(var).map_err(|_| {
                Error::refused(
                    format!(
                        "server {} takes its password from ${var}, which is not set",
                        self.name
                    ),
                    format!("export {var}=..., or remove password_env from the server's config"),
                )
            })?;
            options = options.password(&password);
        }
        Ok(options)
    }

    fn fail(&self, label: &str, e: sqlx::Error) -> Error {
        Error::db(format!("{label} on server {}", self.name), e)
    }
}

impl Server {
    /// A connection to `database` on this server, errors naming `label` and the server.
    async fn connect(&self, label: &str, database: &str) -> Result<sqlx::PgConnection> {
        self.options_for(database)?
            .connect()
            .await
            .map_err(|e| self.fail(label, e))
    }
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
            // Another estate created it at the same moment: that is what we wanted.
            Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("42P04") => {}
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

pub(super) async fn open(
    label: &str,
    server: &Server,
    database: &str,
    schema: Option<&str>,
    open: Open,
) -> Result<sqlx::PgPool> {
    match open {
        Open::CreateIfMissing => create(label, server, database, schema).await?,
        // A missing database or schema shows up as the connection's own error below: no
        // extra round trips to look first.
        Open::Existing => {}
    }
    let mut options = server.options_for(database)?;
    if let Some(schema) = schema {
        options = options.options([("search_path", quote_ident(schema))]);
    }
    let missing = || {
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
    };
    // Connect once by hand first: sqlx's pool retries a refused connection until its timeout,
    // and an operator must hear at once that a server is down or a database is missing.
    let mut first = match options.connect().await {
        Ok(conn) => conn,
        Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("3D000") => {
            return Err(missing());
        }
        Err(e) => return Err(server.fail(label, e)),
    };
    let pinned = check_schema(&mut first, schema).await;
    let _ = first.close().await;
    match pinned {
        Ok(()) => {}
        Err(sqlx::Error::Configuration(_)) => return Err(missing()),
        Err(e) => return Err(server.fail(label, e)),
    }
    let expected = schema.map(str::to_string);
    Ok(PgPoolOptions::new()
        // A second connection lets the registry's recorder write to the landlord while a
        // landlord migration holds the first; tenants' steps use one at a time.
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(30))
        // Every later connection is checked the same way: never a fall-back to `public`.
        .after_connect(move |conn, _| {
            let expected = expected.clone();
            Box::pin(async move { check_schema(conn, expected.as_deref()).await })
        })
        .connect_lazy_with(options))
}

/// Refuses a connection whose `search_path` did not land on the tenant's schema (because the
/// schema is missing): `current_schema()` is then another schema or NULL.
async fn check_schema(
    conn: &mut sqlx::PgConnection,
    expected: Option<&str>,
) -> Result<(), sqlx::Error> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let (current,): (Option<String>,) = sqlx::query_as("SELECT current_schema()::text")
        .fetch_one(&mut *conn)
        .await?;
    if current.as_deref() != Some(expected) {
        return Err(sqlx::Error::Configuration(
            format!("schema {expected} {MISSING_SCHEMA} to another schema").into(),
        ));
    }
    Ok(())
}

/// Marks the after-connect refusal of a connection whose schema is missing.
const MISSING_SCHEMA: &str = "does not exist: the connection would fall back";
