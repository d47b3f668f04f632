//! The 100,000-tenant benchmark: what an operator runs on a fleet that size, each figure
//! printed against its goal.
//!
//! - **Registry figures** on 100,000 SQLite tenants with the benchmark's module installed
//!   everywhere: a no-op `migrate --all` (goal 1 s), `status --json` (1 s), the dry-run plan
//!   of installing a second module on all of them (2 s), and the peak memory of each
//!   (128 MiB). One tenant is provisioned and installed by estate; the registry rows of the
//!   99,999 others are copies of its rows (same applied version and digest). Their
//!   databases do not exist while `migrate` and `status` are measured (one that opened a
//!   database would fail the benchmark); the plan, which checks that each exists, finds them
//!   as empty files.
//! - **An install over 20,000 tenant files** (empty SQLite files, registered with
//!   `tenants import`), against the physical limit on the same files: a script that runs the
//!   same SQL with every migration of a tenant and its ledger rows in one transaction, two
//!   workers at once (goal: estate at most 1.0× that floor).
//!
//! The console's first frame at 100,000 × 20 and 10,000 × 20 is measured by the console
//! benchmark; `bash bench/scale` runs both.
//!
//! ```sh
//! bash bench/scale                     # installs sqlite3, runs this and the console's sizes
//! cargo bench --bench scale            # this alone
//! ESTATE_BENCH_RUNS=5 ESTATE_BENCH_TENANTS=50000 cargo bench --bench scale
//! ```

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use support::{
    Commits, clean_environment, config, copy_tree, estate, fleet_context, floor_sql, measure,
    median, require_tool, restore, sh, slug, sqlite_floor, timed, write,
};

const TENANTS: usize = 100_000;
const INSTALL_FILES: usize = 20_000;
/// The goals of the issue this benchmark answers.
const GOAL_COMMAND: Duration = Duration::from_secs(1);
const GOAL_PLAN: Duration = Duration::from_secs(2);
const GOAL_MIB: f64 = 128.0;

const SQLITE: &str = "[landlord]\npath = \"var/landlord.db\"\n[tenancy]\nlayout = \"sqlite\"\npath = \"var/tenants/{slug}.db\"";

/// One printed figure and its goal.
struct Figure {
    what: String,
    seconds: f64,
    goal_seconds: f64,
    peak_mib: f64,
    note: String,
}

fn main() {
    clean_environment();
    for tool in ["sqlite3", "sh", "split"] {
        require_tool(tool);
    }
    let runs: usize = env_number("ESTATE_BENCH_RUNS").unwrap_or(3).max(1);
    let tenants = env_number("ESTATE_BENCH_TENANTS").unwrap_or(TENANTS);
    let files = env_number("ESTATE_BENCH_FILES").unwrap_or(INSTALL_FILES);
    let mut figures = registry_figures(tenants, runs);
    figures.push(install_over_files(files, runs));
    print!("{}", report(&figures, runs));
}

fn env_number(key: &str) -> Option<usize> {
    std::env::var(key).ok().and_then(|s| s.parse().ok())
}

/// A second module for the plan: three tenant migrations of its own.
fn extra_context(root: &Path) {
    support::context(root, "extra", "\"fleet\"", "extra", |v| {
        format!("CREATE TABLE extra_{v} (id INTEGER PRIMARY KEY);\n")
    });
}

