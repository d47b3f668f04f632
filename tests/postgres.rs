//! PostgreSQL at scale: tenants in their own database or schema and nowhere else, two estate
//! processes at once, a server going down, and no credentials anywhere.
//!
//! Needs the two local servers of `.ci/pg` (`bash .ci/pg start && eval "$(bash .ci/pg env)"`).
//! With `CI=true` a missing server fails these tests; elsewhere they say so and pass.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use common::copy_dir;
use sqlx::{Connection, PgConnection};

/// Tests take it shared; the one that stops a server takes it alone, so no other test of this
/// file sees the server vanish.
static SERVERS: RwLock<()> = RwLock::new(());
static COUNTER: Mutex<u32> = Mutex::new(0);

struct Pg {
    urls: [String; 2],
    password: String,
    ctl: String,
}

fn pg() -> Option<Pg> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let found = (|| {
        Some(Pg {
            urls: [var("ESTATE_TEST_PG1_URL")?, var("ESTATE_TEST_PG2_URL")?],
            password: var("ESTATE_TEST_PG_PASSWORD")?,
            ctl: var("ESTATE_TEST_PG_CTL")?,
        })
    })();
    match found {
        Some(pg) => Some(pg),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "PostgreSQL is required in CI: run `bash .ci/pg start` and `eval \"$(bash .ci/pg env)\"`"
            )
        }
        None => {
            eprintln!(
                "note: PostgreSQL tests not run here: ESTATE_TEST_PG* are not set (bash .ci/pg start; eval \"$(bash .ci/pg env)\")"
            );
            None
        }
    }
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Database,
    Schema,
}

struct Project {
    dir: tempfile::TempDir,
    prefix: String,
    pg: Pg,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Project {
    fn new(pg: Pg, layout: Layout, password_in_url: bool) -> Project {
        let n = {
            let mut c = COUNTER.lock().unwrap();
            *c += 1;
            *c
        };
        let prefix = format!("pgt{}_{n}", std::process::id());
        let dir = tempfile::tempdir().unwrap();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("contexts"),
            &dir.path().join("contexts"),
        );
        let tenancy = match layout {
            Layout::Database => format!("layout = \"database\"\ndatabase = \"{prefix}_{{slug}}\""),
            Layout::Schema => format!(
                "layout = \"schema\"\ndatabase = \"{prefix}_tenants\"\nschema = \"t_{{slug}}\""
            ),
        };
        let url1 = if password_in_url {
            pg.urls[0].replacen(
                "postgres://estate@",
                &format!("postgres://estate:{}@", pg.password),
                1,
            )
        } else {
            pg.urls[0].clone()
        };
        let config = format!(
            "lock_wait_seconds = 30\n[landlord]\nserver = \"pg1\"\ndatabase = \"{prefix}_landlord\"\n[tenancy]\n{tenancy}\n\
             [[servers]]\nname = \"pg1\"\nurl = \"{url1}\"\n{}\n\
             [[servers]]\nname = \"pg2\"\nurl = \"{}\"\npassword_env = \"ESTATE_TEST_PG_PASSWORD\"\n",
            if password_in_url {
                ""
            } else {
                "password_env = \"ESTATE_TEST_PG_PASSWORD\""
            },
            pg.urls[1]
        );
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::write(dir.path().join("config/estate.toml"), config).unwrap();
        Project { dir, prefix, pg }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_estate"));
        cmd.current_dir(self.dir.path())
            .args(args)
            .env("USER", "tester");
        cmd
    }

    fn estate(&self, args: &[&str]) -> Run {
        run(self.command(args).output().unwrap())
    }

    /// Every (server, database, schema, table) this project's databases hold.
    fn placement_of_tables(&self) -> BTreeSet<(String, String, String, String)> {
        let mut out = BTreeSet::new();
        for (i, server) in ["pg1", "pg2"].iter().enumerate() {
            let dbs: Vec<String> = block(async {
                let mut c = self.connect(i, "estate").await;
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT datname::text FROM pg_database WHERE datname LIKE $1 ORDER BY 1",
                )
                .bind(format!("{}\\_%", self.prefix))
                .fetch_all(&mut c)
                .await
                .unwrap();
                rows.into_iter().map(|r| r.0).collect()
            });
            for db in dbs {
                let rows: Vec<(String, String)> = block(async {
                    let mut c = self.connect(i, &db).await;
                    sqlx::query_as(
                        "SELECT table_schema::text, table_name::text FROM information_schema.tables
                         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
                    )
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
                });
                for (schema, table) in rows {
                    out.insert((server.to_string(), db.clone(), schema, table));
                }
            }
        }
        out
    }

    async fn connect(&self, server: usize, database: &str) -> PgConnection {
        let url = self.pg.urls[server].rsplit_once('/').unwrap().0.to_string();
        let url = url.replacen(
            "postgres://estate@",
            &format!("postgres://estate:{}@", self.pg.password),
            1,
        );
        PgConnection::connect(&format!("{url}/{database}"))
            .await
            .unwrap()
    }

    fn ledger(&self, server: usize, database: &str, schema: Option<&str>) -> Vec<(String, i64)> {
        block(async {
            let mut c = self.connect(server, database).await;
            if let Some(s) = schema {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path TO \"{s}\"")))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            sqlx::query_as(
                "SELECT context::text, version FROM estate_ledger ORDER BY context, version",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        })
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        for server in 0..2 {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                block(async {
                    let mut c = self.connect(server, "estate").await;
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT datname::text FROM pg_database WHERE datname LIKE $1",
                    )
                    .bind(format!("{}\\_%", self.prefix))
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_default();
                    for (db,) in rows {
                        // FORCE cannot end an autovacuum worker (it needs pg_signal_backend);
                        // a plain DROP waits for it instead.
                        for sql in [
                            format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                            format!("DROP DATABASE IF EXISTS \"{db}\""),
                        ] {
                            if sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                                .execute(&mut c)
                                .await
                                .is_ok()
                            {
                                break;
                            }
                        }
                    }
                })
            }));
        }
    }
}

