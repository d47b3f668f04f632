//! Looking into databases: a [`DbRef`] (a SQLite file, or a PostgreSQL database and maybe
//! schema) so one assertion reads the same on every engine; queries with every column as
//! text, statements, tables, columns and ledger rows.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};

use super::postgres::{PgServer, checkin, checkout, server_ref};

/// One database a test looks into: a SQLite file, or a PostgreSQL database (pinned to a
/// schema in the schema layout).
#[derive(Clone)]
pub enum DbRef {
    Sqlite(PathBuf),
    Postgres {
        /// The server's name in the scratch config.
        server: String,
        /// The server's URL (naming its default database), without the password.
        url: String,
        password: String,
        database: String,
        schema: Option<String>,
    },
}

pub(super) fn pg_ref(
    server: &PgServer,
    password: &str,
    database: &str,
    schema: Option<&str>,
) -> DbRef {
    DbRef::Postgres {
        server: server.name.to_string(),
        url: server.url.clone(),
        password: password.to_string(),
        database: database.to_string(),
        schema: schema.map(str::to_string),
    }
}

/// As estate's listings name a place: a path, `pg1:db` or `pg1:db.schema`.
impl std::fmt::Display for DbRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbRef::Sqlite(path) => write!(f, "{}", path.display()),
            DbRef::Postgres {
                server,
                database,
                schema: None,
                ..
            } => write!(f, "{server}:{database}"),
            DbRef::Postgres {
                server,
                database,
                schema: Some(schema),
                ..
            } => write!(f, "{server}:{database}.{schema}"),
        }
    }
}

impl std::fmt::Debug for DbRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbRef({self})")
    }
}

impl DbRef {
    /// How messages name it (see `Display`).
    pub fn display(&self) -> String {
        self.to_string()
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DbRef::Postgres { .. })
    }

    /// Whether the file, or the database (and schema), exists.
    pub fn exists(&self) -> bool {
        match self {
            DbRef::Sqlite(path) => path.exists(),
            DbRef::Postgres {
                url,
                password,
                database,
                schema,
                ..
            } => block_on(async {
                let found = {
                    let server = server_ref(url, password);
                    let mut conn = checkout(&server).await;
                    let found: Option<(i32,)> =
                        sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
                            .bind(database)
                            .fetch_optional(&mut conn)
                            .await
                            .unwrap();
                    checkin(&server, conn);
                    found.is_some()
                };
                let (true, Some(schema)) = (found, schema) else {
                    return found;
                };
                let db = DbRef::Postgres {
                    server: String::new(),
                    url: url.clone(),
                    password: password.clone(),
                    database: database.clone(),
                    schema: None,
                };
                let mut conn = checkout(&db).await;
                let found: Option<(i32,)> =
                    sqlx::query_as("SELECT 1 FROM pg_namespace WHERE nspname = $1")
                        .bind(schema)
                        .fetch_optional(&mut conn)
                        .await
                        .unwrap();
                checkin(&db, conn);
                found.is_some()
            }),
        }
    }
}

/// Quotes an identifier for SQL text.
pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs `fut` to completion on the one runtime of this test binary (the idle PostgreSQL
/// connections belong to it). Not from inside another runtime: use `spawn_blocking` there.
pub(super) fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        })
        .block_on(fut)
}

/// Opens a SQLite file in `mode` (`ro` or `rw`).
async fn sqlite_connect(db: &Path, mode: &str) -> sqlx::SqliteConnection {
    let url = format!("sqlite://{}?mode={mode}", db.display());
    sqlx::SqliteConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("opening {}: {e}", db.display()))
}

/// One SQLite value as text: NULL is empty.
fn sqlite_cell(r: &SqliteRow, i: usize) -> String {
    r.try_get::<Option<String>, _>(i)
        .ok()
        .flatten()
        .or_else(|| {
            r.try_get::<Option<i64>, _>(i)
                .ok()
                .flatten()
                .map(|v| v.to_string())
        })
        .unwrap_or_default()
}

