//! Killed at any moment (SIGKILL: no handler runs), a fleet job leaves every tenant with each
//! migration either applied whole with its ledger row or not at all; the registry may lag the
//! ledgers and the job's row may still say `running`, and the next run reconciles both. Fleet
//! installs and rollbacks, in turn, are killed at pseudo-random moments, each run picking up
//! from what the last left; then an install finishes: every tenant is installed once, no
//! migration ran twice (their SQL is not idempotent: a second run would fail the step), the
//! registry agrees with the ledgers and no job is left `running`.

mod common;
use common::*;

use std::process::Stdio;
use std::time::{Duration, Instant};

const KILLS: usize = 20;

/// A module of three tenant migrations that fail if run twice.
fn fleet_context(s: &Scratch) {
    s.write(
        "contexts/fleet/context.toml",
        "name = \"fleet\"\ntitle = \"Fleet\"\nversion = \"1.0.0\"\ndescription = \"Three tables.\"\n",
    );
    for v in 1..=3 {
        migration_pair(
            s,
            "fleet",
            "tenant",
            &format!("{v:04}_create_fleet_items_{v}"),
            &format!(
                "CREATE TABLE fleet_items_{v} (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\nCREATE INDEX fleet_items_{v}_label ON fleet_items_{v} (label);\n"
            ),
            &format!("DROP TABLE fleet_items_{v};\n"),
        );
    }
}

/// Waits until the run's job has begun (a job not among `before` shows), and says when;
/// `None` when the run ended first.
fn wait_for_job(
    s: &Scratch,
    child: &mut std::process::Child,
    before: &[String],
    jobs: &dyn Fn(&Scratch) -> Vec<String>,
) -> Option<Instant> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if jobs(s).iter().any(|j| !before.contains(j)) {
            return Some(Instant::now());
        }
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        assert!(Instant::now() < deadline, "no job began within two minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The same moments on every run: a splitmix sequence of delays.
fn delays(n: usize, max_ms: u64) -> Vec<Duration> {
    let mut x: u64 = 0x5eed_0fe5_7a7e;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Duration::from_millis(20 + (z ^ (z >> 31)) % max_ms)
        })
        .collect()
}

