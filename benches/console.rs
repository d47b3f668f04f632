//! Benchmark of the console (ratatui) on a big registry: time to first frame (project open,
//! snapshot load, first draw), time per frame while scrolling the Matrix and the Tenants
//! views (a key press and a redraw at 120×40 on ratatui's test backend), the History view's
//! first and last page (asked of the registry, counted, drawn), and peak memory.
//!
//! It measures a baseline registry of 100 tenants × 20 modules and then 10,000 × 20 (or the
//! sizes `ESTATE_BENCH_TENANTS` lists), in the same run, each in a child process of its own
//! (so peak memory is that size's alone), and prints them with the ratio of each to the
//! baseline for each figure, and the time to first frame against its goal at 10,000 (150 ms)
//! and 100,000 (500 ms):
//!
//! ```sh
//! cargo bench --bench console
//! ESTATE_BENCH_TENANTS=10000,100000 cargo bench --bench console   # other big sizes
//! ESTATE_BENCH_KEEP=1 ESTATE_BENCH_TENANTS=100000 cargo bench --bench console  # keeps them
//! ESTATE_BENCH_RUNS=5 cargo bench --bench console   # each figure the median of 5 runs (3)
//! ```
//!
//! With `ESTATE_BENCH_KEEP` set, each scratch project is kept (its folder printed) for
//! profiling: `estate --config FOLDER/config/estate.toml console`, or `perf` on the child.
//!
//! The registry is seeded straight into `var/landlord.db` (tenants, their modules with
//! `applied_version` set, jobs and one history row per installation); no tenant database
//! exists, and none is opened. Drawing goes to a test backend: the cost of the terminal
//! writing escape sequences is not included.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use estate::tui::{App, Snapshot, Tab, draw};
use estate_engine::Project;
use estate_engine::config::Config;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

const BASELINE_TENANTS: usize = 100;
const BIG_TENANTS: usize = 10_000;
const MODULES: usize = 20;
/// Tenant migrations per module.
const MIGRATIONS: i64 = 3;
/// Installations per job in the seeded history: one job per module per this many tenants.
const TENANTS_PER_JOB: usize = 1_000;
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// Key presses measured per view, each followed by a draw, after a warm-up.
const PRESSES: usize = 2_000;
const WARMUP: usize = 100;

/// Set (to the project root) in a child process: measure that project and print the figures.
const CHILD_ROOT: &str = "ESTATE_BENCH_ROOT";
/// The big size, if not 10,000.
const BIG_ENV: &str = "ESTATE_BENCH_TENANTS";

fn main() {
    if let Some(root) = std::env::var_os(CHILD_ROOT) {
        let tenants = std::env::var("ESTATE_BENCH_SIZE")
            .ok()
            .and_then(|s| s.parse().ok())
            .expect("ESTATE_BENCH_SIZE is set with ESTATE_BENCH_ROOT");
        measure(Path::new(&root), tenants);
        return;
    }
    let keep = std::env::var_os("ESTATE_BENCH_KEEP").is_some();
    // The config applies ESTATE_* overrides: none of the caller's may reach the scratch
    // projects (the children inherit this cleaned environment).
    let overrides: Vec<_> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| {
            let k = k.to_string_lossy();
            k.starts_with("ESTATE_") && k != BIG_ENV
        })
        .collect();
    for k in overrides {
        // SAFETY: single-threaded still: no runtime nor any other thread exists yet.
        unsafe { std::env::remove_var(k) };
    }
    // The big sizes: `ESTATE_BENCH_TENANTS=10000,100000` measures both beside the baseline.
    let big: Vec<usize> = std::env::var(BIG_ENV)
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or(vec![BIG_TENANTS]);
    let sizes: Vec<usize> = std::iter::once(BASELINE_TENANTS).chain(big).collect();
    let child_runs = child_runs();
    let mut runs = Vec::new();
    for &tenants in &sizes {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let started = Instant::now();
        let seeded = seed(dir.path(), tenants);
        eprintln!(
            "seeded {tenants} tenants × {MODULES} modules in {:.1} s: {} installations ({} outdated, {} failed), {} jobs, {} history rows",
            started.elapsed().as_secs_f64(),
            seeded.installations,
            seeded.outdated,
            seeded.failed,
            seeded.jobs,
            seeded.installations,
        );
        // The seed's writes reach the disk before anything is timed: the kernel's writeback of
        // a gigabyte is not the console's doing.
        let _ = Command::new("sync").status();
        runs.push(median_of(
            (0..child_runs)
                .map(|_| run_child(dir.path(), tenants))
                .collect(),
        ));
        if keep {
            eprintln!("kept: {}", dir.keep().display());
        }
    }
    print!("{}", report(&sizes, &runs));
}