/// One PostgreSQL value as text, as SQLite would give it: integers of any width in decimal,
/// booleans as 1 and 0, NULL empty.
fn pg_cell(r: &PgRow, i: usize) -> String {
    use sqlx::{Column, TypeInfo};
    if let Ok(v) = r.try_get::<Option<String>, _>(i) {
        return v.unwrap_or_default();
    }
    if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
        return v.map(|v| v.to_string()).unwrap_or_default();
    }
    if let Ok(v) = r.try_get::<Option<i32>, _>(i) {
        return v.map(|v| v.to_string()).unwrap_or_default();
    }
    if let Ok(v) = r.try_get::<Option<i16>, _>(i) {
        return v.map(|v| v.to_string()).unwrap_or_default();
    }
    if let Ok(v) = r.try_get::<Option<bool>, _>(i) {
        return v
            .map(|v| if v { "1" } else { "0" }.to_string())
            .unwrap_or_default();
    }
    if let Ok(v) = r.try_get::<Option<f64>, _>(i) {
        return v.map(|v| v.to_string()).unwrap_or_default();
    }
    let column = &r.columns()[i];
    panic!(
        "column {} of type {} cannot be read as text: cast it with ::text",
        column.name(),
        column.type_info().name()
    );
}

/// Runs one query and returns the rows, every column as text (NULL as "", booleans as 1/0).
/// Read-only on SQLite.
pub fn query(db: &DbRef, sql: &str) -> Vec<Vec<String>> {
    let sql = sql.to_string();
    block_on(async {
        match db {
            DbRef::Sqlite(path) => {
                let mut conn = sqlite_connect(path, "ro").await;
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql} on {db}: {e}"));
                conn.close().await.unwrap();
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| sqlite_cell(r, i)).collect())
                    .collect()
            }
            DbRef::Postgres { .. } => {
                let mut conn = checkout(db).await;
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql} on {db}: {e}"));
                checkin(db, conn);
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| pg_cell(r, i)).collect())
                    .collect()
            }
        }
    })
}

/// Runs SQL (one or more statements) with a read-write connection (`query` is read-only).
pub fn exec(db: &DbRef, sql: &str) {
    let sql = sql.to_string();
    block_on(async {
        match db {
            DbRef::Sqlite(path) => {
                let mut conn = sqlite_connect(path, "rw").await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql} on {db}: {e}"));
                conn.close().await.unwrap();
            }
            DbRef::Postgres { .. } => {
                let mut conn = checkout(db).await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql} on {db}: {e}"));
                checkin(db, conn);
            }
        }
    });
}

/// The first column of every row a query returns, as text.
pub fn first_column(db: &DbRef, sql: &str) -> Vec<String> {
    query(db, sql)
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect()
}

/// Quotes a string literal for SQL text.
pub(super) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The user tables of a database (of its schema, on PostgreSQL), sorted.
pub fn tables(db: &DbRef) -> Vec<String> {
    let sql = match db {
        DbRef::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        DbRef::Postgres { .. } => {
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    let mut names = first_column(db, sql);
    names.sort();
    names
}

/// Whether a database has the user table `table`.
pub fn has_table(db: &DbRef, table: &str) -> bool {
    tables(db).iter().any(|t| t == table)
}

/// The column names of `table`, in order.
pub fn columns(db: &DbRef, table: &str) -> Vec<String> {
    let sql = match db {
        DbRef::Sqlite(_) => format!("SELECT name FROM pragma_table_info({})", literal(table)),
        DbRef::Postgres { .. } => format!(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = {} ORDER BY ordinal_position",
            literal(table)
        ),
    };
    first_column(db, &sql)
}

/// Whether `table` has the column `column`.
pub fn has_column(db: &DbRef, table: &str, column: &str) -> bool {
    columns(db, table).iter().any(|c| c == column)
}

/// Whether calendar's `events` table has the `color` column of migration 0004.
pub fn has_color(db: &DbRef) -> bool {
    has_column(db, "events", "color")
}

/// The `ORDER BY` that lists ledger rows in the order they were written: SQLite's rowid;
/// PostgreSQL has no insertion order, but each step takes a new, higher batch and applies its
/// migrations by ascending version, so (batch, version) is that order.
pub fn ledger_order(db: &DbRef) -> &'static str {
    match db {
        DbRef::Sqlite(_) => "rowid",
        DbRef::Postgres { .. } => "batch, version",
    }
}

/// (context, scope, version, batch) of every ledger row of a database, in the order written.
pub fn ledger_batches(db: &DbRef) -> Vec<(String, String, i64, i64)> {
    query(
        db,
        &format!(
            "SELECT context, scope, version, batch FROM estate_ledger ORDER BY {}",
            ledger_order(db)
        ),
    )
    .into_iter()
    .map(|r| {
        (
            r[0].clone(),
            r[1].clone(),
            r[2].parse().unwrap(),
            r[3].parse().unwrap(),
        )
    })
    .collect()
}

/// (context, scope, version) of every ledger row of a database, in the order written.
pub fn ledger(db: &DbRef) -> Vec<(String, String, i64)> {
    ledger_batches(db)
        .into_iter()
        .map(|(context, scope, version, _)| (context, scope, version))
        .collect()
}
