//! The two PostgreSQL test servers of `.ci/pg` (`ESTATE_TEST_PG1_URL`, `ESTATE_TEST_PG2_URL`,
//! `ESTATE_TEST_PG_PASSWORD`): found once per test binary, required when `CI` is set (their
//! absence panics there, so PostgreSQL tests never pass without running), skipped with a note
//! otherwise. Also the connections the helpers keep idle between calls, and the dropping of a
//! scratch project's databases.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::str::FromStr;
use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use super::db::{DbRef, block_on, quote};

/// The variable the scratch config names as every server's `password_env`.
pub const PG_PASSWORD_ENV: &str = "ESTATE_TEST_PG_PASSWORD";

pub(super) const PG_REQUIRED: &str =
    "PostgreSQL is required in CI: run .ci/pg start and eval \"$(.ci/pg env)\"";

/// One of the two test servers.
#[derive(Debug, Clone)]
pub struct PgServer {
    /// Its name in the scratch config: `pg1` or `pg2`.
    pub name: &'static str,
    /// `postgres://estate@127.0.0.1:PORT/estate`, no password.
    pub url: String,
}

/// The two test servers and the password of the `estate` role.
#[derive(Debug)]
pub struct PgEnv {
    pub servers: [PgServer; 2],
    pub password: String,
}

impl PgEnv {
    pub fn server(&self, name: &str) -> &PgServer {
        self.servers
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no test server named {name:?}"))
    }
}

/// Whether this run is CI's, where PostgreSQL must be there.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !v.is_empty() && v != "false" && v != "0"
    })
}

/// Reads the servers from the environment and checks each one answers a query.
fn probe_pg() -> Result<PgEnv, String> {
    let var = |k: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{k} is not set"))
    };
    let env = PgEnv {
        servers: [
            PgServer {
                name: "pg1",
                url: var("ESTATE_TEST_PG1_URL")?,
            },
            PgServer {
                name: "pg2",
                url: var("ESTATE_TEST_PG2_URL")?,
            },
        ],
        password: var(PG_PASSWORD_ENV)?,
    };
    // A server being restarted (tests/postgres.rs stops one on purpose) gets a few seconds.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for s in &env.servers {
        let options = pg_options(&s.url, &env.password, None)
            .map_err(|e| format!("{} ({}) is not a PostgreSQL URL: {e}", s.name, s.url))?;
        loop {
            let answer = block_on(async {
                tokio::time::timeout(Duration::from_secs(3), async {
                    let mut conn = options.connect().await?;
                    sqlx::query("SELECT 1").execute(&mut conn).await?;
                    conn.close().await
                })
                .await
            });
            let why = match answer {
                Ok(Ok(())) => break,
                Ok(Err(e)) => format!("{} ({}) is not reachable: {e}", s.name, s.url),
                Err(_) => format!("{} ({}) did not answer in 3 s", s.name, s.url),
            };
            if std::time::Instant::now() >= deadline {
                return Err(why);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    Ok(env)
}

/// The test servers, once per test binary; `None` when they are not there (outside CI only:
/// in CI their absence panics, so PostgreSQL tests never pass without running).
pub fn pg() -> Option<&'static PgEnv> {
    static PG: OnceLock<Result<PgEnv, String>> = OnceLock::new();
    static NOTE: Once = Once::new();
    match PG.get_or_init(probe_pg) {
        Ok(env) => Some(env),
        Err(why) => {
            if in_ci() {
                panic!("{PG_REQUIRED} ({why})");
            }
            NOTE.call_once(|| {
                // Straight to stderr: libtest captures eprintln! of passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: the PostgreSQL setups of these tests are skipped: {why}. \
                     Run .ci/pg start and eval \"$(.ci/pg env)\" to run them (CI=true makes this an error)."
                );
            });
            None
        }
    }
}

pub(super) fn pg_options(
    url: &str,
    password: &str,
    database: Option<&str>,
) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?
        .password(password)
        .application_name("estate-tests")
        .disable_statement_logging();
    Ok(match database {
        Some(d) => options.database(d),
        None => options,
    })
}

/// The database a server's URL names (`estate`), to ask the server about its databases.
pub(super) fn server_ref(url: &str, password: &str) -> DbRef {
    let database = pg_options(url, password, None)
        .unwrap()
        .get_database()
        .unwrap_or("estate")
        .to_string();
    DbRef::Postgres {
        server: String::new(),
        url: url.to_string(),
        password: password.to_string(),
        database,
        schema: None,
    }
}

