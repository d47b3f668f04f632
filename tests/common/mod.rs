//! Shared test fixture: a scratch estate project in a temporary folder, with its own config
//! and a copy of the sample contexts, driven through the real `estate` binary.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

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

fn copy_dir(from: &Path, to: &Path) {
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

impl Scratch {
    /// A project with the sample contexts and the embedded-default config.
    pub fn new() -> Scratch {
        let s = Scratch::empty();
        copy_dir(&repo_contexts(), &s.path("contexts"));
        s
    }

    /// A project with an empty contexts folder.
    pub fn empty() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("contexts")).unwrap();
        std::fs::write(
            dir.path().join("config/estate.toml"),
            "contexts = \"contexts\"\n[landlord]\npath = \"var/landlord.db\"\n[tenants]\npath = \"var/tenants/{slug}.db\"\n",
        )
        .unwrap();
        Scratch { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
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

    /// Runs `estate ARGS` as `estate` does, with the variables `env` set as well.
    pub fn estate_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::cargo_bin("estate").unwrap();
        cmd.current_dir(self.root())
            .args(args)
            .env("USER", "tester")
            .envs(env.iter().copied());
        for (k, _) in std::env::vars() {
            if k.starts_with("ESTATE_") {
                cmd.env_remove(k);
            }
        }
        Run::from(cmd.output().unwrap())
    }

    /// Runs `estate tenants add SLUG` for each slug in turn, expecting success.
    pub fn add_tenants(&self, slugs: &[&str]) {
        for t in slugs {
            self.estate(&["tenants", "add", t]).expect(0);
        }
    }

    pub fn landlord(&self) -> PathBuf {
        self.path("var/landlord.db")
    }

    pub fn tenant_db(&self, slug: &str) -> PathBuf {
        self.path(&format!("var/tenants/{slug}.db"))
    }

    /// Every file under var/ (but the logs and lock files) with its bytes, to compare states.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    if name != "log" {
                        walk(&p, out);
                    }
                } else if !name.ends_with(".lock") {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.path("var"), &mut out);
        out
    }
}

/// Runs `fut` to completion on a fresh single-threaded runtime.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

/// Opens a SQLite file in `mode` (`ro` or `rw`).
async fn connect(db: &Path, mode: &str) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode={mode}", db.display());
    sqlx::SqliteConnection::connect(&url).await.unwrap()
}

/// Runs one query on a SQLite file and returns the rows, every column as text.
pub fn query(db: &Path, sql: &str) -> Vec<Vec<String>> {
    use sqlx::{Connection, Row};
    block_on(async {
        let mut conn = connect(db, "ro").await;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let out = rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
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
                    })
                    .collect()
            })
            .collect();
        conn.close().await.unwrap();
        out
    })
}

/// Runs SQL on a SQLite file with a read-write connection (`query` is read-only).
pub fn exec(db: &Path, sql: &str) {
    use sqlx::Connection;
    block_on(async {
        let mut conn = connect(db, "rw").await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
}

/// The first column of every row a query returns, as text.
pub fn first_column(db: &Path, sql: &str) -> Vec<String> {
    query(db, sql)
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect()
}

/// The user tables of a SQLite file, sorted.
pub fn tables(db: &Path) -> Vec<String> {
    first_column(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
}

/// Whether a SQLite file has the user table `table`.
pub fn has_table(db: &Path, table: &str) -> bool {
    tables(db).iter().any(|t| t == table)
}

/// The column names of `table`, in order.
pub fn columns(db: &Path, table: &str) -> Vec<String> {
    first_column(
        db,
        &format!("SELECT name FROM pragma_table_info('{table}')"),
    )
}

/// Whether `table` has the column `column`.
pub fn has_column(db: &Path, table: &str, column: &str) -> bool {
    columns(db, table).iter().any(|c| c == column)
}

/// Whether calendar's `events` table has the `color` column of migration 0004.
pub fn has_color(db: &Path) -> bool {
    has_column(db, "events", "color")
}

/// (context, scope, version, batch) of every ledger row of a database, in the order written.
pub fn ledger_batches(db: &Path) -> Vec<(String, String, i64, i64)> {
    query(
        db,
        "SELECT context, scope, version, batch FROM estate_ledger ORDER BY rowid",
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
pub fn ledger(db: &Path) -> Vec<(String, String, i64)> {
    ledger_batches(db)
        .into_iter()
        .map(|(context, scope, version, _)| (context, scope, version))
        .collect()
}

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

/// A project with the sample contexts and the tenants `slugs`, nothing installed.
pub fn with_tenants(slugs: &[&str]) -> Scratch {
    let s = Scratch::new();
    s.add_tenants(slugs);
    s
}

/// Two tenants, acme and globex, and nothing installed yet.
pub fn two_tenants() -> Scratch {
    with_tenants(&["acme", "globex"])
}

/// acme and globex, with digital_card (and so user_management) installed for acme.
pub fn digital_card_for_acme() -> Scratch {
    let s = two_tenants();
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
