//! Shared test fixture: a scratch estate project in a temporary folder, with its own config
//! and a copy of the sample contexts, driven through the real `estate` binary.
//!
//! A scenario runs on three setups ([`Setup`]): the embedded default (SQLite files), PostgreSQL
//! with a database per tenant, and PostgreSQL with a schema per tenant. The PostgreSQL setups
//! use the two local clusters of `.ci/pg` (`ESTATE_TEST_PG1_URL`, `ESTATE_TEST_PG2_URL`,
//! `ESTATE_TEST_PG_PASSWORD`), with the landlord on `pg1` and the tenants spread over both
//! servers. Every PostgreSQL database a scratch project makes is named with a prefix of its
//! own, so tests running side by side never share one, and is dropped with the project.
//!
//! Tests look at databases through a [`DbRef`] (a SQLite file, or a PostgreSQL database and
//! maybe schema), so one assertion reads the same on every engine.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::sqlite::SqliteRow;
use sqlx::{ConnectOptions, Connection, Row};

// --- setups ---------------------------------------------------------------------------------

/// Where a scratch project keeps its databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// The embedded default: the landlord and each tenant a SQLite file under var/.
    Sqlite,
    /// PostgreSQL, a database per tenant, tenants spread over pg1 and pg2.
    PgDatabase,
    /// PostgreSQL, a schema per tenant in one shared database per server, spread over both.
    PgSchema,
}

impl Setup {
    pub const ALL: [Setup; 3] = [Setup::Sqlite, Setup::PgDatabase, Setup::PgSchema];

    pub fn name(self) -> &'static str {
        match self {
            Setup::Sqlite => "sqlite",
            Setup::PgDatabase => "pg_database",
            Setup::PgSchema => "pg_schema",
        }
    }

    pub fn is_postgres(self) -> bool {
        self != Setup::Sqlite
    }
}

/// The variable the scratch config names as every server's `password_env`.
pub const PG_PASSWORD_ENV: &str = "ESTATE_TEST_PG_PASSWORD";

const PG_REQUIRED: &str =
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

/// The setups this run can test: always SQLite; the PostgreSQL ones when the servers answer.
pub fn setups() -> Vec<Setup> {
    Setup::ALL
        .into_iter()
        .filter(|s| !s.is_postgres() || pg().is_some())
        .collect()
}

/// Runs `scenario` on `setup`, or (outside CI, without PostgreSQL) skips a PostgreSQL setup.
pub fn run_on(setup: Setup, scenario: fn(Setup)) {
    if setup.is_postgres() && pg().is_none() {
        return;
    }
    scenario(setup);
}

/// `on_postgres_setups!(name)` after `fn name(setup: Setup)` makes one test per PostgreSQL
/// setup: `name::pg_database` and `name::pg_schema`.
#[macro_export]
macro_rules! on_postgres_setups {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn pg_database() {
                    $crate::common::run_on($crate::common::Setup::PgDatabase, super::$name);
                }
                #[test]
                fn pg_schema() {
                    $crate::common::run_on($crate::common::Setup::PgSchema, super::$name);
                }
            }
        )+
    };
}

/// `on_every_setup!(name)` after `fn name(setup: Setup)` makes one test per setup:
/// `name::sqlite`, `name::pg_database` and `name::pg_schema`.
#[macro_export]
macro_rules! on_every_setup {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    $crate::common::run_on($crate::common::Setup::Sqlite, super::$name);
                }
                #[test]
                fn pg_database() {
                    $crate::common::run_on($crate::common::Setup::PgDatabase, super::$name);
                }
                #[test]
                fn pg_schema() {
                    $crate::common::run_on($crate::common::Setup::PgSchema, super::$name);
                }
            }
        )+
    };
}

