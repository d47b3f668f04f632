//! The signals that end an SSH session or a service stop a job at a migration boundary: SIGHUP
//! (the session dropped) and SIGTERM stop the job under way after the migration it is in, the
//! job is recorded `interrupted`, no tenant is left with half a migration, and the same command
//! afterwards completes every tenant. On SQLite and both PostgreSQL layouts.

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

const TENANTS: [&str; 4] = ["t1", "t2", "t3", "t4"];

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
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.contains("→ install slow on tenant") {
            break;
        }
        line.clear();
    }
    assert_has(&seen, "→ install slow on tenant");
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
