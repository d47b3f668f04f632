//! PostgreSQL fleets at size: 2,000 schemas (one shared database on each of the two test
//! servers, 1,000 schemas each) and 500 databases (250 a server), the landlord on the first.
//!
//! For each fleet it prints the wall time and peak memory of `install fleet --all` and
//! `rollback fleet --all`, then runs each again with the second server stopped halfway
//! (`.ci/pg stop 2`): how many tenants finished and failed, how long the run went on after
//! the stop (against the server's connect timeout), that the failures name the stopped
//! server, and the `migrate` / `rollback` that finishes the work once the server is back.
//!
//! ```sh
//! bash bench/pg-scale                    # starts the servers of .ci/pg, then this
//! ESTATE_BENCH_SCHEMAS=400 ESTATE_BENCH_DATABASES=100 cargo bench --bench pg_scale
//! ```

mod support;

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;

use support::{clean_environment, estate, fleet_context, measure, require_tool, sh, slug, write};

const SCHEMAS: usize = 2_000;
const DATABASES: usize = 500;
/// The servers' connect timeout in the benchmark's config: a stopped server must cost no more.
const CONNECT_TIMEOUT_SECONDS: u64 = 5;
const PREFIX: &str = "estate_bps";

/// The two servers of `.ci/pg` and how to stop and start the second.
struct Servers {
    urls: [String; 2],
    password: String,
    ctl: String,
}

impl Servers {
    fn from_env() -> Servers {
        let var = |k: &str| {
            std::env::var(k).unwrap_or_else(|_| {
                panic!("{k} is not set: bash .ci/pg start && eval \"$(bash .ci/pg env)\"")
            })
        };
        Servers {
            urls: [var("ESTATE_TEST_PG1_URL"), var("ESTATE_TEST_PG2_URL")],
            password: var("ESTATE_TEST_PG_PASSWORD"),
            ctl: var("ESTATE_TEST_PG_CTL"),
        }
    }

    /// Runs `sql` on `database` of server `n` (1 or 2) with psql, failing the benchmark if
    /// it fails.
    fn run(&self, n: usize, database: &str, sql: &str) {
        let url = PgConnectOptions::from_str(&self.urls[n - 1]).expect("a server URL");
        let mut c = sh(&format!(
            "psql -X -q -v ON_ERROR_STOP=1 -h {} -p {} -U {} -d {database} -f - > /dev/null <<'SQL'\n{sql}\nSQL",
            url.get_host(),
            url.get_port(),
            url.get_username(),
        ));
        c.env("PGPASSWORD", &self.password);
        measure(&mut c);
    }