fn killed_at_random_moments(setup: Setup, tenants: usize) {
    let s = Scratch::with(setup);
    let slugs: Vec<String> = (1..=tenants).map(|i| format!("t{i:03}")).collect();
    let refs: Vec<&str> = slugs.iter().map(String::as_str).collect();
    s.add_tenants(&refs);
    fleet_context(&s);

    // How long a job runs here once planned, so the kills land all along one.
    // SQLite: the job lock files beside the landlord, one a job (a killed job's stays), so
    // that the test never opens the landlord while a kill may have left a hot journal in it
    // (recovering it is estate's business). PostgreSQL: the job rows.
    let jobs = |s: &Scratch| -> Vec<String> {
        match s.landlord() {
            DbRef::Sqlite(landlord) => {
                let prefix = format!("{}.job-", landlord.file_name().unwrap().to_string_lossy());
                std::fs::read_dir(landlord.parent().unwrap())
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|f| f.starts_with(&prefix) && f.ends_with(".lock"))
                    .collect()
            }
            db => first_column(&db, "SELECT id FROM estate_jobs"),
        }
    };
    let spawn = |action: &str| {
        s.estate_command(&[action, "fleet", "--all"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let timed = |action: &str| {
        let before = jobs(&s);
        let mut child = spawn(action);
        let began = wait_for_job(&s, &mut child, &before, &jobs);
        assert!(child.wait().unwrap().success(), "{action} failed unkilled");
        began.map_or(0, |b| b.elapsed().as_millis() as u64)
    };
    let per_job = ((timed("install") + timed("rollback")) / 2).max(50);

    // Twenty kills, each at a moment of a job under way (its row written, its tenants being
    // migrated): a run whose job ends before its moment (a busy machine, a short job) is
    // checked and does not count.
    let mut killed = 0;
    let mut runs = 0;
    for delay in delays(KILLS * 4, per_job * 4 / 5) {
        if killed == KILLS {
            break;
        }
        // In turn, so every run has a fleet's work to be killed in the middle of.
        let action = if runs % 2 == 0 { "install" } else { "rollback" };
        runs += 1;
        let before = jobs(&s);
        let mut child = spawn(action);
        if wait_for_job(&s, &mut child, &before, &jobs).is_some() {
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                killed += 1;
            }
        }
        let status = child.wait().unwrap();
        // A run that ended by itself had nothing fail: no migration found its table there
        // (or missing, going down).
        if let Some(code) = status.code() {
            assert_eq!(code, 0, "{action} run {runs} failed on its own");
        }
    }
    assert_eq!(
        killed, KILLS,
        "only {killed} of {runs} runs were killed mid-way"
    );

    s.estate(&["install", "fleet", "--all"]).expect(0);
    let status = s.estate_json(&["status", "--json"]);
    for t in &slugs {
        let db = s.tenant_db(t);
        let applied: Vec<i64> = ledger(&db)
            .into_iter()
            .filter(|(c, _, _)| c == "fleet")
            .map(|(_, _, v)| v)
            .collect();
        assert_eq!(applied, [1, 2, 3], "{t}");
        assert_eq!(state(&status, t, "fleet"), st("installed", 3, 0), "{t}");
    }
    assert_matrix_matches_status(&s);
    let failed = query(
        &s.landlord(),
        "SELECT tenant, error FROM estate_history WHERE outcome = 'failed'",
    );
    assert!(failed.is_empty(), "a step failed: {failed:?}");
    let running = query(
        &s.landlord(),
        "SELECT id FROM estate_jobs WHERE state = 'running'",
    );
    assert!(running.is_empty(), "jobs left running: {running:?}");
    let interrupted = query(
        &s.landlord(),
        "SELECT id FROM estate_jobs WHERE state = 'interrupted'",
    );
    // Runs killed while planning left no job behind; the others are all accounted for.
    assert!(
        interrupted.len() <= killed,
        "{} interrupted of {killed} killed",
        interrupted.len()
    );
    eprintln!(
        "{}: {tenants} tenants, {runs} runs, {killed} killed mid-way, {} jobs found dead and reconciled",
        setup.name(),
        interrupted.len()
    );
    // A killed job's row says what it really did: its counts went in with its history rows,
    // a batch at a time, so they agree to the step.
    let miscounted = query(
        &s.landlord(),
        "SELECT j.id, j.succeeded, j.failed FROM estate_jobs j
          WHERE j.state = 'interrupted'
            AND (j.succeeded <> (SELECT count(*) FROM estate_history h
                                  WHERE h.job_id = j.id AND h.outcome = 'succeeded')
              OR j.failed <> (SELECT count(*) FROM estate_history h
                               WHERE h.job_id = j.id AND h.outcome = 'failed'))",
    );
    assert!(
        miscounted.is_empty(),
        "counts that disagree: {miscounted:?}"
    );
    let did_something = query(
        &s.landlord(),
        "SELECT id FROM estate_jobs WHERE state = 'interrupted' AND succeeded > 0",
    );
    assert!(
        !did_something.is_empty(),
        "no killed job counted a step it finished"
    );
}

#[test]
fn sqlite_200_tenants_killed_20_times() {
    killed_at_random_moments(Setup::Sqlite, 200);
}

#[test]
fn pg_database_200_tenants_killed_20_times() {
    run_on(Setup::PgDatabase, |setup| {
        killed_at_random_moments(setup, 200)
    });
}

#[test]
fn pg_schema_200_tenants_killed_20_times() {
    run_on(Setup::PgSchema, |setup| {
        killed_at_random_moments(setup, 200)
    });
}

/// Makes the landlord refuse every insert into `table`, as a landlord in trouble would.
fn refuse_inserts(s: &Scratch, table: &str) {
    let sql = if s.setup.is_postgres() {
        format!(
            "CREATE OR REPLACE FUNCTION estate_test_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected: the landlord refuses'; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER estate_test_refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION estate_test_refuse();"
        )
    } else {
        format!(
            "CREATE TRIGGER estate_test_refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected: the landlord refuses'); END;"
        )
    };
    exec(&s.landlord(), &sql);
}

fn accept_inserts(s: &Scratch, table: &str) {
    let on = if s.setup.is_postgres() {
        format!(" ON {table}")
    } else {
        String::new()
    };
    exec(
        &s.landlord(),
        &format!("DROP TRIGGER estate_test_refuse_{table}{on}"),
    );
}

on_every_setup!(a_registry_that_missed_a_jobs_events_is_rebuilt_from_the_ledgers);
fn a_registry_that_missed_a_jobs_events_is_rebuilt_from_the_ledgers(setup: Setup) {
    let s = with_tenants(setup, &["acme", "globex"]);
    // The recorder's batches (history rows with them) are refused; the job goes on, and at
    // its end the registry's rows are rebuilt from the ledgers.
    refuse_inserts(&s, "estate_history");
    s.estate(&["install", "calendar", "--all"]).expect(0);
    let status = s.estate_json(&["status", "--json"]);
    for t in ["acme", "globex"] {
        assert_eq!(state(&status, t, "calendar"), st("installed", 4, 0), "{t}");
    }
    assert_eq!(
        first_column(&s.landlord(), "SELECT state FROM estate_jobs"),
        ["succeeded"]
    );

    // The landlord refuses the repair too: the job's row stays `running`, and the next estate
    // to start, the landlord back, repairs the rows and records the job interrupted.
    refuse_inserts(&s, "estate_tenant_modules");
    s.estate(&["install", "billing", "--all"]).expect(0);
    assert_eq!(
        first_column(
            &s.landlord(),
            "SELECT state FROM estate_jobs ORDER BY started_at, id"
        ),
        ["succeeded", "running"]
    );
    accept_inserts(&s, "estate_history");
    accept_inserts(&s, "estate_tenant_modules");
    let status = s.estate_json(&["status", "--json"]);
    for t in ["acme", "globex"] {
        assert_eq!(state(&status, t, "billing"), st("installed", 2, 0), "{t}");
    }
    assert_eq!(
        first_column(
            &s.landlord(),
            "SELECT state FROM estate_jobs ORDER BY started_at, id"
        ),
        ["succeeded", "interrupted"]
    );
    assert_matrix_matches_status(&s);
    s.estate(&["verify"]).expect(0);
}