fn run(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

const REGISTRY: [&str; 9] = [
    "estate_history",
    "estate_job_events",
    "estate_job_tenants",
    "estate_jobs",
    "estate_ledger",
    "estate_modules",
    "estate_tenant_modules",
    "estate_tenant_tags",
    "estate_tenants",
];

fn each_tables_only_in_its_own_place(layout: Layout) {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, layout, false);
    p.estate(&["tenants", "add", "acme", "--server", "pg1"])
        .expect(0);
    p.estate(&["tenants", "add", "globex", "--server", "pg2"])
        .expect(0);
    p.estate(&["tenants", "add", "initech", "--server", "pg1"])
        .expect(0);
    p.estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(0);
    p.estate(&["install", "billing", "--tenant", "globex"])
        .expect(0);
    let landlord = format!("{}_landlord", p.prefix);
    let mut expected = BTreeSet::new();
    for t in REGISTRY
        .iter()
        .chain(["users", "digital_card_global_config"].iter())
    {
        expected.insert((
            "pg1".to_string(),
            landlord.clone(),
            "public".to_string(),
            t.to_string(),
        ));
    }
    let tenant =
        |server: &str, slug: &str, tables: &[&str]| -> BTreeSet<(String, String, String, String)> {
            let (db, schema) = match layout {
                Layout::Database => (format!("{}_{slug}", p.prefix), "public".to_string()),
                Layout::Schema => (format!("{}_tenants", p.prefix), format!("t_{slug}")),
            };
            tables
                .iter()
                .map(|t| {
                    (
                        server.to_string(),
                        db.clone(),
                        schema.clone(),
                        t.to_string(),
                    )
                })
                .collect()
        };
    expected.extend(tenant(
        "pg1",
        "acme",
        &[
            "estate_ledger",
            "user_profiles",
            "card_templates",
            "digital_cards",
            "card_shares",
        ],
    ));
    expected.extend(tenant(
        "pg2",
        "globex",
        &["estate_ledger", "user_profiles", "invoices"],
    ));
    assert_eq!(p.placement_of_tables(), expected);
    // initech has its database (or schema) and nothing in it.
    let list = p.estate(&["tenants", "list", "--json"]).expect(0).json();
    let initech = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "initech")
        .unwrap();
    assert_eq!(initech["server"], "pg1");
    assert_eq!(initech["engine"], "postgres");
    if layout == Layout::Schema {
        assert_eq!(initech["schema"], "t_initech");
        let in_schema = block(async {
            let mut c = p.connect(0, &format!("{}_tenants", p.prefix)).await;
            let (n,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM pg_namespace WHERE nspname = 't_initech'")
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
            n
        });
        assert_eq!(in_schema, 1, "the schema is created on tenants add");
    }
    // Rolled back, a tenant's place is empty again, and the landlord keeps only what others use.
    p.estate(&[
        "rollback",
        "digital_card",
        "user_management",
        "--tenant",
        "acme",
    ])
    .expect(0);
    let after = p.placement_of_tables();
    assert!(
        after
            .iter()
            .all(|(_, _, schema, table)| !(schema == "t_acme" && table != "estate_ledger")),
        "{after:?}"
    );
    assert!(
        !after
            .iter()
            .any(|(_, _, _, t)| t == "digital_card_global_config"),
        "{after:?}"
    );
    assert!(
        after.iter().any(|(_, _, _, t)| t == "users"),
        "globex still has user_management: {after:?}"
    );
}

#[test]
fn tables_live_only_in_their_own_database() {
    each_tables_only_in_its_own_place(Layout::Database);
}

#[test]
fn tables_live_only_in_their_own_schema_and_never_in_public() {
    each_tables_only_in_its_own_place(Layout::Schema);
}

#[test]
fn two_processes_on_overlapping_tenants_apply_every_migration_once() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, Layout::Database, false);
    for (slug, server) in [("a", "pg1"), ("b", "pg2"), ("c", "pg1"), ("d", "pg2")] {
        p.estate(&["tenants", "add", slug, "--server", server])
            .expect(0);
    }
    let first = p
        .command(&["install", "calendar", "--tenant", "a,b,c"])
        .spawn_output();
    let second = p
        .command(&["install", "calendar", "--tenant", "b,c,d"])
        .spawn_output();
    let (first, second) = (first.join().unwrap(), second.join().unwrap());
    let (first, second) = (run(first), run(second));
    assert_eq!(
        (first.code, second.code),
        (0, 0),
        "first:\n{}{}\nsecond:\n{}{}",
        first.stdout,
        first.stderr,
        second.stdout,
        second.stderr
    );
    for (slug, server) in [("a", 0), ("b", 1), ("c", 0), ("d", 1)] {
        let ledger = p.ledger(server, &format!("{}_{slug}", p.prefix), None);
        let expected: Vec<(String, i64)> = [
            ("calendar", 1),
            ("calendar", 2),
            ("calendar", 3),
            ("user_management", 1),
            ("user_management", 2),
        ]
        .iter()
        .map(|(c, v)| (c.to_string(), *v))
        .collect();
        assert_eq!(ledger, expected, "tenant {slug}");
    }
    let landlord = p.ledger(0, &format!("{}_landlord", p.prefix), None);
    assert_eq!(
        landlord.iter().filter(|(c, _)| c == "calendar").count(),
        1,
        "{landlord:?}"
    );
    let status = p.estate(&["status", "--json"]).expect(0).json();
    for row in status.as_array().unwrap() {
        if row["module"] == "calendar" || row["module"] == "user_management" {
            assert_eq!(row["state"], "installed", "{row}");
        }
    }
}

trait SpawnOutput {
    fn spawn_output(&mut self) -> std::thread::JoinHandle<Output>;
}

impl SpawnOutput for Command {
    fn spawn_output(&mut self) -> std::thread::JoinHandle<Output> {
        let child = self
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::spawn(move || child.wait_with_output().unwrap())
    }
}