/// Idle PostgreSQL connections by (url, database, schema), kept for the next helper call: a
/// connection costs more than most of the queries the tests run on it. They live on the one
/// runtime of `block_on`, and go (before their databases are dropped) with their `Scratch`.
static IDLE: Mutex<BTreeMap<IdleKey, Vec<PgConnection>>> = Mutex::new(BTreeMap::new());

/// (url, database, schema) of a connection.
type IdleKey = (String, String, Option<String>);

fn idle_key(db: &DbRef) -> IdleKey {
    let DbRef::Postgres {
        url,
        database,
        schema,
        ..
    } = db
    else {
        panic!("{db} is not a PostgreSQL database");
    };
    (url.clone(), database.clone(), schema.clone())
}

/// A connection to a PostgreSQL `DbRef`, with `search_path` set to its schema when it has one;
/// give it back with `checkin`.
pub(super) async fn checkout(db: &DbRef) -> PgConnection {
    let key = idle_key(db);
    if let Some(conn) = IDLE.lock().unwrap().get_mut(&key).and_then(Vec::pop) {
        return conn;
    }
    let DbRef::Postgres {
        url,
        password,
        database,
        schema,
        ..
    } = db
    else {
        unreachable!()
    };
    let mut conn = pg_options(url, password, Some(database))
        .unwrap()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connecting to {db}: {e}"));
    if let Some(schema) = schema {
        let sql = format!("SET search_path TO {}", quote(schema));
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        let (current,): (Option<String>,) = sqlx::query_as("SELECT current_schema()::text")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            current.as_deref(),
            Some(schema.as_str()),
            "schema {schema} does not exist in {db}"
        );
    }
    conn
}

/// Returns a connection from `checkout` for the next call.
pub(super) fn checkin(db: &DbRef, conn: PgConnection) {
    IDLE.lock()
        .unwrap()
        .entry(idle_key(db))
        .or_default()
        .push(conn);
}

/// Closes the idle connections to databases named `{prefix}_...`.
pub(super) async fn forget_idle(prefix: &str) {
    let mine = format!("{prefix}_");
    let gone: Vec<PgConnection> = {
        let mut idle = IDLE.lock().unwrap();
        let keys: Vec<_> = idle
            .keys()
            .filter(|k| k.1.starts_with(&mine))
            .cloned()
            .collect();
        keys.into_iter()
            .flat_map(|k| idle.remove(&k).unwrap_or_default())
            .collect()
    };
    for conn in gone {
        let _ = conn.close().await;
    }
}

/// The databases of a server whose name starts with `{prefix}_`, sorted.
pub(super) async fn pg_databases(env: &PgEnv, server: &PgServer, prefix: &str) -> Vec<String> {
    let db = server_ref(&server.url, &env.password);
    let mut conn = checkout(&db).await;
    let all: Vec<(String,)> = sqlx::query_as("SELECT datname::text FROM pg_database")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    checkin(&db, conn);
    let mine = format!("{prefix}_");
    let mut names: Vec<String> = all
        .into_iter()
        .map(|r| r.0)
        .filter(|n| n.starts_with(&mine))
        .collect();
    names.sort();
    names
}

/// Drops every database named `{prefix}_...` on both servers; best effort, never panics.
pub(super) fn drop_pg_databases(env: &PgEnv, prefix: &str) {
    let mine = format!("{prefix}_");
    block_on(async {
        forget_idle(prefix).await;
        for server in &env.servers {
            let Ok(options) = pg_options(&server.url, &env.password, None) else {
                continue;
            };
            let Ok(mut conn) = options.connect().await else {
                continue;
            };
            let names: Vec<(String,)> = sqlx::query_as("SELECT datname::text FROM pg_database")
                .fetch_all(&mut conn)
                .await
                .unwrap_or_default();
            for (name,) in names.into_iter().filter(|n| n.0.starts_with(&mine)) {
                if let Err(e) = drop_pg_database(&mut conn, &name).await {
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: could not drop {name} on {}: {e}",
                        server.name
                    );
                }
            }
            let _ = conn.close().await;
        }
    });
}

/// Drops one database. FORCE ends the sessions still connected, but refuses outright when one
/// of them is an autovacuum worker (a superuser's process); a plain DROP waits for autovacuum
/// to leave. So: FORCE, then plain, a few times.
pub(super) async fn drop_pg_database(
    conn: &mut PgConnection,
    name: &str,
) -> Result<(), sqlx::Error> {
    let mut error = None;
    for attempt in 0..6 {
        let force = if attempt % 2 == 0 {
            " WITH (FORCE)"
        } else {
            ""
        };
        let sql = format!("DROP DATABASE IF EXISTS {}{force}", quote(name));
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(error.expect("six attempts"))
}
