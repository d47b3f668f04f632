//! The failure policy of fleet jobs: by default every tenant is tried; `--max-failures N`
//! (and `--fail-fast`, which is N = 1) halts the tenants not yet started once N have failed, so
//! a migration that fails everywhere is not tried on the whole fleet. The halted tenants are
//! reported not started, nothing of theirs changes, and a re-run after the fix completes every
//! tenant. On SQLite and both PostgreSQL layouts.

mod common;
use common::*;

use serde_json::Value;

const TENANTS: usize = 12;
const CONCURRENCY: usize = 2;
const MAX_FAILURES: usize = 3;

fn slugs() -> Vec<String> {
    (1..=TENANTS).map(|i| format!("t{i:02}")).collect()
}

/// The slugs of the report's steps whose outcome is `outcome`.
fn tenants_with(report: &Value, outcome: &str) -> Vec<String> {
    report["steps"]
        .as_array()
        .expect("the report's steps")
        .iter()
        .filter(|s| s["outcome"] == outcome)
        .map(|s| s["tenant"].as_str().expect("a tenant step").to_string())
        .collect()
}

fn calendar_versions(db: &DbRef) -> Vec<String> {
    first_column(
        db,
        "SELECT version FROM estate_ledger WHERE context = 'calendar' ORDER BY version",
    )
}

/// Runs `migrate calendar --all` with `policy`, with a calendar 0004 that fails everywhere,
/// and checks the halt: returns the tenants tried.
fn migrate_and_halt(s: &Scratch, policy: &[&str], max: usize) -> Vec<String> {
    let before = s.estate_json(&["status", "--json"]);
    let mut args = vec!["migrate", "calendar", "--all", "--json"];
    args.extend_from_slice(policy);
    let concurrency = CONCURRENCY.to_string();
    let run = s
        .estate_with_env(&args, &[("ESTATE_CONCURRENCY", &concurrency)])
        .expect(1);
    let report = &run.json()["report"];
    let tried = tenants_with(report, "failed");
    let not_started = tenants_with(report, "not_started");
    assert!(
        tried.len() >= max && tried.len() <= max + CONCURRENCY,
        "{policy:?}: {} tenants tried, wanted {max} to {}: {tried:?}",
        tried.len(),
        max + CONCURRENCY
    );
    assert_eq!(
        tried.len() + not_started.len(),
        TENANTS,
        "every tenant is either tried or reported not started: {report}"
    );
    assert!(
        tenants_with(report, "succeeded").is_empty() && tenants_with(report, "skipped").is_empty(),
        "{report}"
    );
    let reason = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["outcome"] == "not_started")
        .map(|s| s["reason"].as_str().unwrap().to_string())
        .unwrap();
    assert_has(&reason, &format!("halted after {max} tenant(s) failed"));
    // Nothing of the broken migration anywhere; the halted tenants are as they were.
    for t in slugs() {
        assert_eq!(
            calendar_versions(&s.tenant_db(&t)),
            ["1", "2", "3"],
            "tenant {t}"
        );
    }
    let status = s.estate_json(&["status", "--json"]);
    for t in &tried {
        assert_eq!(state(&status, t, "calendar").0, "failed", "tried {t}");
    }
    for t in &not_started {
        let was = state(&before, t, "calendar");
        assert_eq!(was.2, 1, "{t} had 0004 pending");
        assert_eq!(state(&status, t, "calendar"), was, "not started {t}");
    }
    tried
}

fn max_failures_halts_the_rest_and_a_rerun_completes_them(setup: Setup) {
    let s = Scratch::with(setup);
    let slugs = slugs();
    let refs: Vec<&str> = slugs.iter().map(String::as_str).collect();
    s.add_tenants(&refs);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    let installed = s.estate_json(&["status", "--json"]);
    migration_pair(
        &s,
        "calendar",
        "tenant",
        "0004_add_color_to_events",
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\nINSERT INTO no_such_table VALUES (1);\n",
        "ALTER TABLE events DROP COLUMN color;\n",
    );

    // Refused before anything runs: a limit of no failures at all means nothing.
    let zero = s.estate(&["migrate", "calendar", "--all", "--max-failures", "0"]);
    assert_eq!(zero.code, 2, "{}", zero.stderr);
    assert_has(&zero.stderr, "--max-failures");

    migrate_and_halt(
        &s,
        &["--max-failures", &MAX_FAILURES.to_string()],
        MAX_FAILURES,
    );
    let human = s
        .estate_with_env(
            &["migrate", "calendar", "--all", "--fail-fast"],
            &[("ESTATE_CONCURRENCY", &CONCURRENCY.to_string())],
        )
        .expect(1);
    assert_has(&human.stdout, "not started");
    assert_has(&human.stdout, "run the same command again");

    // Without a policy every tenant is tried, and each failure reported.
    let run = s
        .estate(&["migrate", "calendar", "--all", "--json"])
        .expect(1);
    assert_eq!(tenants_with(&run.json()["report"], "failed").len(), TENANTS);

    // Fixed: one run completes every tenant, the ones never tried included.
    migration(
        &s,
        "calendar",
        "tenant",
        "0004_add_color_to_events.up.sql",
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\n",
    );
    s.estate_summary(
        &["migrate", "calendar", "--all"],
        0,
        &format!("upgrade: {TENANTS} succeeded, 0 failed, 0 skipped; {TENANTS} migrations"),
    );
    let status = s.estate_json(&["status", "--json"]);
    for t in &slugs {
        assert_eq!(
            calendar_versions(&s.tenant_db(t)),
            ["1", "2", "3", "4"],
            "tenant {t}"
        );
        let applied = state(&installed, t, "calendar").1;
        assert_eq!(
            state(&status, t, "calendar"),
            st("installed", applied + 1, 0),
            "{t}"
        );
    }
}
on_every_setup!(max_failures_halts_the_rest_and_a_rerun_completes_them);