#[test]
fn different_schemas_of_one_database_migrate_side_by_side() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, Layout::Schema, false);
    add_nap_context(&p, 2.0);
    p.estate(&["tenants", "add", "a", "--server", "pg1"])
        .expect(0);
    p.estate(&["tenants", "add", "b", "--server", "pg1"])
        .expect(0);
    let started = Instant::now();
    let one = p
        .command(&["install", "nap", "--tenant", "a"])
        .spawn_output();
    let two = p
        .command(&["install", "nap", "--tenant", "b"])
        .spawn_output();
    let (one, two) = (run(one.join().unwrap()), run(two.join().unwrap()));
    let wall = started.elapsed();
    assert_eq!(
        (one.code, two.code),
        (0, 0),
        "{}{}\n{}{}",
        one.stdout,
        one.stderr,
        two.stdout,
        two.stderr
    );
    let history = p.estate(&["history", "nap", "--json"]).expect(0).json();
    let spans: BTreeMap<String, (String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["tenant"].as_str().unwrap().to_string(),
                (
                    h["started_at"].as_str().unwrap().to_string(),
                    h["finished_at"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let (a, b) = (&spans["a"], &spans["b"]);
    // RFC 3339 UTC strings of one format compare in time order.
    assert!(
        a.0 < b.1 && b.0 < a.1,
        "the two schemas' steps overlap in time: a {a:?}, b {b:?}"
    );
    assert!(
        a.1.as_str() >= a.0.as_str() && wall.as_secs_f64() < 3.9,
        "side by side, not one after the other: {wall:?}"
    );
    let tables = p.placement_of_tables();
    for slug in ["t_a", "t_b"] {
        assert!(
            tables.iter().any(|(_, _, s, t)| s == slug && t == "naps"),
            "{tables:?}"
        );
    }
}

/// Tenants of one shared database at work hold one connection each, and no spare: an idle
/// connection there falls behind on the others' catalog invalidations and costs the server
/// CPU to catch up.
#[test]
fn a_schema_fleet_holds_one_connection_per_tenant_at_work_and_no_spare() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, Layout::Schema, false);
    let config = std::fs::read_to_string(p.path("config/estate.toml")).unwrap();
    p.write(
        "config/estate.toml",
        &config.replacen("name = \"pg1\"\n", "name = \"pg1\"\nconcurrency = 2\n", 1),
    );
    add_nap_context(&p, 0.4);
    for slug in ["a", "b", "c", "d", "e", "f"] {
        p.estate(&["tenants", "add", slug, "--server", "pg1"])
            .expect(0);
    }
    let install = p.command(&["install", "nap", "--all"]).spawn_output();
    let database = format!("{}_tenants", p.prefix);
    let most = block(async {
        let mut c = p.connect(0, "estate").await;
        let mut most = 0;
        while !install.is_finished() {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = $1 AND application_name LIKE 'estate%'",
            )
            .bind(&database)
            .fetch_one(&mut c)
            .await
            .unwrap();
            most = most.max(n);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        most
    });
    let out = run(install.join().unwrap());
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        most, 2,
        "the tenants database had at most {most} estate connections at once, for a server concurrency of 2"
    );
}

/// `.ci/pg ACTION N` (`stop`, `start-one`) on test server N, which must succeed.
fn server_ctl(ctl: &str, action: &str, n: &str) {
    let out = Command::new("bash")
        .args([ctl, action, n])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{action} {n}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tenant migration that takes `seconds` on PostgreSQL (the engine-specific file wins there).
fn add_nap_context(p: &Project, seconds: f64) {
    p.write(
        "contexts/nap/context.toml",
        "name = \"nap\"\ntitle = \"Nap\"\nversion = \"1.0.0\"\n",
    );
    p.write(
        "contexts/nap/migrations/tenant/0001_create_naps.up.sql",
        "CREATE TABLE naps (id INTEGER);\n",
    );
    p.write(
        "contexts/nap/migrations/tenant/0001_create_naps.up.postgres.sql",
        &format!("SELECT pg_sleep({seconds});\nCREATE TABLE naps (id INTEGER);\n"),
    );
    p.write(
        "contexts/nap/migrations/tenant/0001_create_naps.down.sql",
        "DROP TABLE naps;\n",
    );
}

#[test]
fn a_server_stopped_mid_run_fails_only_its_tenants_and_migrate_finishes_them() {
    let Some(pg) = pg() else { return };
    let _alone = SERVERS.write().unwrap_or_else(|p| p.into_inner());
    let ctl = pg.ctl.clone();
    let p = Project::new(pg, Layout::Database, false);
    add_nap_context(&p, 2.0);
    p.estate(&["tenants", "add", "acme", "--server", "pg1"])
        .expect(0);
    p.estate(&["tenants", "add", "globex", "--server", "pg2"])
        .expect(0);
    // One tenant at a time, acme first: globex's turn comes after pg2 is gone.
    let job = p
        .command(&["install", "nap", "--all"])
        .env("ESTATE_CONCURRENCY", "1")
        .spawn_output();
    std::thread::sleep(std::time::Duration::from_millis(800));
    server_ctl(&ctl, "stop", "2");
    let down = run(job.join().unwrap());
    server_ctl(&ctl, "start-one", "2");
    let down = down.expect(1);
    let all = format!("{}{}", down.stdout, down.stderr);
    assert!(all.contains("failed install nap on tenant globex"), "{all}");
    assert!(
        all.contains("server pg2"),
        "the error names the server: {all}"
    );
    assert!(all.contains("install: 1 succeeded, 1 failed"), "{all}");
    assert!(!all.contains(&p.pg.password), "{all}");
    let status = p.estate(&["status", "--json"]).expect(0).json();
    let state = |t: &str| {
        status
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tenant"] == t && r["module"] == "nap")
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state("acme"), "installed");
    assert_eq!(state("globex"), "failed");
    p.estate(&["migrate"]).expect(0);
    let status = p.estate(&["status", "--json"]).expect(0).json();
    for row in status
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["module"] == "nap")
    {
        assert_eq!(row["state"], "installed", "{row}");
    }
    assert_eq!(
        p.ledger(1, &format!("{}_globex", p.prefix), None),
        vec![("nap".to_string(), 1)]
    );
}