// --- the scratch project ---------------------------------------------------------------------

struct Seeded {
    installations: usize,
    outdated: usize,
    failed: usize,
    jobs: usize,
}

/// One installed module of one tenant, as seeded.
struct Install {
    tenant: usize,
    module: usize,
    /// The highest tenant migration applied.
    applied: i64,
    failed: bool,
}

/// splitmix64: a fixed, well spread mix of a tenant and a module, so every run seeds alike.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn module_name(m: usize) -> String {
    format!("m{:02}", m + 1)
}

fn slug(t: usize) -> String {
    format!("t{t:05}")
}

/// `m01` is installed everywhere (the others require it); each other module for about half
/// the tenants, of which about 10% have one migration pending and 2% failed.
fn installs(tenants: usize) -> Vec<Install> {
    let mut out = Vec::new();
    for t in 0..tenants {
        for m in 0..MODULES {
            let h = mix(((t as u64) << 8) | m as u64);
            if m != 0 && h % 100 >= 50 {
                continue;
            }
            let roll = (h >> 16) % 100;
            let (applied, failed) = match roll {
                0..2 => (MIGRATIONS - 1, true),
                2..12 => (MIGRATIONS - 1, false),
                _ => (MIGRATIONS, false),
            };
            out.push(Install {
                tenant: t,
                module: m,
                applied,
                failed,
            });
        }
    }
    out
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("a folder");
    std::fs::write(path, text).expect("a file");
}

/// Lays out a SQLite project in `root` (the repository's config, contexts `m01`..`m20` with
/// three tenant migrations each), lets estate create the registry, then fills it.
fn seed(root: &Path, tenants: usize) -> Seeded {
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/estate.toml"))
            .expect("config/estate.toml of the repository");
    write(&root.join("config/estate.toml"), &config);
    for m in 0..MODULES {
        let name = module_name(m);
        let requires = if m == 0 { "" } else { "\"m01\"" };
        write(
            &root.join(format!("contexts/{name}/context.toml")),
            &format!(
                "name = \"{name}\"\ntitle = \"Module {}\"\nversion = \"1.0.0\"\ndescription = \"Benchmark module {}.\"\nrequires = [{requires}]\n",
                m + 1,
                m + 1
            ),
        );
        for v in 1..=MIGRATIONS {
            let dir = root.join(format!("contexts/{name}/migrations/tenant"));
            let table = format!("{name}_items_{v}");
            write(
                &dir.join(format!("{v:04}_create_{table}.up.sql")),
                &format!(
                    "CREATE TABLE {table} (\n    id VARCHAR(36) PRIMARY KEY,\n    label TEXT NOT NULL,\n    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n"
                ),
            );
            write(
                &dir.join(format!("{v:04}_create_{table}.down.sql")),
                &format!("DROP TABLE {table};\n"),
            );
        }
    }

    let runtime = runtime();
    runtime.block_on(async {
        // estate creates var/landlord.db, its schema and the catalog rows.
        let config = Config::load(Some(&root.join("config/estate.toml"))).expect("the config");
        let project = Project::create(config).await.expect("the registry created");
        assert!(
            project.catalog().problems.is_empty(),
            "the generated contexts have problems: {:?}",
            project.catalog().problems
        );
        project.close().await;
        fill(root, tenants).await
    })
}

