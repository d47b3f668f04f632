//! What the benchmarks that run the real binary share: measuring a child (wall time and its
//! own peak memory), scratch projects, the benchmark's module and the floor scripts that run
//! its SQL by hand. Each benchmark uses its part of it.
// Each bench target compiles this file on its own and uses only some of it.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const LEDGER_DDL: &str = "CREATE TABLE IF NOT EXISTS estate_ledger (context VARCHAR(63) NOT NULL, scope VARCHAR(8) NOT NULL, version BIGINT NOT NULL, description TEXT NOT NULL, checksum CHAR(64) NOT NULL, batch BIGINT NOT NULL, applied_at VARCHAR(40) NOT NULL, execution_ms BIGINT NOT NULL, applied_by TEXT NOT NULL, PRIMARY KEY (context, scope, version));";

/// A finished child: wall time and peak memory.
pub struct Measured {
    pub wall: Duration,
    pub peak_mib: f64,
}

/// Runs `command` to the end, failing the benchmark if it fails, and reads its wall time and
/// its peak RSS (`wait4`, so it is this child's alone).
// The child is reaped by wait4, which std's `wait` cannot replace: it gives no rusage.
#[allow(clippy::zombie_processes)]
pub fn measure(command: &mut Command) -> Measured {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let stderr = child.stderr.take();
    // Drain stderr on a thread so a chatty child never blocks on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stderr {
            let _ = std::io::Read::read_to_string(&mut s, &mut text);
        }
        text
    });
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value, and wait4 only writes into the two pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(waited, pid, "wait4 on {command:?}");
    let text = reader.join().unwrap_or_default();
    let status = std::process::ExitStatus::from_raw(status);
    assert!(
        status.success(),
        "{command:?} failed ({status}):\n{}",
        tail(&text, 20)
    );
    Measured {
        wall,
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn estate_bin() -> &'static str {
    env!("CARGO_BIN_EXE_estate")
}

pub fn estate(root: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(estate_bin());
    c.args([
        "--config",
        &root.join("config/estate.toml").to_string_lossy(),
    ])
    .args(args);
    c
}

pub fn sh(script: &str) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", script]);
    c
}

pub fn require_tool(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{tool} is needed for the floors: bash bench/fleet installs it (apt-get install sqlite3 postgresql-client)"
    );
}

/// The config applies ESTATE_* overrides: none of the caller's may reach the scratch projects.
pub fn clean_environment() {
    let keys: Vec<_> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| {
            let k = k.to_string_lossy();
            k.starts_with("ESTATE_")
                && !k.starts_with("ESTATE_BENCH")
                && !k.starts_with("ESTATE_TEST")
        })
        .collect();
    for k in keys {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::remove_var(k) };
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("a folder");
    std::fs::write(path, text).expect("a file");
}

/// The benchmark's module: three tenant migrations, each a table and an index.
pub fn fleet_context(root: &Path) {
    context(root, "fleet", "", "fleet_items", |v| {
        format!(
            "CREATE TABLE fleet_items_{v} (\n    id VARCHAR(36) PRIMARY KEY,\n    label TEXT NOT NULL,\n    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\nCREATE INDEX fleet_items_{v}_label ON fleet_items_{v} (label);\n"
        )
    });
}

/// A context `name` requiring `requires` (a TOML array's items) with three tenant migrations,
/// each creating `{table}_{v}` with `up(v)` and dropping it going down.
pub fn context(root: &Path, name: &str, requires: &str, table: &str, up: impl Fn(u32) -> String) {
    write(
        &root.join(format!("contexts/{name}/context.toml")),
        &format!(
            "name = \"{name}\"\ntitle = \"{name}\"\nversion = \"1.0.0\"\ndescription = \"A benchmark module.\"\nrequires = [{requires}]\n"
        ),
    );
    let dir = root.join(format!("contexts/{name}/migrations/tenant"));
    for v in 1..=3 {
        write(
            &dir.join(format!("{v:04}_create_{table}_{v}.up.sql")),
            &up(v),
        );
        write(
            &dir.join(format!("{v:04}_create_{table}_{v}.down.sql")),
            &format!("DROP TABLE {table}_{v};\n"),
        );
    }
}