/// A schema fleet over both servers, the second stopped partway through an install: its
/// tenants fail with an error naming it while the first server's all finish, and the run ends
/// within the stopped server's connect timeout of the stop. A rollback with the server still
/// down does the same; once it is back, `migrate` and `rollback` finish every tenant.
#[test]
fn a_fleet_over_two_servers_loses_one_partway_and_only_its_tenants_wait() {
    let Some(pg) = pg() else { return };
    let _alone = SERVERS.write().unwrap_or_else(|p| p.into_inner());
    let ctl = pg.ctl.clone();
    let p = Project::new(pg, Layout::Schema, false);
    // The last [[servers]] table of the config is pg2's.
    let config = p.path("config/estate.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}connect_timeout_seconds = 2\n")).unwrap();
    add_nap_context(&p, 0.4);
    let tenants: Vec<(String, &str)> = (1..=20)
        .map(|i| (format!("t{i:02}"), if i % 2 == 1 { "pg1" } else { "pg2" }))
        .collect();
    for (t, server) in &tenants {
        p.estate(&["tenants", "add", t, "--server", server])
            .expect(0);
    }
    let on = |server: &str| -> Vec<&str> {
        tenants
            .iter()
            .filter(|(_, s)| *s == server)
            .map(|(t, _)| t.as_str())
            .collect()
    };
    let states = |p: &Project| -> BTreeMap<String, String> {
        let status = p.estate(&["status", "--json"]).expect(0).json();
        status
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["module"] == "nap" && r["state"] != "not_installed")
            .map(|r| {
                let t = r["tenant"].as_str().unwrap().to_string();
                (t, r["state"].as_str().unwrap().to_string())
            })
            .collect()
    };
    // Two at a time, 0.4 s each: about 4 s in all, pg2 gone after 1.5.
    let job = p
        .command(&["install", "nap", "--all"])
        .env("ESTATE_CONCURRENCY", "2")
        .spawn_output();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    server_ctl(&ctl, "stop", "2");
    let stopped = Instant::now();
    let out = run(job.join().unwrap());
    let after_stop = stopped.elapsed();
    let said = format!("{}{}", out.stdout, out.stderr);
    let out = out.expect(1);
    // The 2 s connect timeout, and a tenant's 0.4 s step on pg1: generous for a busy machine,
    // far below what a retrying pool or the 30 s lock wait would take.
    assert!(
        after_stop < std::time::Duration::from_secs(12),
        "went on {after_stop:?} after the stop:\n{said}"
    );
    assert!(
        said.contains("server pg2"),
        "the error names the server: {said}"
    );
    assert!(!said.contains(&p.pg.password), "{said}");
    let after_install = states(&p);
    for t in on("pg1") {
        assert_eq!(
            after_install.get(t).map(String::as_str),
            Some("installed"),
            "{t}: {said}"
        );
    }
    let failed: Vec<&String> = after_install
        .iter()
        .filter(|(_, s)| *s != "installed")
        .map(|(t, _)| t)
        .collect();
    assert!(
        !failed.is_empty(),
        "pg2 stopped before the end: {}",
        out.stdout
    );
    assert!(
        failed.iter().all(|t| on("pg2").contains(&t.as_str())),
        "only pg2's tenants fail: {failed:?}"
    );
    let summary = format!(
        "install: {} succeeded, {} failed",
        20 - failed.len(),
        failed.len()
    );
    assert!(said.contains(&summary), "{summary}: {said}");

    // Still down: a rollback takes pg1's tenants back and fails pg2's at once.
    let started = Instant::now();
    let back = p.estate(&["rollback", "nap", "--all"]);
    let took = started.elapsed();
    let said = format!("{}{}", back.stdout, back.stderr);
    assert_eq!(back.code, 1, "{said}");
    assert!(
        took < std::time::Duration::from_secs(12),
        "{took:?}: {said}"
    );
    let after_rollback = states(&p);
    for t in on("pg1") {
        assert!(
            !after_rollback.contains_key(t),
            "{t} rolled back: {after_rollback:?}"
        );
    }
    for t in on("pg2") {
        assert!(
            after_rollback.contains_key(t),
            "{t} kept its row: {after_rollback:?}"
        );
    }

    server_ctl(&ctl, "start-one", "2");
    p.estate(&["rollback", "nap", "--all"]).expect(0);
    assert!(states(&p).is_empty(), "{:?}", states(&p));
    let naps: Vec<_> = p
        .placement_of_tables()
        .into_iter()
        .filter(|(_, _, _, table)| table == "naps")
        .collect();
    assert!(naps.is_empty(), "rolled back everywhere: {naps:?}");
    p.estate(&["install", "nap", "--all"]).expect(0);
    let all = states(&p);
    assert_eq!(all.len(), 20, "{all:?}");
    assert!(all.values().all(|s| s == "installed"), "{all:?}");
    p.estate(&["verify"]).expect(0);
}

