//! The signals that end an SSH session or a service stop a job at a migration boundary: SIGHUP
//! (the session dropped) and SIGTERM stop the job under way after the migration it is in, the
//! job is recorded `interrupted`, no tenant is left with half a migration, and the same command
//! afterwards completes every tenant. On SQLite and both PostgreSQL layouts.

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

const TENANTS: [&str; 4] = ["t1", "t2", "t3", "t4"];

/// The lines of `stderr` up to the first that holds `needle` (which must come).
fn read_until(stderr: &mut impl BufRead, needle: &str) -> String {
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.contains(needle) {
            break;
        }
        line.clear();
    }
    assert_has(&seen, needle);
    seen
}

/// Starts `install slow --all` one tenant at a time, sends `signal` once the first step is
/// under way, and checks what the stop left.
fn stopped_by(setup: Setup, signal: &str) {
    let s = with_tenants(setup, &TENANTS);
    slow_context(&s);
    let mut child = s
        .estate_command(&["install", "slow", "--all"])
        .env("ESTATE_CONCURRENCY", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let seen = read_until(&mut stderr, "→ install slow on tenant");
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{seen}{rest}");
    assert_has(
        &rest,
        &format!("SIG{signal}: stopping after the migrations under way"),
    );

    let job = query(&s.landlord(), "SELECT state, skipped FROM estate_jobs");
    assert_eq!(job.len(), 1, "{job:?}");
    assert_eq!(job[0][0], "interrupted");
    let mut untouched = 0;
    for t in TENANTS {
        let db = s.tenant_db(t);
        let applied = slow_versions(&db);
        // Each migration whole with its ledger row, or not there at all.
        assert!(
            [&[][..], &[1], &[1, 2], &[1, 2, 3]].contains(&applied.as_slice()),
            "{t}: {applied:?}"
        );
        for (v, table) in [(1, "slow_one"), (2, "slow_two"), (3, "slow_three")] {
            assert_eq!(has_table(&db, table), applied.contains(&v), "{t} {table}");
        }
        untouched += usize::from(applied.is_empty());
    }
    assert!(untouched >= 2, "the job went on after the signal");
    assert_matrix_matches_status(&s);

    s.estate(&["install", "slow", "--all"]).expect(0);
    for t in TENANTS {
        assert_eq!(slow_versions(&s.tenant_db(t)), [1, 2, 3], "{t}");
    }
    assert_matrix_matches_status(&s);
}

fn a_hangup_stops_the_job_at_a_boundary_and_the_next_run_completes_it(setup: Setup) {
    stopped_by(setup, "HUP");
}
on_every_setup!(a_hangup_stops_the_job_at_a_boundary_and_the_next_run_completes_it);

#[test]
fn a_terminate_stops_the_job_too() {
    stopped_by(Setup::Sqlite, "TERM");
}

/// A migration whose statement never ends (a recursive query without a stop; `pg_sleep` on
/// PostgreSQL): SIGTERM asks the job to stop at the boundary, and once the grace is over the
/// statement is interrupted (SQLite's progress handler, PostgreSQL's cancel), so the process
/// ends within seconds, the job is recorded interrupted and the migration is not applied.
fn a_runaway_statement_is_interrupted_within_seconds(setup: Setup) {
    let s = with_tenants(setup, &["t1"]);
    s.write(
        "contexts/forever/context.toml",
        "name = \"forever\"\ntitle = \"Forever\"\nversion = \"1.0.0\"\ndescription = \"Runs away.\"\n",
    );
    migration_pair(
        &s,
        "forever",
        "tenant",
        "0001_start",
        "CREATE TABLE forever_one (x INTEGER);\n",
        "DROP TABLE forever_one;\n",
    );
    migration_pair(
        &s,
        "forever",
        "tenant",
        "0002_run_away",
        "CREATE TABLE forever_two (x INTEGER);\n\
         INSERT INTO forever_two SELECT count(*) FROM (WITH RECURSIVE c(x) AS \
         (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c) AS n;\n",
        "DROP TABLE forever_two;\n",
    );
    migration(
        &s,
        "forever",
        "tenant",
        "0002_run_away.up.postgres.sql",
        "CREATE TABLE forever_two (x INTEGER);\nSELECT pg_sleep(3600);\n",
    );
    let mut child = s
        .estate_command(&["install", "forever", "--tenant", "t1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let seen = read_until(&mut stderr, "→ install forever on tenant t1");
    // Into the runaway statement.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let sent_at = std::time::Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let took = sent_at.elapsed();
    assert_eq!(status.code(), Some(1), "{seen}{rest}");
    assert_has(&rest, "interrupting them");
    assert_has(&rest, "interrupted: the job was told to stop");
    // The grace (3 s) and the rollback: seconds, never the statement's hour. Generous for a
    // busy machine; it fails on a statement left to run.
    assert!(
        took < std::time::Duration::from_secs(30),
        "SIGTERM took {took:?}"
    );
    let job = query(&s.landlord(), "SELECT state FROM estate_jobs");
    assert_eq!(job, vec![vec!["interrupted".to_string()]]);
    let t1 = s.tenant_db("t1");
    let rows = if has_table(&t1, "estate_ledger") {
        ledger(&t1)
    } else {
        Vec::new()
    };
    let applied: Vec<i64> = rows
        .into_iter()
        .filter(|(c, _, _)| c == "forever")
        .map(|(_, _, v)| v)
        .collect();
    // Each migration whole or not at all (SQLite commits a step's migrations together).
    assert!(
        [&[][..], &[1]].contains(&applied.as_slice()),
        "the interrupted migration rolled back whole: {applied:?}"
    );
    assert!(!has_table(&t1, "forever_two"));
}

on_every_setup!(a_runaway_statement_is_interrupted_within_seconds);