/// Inserts the tenants, their modules, the jobs and the history in one transaction.
async fn fill(root: &Path, tenants: usize) -> Seeded {
    let landlord = root.join("var/landlord.db");
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", landlord.display()))
        .expect("sqlite options")
        .foreign_keys(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .expect("the landlord database");
    let mut tx = conn.begin().await.expect("a transaction");
    const CREATED: &str = "2026-11-25T10:00:00.000Z";

    for t in 0..tenants {
        let slug = slug(t);
        sqlx::query(
            "INSERT INTO estate_tenants (slug, name, engine, location, created_at, server, schema_name)
             VALUES ($1, $2, 'sqlite', $3, $4, NULL, NULL)",
        )
        .bind(&slug)
        .bind(format!("Tenant {t}"))
        .bind(format!("var/tenants/{slug}.db"))
        .bind(CREATED)
        .execute(&mut *tx)
        .await
        .expect("a tenant row");
    }

    let installs = installs(tenants);
    // One job per module per block of tenants, as `estate install MODULE --all` would make.
    let chunks = tenants.div_ceil(TENANTS_PER_JOB);
    let job_of = |i: &Install| (i.tenant / TENANTS_PER_JOB) * MODULES + i.module;
    let mut counts = vec![(0i64, 0i64); chunks * MODULES];
    for i in &installs {
        let c = &mut counts[job_of(i)];
        c.0 += 1;
        c.1 += i64::from(i.failed);
    }
    // Minutes after 10:00 on the seed day.
    let at = |minutes: usize| {
        format!(
            "2026-11-{:02}T{:02}:{:02}:00.000Z",
            25 + minutes / 1440,
            (10 + minutes / 60) % 24,
            minutes % 60
        )
    };
    let job_id = |j: usize| format!("20261125T{j:09}-beef");
    let mut jobs = 0;
    for (j, (n, failed)) in counts.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        jobs += 1;
        sqlx::query(
            "INSERT INTO estate_jobs (id, action, modules, tenants, steps, operator, ssh_client,
               started_at, finished_at, state, failed, skipped)
             VALUES ($1, 'install', $2, $3, $3, 'bench', NULL, $4, $5, $6, $7, 0)",
        )
        .bind(job_id(j))
        .bind(module_name(j % MODULES))
        .bind(n)
        .bind(at(j))
        .bind(at(j + 1))
        .bind(if *failed > 0 { "failed" } else { "succeeded" })
        .bind(failed)
        .execute(&mut *tx)
        .await
        .expect("a job row");
    }

    let mut outdated = 0;
    let mut failed = 0;
    for i in &installs {
        let (state, error) = if i.failed {
            failed += 1;
            ("failed", Some("no such table: m01_items_1"))
        } else {
            outdated += usize::from(i.applied < MIGRATIONS);
            ("installed", None)
        };
        let slug = slug(i.tenant);
        let module = module_name(i.module);
        let j = job_of(i);
        sqlx::query(
            "INSERT INTO estate_tenant_modules (tenant, module, state, module_version, installed_at,
               updated_at, error, applied_version)
             VALUES ($1, $2, $3, '1.0.0', $4, $4, $5, $6)",
        )
        .bind(&slug)
        .bind(&module)
        .bind(state)
        .bind(at(j))
        .bind(error)
        .bind(i.applied)
        .execute(&mut *tx)
        .await
        .expect("a tenant module row");
        let migrations: Vec<String> = (1..=i.applied + i64::from(i.failed))
            .map(|v| v.to_string())
            .collect();
        sqlx::query(
            "INSERT INTO estate_history (job_id, tenant, module, scope, action, operator, ssh_client,
               started_at, finished_at, duration_ms, migrations, outcome, error)
             VALUES ($1, $2, $3, 'tenant', 'install', 'bench', NULL, $4, $4, 12, $5, $6, $7)",
        )
        .bind(job_id(j))
        .bind(&slug)
        .bind(&module)
        .bind(at(j))
        .bind(migrations.join(","))
        .bind(if i.failed { "failed" } else { "succeeded" })
        .bind(error)
        .execute(&mut *tx)
        .await
        .expect("a history row");
    }
    tx.commit().await.expect("the seed committed");
    conn.close().await.expect("the landlord closed");
    Seeded {
        installations: installs.len(),
        outdated,
        failed,
        jobs,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn open(root: &Path) -> Project {
    let config = Config::load(Some(&root.join("config/estate.toml"))).expect("the config");
    Project::open(config).await.expect("the project opens")
}

// --- one size, in a child process ------------------------------------------------------------

/// Runs this benchmark again on `root`, and reads back the figures it prints.
fn run_child(root: &Path, tenants: usize) -> BTreeMap<String, f64> {
    let exe: PathBuf = std::env::current_exe().expect("the benchmark's own path");
    let out = Command::new(exe)
        .env(CHILD_ROOT, root)
        .env("ESTATE_BENCH_SIZE", tenants.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the benchmark runs itself");
    assert!(
        out.status.success(),
        "measuring {tenants} tenants failed: {}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// How many times each size is measured (`ESTATE_BENCH_RUNS`, 3 by default).
fn child_runs() -> usize {
    std::env::var("ESTATE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1)
}

/// Each figure's median over the runs of one size (peak memory too: a run's own).
fn median_of(runs: Vec<BTreeMap<String, f64>>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for key in runs
        .first()
        .map(|r| r.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let mut v: Vec<f64> = runs.iter().filter_map(|r| r.get(&key).copied()).collect();
        v.sort_by(f64::total_cmp);
        if let Some(m) = v.get(v.len() / 2) {
            out.insert(key, *m);
        }
    }
    out
}

/// A line of /proc/self/status, in MiB (Linux; 0 elsewhere).
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU time of the whole process (every thread, user and system), in ms: a figure a busy
/// machine disturbs less than the wall clock.
fn cpu_ms() -> f64 {
    // SAFETY: getrusage writes the one struct handed to it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage of ours.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// A fixed mix of scrolling keys: mostly j, then k, pages, columns, top and bottom.
fn scroll_keys(n: usize, columns: bool, seed: u64) -> Vec<KeyEvent> {
    (0..n)
        .map(|i| {
            let roll = mix(seed ^ i as u64) % 100;
            match roll {
                0..40 => key(KeyCode::Char('j')),
                40..55 => key(KeyCode::Char('k')),
                55..70 => ctrl('d'),
                70..75 => ctrl('u'),
                75..85 if columns => key(KeyCode::Char('l')),
                85..90 if columns => key(KeyCode::Char('h')),
                75..90 => key(KeyCode::Char('j')),
                90..95 => key(KeyCode::Char('G')),
                _ => key(KeyCode::Char('g')),
            }
        })
        .collect()
}

/// Presses each key and redraws, timing both together; the warm-up keys are not timed.
fn frames(app: &mut App, terminal: &mut Terminal<TestBackend>, keys: &[KeyEvent]) -> Vec<Duration> {
    let mut times = Vec::with_capacity(keys.len());
    for (n, k) in keys.iter().enumerate() {
        let started = Instant::now();
        app.on_key(*k);
        terminal.draw(|f| draw(f, app)).expect("a frame");
        if n >= WARMUP {
            times.push(started.elapsed());
        }
    }
    times
}

/// mean, p50, p99, max in µs.
fn spread(mut times: Vec<Duration>) -> [f64; 4] {
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| us(times[((times.len() - 1) as f64 * q).round() as usize]);
    let mean = times.iter().map(|d| us(*d)).sum::<f64>() / times.len() as f64;
    [mean, at(0.5), at(0.99), us(*times.last().expect("frames"))]
}

/// Measures the project at `root` and prints `name value` lines for the parent.
fn measure(root: &Path, tenants: usize) {
    let runtime = runtime();
    let rss_before = status_mib("VmRSS");

    let started = Instant::now();
    let project = runtime.block_on(open(root));
    let open_ms = ms(started.elapsed());

    let started = Instant::now();
    let cpu_before = cpu_ms();
    let snapshot = runtime
        .block_on(Snapshot::load(&project))
        .expect("the snapshot loads");
    let load_ms = ms(started.elapsed());
    let load_cpu_ms = cpu_ms() - cpu_before;
    assert_eq!(snapshot.tenants().len(), tenants, "tenants in the snapshot");
    assert_eq!(
        snapshot.matrix.modules.len(),
        MODULES,
        "modules in the snapshot"
    );
    let cells: [u32; 3] = snapshot
        .counts
        .iter()
        .fold([0; 3], |a, c| [a[0] + c[0], a[1] + c[1], a[2] + c[2]]);

    // What the console does with its first snapshot: the state, then the opening view.
    let started = Instant::now();
    let mut app = App::new(snapshot, false);
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("a terminal");
    terminal.draw(|f| draw(f, &app)).expect("the first frame");
    let first_ms = ms(started.elapsed());

    let started = Instant::now();
    app.on_key(key(KeyCode::Char('3')));
    terminal
        .draw(|f| draw(f, &app))
        .expect("the Matrix's first frame");
    let to_matrix_us = started.elapsed().as_secs_f64() * 1e6;
    assert_eq!(app.tab, Tab::Matrix);
    let matrix = spread(frames(
        &mut app,
        &mut terminal,
        &scroll_keys(WARMUP + PRESSES, true, 0x4d41_5452),
    ));
    app.on_key(key(KeyCode::Char('2')));
    assert_eq!(app.tab, Tab::Tenants);
    let tenants_view = spread(frames(
        &mut app,
        &mut terminal,
        &scroll_keys(WARMUP + PRESSES, false, 0x5445_4e41),
    ));
    // History: a page asked of the registry (its rows and the total), then drawn; the first
    // when the view is shown, the last with G.
    let mut history_ms = Vec::new();
    for press in ['5', 'G'] {
        let started = Instant::now();
        app.on_key(key(KeyCode::Char(press)));
        for effect in app.take_effects() {
            for msg in runtime.block_on(estate::tui::settle(&project, effect)) {
                app.on_msg(msg);
            }
        }
        terminal.draw(|f| draw(f, &app)).expect("a History frame");
        history_ms.push(ms(started.elapsed()));
    }
    assert_eq!(
        app.views.history.page().total,
        cells.iter().sum::<u32>() as i64,
        "history rows: one per installation"
    );
    let peak = status_mib("VmHWM");
    runtime.block_on(project.close());

    let mut out = String::new();
    let mut put = |k: &str, v: f64| writeln!(out, "{k} {v}").expect("a line");
    put("open_ms", open_ms);
    put("load_ms", load_ms);
    put("load_cpu_ms", load_cpu_ms);
    put("first_ms", first_ms);
    put("ttff_ms", open_ms + load_ms + first_ms);
    put("to_matrix_us", to_matrix_us);
    put("history_first_ms", history_ms[0]);
    put("history_last_ms", history_ms[1]);
    for (name, s) in [("matrix", matrix), ("tenants", tenants_view)] {
        for (stat, v) in ["mean", "p50", "p99", "max"].iter().zip(s) {
            put(&format!("{name}_{stat}_us"), v);
        }
    }
    put("rss_before_mib", rss_before);
    put("peak_mib", peak);
    put("installed_cells", f64::from(cells[0]));
    put("outdated_cells", f64::from(cells[1]));
    put("failed_cells", f64::from(cells[2]));
    print!("{out}");
}

// --- the table -------------------------------------------------------------------------------

/// The goal of the time to first frame at a size, where the fleet's issue set one.
fn first_frame_goal(tenants: usize) -> Option<f64> {
    match tenants {
        10_000 => Some(150.0),
        100_000 => Some(500.0),
        _ => None,
    }
}

fn report(sizes: &[usize], runs: &[BTreeMap<String, f64>]) -> String {
    let rows: &[(&str, &str, usize)] = &[
        ("project open (ms)", "open_ms", 1),
        ("snapshot load (ms)", "load_ms", 1),
        ("snapshot load, CPU of all threads (ms)", "load_cpu_ms", 1),
        ("first draw: App::new + draw (ms)", "first_ms", 2),
        ("time to first frame (ms)", "ttff_ms", 1),
        ("switch to Matrix: key + draw (µs)", "to_matrix_us", 1),
        ("matrix frame mean (µs)", "matrix_mean_us", 1),
        ("matrix frame p50 (µs)", "matrix_p50_us", 1),
        ("matrix frame p99 (µs)", "matrix_p99_us", 1),
        ("matrix frame max (µs)", "matrix_max_us", 1),
        ("tenants frame mean (µs)", "tenants_mean_us", 1),
        ("tenants frame p50 (µs)", "tenants_p50_us", 1),
        ("tenants frame p99 (µs)", "tenants_p99_us", 1),
        ("tenants frame max (µs)", "tenants_max_us", 1),
        ("History first page: ask + draw (ms)", "history_first_ms", 1),
        ("History last page (G) (ms)", "history_last_ms", 1),
        ("RSS before open (MiB)", "rss_before_mib", 1),
        ("peak memory, VmHWM (MiB)", "peak_mib", 1),
    ];
    let mut out = String::new();
    let title = format!("console benchmark (tenants × {MODULES} modules, {WIDTH}×{HEIGHT})");
    let _ = write!(out, "\n{title:<40}");
    for size in sizes {
        let _ = write!(out, "{size:>12}");
    }
    for _ in &sizes[1..] {
        let _ = write!(out, "{:>10}", format!("/{}", sizes[0]));
    }
    let _ = writeln!(out);
    for (label, k, decimals) in rows {
        let base = runs[0].get(*k).copied().unwrap_or(f64::NAN);
        let _ = write!(out, "{label:<40}");
        for run in runs {
            let v = run.get(*k).copied().unwrap_or(f64::NAN);
            let _ = write!(out, "{v:>12.decimals$}");
        }
        for run in &runs[1..] {
            let v = run.get(*k).copied().unwrap_or(f64::NAN);
            let _ = write!(out, "{:>9.2}×", v / base);
        }
        let _ = writeln!(out);
    }
    for (size, run) in sizes.iter().zip(runs) {
        if let Some(goal) = first_frame_goal(*size) {
            let ttff = run.get("ttff_ms").copied().unwrap_or(f64::NAN);
            let met = if ttff <= goal { "met" } else { "NOT met" };
            let _ = writeln!(
                out,
                "time to first frame at {size} × {MODULES}: {ttff:.1} ms, goal {goal:.0} ms ({met})"
            );
        }
    }
    let cells = |r: &BTreeMap<String, f64>| {
        format!(
            "{} installed, {} outdated, {} failed",
            r.get("installed_cells").copied().unwrap_or(0.0),
            r.get("outdated_cells").copied().unwrap_or(0.0),
            r.get("failed_cells").copied().unwrap_or(0.0)
        )
    };
    let _ = writeln!(
        out,
        "frames: {PRESSES} key presses per view (j k ctrl-d ctrl-u l h G g), each with a redraw, after {WARMUP} untimed; each figure the median of {} runs, a process each (ESTATE_BENCH_RUNS)",
        child_runs()
    );
    for (size, run) in sizes.iter().zip(runs) {
        let _ = writeln!(out, "cells at {size}: {}", cells(run));
    }
    out
}