/// The landlord's server stops in the middle of a job whose tenants are on the other
/// server: the job goes on with them, SIGTERM stops it within seconds (the landlord costs one
/// connect timeout, not one per write), and once the server is back the next estate records
/// the job interrupted, repairs the registry from the ledgers, and the same install finishes.
#[test]
fn a_landlord_stopped_mid_job_costs_seconds_and_the_next_run_repairs() {
    let Some(pg) = pg() else { return };
    let _alone = SERVERS.write().unwrap_or_else(|p| p.into_inner());
    let ctl = pg.ctl.clone();
    let p = Project::new(pg, Layout::Database, false);
    add_nap_context(&p, 1.0);
    let tenants = ["t1", "t2", "t3", "t4", "t5", "t6"];
    for t in tenants {
        p.estate(&["tenants", "add", t, "--server", "pg2"])
            .expect(0);
    }
    let mut job = p
        .command(&["install", "nap", "--all"])
        .env("ESTATE_CONCURRENCY", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    server_ctl(&ctl, "stop", "1");
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let sent_at = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &job.id().to_string()])
        .status();
    let waited = {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if job.try_wait().unwrap().is_some() || Instant::now() > deadline {
                break sent_at.elapsed();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let _ = job.kill();
    let out = job.wait_with_output().unwrap();
    server_ctl(&ctl, "start-one", "1");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("SIGTERM to exit with the landlord down: {waited:?}");
    // The boundary (a 1 s migration) and one connect timeout (5 s) at most: seconds, not the
    // minutes of pool retries. Generous for a busy machine.
    assert!(
        waited < std::time::Duration::from_secs(20),
        "took {waited:?}:\n{said}"
    );
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(!said.contains(&p.pg.password), "{said}");

    // Back up: the next run sees the job's process gone, records it interrupted, rebuilds
    // the registry from the ledgers, and finishes the install.
    p.estate(&["install", "nap", "--all"]).expect(0);
    let jobs = p.estate(&["jobs", "--json"]).expect(0).json();
    let states: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["state"].as_str().unwrap())
        .collect();
    assert!(!states.contains(&"running"), "{states:?}");
    assert!(states.contains(&"interrupted"), "{states:?}");
    for t in tenants {
        assert_eq!(
            p.ledger(1, &format!("{}_{t}", p.prefix), None),
            vec![("nap".to_string(), 1)],
            "{t}"
        );
    }
    p.estate(&["verify"]).expect(0);
}

/// Six `tenants add` at once against a landlord nobody has made yet: the landlord database,
/// the registry and each tenant's database are made once, whoever comes first, and every
/// add succeeds.
#[test]
fn concurrent_first_use_makes_the_landlord_once() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, Layout::Schema, false);
    let adds: Vec<_> = (1..=6)
        .map(|i| {
            p.command(&["tenants", "add", &format!("c{i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for add in adds {
        let out = add.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listed = p.estate(&["tenants", "list", "--json"]).expect(0).json();
    assert_eq!(listed.as_array().unwrap().len(), 6, "{listed}");
}

#[test]
fn a_lock_not_had_in_time_names_its_holder() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, Layout::Schema, false);
    add_nap_context(&p, 3.0);
    p.estate(&["tenants", "add", "acme", "--server", "pg1"])
        .expect(0);
    let first = p
        .command(&["install", "nap", "--tenant", "acme"])
        .spawn_output();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let second = run(p
        .command(&["install", "nap", "--tenant", "acme"])
        .env("ESTATE_LOCK_WAIT", "1")
        .output()
        .unwrap());
    let first = run(first.join().unwrap()).expect(0);
    let second = second.expect(1);
    let all = format!("{}{}", second.stdout, second.stderr);
    assert!(
        all.contains("tenant acme on server pg1 is locked by another estate job"),
        "{all}\n(first: {})",
        first.stdout
    );
    assert!(
        all.contains("schema t_acme"),
        "the lock is the tenant's schema: {all}"
    );
    assert!(
        all.contains("held by estate tester@"),
        "the holder is named: {all}"
    );
    assert!(all.contains(" since "), "with since when: {all}");
}

#[test]
fn no_password_in_any_output_log_or_history() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, Layout::Schema, true);
    let secret = p.pg.password.clone();
    let mut seen = String::new();
    for args in [
        vec!["tenants", "add", "acme", "--server", "pg1"],
        vec!["tenants", "add", "globex", "--server", "pg2"],
        vec!["install", "calendar", "--all"],
        vec!["install", "nope", "--all"],
        vec!["tenants", "add", "x", "--server", "pg9"],
        vec!["tenants", "list", "--json"],
        vec!["status", "--json"],
        vec!["history", "--json"],
        vec!["modules", "--json"],
        vec!["check"],
        vec!["migrate", "--dry-run", "--json"],
    ] {
        let r = p.estate(&args);
        seen.push_str(&r.stdout);
        seen.push_str(&r.stderr);
    }
    // A wrong password for pg2 fails with a message, never the password.
    let config = std::fs::read_to_string(p.path("config/estate.toml")).unwrap();
    let r = run(p
        .command(&["install", "billing", "--all"])
        .env("ESTATE_TEST_PG_PASSWORD", "wrong-password")
        .output()
        .unwrap());
    assert_ne!(r.code, 0);
    seen.push_str(&r.stdout);
    seen.push_str(&r.stderr);
    assert!(
        config.contains(&secret),
        "the test puts the password in pg1's URL"
    );
    for entry in std::fs::read_dir(p.path("var/log")).unwrap() {
        seen.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let history = block(async {
        let mut c = p.connect(0, &format!("{}_landlord", p.prefix)).await;
        let rows: Vec<(Option<String>,)> = sqlx::query_as("SELECT error FROM estate_history")
            .fetch_all(&mut c)
            .await
            .unwrap();
        rows.into_iter()
            .filter_map(|r| r.0)
            .collect::<Vec<_>>()
            .join("\n")
    });
    seen.push_str(&history);
    assert!(seen.contains("acme"), "the outputs were captured");
    assert!(!seen.contains(&secret), "the password leaked:\n{seen}");
    assert!(
        !seen.contains("wrong-password"),
        "a password leaked:\n{seen}"
    );
    assert!(!seen.contains("postgres://"), "a URL leaked:\n{seen}");
}

#[test]
fn a_missing_schema_is_refused_never_replaced_by_public() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, Layout::Schema, false);
    p.estate(&["tenants", "add", "acme", "--server", "pg1"])
        .expect(0);
    let tenants = format!("{}_tenants", p.prefix);
    block(async {
        let mut c = p.connect(0, &tenants).await;
        sqlx::raw_sql("DROP SCHEMA t_acme")
            .execute(&mut c)
            .await
            .unwrap();
    });
    let r = p
        .estate(&["install", "billing", "--tenant", "acme"])
        .expect(2);
    assert!(r.stderr.contains("schema t_acme"), "{}", r.stderr);
    assert!(
        r.stderr.contains("does not exist on server pg1"),
        "{}",
        r.stderr
    );
    let leaked: Vec<_> = p
        .placement_of_tables()
        .into_iter()
        .filter(|(_, db, _, _)| db == &tenants)
        .collect();
    assert!(
        leaked.is_empty(),
        "nothing may land anywhere else: {leaked:?}"
    );
}