/// How many commits a floor script spends on a tenant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Commits {
    /// Each migration file in its own transaction with its ledger row, as a hand-written
    /// script would do it.
    PerMigration,
    /// Every migration of the tenant and its ledger rows in one transaction: the physical
    /// limit of a migrator that keeps a ledger.
    PerTenant,
}

/// What a plain script runs on one tenant: the migration files with their ledger rows,
/// committed as `commits` says.
pub fn floor_sql(root: &Path, commits: Commits) -> String {
    let mut sql = String::new();
    if commits == Commits::PerTenant {
        sql.push_str("BEGIN;\n");
    }
    for v in 1..=3 {
        let up = std::fs::read_to_string(root.join(format!(
            "contexts/fleet/migrations/tenant/{v:04}_create_fleet_items_{v}.up.sql"
        )))
        .expect("a migration file");
        let (begin, commit) = match commits {
            Commits::PerMigration => ("BEGIN;\n", "\nCOMMIT;"),
            Commits::PerTenant => ("", ""),
        };
        let _ = writeln!(
            sql,
            "{begin}{up}{LEDGER_DDL}\nINSERT INTO estate_ledger VALUES ('fleet', 'tenant', {v}, 'create fleet items {v}', '{:064}', 1, '2026-11-29T00:00:00.000Z', 0, 'floor');{commit}",
            0
        );
    }
    if commits == Commits::PerTenant {
        sql.push_str("COMMIT;\n");
    }
    sql
}

pub fn config(root: &Path, landlord_and_tenancy: &str) {
    write(
        &root.join("config/estate.toml"),
        &format!(
            "contexts = \"contexts\"\nlock_wait_seconds = 30\n{landlord_and_tenancy}\n[log]\ndir = \"var/log\"\nlevel = \"warn\"\n"
        ),
    );
}

pub fn slug(i: usize, width: usize) -> String {
    format!("t{i:0width$}")
}

pub fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(
        status.success(),
        "cp -a {} {}",
        from.display(),
        to.display()
    );
}

pub fn restore(pristine: &Path, var: &Path) {
    if var.exists() {
        std::fs::remove_dir_all(var).expect("var/ removed");
    }
    copy_tree(pristine, var);
}

/// SQLite's file change counter (header offset 24): one per committed write transaction.
pub fn change_counter(file: &Path) -> u32 {
    let bytes = std::fs::read(file).unwrap_or_default();
    bytes
        .get(24..28)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

pub fn commits_per_file(dir: &Path) -> f64 {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the tenants folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .collect();
    let total: u64 = files.iter().map(|f| u64::from(change_counter(f))).sum();
    total as f64 / files.len().max(1) as f64
}

/// A loop of `sqlite3` over a list of files, in `workers` parallel shells.
pub fn sqlite_floor(list: &Path, workers: usize, input: &str) -> Command {
    let split = format!(
        "split -n l/{workers} -d {} {}.part. && for p in {}.part.*; do (while read -r f; do sqlite3 \"$f\" {input} || exit 1; done < \"$p\") & done; wait",
        list.display(),
        list.display(),
        list.display()
    );
    sh(&split)
}

/// Runs `args` `runs` times: the median wall time and the highest peak memory.
pub fn timed(root: &Path, args: &[&str], runs: usize) -> (Duration, f64) {
    let mut times = Vec::new();
    let mut peak = 0f64;
    for _ in 0..runs {
        let m = measure(&mut estate(root, args));
        times.push(m.wall);
        peak = peak.max(m.peak_mib);
    }
    (median(times), peak)
}