    fn ctl(&self, action: &str, n: usize) {
        let out = Command::new("bash")
            .args([&self.ctl, action, &n.to_string()])
            .output()
            .expect(".ci/pg");
        assert!(
            out.status.success(),
            ".ci/pg {action} {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Drops the benchmark's databases on both servers.
    fn clean(&self) {
        for n in 1..=2 {
            self.run(
                n,
                "estate",
                &format!(
                    "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE);', datname) FROM pg_database WHERE datname LIKE '{PREFIX}%' \\gexec"
                ),
            );
        }
    }
}

/// One fleet: its layout's config lines, the CSV columns that place a tenant, and what
/// makes a tenant's database or schema on its server.
struct Fleet {
    name: &'static str,
    tenants: usize,
    tenancy: String,
    /// The CSV column after `slug,server` and its value for a slug.
    column: &'static str,
    place: fn(&str) -> String,
    /// The SQL that makes one tenant's place, and the database it runs in.
    make: fn(&str) -> (String, String),
}

/// One printed line.
struct Figure {
    what: String,
    seconds: f64,
    peak_mib: Option<f64>,
    note: String,
}

fn main() {
    clean_environment();
    require_tool("psql");
    let servers = Servers::from_env();
    let schemas = env_number("ESTATE_BENCH_SCHEMAS").unwrap_or(SCHEMAS);
    let databases = env_number("ESTATE_BENCH_DATABASES").unwrap_or(DATABASES);
    let fleets = [
        Fleet {
            name: "schemas",
            tenants: schemas,
            tenancy: format!(
                "layout = \"schema\"\ndatabase = \"{PREFIX}_tenants\"\nschema = \"tenant_{{slug}}\""
            ),
            column: "schema",
            place: |s| format!("tenant_{s}"),
            make: |s| {
                (
                    format!("{PREFIX}_tenants"),
                    format!("CREATE SCHEMA tenant_{s};"),
                )
            },
        },
        Fleet {
            name: "databases",
            tenants: databases,
            tenancy: format!("layout = \"database\"\ndatabase = \"{PREFIX}_{{slug}}\""),
            column: "database",
            place: |s| format!("{PREFIX}_{s}"),
            make: |s| {
                (
                    "estate".to_string(),
                    format!("CREATE DATABASE {PREFIX}_{s};"),
                )
            },
        },
    ];
    let mut figures = Vec::new();
    for fleet in &fleets {
        figures.extend(run_fleet(&servers, fleet));
    }
    servers.clean();
    print!("{}", report(&figures));
}

fn env_number(key: &str) -> Option<usize> {
    std::env::var(key).ok().and_then(|s| s.parse().ok())
}

/// Server of the `i`th tenant: every other one on each.
fn server_of(i: usize) -> usize {
    1 + i % 2
}

fn run_fleet(servers: &Servers, fleet: &Fleet) -> Vec<Figure> {
    servers.clean();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    write(
        &root.join("config/estate.toml"),
        &format!(
            "contexts = \"contexts\"\nlock_wait_seconds = 30\n[landlord]\nserver = \"pg1\"\ndatabase = \"{PREFIX}_landlord\"\n[tenancy]\n{}\n[log]\ndir = \"var/log\"\nlevel = \"warn\"\n{}{}",
            fleet.tenancy,
            server_block(servers, 1),
            server_block(servers, 2),
        ),
    );
    fleet_context(root);
    // The registry first: tenant places found without a landlord look like a lost registry.
    measure(&mut estate_pg(servers, root, &["init"]));
    let n = fleet.tenants;
    // The places, made outside estate (as another tool would), then imported in one go.
    let started = Instant::now();
    let mut sql: [std::collections::BTreeMap<String, String>; 2] = Default::default();
    let mut csv = format!("slug,server,{}\n", fleet.column);
    for i in 1..=n {
        let s = slug(i, 5);
        let (database, make) = (fleet.make)(&s);
        let on = server_of(i);
        sql[on - 1].entry(database).or_default().push_str(&make);
        let _ = writeln!(csv, "{s},pg{on},{}", (fleet.place)(&s));
    }
    if fleet.name == "schemas" {
        for n in 1..=2 {
            servers.run(n, "estate", &format!("CREATE DATABASE {PREFIX}_tenants;"));
        }
    }
    for (on, by_database) in sql.iter().enumerate() {
        for (database, text) in by_database {
            servers.run(on + 1, database, text);
        }
    }
    write(&root.join("tenants.csv"), &csv);
    let file = root.join("tenants.csv");
    let imported = measure(&mut estate_pg(
        servers,
        root,
        &["tenants", "import", &file.to_string_lossy()],
    ));
    eprintln!(
        "{}: {n} made and imported in {:.1} s (import {:.2} s)",
        fleet.name,
        started.elapsed().as_secs_f64(),
        imported.wall.as_secs_f64()
    );
    let mut out = Vec::new();
    let mut timed = |what: &str, args: &[&str]| {
        let m = measure(&mut estate_pg(servers, root, args));
        out.push(Figure {
            what: format!("{n} {}: `{what}`", fleet.name),
            seconds: m.wall.as_secs_f64(),
            peak_mib: Some(m.peak_mib),
            note: String::new(),
        });
        eprintln!("{}: {what} {:.2} s", fleet.name, m.wall.as_secs_f64());
        m.wall
    };
    let install = timed("install fleet --all", &["install", "fleet", "--all"]);
    let rollback = timed("rollback fleet --all", &["rollback", "fleet", "--all"]);
    for (action, whole, finish) in [
        ("install", install, &["migrate"][..]),
        ("rollback", rollback, &["rollback", "fleet", "--all"][..]),
    ] {
        let stopped = stopped_halfway(servers, root, action, whole);
        out.push(Figure {
            what: format!(
                "{n} {}: `{action} fleet --all`, pg2 stopped halfway",
                fleet.name
            ),
            seconds: stopped.wall.as_secs_f64(),
            peak_mib: None,
            note: stopped.note,
        });
        servers.ctl("start-one", 2);
        let m = measure(&mut estate_pg(servers, root, finish));
        out.push(Figure {
            what: format!(
                "{n} {}: `{}` once pg2 is back",
                fleet.name,
                finish.join(" ")
            ),
            seconds: m.wall.as_secs_f64(),
            peak_mib: Some(m.peak_mib),
            note: String::new(),
        });
    }
    out
}

fn server_block(servers: &Servers, n: usize) -> String {
    format!(
        "[[servers]]\nname = \"pg{n}\"\nurl = \"{}\"\npassword_env = \"ESTATE_BENCH_PG_PASSWORD\"\nconnect_timeout_seconds = {CONNECT_TIMEOUT_SECONDS}\n",
        servers.urls[n - 1]
    )
}

fn estate_pg(servers: &Servers, root: &Path, args: &[&str]) -> Command {
    let mut c = estate(root, args);
    c.env("ESTATE_BENCH_PG_PASSWORD", &servers.password);
    c
}

/// A run with pg2 stopped halfway through it.
struct Stopped {
    wall: Duration,
    note: String,
}

/// Runs `action fleet --all` (install or rollback, which took `whole` with both servers up)
/// and stops pg2 when half that time has gone. Checks that the run ends with exit 1, that
/// each failure names pg2, and says how many finished and how long the run went on after
/// the stop.
fn stopped_halfway(servers: &Servers, root: &Path, action: &str, whole: Duration) -> Stopped {
    let started = Instant::now();
    let mut child = estate_pg(servers, root, &[action, "fleet", "--all"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("estate");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    std::thread::sleep(whole / 2);
    servers.ctl("stop", 2);
    let stopped_at = started.elapsed();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait().expect("estate");
    let wall = started.elapsed();
    let stdout = reader.join().unwrap_or_default();
    if status.code() == Some(0) {
        // A fleet this small was done before the server went.
        return Stopped {
            wall,
            note: "finished before pg2 stopped: a larger fleet is needed".to_string(),
        };
    }
    assert_eq!(
        status.code(),
        Some(1),
        "{action} with pg2 stopped: {stdout}\n{stderr}"
    );
    let summary = stdout
        .lines()
        .chain(stderr.lines())
        .find(|l| l.starts_with(&format!("{action}: ")))
        .unwrap_or_else(|| panic!("no summary line: {stdout}\n{stderr}"));
    // "install: 88 succeeded, 12 failed, 0 skipped; 264 migrations (job …)": the counts.
    let summary = summary.split(';').next().unwrap_or(summary).to_string();
    assert!(
        stdout.contains("server pg2") || stderr.contains("server pg2"),
        "the failures name the stopped server: {stdout}\n{stderr}"
    );
    let after = wall.saturating_sub(stopped_at).as_secs_f64();
    eprintln!("{action} with pg2 stopped: {summary}; ended {after:.1} s after the stop");
    Stopped {
        wall,
        note: format!(
            "{summary}; ended {after:.1} s after the stop (connect timeout {CONNECT_TIMEOUT_SECONDS} s)"
        ),
    }
}

fn report(figures: &[Figure]) -> String {
    let mut out = String::from(
        "\nPostgreSQL fleets at size (two servers, tenants alternating; one run each)\n\n",
    );
    let _ = writeln!(out, "{:<66} {:>9} {:>9}  note", "", "wall", "peak");
    for f in figures {
        let peak = f
            .peak_mib
            .map_or("-".to_string(), |p| format!("{p:.0} MiB"));
        let _ = writeln!(
            out,
            "{:<66} {:>7.2} s {:>9}  {}",
            f.what, f.seconds, peak, f.note
        );
    }
    out
}