/// A schema-layout project with tenant acme on pg1 and context `name`, its migrations to write.
fn acme_with_context(pg: Pg, name: &str) -> Project {
    let p = Project::new(pg, Layout::Schema, false);
    p.estate(&["tenants", "add", "acme", "--server", "pg1"])
        .expect(0);
    p.write(
        &format!("contexts/{name}/context.toml"),
        &format!("name = \"{name}\"\ntitle = \"{name}\"\nversion = \"1.0.0\"\n"),
    );
    p
}

/// A schema-layout project with tenant acme, then `others`, migrated one tenant at a time in
/// that order (`concurrency = 1`), and context `name` of the tenant migrations `migrations`:
/// (file stem, up SQL, down SQL).
fn one_tenant_at_a_time(
    pg: Pg,
    name: &str,
    others: &[&str],
    migrations: &[(&str, &str, &str)],
) -> Project {
    let p = acme_with_context(pg, name);
    for t in others {
        p.estate(&["tenants", "add", t, "--server", "pg1"])
            .expect(0);
    }
    let config = std::fs::read_to_string(p.path("config/estate.toml")).unwrap();
    p.write("config/estate.toml", &format!("concurrency = 1\n{config}"));
    for (stem, up, down) in migrations {
        let dir = format!("contexts/{name}/migrations/tenant");
        p.write(&format!("{dir}/{stem}.up.sql"), up);
        p.write(&format!("{dir}/{stem}.down.sql"), down);
    }
    p
}

/// On a server a migration's ledger row rides in the migration's own round trip, its values
/// quoted into the SQL: a description with quotes and backslashes, after a script that ends in
/// a comment with no newline, lands as written, and a rollback erases it the same way.
#[test]
fn a_hostile_description_reaches_the_ledger_as_written() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = acme_with_context(pg, "odd");
    let stem = r"0001_o'brien\says_');_DROP_TABLE_odd;_--";
    p.write(
        &format!("contexts/odd/migrations/tenant/{stem}.up.sql"),
        "CREATE TABLE odd (id INTEGER) -- no newline, no semicolon",
    );
    p.write(
        &format!("contexts/odd/migrations/tenant/{stem}.down.sql"),
        "DROP TABLE odd",
    );
    p.estate(&["install", "odd", "--tenant", "acme"]).expect(0);
    let tenants = format!("{}_tenants", p.prefix);
    let ledger = || {
        block(async {
            let mut c = p.connect(0, &tenants).await;
            sqlx::query_as::<_, (String, bool, bool)>(
                "SELECT description, execution_ms >= 0, to_regclass('t_acme.odd') IS NOT NULL
                 FROM t_acme.estate_ledger WHERE context = 'odd'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        })
    };
    assert_eq!(
        ledger(),
        vec![(
            r"o'brien\says '); DROP TABLE odd; --".to_string(),
            true,
            true
        )]
    );
    p.estate(&["verify"]).expect(0);
    p.estate(&["rollback", "odd", "--tenant", "acme"]).expect(0);
    assert_eq!(ledger(), vec![]);
}

/// PostgreSQL parses a whole round trip before running any of it: a syntax error in a step's
/// second migration must undo that migration alone, never the first one (whose savepoint a
/// rollback would go back to, were the second's set in the failing round trip).
#[test]
fn a_syntax_error_in_a_later_migration_keeps_the_earlier_ones() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = acme_with_context(pg, "pair");
    let dir = "contexts/pair/migrations/tenant";
    p.write(
        &format!("{dir}/0001_first.up.sql"),
        "CREATE TABLE first_t (id INTEGER);\n",
    );
    p.write(
        &format!("{dir}/0001_first.down.sql"),
        "DROP TABLE first_t;\n",
    );
    p.write(
        &format!("{dir}/0002_second.up.sql"),
        "CREATE TABLE second_t (id INTEGER;\n",
    );
    p.write(
        &format!("{dir}/0002_second.down.sql"),
        "DROP TABLE second_t;\n",
    );
    let r = p.estate(&["install", "pair", "--tenant", "acme"]).expect(1);
    assert!(
        r.stdout.contains("0002") || r.stderr.contains("0002"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let tenants = format!("{}_tenants", p.prefix);
    let state = || {
        block(async {
            let mut c = p.connect(0, &tenants).await;
            sqlx::query_as::<_, (Vec<i64>, bool, bool)>(
                "SELECT (SELECT array_agg(version ORDER BY version) FROM t_acme.estate_ledger
                         WHERE context = 'pair'),
                        to_regclass('t_acme.first_t') IS NOT NULL,
                        to_regclass('t_acme.second_t') IS NOT NULL",
            )
            .fetch_one(&mut c)
            .await
            .unwrap()
        })
    };
    assert_eq!(state(), (vec![1], true, false));
    // The registry agrees with the ledger: the next run applies the second migration only.
    p.estate(&["verify"]).expect(0);
    p.write(
        &format!("{dir}/0002_second.up.sql"),
        "CREATE TABLE second_t (id INTEGER);\n",
    );
    p.estate(&["migrate", "--all"]).expect(0);
    assert_eq!(state(), (vec![1, 2], true, true));
}