fn registry_figures(tenants: usize, runs: usize) -> Vec<Figure> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    config(root, SQLITE);
    fleet_context(root);
    extra_context(root);
    let first = slug(1, 6);
    measure(&mut estate(root, &["tenants", "add", &first]));
    measure(&mut estate(root, &["install", "fleet", "--tenant", &first]));
    // The others: the first tenant's rows, copied. Generated in SQL so that seeding 100,000
    // rows takes a second, in one transaction.
    let seed = format!(
        "BEGIN;
         WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < {tenants})
         INSERT INTO estate_tenants (slug, name, engine, location, created_at, server, schema_name)
         SELECT printf('t%06d', i), printf('t%06d', i), engine, printf('var/tenants/t%06d.db', i),
                created_at, server, schema_name
         FROM n, estate_tenants WHERE slug = '{first}';
         INSERT INTO estate_tenant_modules (tenant, module, state, module_version, installed_at,
                updated_at, error, applied_version, applied_digest)
         SELECT t.slug, m.module, m.state, m.module_version, m.installed_at, m.updated_at,
                m.error, m.applied_version, m.applied_digest
         FROM estate_tenants t, estate_tenant_modules m
         WHERE t.slug <> '{first}' AND m.tenant = '{first}';
         COMMIT;"
    );
    let landlord = root.join("var/landlord.db");
    let mut seeding = sh(&format!("sqlite3 {} \"$SQL\"", landlord.display()));
    seeding.env("SQL", seed);
    let seeded = measure(&mut seeding);
    eprintln!(
        "registry: {tenants} tenants seeded in {:.1} s",
        seeded.wall.as_secs_f64()
    );
    let n = tenants;
    let mut out = Vec::new();
    for (what, args, goal) in [
        (
            format!("no-op `migrate --all`, {n} tenants"),
            &["migrate", "--all"][..],
            GOAL_COMMAND,
        ),
        (
            format!("`status --json`, {n} tenants"),
            &["status", "--json"][..],
            GOAL_COMMAND,
        ),
        (
            format!("plan of `install extra --all`, {n} tenants"),
            &["install", "extra", "--all", "--dry-run"][..],
            GOAL_PLAN,
        ),
    ] {
        if args[0] == "install" {
            // A plan checks that each tenant's database exists (one stat each, never an
            // open): the files are made now, empty, after the commands that must not care.
            for i in 2..=tenants {
                write(&root.join(format!("var/tenants/{}.db", slug(i, 6))), "");
            }
        }
        let (wall, peak) = timed(root, args, runs);
        eprintln!("{what}: {:.3} s, {peak:.1} MiB", wall.as_secs_f64());
        out.push(Figure {
            what,
            seconds: wall.as_secs_f64(),
            goal_seconds: goal.as_secs_f64(),
            peak_mib: peak,
            note: String::new(),
        });
    }
    out
}

/// `tenants` empty SQLite files registered with `tenants import`; estate's install of the
/// module on all of them against the one-commit floor on the same files.
fn install_over_files(tenants: usize, runs: usize) -> Figure {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    config(root, SQLITE);
    fleet_context(root);
    measure(&mut estate(root, &["init"]));
    let mut csv = String::from("slug,path\n");
    let mut list = String::new();
    for i in 1..=tenants {
        let slug = slug(i, 6);
        let file = root.join(format!("var/tenants/{slug}.db"));
        write(&file, "");
        let _ = writeln!(csv, "{slug},var/tenants/{slug}.db");
        let _ = writeln!(list, "{}", file.display());
    }
    write(&root.join("tenants.csv"), &csv);
    write(&root.join("tenants.list"), &list);
    let csv = root.join("tenants.csv").to_string_lossy().to_string();
    measure(&mut estate(root, &["tenants", "import", &csv]));
    let var = root.join("var");
    let pristine = root.join("pristine");
    copy_tree(&var, &pristine);
    let script = root.join("floor.sql");
    write(&script, &floor_sql(root, Commits::PerTenant));
    let floor_input = format!("< {}", script.display());

    let (mut estate_t, mut floor_t, mut peak) = (Vec::new(), Vec::new(), 0f64);
    for run in 0..runs {
        restore(&pristine, &var);
        let m = measure(&mut estate(root, &["install", "fleet", "--all"]));
        estate_t.push(m.wall);
        peak = peak.max(m.peak_mib);
        restore(&pristine, &var);
        floor_t.push(
            measure(&mut sqlite_floor(
                &root.join("tenants.list"),
                2,
                &floor_input,
            ))
            .wall,
        );
        eprintln!(
            "install over {tenants} files, run {}: estate {:.2} s, floor {:.2} s",
            run + 1,
            estate_t[run].as_secs_f64(),
            floor_t[run].as_secs_f64()
        );
    }
    let (estate_m, floor_m) = (median(estate_t), median(floor_t));
    Figure {
        what: format!("install over {tenants} tenant files"),
        seconds: estate_m.as_secs_f64(),
        goal_seconds: floor_m.as_secs_f64(),
        peak_mib: peak,
        note: format!(
            "goal: the floor, one commit per tenant, 2 workers: {:.2}x",
            estate_m.as_secs_f64() / floor_m.as_secs_f64().max(1e-9)
        ),
    }
}

fn report(figures: &[Figure], runs: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nscale benchmark: medians of {runs} run(s); peak = the process's max RSS"
    );
    let _ = writeln!(
        out,
        "{:<46} {:>9} {:>9} {:>6} {:>9} {:>6}  ",
        "figure", "s", "goal s", "met", "peak MiB", "met"
    );
    for f in figures {
        let yes = |ok: bool| if ok { "yes" } else { "NO" };
        let _ = writeln!(
            out,
            "{:<46} {:>9.3} {:>9.3} {:>6} {:>9.1} {:>6}  {}",
            f.what,
            f.seconds,
            f.goal_seconds,
            yes(f.seconds <= f.goal_seconds),
            f.peak_mib,
            yes(f.peak_mib <= GOAL_MIB),
            f.note
        );
    }
    out
}