// --- running estate -------------------------------------------------------------------------

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit status is `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit status {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

pub fn repo_contexts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contexts")
}

/// Copies a folder tree (the sample contexts into a scratch project).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A scratch project's share of the PostgreSQL servers: every database whose name starts with
/// `{prefix}_`.
struct PgScratch {
    env: &'static PgEnv,
    prefix: String,
}

pub struct Scratch {
    pub dir: tempfile::TempDir,
    pub setup: Setup,
    pg: Option<PgScratch>,
    /// Tenants' databases as `tenants list --json` placed them (PostgreSQL), by slug.
    placements: Mutex<BTreeMap<String, DbRef>>,
}

/// Files under var/ and PostgreSQL objects of a project, each with its content, to compare.
pub type Snapshot = BTreeMap<String, Vec<u8>>;

impl Scratch {
    /// A project with the sample contexts and the embedded-default config.
    pub fn new() -> Scratch {
        Scratch::with(Setup::Sqlite)
    }

    /// A project with the sample contexts and the config of `setup`.
    pub fn with(setup: Setup) -> Scratch {
        let s = Scratch::empty_with(setup);
        copy_dir(&repo_contexts(), &s.path("contexts"));
        s
    }

    /// A SQLite project with an empty contexts folder.
    pub fn empty() -> Scratch {
        Scratch::empty_with(Setup::Sqlite)
    }

    /// A project with the config of `setup` and an empty contexts folder.
    pub fn empty_with(setup: Setup) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("contexts")).unwrap();
        let pg = setup.is_postgres().then(|| {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let env = pg().unwrap_or_else(|| {
                panic!("the {} setup needs PostgreSQL: {PG_REQUIRED}", setup.name())
            });
            let prefix = format!(
                "e{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            // A run killed before its clean-up may have left databases under the prefix of
            // this process (its pid recycled): they go, once, before the first project.
            static CLEAN: Once = Once::new();
            CLEAN.call_once(|| drop_pg_databases(env, &format!("e{}", std::process::id())));
            PgScratch { env, prefix }
        });
        let config = match &pg {
            None => "contexts = \"contexts\"\n[landlord]\npath = \"var/landlord.db\"\n[tenants]\npath = \"var/tenants/{slug}.db\"\n".to_string(),
            Some(pg) => pg_config(setup, pg),
        };
        std::fs::write(dir.path().join("config/estate.toml"), config).unwrap();
        Scratch {
            dir,
            setup,
            pg,
            placements: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The prefix of every PostgreSQL database of this project (`e{pid}_{n}`).
    pub fn prefix(&self) -> &str {
        &self.pg().prefix
    }

    fn pg(&self) -> &PgScratch {
        self.pg
            .as_ref()
            .unwrap_or_else(|| panic!("the {} setup has no PostgreSQL", self.setup.name()))
    }

    /// Puts the sample contexts back as they are in the repository, undoing every edit.
    pub fn reset_contexts(&self) {
        let contexts = self.path("contexts");
        std::fs::remove_dir_all(&contexts).unwrap();
        copy_dir(&repo_contexts(), &contexts);
    }

    /// Writes `rel` (text or bytes), making its folders first.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }

    /// Runs `estate ARGS` from the project root, with no ESTATE_* from the outside.
    pub fn estate(&self, args: &[&str]) -> Run {
        self.estate_with_env(args, &[])
    }

    /// Runs `estate ARGS`, expects exit status 0, and parses stdout as JSON.
    pub fn estate_json(&self, args: &[&str]) -> Value {
        self.estate(args).expect(0).json()
    }

    /// Runs `estate ARGS`, expects exit status `code` and the summary line `summary` on stdout.
    pub fn estate_summary(&self, args: &[&str], code: i32, summary: &str) -> Run {
        let run = self.estate(args).expect(code);
        assert_has(&run.stdout, summary);
        run
    }

    /// Runs `estate ARGS` as `estate` does, with the variables `env` set as well (and, on
    /// PostgreSQL, the servers' password variable).
    pub fn estate_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.estate_command(args);
        cmd.envs(env.iter().copied());
        Run::from(cmd.output().unwrap())
    }

    /// The command `estate ARGS` as [`Scratch::estate`] runs it, to start it and act on the
    /// process (signals) before it ends.
    pub fn estate_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_estate"));
        cmd.current_dir(self.root())
            .args(args)
            .env("USER", "tester");
        for (k, _) in std::env::vars() {
            if k.starts_with("ESTATE_") {
                cmd.env_remove(k);
            }
        }
        if let Some(pg) = &self.pg {
            cmd.env(PG_PASSWORD_ENV, &pg.env.password);
        }
        cmd
    }

    /// Runs `estate tenants add SLUG` for each slug in turn, expecting success.
    pub fn add_tenants(&self, slugs: &[&str]) {
        for t in slugs {
            self.estate(&["tenants", "add", t]).expect(0);
        }
    }

    /// The landlord database: var/landlord.db, or `{prefix}_landlord` on pg1.
    pub fn landlord(&self) -> DbRef {
        match &self.pg {
            None => DbRef::Sqlite(self.path("var/landlord.db")),
            Some(pg) => pg_ref(
                pg.env.server("pg1"),
                &pg.env.password,
                &format!("{}_landlord", pg.prefix),
                None,
            ),
        }
    }

    /// The database (or schema) the config gives tenant `slug` (its server aside).
    fn expected_location(&self, slug: &str) -> (String, Option<String>) {
        let prefix = &self.pg().prefix;
        match self.setup {
            Setup::Sqlite => unreachable!(),
            Setup::PgDatabase => (format!("{prefix}_{slug}"), None),
            Setup::PgSchema => (format!("{prefix}_tenants"), Some(format!("t_{slug}"))),
        }
    }

    /// A tenant's database. SQLite: var/tenants/SLUG.db, whether it exists or not. PostgreSQL:
    /// where `tenants list --json` says estate put it, which must agree with the config; the
    /// tenant must have been added.
    pub fn tenant_db(&self, slug: &str) -> DbRef {
        let Some(pg) = &self.pg else {
            return DbRef::Sqlite(self.path(&format!("var/tenants/{slug}.db")));
        };
        if let Some(db) = self.placements.lock().unwrap().get(slug) {
            return db.clone();
        }
        let list = self.estate_json(&["tenants", "list", "--json"]);
        let mut placements = self.placements.lock().unwrap();
        for t in list.as_array().expect("tenants list --json is an array") {
            let tenant = t["slug"].as_str().unwrap();
            assert_eq!(t["engine"], "postgres", "{t}");
            let server = t["server"]
                .as_str()
                .unwrap_or_else(|| panic!("no server: {t}"));
            assert!(server == "pg1" || server == "pg2", "{t}");
            let (database, schema) = self.expected_location(tenant);
            assert_eq!(t["location"].as_str(), Some(database.as_str()), "{t}");
            assert_eq!(t["schema"].as_str(), schema.as_deref(), "{t}");
            placements.insert(
                tenant.to_string(),
                pg_ref(
                    pg.env.server(server),
                    &pg.env.password,
                    &database,
                    schema.as_deref(),
                ),
            );
        }
        placements
            .get(slug)
            .cloned()
            .unwrap_or_else(|| panic!("tenant {slug} is not in `tenants list --json`: {list:#}"))
    }

    /// The PostgreSQL server a tenant was placed on (`pg1`, `pg2`).
    pub fn tenant_server(&self, slug: &str) -> String {
        match self.tenant_db(slug) {
            DbRef::Postgres { server, .. } => server,
            DbRef::Sqlite(_) => panic!("a SQLite tenant is on no server"),
        }
    }

    /// How listings show a tenant's database: `var/tenants/acme.db`, `pg1:{prefix}_acme` or
    /// `pg2:{prefix}_tenants.t_acme`.
    pub fn placement(&self, slug: &str) -> String {
        match self.setup {
            Setup::Sqlite => format!("var/tenants/{slug}.db"),
            _ => self.tenant_db(slug).to_string(),
        }
    }

    /// Whether a database or schema for tenant `slug` exists anywhere this project could have
    /// put it (any server), whether or not the registry knows the tenant.
    pub fn tenant_provisioned(&self, slug: &str) -> bool {
        let Some(pg) = &self.pg else {
            return self.tenant_db(slug).exists();
        };
        let (database, schema) = self.expected_location(slug);
        pg.env
            .servers
            .iter()
            .any(|s| pg_ref(s, &pg.env.password, &database, schema.as_deref()).exists())
    }

    /// Removes tenant `slug`'s database behind estate's back (its file, its PostgreSQL
    /// database, or its schema), as an operator's mistake would.
    pub fn remove_tenant_database(&self, slug: &str) {
        let db = self.tenant_db(slug);
        match &db {
            DbRef::Sqlite(path) => std::fs::remove_file(path).unwrap(),
            DbRef::Postgres {
                schema: Some(schema),
                ..
            } => exec(&db, &format!("DROP SCHEMA {} CASCADE", quote(schema))),
            DbRef::Postgres {
                url,
                password,
                database,
                ..
            } => block_on(async {
                forget_idle(&self.pg().prefix).await;
                let mut conn = pg_options(url, password, None)
                    .unwrap()
                    .connect()
                    .await
                    .unwrap();
                drop_pg_database(&mut conn, database).await.unwrap();
                let _ = conn.close().await;
            }),
        }
    }

    /// Schema layout: asserts that the `public` schema of the shared database on each server
    /// holds nothing, so every tenant's tables went to its own schema. Other setups: nothing.
    pub fn assert_public_schemas_empty(&self) {
        if self.setup != Setup::PgSchema {
            return;
        }
        let pg = self.pg();
        let database = format!("{}_tenants", pg.prefix);
        for server in &pg.env.servers {
            let public = pg_ref(server, &pg.env.password, &database, Some("public"));
            if pg_ref(server, &pg.env.password, &database, None).exists() {
                let content = String::from_utf8(content(&public)).unwrap();
                let relations: Vec<&str> = content.lines().skip(1).collect();
                assert!(
                    relations.is_empty(),
                    "{public} holds {relations:?}: a tenant's objects fell back to public"
                );
            }
        }
    }

    /// Every file under var/ (but the logs and lock files) with its bytes, and on PostgreSQL
    /// every database of this project on both servers: its schemas, their relations, and each
    /// table's columns, indexes and rows. Equal snapshots: nothing was changed.
    pub fn snapshot(&self) -> Snapshot {
        fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    if name != "log" {
                        walk(root, &p, out);
                    }
                } else if !name.ends_with(".lock") {
                    let key = p.strip_prefix(root).unwrap().display().to_string();
                    out.insert(key, std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.root(), &self.path("var"), &mut out);
        if let Some(pg) = &self.pg {
            block_on(async {
                for server in &pg.env.servers {
                    for database in pg_databases(pg.env, server, &pg.prefix).await {
                        let key = format!("{}:{database}", server.name);
                        out.insert(key.clone(), Vec::new());
                        let db = pg_ref(server, &pg.env.password, &database, None);
                        let mut conn = checkout(&db).await;
                        pg_dump(&mut conn, &key, None, &mut out).await;
                        checkin(&db, conn);
                    }
                }
            });
        }
        out
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(pg) = self.pg.take() {
            // Off this thread: a Scratch may be dropped inside an async test's runtime.
            let _ = std::thread::spawn(move || drop_pg_databases(pg.env, &pg.prefix)).join();
        }
    }
}

/// The config of a PostgreSQL scratch project: landlord on pg1, tenants on pg1 and pg2.
fn pg_config(setup: Setup, pg: &PgScratch) -> String {
    let prefix = &pg.prefix;
    let tenancy = match setup {
        Setup::PgDatabase => format!("layout = \"database\"\ndatabase = \"{prefix}_{{slug}}\"\n"),
        Setup::PgSchema => format!(
            "layout = \"schema\"\ndatabase = \"{prefix}_tenants\"\nschema = \"t_{{slug}}\"\n"
        ),
        Setup::Sqlite => unreachable!(),
    };
    let mut config = format!(
        "contexts = \"contexts\"\n\n[landlord]\nserver = \"pg1\"\ndatabase = \"{prefix}_landlord\"\n\n[tenancy]\n{tenancy}"
    );
    for s in &pg.env.servers {
        config.push_str(&format!(
            "\n[[servers]]\nname = \"{}\"\nurl = \"{}\"\npassword_env = \"{PG_PASSWORD_ENV}\"\n",
            s.name, s.url
        ));
    }
    config
}

// --- databases ------------------------------------------------------------------------------

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

fn pg_ref(server: &PgServer, password: &str, database: &str, schema: Option<&str>) -> DbRef {
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

fn pg_options(
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
fn server_ref(url: &str, password: &str) -> DbRef {
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
async fn checkout(db: &DbRef) -> PgConnection {
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
fn checkin(db: &DbRef, conn: PgConnection) {
    IDLE.lock()
        .unwrap()
        .entry(idle_key(db))
        .or_default()
        .push(conn);
}

/// Closes the idle connections to databases named `{prefix}_...`.
async fn forget_idle(prefix: &str) {
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

/// Quotes an identifier for SQL text.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The databases of a server whose name starts with `{prefix}_`, sorted.
async fn pg_databases(env: &PgEnv, server: &PgServer, prefix: &str) -> Vec<String> {
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
fn drop_pg_databases(env: &PgEnv, prefix: &str) {
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
async fn drop_pg_database(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
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

/// The user schemas of a database (or only `only`), as a SQL condition on `column`.
fn schema_filter(column: &str, only: Option<&str>) -> String {
    match only {
        Some(s) => format!("{column} = {}", literal(s)),
        None => format!("{column} <> 'information_schema' AND {column} NOT LIKE 'pg\\_%'"),
    }
}

/// Adds to `out` the state of one PostgreSQL database (only schema `only`, when given): per
/// schema the list of its relations (`KEY.schema`), and per table its columns, defaults,
/// indexes, constraints and rows, sorted (`KEY.schema.table`).
async fn pg_dump(conn: &mut PgConnection, key: &str, only: Option<&str>, out: &mut Snapshot) {
    let sql = format!(
        "SELECT n.nspname::text, coalesce(c.relname::text, ''), coalesce(c.relkind::text, '')
         FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
         WHERE {} ORDER BY 1, 2",
        schema_filter("n.nspname", only)
    );
    let relations: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let mut tables: Vec<(String, String)> = Vec::new();
    for (schema, name, kind) in &relations {
        let listing = out.entry(format!("{key}.{schema}")).or_default();
        if !name.is_empty() {
            listing.extend_from_slice(format!("{kind} {name}\n").as_bytes());
        }
        if kind == "r" || kind == "p" {
            tables.push((schema.clone(), name.clone()));
        }
    }
    if tables.is_empty() {
        return;
    }
    // Columns (with type, nullability, default), indexes and constraints, in one query.
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, 1 AS part, lpad(a.attnum::text, 5, '0'),
                'column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {schemas}
         UNION ALL
         SELECT schemaname::text, tablename::text, 2, indexname::text, 'index ' || indexdef
         FROM pg_indexes WHERE {indexes}
         UNION ALL
         SELECT n.nspname::text, c.relname::text, 3, con.conname::text,
                'constraint ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE {schemas}
         ORDER BY 1, 2, 3, 4",
        schemas = schema_filter("n.nspname", only),
        indexes = schema_filter("schemaname", only),
    );
    let shape: Vec<(String, String, i32, String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let mut texts: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (schema, table, _, _, line) in shape {
        texts.entry((schema, table)).or_default().push(line);
    }
    // Every row of every table, in one query.
    let sql = tables
        .iter()
        .map(|(schema, table)| {
            format!(
                "SELECT {}, {}, to_jsonb(t)::text FROM {}.{} t",
                literal(schema),
                literal(table),
                quote(schema),
                quote(table)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let mut by_table: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (schema, table, row) in rows {
        by_table
            .entry((schema, table))
            .or_default()
            .push(format!("row {row}"));
    }
    for (schema, table) in tables {
        let mut rows = by_table
            .remove(&(schema.clone(), table.clone()))
            .unwrap_or_default();
        rows.sort();
        let mut lines = texts
            .remove(&(schema.clone(), table.clone()))
            .unwrap_or_default();
        lines.extend(rows);
        let mut text = lines.join("\n");
        text.push('\n');
        out.insert(format!("{key}.{schema}.{table}"), text.into_bytes());
    }
}

/// The whole content of one database, to compare before and after: a SQLite file's bytes, or
/// the logical state (see `Scratch::snapshot`) of a PostgreSQL database or schema.
pub fn content(db: &DbRef) -> Vec<u8> {
    match db {
        DbRef::Sqlite(path) => {
            std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        }
        DbRef::Postgres {
            server,
            database,
            schema,
            ..
        } => block_on(async {
            let mut out = BTreeMap::new();
            let mut conn = checkout(db).await;
            let key = format!("{server}:{database}");
            pg_dump(&mut conn, &key, schema.as_deref(), &mut out).await;
            checkin(db, conn);
            let mut bytes = Vec::new();
            for (k, v) in out {
                bytes.extend_from_slice(k.as_bytes());
                bytes.push(b'\n');
                bytes.extend_from_slice(&v);
            }
            bytes
        }),
    }
}

/// Runs `fut` to completion on the one runtime of this test binary (the idle PostgreSQL
/// connections belong to it). Not from inside another runtime: use `spawn_blocking` there.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
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
fn literal(s: &str) -> String {
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

// --- JSON and text --------------------------------------------------------------------------

/// Owned strings from string literals.
pub fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The string field `key` of every element of a JSON array.
pub fn pluck<'a>(array: &'a Value, key: &str) -> Vec<&'a str> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap())
        .collect()
}

/// The `version` of every migration in a JSON array of planned migrations.
pub fn versions(migrations: &Value) -> Vec<i64> {
    migrations
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect()
}

/// The `status --json` row of one tenant and module.
pub fn status_row(status: &Value, tenant: &str, module: &str) -> Value {
    status
        .as_array()
        .expect("status --json is an array")
        .iter()
        .find(|r| r["tenant"] == tenant && r["module"] == module)
        .unwrap_or_else(|| panic!("no status row for {tenant}/{module} in {status:#}"))
        .clone()
}

/// (state, applied, pending) of one tenant and module in `status --json`.
pub fn state(status: &Value, tenant: &str, module: &str) -> (String, i64, i64) {
    let r = status_row(status, tenant, module);
    (
        r["state"].as_str().unwrap().to_string(),
        r["applied"].as_i64().unwrap(),
        r["pending"].as_i64().unwrap(),
    )
}

/// An expected (state, applied, pending), to compare with `state`.
pub fn st(state: &str, applied: i64, pending: i64) -> (String, i64, i64) {
    (state.to_string(), applied, pending)
}

/// Asserts (state, applied, pending) of each (tenant, module) in a `status --json` document.
pub fn assert_states(status: &Value, want: &[(&str, &str, (String, i64, i64))]) {
    for (tenant, module, want) in want {
        assert_eq!(state(status, tenant, module), *want, "{tenant}/{module}");
    }
}

/// Asserts that `module` is in state `want` on each of `tenants`, per `status --json`.
pub fn assert_state_on(s: &Scratch, tenants: &[&str], module: &str, want: (String, i64, i64)) {
    let status = s.estate_json(&["status", "--json"]);
    for t in tenants {
        assert_eq!(state(&status, t, module), want, "{t}");
    }
}

/// Asserts that `haystack` contains `needle`, showing the haystack if not.
pub fn assert_has(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

/// The first line of `text` that starts with `prefix`.
pub fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
}

// --- fixtures -------------------------------------------------------------------------------

/// A project on `setup` with the sample contexts and the tenants `slugs`, nothing installed.
pub fn with_tenants(setup: Setup, slugs: &[&str]) -> Scratch {
    let s = Scratch::with(setup);
    s.add_tenants(slugs);
    s
}

/// Two tenants, acme and globex (on pg1 and pg2), and nothing installed yet.
pub fn two_tenants(setup: Setup) -> Scratch {
    with_tenants(setup, &["acme", "globex"])
}

/// acme and globex, with digital_card (and so user_management) installed for acme.
pub fn digital_card_for_acme(setup: Setup) -> Scratch {
    let s = two_tenants(setup);
    s.estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(0);
    s
}

/// Writes `contexts/FOLDER/context.toml` with `name`, a title, a version, then `extra` lines.
pub fn manifest(s: &Scratch, folder: &str, name: &str, extra: &str) {
    s.write(
        &format!("contexts/{folder}/context.toml"),
        format!("name = \"{name}\"\ntitle = \"T\"\nversion = \"1.0.0\"\n{extra}"),
    );
}

/// Writes a migration file (text or bytes) of `context`'s `scope` set.
pub fn migration(s: &Scratch, context: &str, scope: &str, file: &str, sql: impl AsRef<[u8]>) {
    s.write(
        &format!("contexts/{context}/migrations/{scope}/{file}"),
        sql,
    );
}

/// Writes `NAME.up.sql`, then `NAME.down.sql`, of `context`'s `scope` set.
pub fn migration_pair(s: &Scratch, context: &str, scope: &str, name: &str, up: &str, down: &str) {
    migration(s, context, scope, &format!("{name}.up.sql"), up);
    migration(s, context, scope, &format!("{name}.down.sql"), down);
}

/// The up SQL of calendar's tenant migration 0004, which adds `events.color`.
pub const ADD_COLOR: &str = "ALTER TABLE events ADD COLUMN color VARCHAR(7);\n";

/// Writes calendar's tenant migration 0004 (`events.color`) with `up` as its up SQL.
pub fn color_migration(s: &Scratch, up: &str) {
    migration_pair(
        s,
        "calendar",
        "tenant",
        "0004_add_color_to_events",
        up,
        "ALTER TABLE events DROP COLUMN color;\n",
    );
}

/// Adds calendar's tenant migration 0004, which adds `events.color`.
pub fn add_color_migration(s: &Scratch) {
    color_migration(s, ADD_COLOR);
}

/// Makes `file` unreadable to estate: mode 000, or, for root (who reads mode-000 files), a
/// symlink to nowhere in its place, which fails to read the same way for every user.
pub fn make_unreadable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(file).is_ok() {
        std::fs::remove_file(file).unwrap();
        std::os::unix::fs::symlink(file.with_extension("gone"), file).unwrap();
    }
    assert!(
        std::fs::read(file).is_err(),
        "{} is still readable",
        file.display()
    );
}

// --- the library, as the console uses it ----------------------------------------------------

/// Opens the scratch project through the library, as the console does (the servers' password
/// variable is this process's own).
pub async fn open_project(s: &Scratch) -> estate_engine::Project {
    let config = estate_engine::config::Config::load(Some(&s.path("config/estate.toml"))).unwrap();
    estate_engine::Project::open(config).await.unwrap()
}

/// Asserts that the matrix the console reads from the registry alone (no tenant database
/// opened) says what `estate status` says from every tenant's ledger.
pub fn assert_matrix_matches_status(s: &Scratch) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let project = open_project(s).await;
        let matrix = project.matrix().await.unwrap().rows();
        let status = project.status(None).await.unwrap();
        project.close().await;
        assert_eq!(
            matrix, status,
            "the registry's matrix and the ledgers disagree"
        );
    });
}

/// A context `slow` whose tenant scope has three migrations; the second takes a while, so a
/// cancel sent when the step starts lands before the third.
pub fn slow_context(s: &Scratch) {
    s.write(
        "contexts/slow/context.toml",
        "name = \"slow\"\ntitle = \"Slow\"\nversion = \"1.0.0\"\ndescription = \"Three steps.\"\n",
    );
    let slow = "CREATE TABLE slow_two (x INTEGER);\n\
                INSERT INTO slow_two SELECT count(*) FROM (WITH RECURSIVE c(x) AS \
                (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT x FROM c) AS n;\n";
    for (name, up) in [
        ("0001_one", "CREATE TABLE slow_one (x INTEGER);\n"),
        ("0002_two", slow),
        ("0003_three", "CREATE TABLE slow_three (x INTEGER);\n"),
    ] {
        let table = format!("slow_{}", &name[5..]);
        migration_pair(
            s,
            "slow",
            "tenant",
            name,
            up,
            &format!("DROP TABLE {table};\n"),
        );
    }
}

pub fn slow_versions(db: &DbRef) -> Vec<i64> {
    if !has_table(db, "estate_ledger") {
        return Vec::new();
    }
    ledger(db)
        .into_iter()
        .filter(|(c, _, _)| c == "slow")
        .map(|(_, _, v)| v)
        .collect()
}