/// On a server a step whose migrations a job has seen run quickly goes in one round trip; when
/// something in it fails, all of it is undone and the migrations run again one by one, so the
/// tenant ends as without the batch: the migrations before the failing one applied and
/// recorded, the failing one and those after it not.
#[test]
fn a_batched_step_that_fails_keeps_the_migrations_before_the_failure() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    // One tenant after the other, acme first: acme's step teaches the job that they are quick.
    let p = one_tenant_at_a_time(
        pg,
        "trio",
        &["zeta"],
        &[
            (
                "0001_create_trio_one",
                "CREATE TABLE trio_one (id INTEGER);\n",
                "DROP TABLE trio_one;\n",
            ),
            (
                "0002_create_trio_two",
                "CREATE TABLE trio_two (id INTEGER);\n",
                "DROP TABLE trio_two;\n",
            ),
            (
                "0003_create_trio_three",
                "CREATE TABLE trio_three (id INTEGER);\n",
                "DROP TABLE trio_three;\n",
            ),
        ],
    );
    let tenants = format!("{}_tenants", p.prefix);
    let sql = |q: &str| {
        block(async {
            let mut c = p.connect(0, &tenants).await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_string()))
                .execute(&mut c)
                .await
                .unwrap();
        })
    };
    // zeta's second migration will fail: its table is there already.
    sql("CREATE TABLE t_zeta.trio_two (id INTEGER)");
    let r = p.estate(&["install", "trio", "--all"]).expect(1);
    let versions = |schema: &str| {
        block(async {
            let mut c = p.connect(0, &tenants).await;
            sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
                "SELECT version FROM {schema}.estate_ledger WHERE context = 'trio' ORDER BY version"
            )))
            .fetch_all(&mut c)
            .await
            .unwrap()
            .into_iter()
            .map(|(v,)| v)
            .collect::<Vec<_>>()
        })
    };
    assert_eq!(versions("t_acme"), [1, 2, 3]);
    assert_eq!(versions("t_zeta"), [1], "{}{}", r.stdout, r.stderr);
    let tables = block(async {
        let mut c = p.connect(0, &tenants).await;
        sqlx::query_as::<_, (bool, bool)>(
            "SELECT to_regclass('t_zeta.trio_one') IS NOT NULL,
                    to_regclass('t_zeta.trio_three') IS NOT NULL",
        )
        .fetch_one(&mut c)
        .await
        .unwrap()
    });
    assert_eq!(tables, (true, false), "0001 kept, 0003 never ran");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("0002_create_trio_two"),
        "the failing migration is named: {all}"
    );
    // The batch was tried on zeta (and undone), not merely skipped.
    let log = std::fs::read_dir(p.path("var/log"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect::<String>();
    assert!(
        log.contains("failed together; running them one by one"),
        "the step went in one round trip first"
    );
    // Fixed, the same command finishes zeta.
    sql("DROP TABLE t_zeta.trio_two");
    p.estate(&["install", "trio", "--all"]).expect(0);
    assert_eq!(versions("t_zeta"), [1, 2, 3]);
}

/// The key of a tenant schema's advisory lock, as estate computes it.
fn schema_lock_key(p: &Project, schema: &str) -> i64 {
    use sha2::Digest;
    let digest =
        sha2::Sha256::digest(format!("estate:pg1/{}_tenants/{schema}", p.prefix).as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// A tenant whose lock another session holds for a moment is waited for, and the connection
/// whose quick try at the lock timed out goes back to the pool clean: the tenants after it,
/// on the same connections, install as usual.
#[test]
fn a_tenant_locked_for_a_moment_is_waited_for_and_the_next_ones_install() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = one_tenant_at_a_time(
        pg,
        "solo",
        &["bravo", "charlie", "delta"],
        &[(
            "0001_create_solo",
            "CREATE TABLE solo (id INTEGER);\n",
            "DROP TABLE solo;\n",
        )],
    );
    let tenants = format!("{}_tenants", p.prefix);
    let key = schema_lock_key(&p, "t_acme");
    let (held, hold) = std::sync::mpsc::channel();
    let r = std::thread::scope(|s| {
        let holder = s.spawn(|| {
            block(async {
                let mut c = p.connect(0, &tenants).await;
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(key)
                    .execute(&mut c)
                    .await
                    .unwrap();
                held.send(()).unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut c)
                    .await
                    .unwrap();
            })
        });
        hold.recv().unwrap();
        let started = Instant::now();
        let r = p.estate(&["install", "solo", "--all"]);
        holder.join().unwrap();
        (r, started.elapsed())
    });
    let (r, took) = r;
    let r = r.expect(0);
    assert!(r.stdout.contains("4 succeeded"), "{}{}", r.stdout, r.stderr);
    assert!(took.as_millis() >= 1000, "acme was waited for: {took:?}");
    let installed = block(async {
        let mut c = p.connect(0, &tenants).await;
        let mut n = 0;
        for t in ["acme", "bravo", "charlie", "delta"] {
            let (found,): (bool,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT to_regclass('t_{t}.solo') IS NOT NULL"
            )))
            .fetch_one(&mut c)
            .await
            .unwrap();
            n += usize::from(found);
        }
        n
    });
    assert_eq!(installed, 4);
}

