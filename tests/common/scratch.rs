//! A scratch estate project in a temporary folder: its own config (per [`Setup`]), a copy of
//! the sample contexts, and where its landlord and tenants' databases are. Every PostgreSQL
//! database it makes is named with a prefix of its own, so tests running side by side never
//! share one, and is dropped with the project.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use sqlx::{ConnectOptions, Connection};

use super::db::{DbRef, block_on, exec, pg_ref, quote};
use super::dump::{content, pg_dump};
use super::postgres::{PG_PASSWORD_ENV, PG_REQUIRED, PgEnv, checkin, checkout, drop_pg_database};
use super::postgres::{drop_pg_databases, forget_idle, pg, pg_databases, pg_options};
use super::setups::Setup;

pub fn repo_contexts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contexts")
}

/// The example `name`, built (once per test binary) with the profile of the tests: `cargo
/// test` builds examples too, but `cargo test --test X` does not.
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_estate")).parent().unwrap();
    if !built.iter().any(|b| b == name) {
        let release = bin_dir.ends_with("release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut build = std::process::Command::new(cargo);
        build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--quiet", "--example", name]);
        if release {
            build.arg("--release");
        }
        let out = build.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo build --example {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        built.push(name.to_string());
    }
    bin_dir.join("examples").join(name)
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
pub(super) struct PgScratch {
    pub(super) env: &'static PgEnv,
    prefix: String,
}

pub struct Scratch {
    pub dir: tempfile::TempDir,
    /// The project's root (where config/ is), inside `dir`: `dir` itself, but for the
    /// embedded example's project.
    root: PathBuf,
    /// The binary its commands run: `estate`, or the embedded example.
    program: PathBuf,
    pub setup: Setup,
    pub(super) pg: Option<PgScratch>,
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
            root: dir.path().to_path_buf(),
            program: PathBuf::from(env!("CARGO_BIN_EXE_estate")),
            dir,
            setup,
            pg,
            placements: Mutex::new(BTreeMap::new()),
        }
    }

    /// The embedded example's project (examples/embedded: its config, and its contexts beside
    /// the sample ones it reads from two folders up), run with the example's binary.
    pub fn embedded() -> Scratch {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo_contexts(), &dir.path().join("contexts"));
        let root = dir.path().join("examples/embedded");
        for folder in ["config", "contexts"] {
            copy_dir(
                &repo.join("examples/embedded").join(folder),
                &root.join(folder),
            );
        }
        Scratch {
            root,
            program: example_binary("embedded"),
            dir,
            setup: Setup::Sqlite,
            pg: None,
            placements: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The binary this project's commands run.
    pub fn program(&self) -> &Path {
        &self.program
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
            DbRef::Postgres { .. } => self.drop_database(&db),
        }
    }

    /// Removes the landlord database behind estate's back (its file, or its PostgreSQL
    /// database), as an operator's mistake or a config pointing elsewhere would.
    pub fn remove_landlord(&self) {
        match self.landlord() {
            DbRef::Sqlite(path) => std::fs::remove_file(path).unwrap(),
            db => self.drop_database(&db),
        }
    }

    /// Drops a PostgreSQL database of this project, the test's idle connections to it first.
    fn drop_database(&self, db: &DbRef) {
        let DbRef::Postgres {
            url,
            password,
            database,
            ..
        } = db
        else {
            panic!("{db} is no PostgreSQL database");
        };
        block_on(async {
            forget_idle(&self.pg().prefix).await;
            let mut conn = pg_options(url, password, None)
                .unwrap()
                .connect()
                .await
                .unwrap();
            drop_pg_database(&mut conn, database).await.unwrap();
            let _ = conn.close().await;
        })
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
        let mut out = BTreeMap::new();
        walk(self.root(), &self.path("var"), false, &mut out);
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

impl Scratch {
    /// Every file under var/ with its bytes, the logs and lock files too: what a command that
    /// must leave no trace at all may not change.
    pub fn var_files(&self) -> Snapshot {
        let mut out = BTreeMap::new();
        walk(self.root(), &self.path("var"), true, &mut out);
        out
    }
}

/// The files under `dir`, keyed by their path from `root`; without `all`, the log folder and
/// lock files left out.
fn walk(root: &Path, dir: &Path, all: bool, out: &mut Snapshot) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if all || name != "log" {
                walk(root, &p, all, out);
            }
        } else if all || !name.ends_with(".lock") {
            let key = p.strip_prefix(root).unwrap().display().to_string();
            out.insert(key, std::fs::read(&p).unwrap());
        }
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