/// An interrupt (a job told to stop, its grace over) stops a step sent in one round trip whole:
/// nothing of it stays and nothing of it runs again, however quick its migrations were on the
/// tenant before.
#[test]
fn an_interrupted_batch_is_undone_whole_and_not_run_again() {
    use std::io::Read;
    use std::process::Stdio;
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    // 0001 is quick on acme; on zeta it waits for a lock the test holds.
    let p = one_tenant_at_a_time(
        pg,
        "pair",
        &["zeta"],
        &[
            (
                "0001_one",
                "CREATE TABLE pair_one (id INTEGER);\nSELECT pg_advisory_xact_lock(777, hashtext(current_schema()));\n",
                "DROP TABLE pair_one;\n",
            ),
            (
                "0002_two",
                "CREATE TABLE pair_two (id INTEGER);\n",
                "DROP TABLE pair_two;\n",
            ),
        ],
    );
    let tenants = format!("{}_tenants", p.prefix);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut holder = rt.block_on(p.connect(0, &tenants));
    rt.block_on(
        sqlx::query("SELECT pg_advisory_lock(777, hashtext('t_zeta'))").execute(&mut holder),
    )
    .unwrap();
    let mut child = p
        .command(&["install", "pair", "--all"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let sent = Instant::now();
    // SAFETY: kill only sends a signal, to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut ended = None;
    while sent.elapsed() < std::time::Duration::from_secs(15) {
        if let Some(status) = child.try_wait().unwrap() {
            ended = Some(status);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    rt.block_on(
        sqlx::query("SELECT pg_advisory_unlock(777, hashtext('t_zeta'))").execute(&mut holder),
    )
    .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(ended.is_some(), "ended within 15 s of the signal: {err}");
    assert!(!status.success(), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let zeta: (bool, bool) = rt
        .block_on(
            sqlx::query_as(
                "SELECT to_regclass('t_zeta.pair_one') IS NOT NULL,
                        to_regclass('t_zeta.estate_ledger') IS NOT NULL",
            )
            .fetch_one(&mut holder),
        )
        .unwrap();
    assert_eq!(zeta, (false, false), "nothing of zeta's step stays: {err}");
    let acme: (bool, bool) = rt
        .block_on(
            sqlx::query_as(
                "SELECT to_regclass('t_acme.pair_one') IS NOT NULL, to_regclass('t_acme.pair_two') IS NOT NULL",
            )
            .fetch_one(&mut holder),
        )
        .unwrap();
    assert_eq!(acme, (true, true), "acme's step committed before: {err}");
}

/// A tenant found without estate's tables at its opening begins its first step assuming so, and
/// the assumption is checked under the lock in the transaction's first round trip: a ledger
/// made since (another job's) is seen, nothing is begun, and the connection goes back clean for
/// the step to begin as usual and read it. A tenant still fresh gets its transaction pinned to
/// its schema, with the savepoint its first migration rolls back to.
#[test]
fn a_ledger_made_after_a_tenant_was_opened_is_seen_under_the_lock() {
    use estate_engine::config::Config;
    use estate_engine::sql::Engine;
    use estate_engine::tenancy::Placement;
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    let p = Project::new(pg, Layout::Schema, false);
    for t in ["acme", "bravo"] {
        p.estate(&["tenants", "add", t, "--server", "pg1"])
            .expect(0);
    }
    let tenants = format!("{}_tenants", p.prefix);
    let wait = std::time::Duration::from_secs(5);
    block(async {
        let config = Config::load(Some(&p.path("config/estate.toml"))).unwrap();
        let open = |slug: &'static str| {
            let placement = Placement {
                engine: Engine::Postgres,
                server: Some("pg1".to_string()),
                location: tenants.clone(),
                schema: Some(format!("t_{slug}")),
            };
            let config = &config;
            async move { placement.open(config, slug).await.unwrap() }
        };
        let (acme, bravo) = (open("acme").await, open("bravo").await);
        let mut c = p.connect(0, &tenants).await;
        sqlx::raw_sql("CREATE TABLE t_acme.estate_ledger (id INTEGER)")
            .execute(&mut c)
            .await
            .unwrap();
        acme.lock_transactions(wait).await.unwrap();
        bravo.lock_transactions(wait).await.unwrap();
        assert!(
            acme.begin_assuming_fresh().await.unwrap().is_none(),
            "the ledger made after the opening is seen"
        );
        // The failed assumption left nothing open: acme begins as usual on the same pool.
        acme.begin().await.unwrap().rollback().await.unwrap();
        let mut tx = bravo
            .begin_assuming_fresh()
            .await
            .unwrap()
            .expect("bravo has none of estate's tables");
        tx.execute_script("CREATE TABLE undone (id INTEGER)")
            .await
            .unwrap();
        tx.rollback_to_savepoint().await.unwrap();
        tx.execute_script("CREATE TABLE kept (id INTEGER)")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            bravo.begin_assuming_fresh().await.unwrap().is_none(),
            "assumed once, by the first transaction"
        );
        let (kept, undone): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT to_regclass('t_bravo.kept')::text, to_regclass('t_bravo.undone')::text",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(kept.as_deref(), Some("t_bravo.kept"));
        assert_eq!(undone, None, "undone to the savepoint");
    });
}

/// A batched step's commit rides in the batch's round trip. When the commit itself fails (a
/// deferred constraint, checked only then), none of the step stays, the tenant is failed
/// naming the constraint, and the connection goes back clean: the next tenant, on the same one
/// connection, installs.
#[test]
fn a_batched_step_whose_commit_fails_keeps_nothing_and_the_next_tenant_installs() {
    let Some(pg) = pg() else { return };
    let _shared = SERVERS.read().unwrap_or_else(|p| p.into_inner());
    // acme's step teaches the job the migrations are quick; bravo's goes in one round trip.
    let p = one_tenant_at_a_time(
        pg,
        "deferred",
        &["bravo", "charlie"],
        &[
            (
                "0001_create_deferred",
                "CREATE TABLE deferred_parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE deferred_child (parent INTEGER
                     REFERENCES deferred_parent DEFERRABLE INITIALLY DEFERRED);\n",
                "DROP TABLE deferred_child;\nDROP TABLE deferred_parent;\n",
            ),
            (
                "0002_orphan_on_bravo",
                "INSERT INTO deferred_child SELECT 1 WHERE current_schema() = 't_bravo';\n",
                "DELETE FROM deferred_child;\n",
            ),
        ],
    );
    let r = p.estate(&["install", "deferred", "--all"]).expect(1);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("2 succeeded, 1 failed"), "{all}");
    assert!(
        all.contains("deferred_child"),
        "the constraint is named: {all}"
    );
    let tenants = format!("{}_tenants", p.prefix);
    let found = |schema: &str| {
        block(async {
            let mut c = p.connect(0, &tenants).await;
            let (table, ledger): (bool, bool) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT to_regclass('{schema}.deferred_parent') IS NOT NULL,
                        to_regclass('{schema}.estate_ledger') IS NOT NULL"
            )))
            .fetch_one(&mut c)
            .await
            .unwrap();
            let rows = if ledger {
                sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
                    "SELECT count(*) FROM {schema}.estate_ledger WHERE context = 'deferred'"
                )))
                .fetch_one(&mut c)
                .await
                .unwrap()
                .0
            } else {
                0
            };
            (table, rows)
        })
    };
    assert_eq!(found("t_acme"), (true, 2));
    assert_eq!(found("t_bravo"), (false, 0), "none of bravo's step stays");
    assert_eq!(found("t_charlie"), (true, 2));
    let log = std::fs::read_dir(p.path("var/log"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect::<String>();
    assert!(
        log.contains("the transaction ended with the failed migrations"),
        "bravo's step went in one round trip, its commit with it"
    );
}
