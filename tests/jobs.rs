//! `estate jobs`: every job from any process, its counts, its log read back from the registry,
//! and a cancel asked from another process that stops the job at a migration boundary. And
//! `estate history --job / --since / --failed`, and the console's History asking the registry
//! the same. Runs on SQLite and both PostgreSQL layouts.

mod common;
use common::*;

use std::time::{Duration, Instant};

on_every_setup!(a_finished_job_is_listed_with_its_counts_and_its_log_reads_back);
fn a_finished_job_is_listed_with_its_counts_and_its_log_reads_back(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "digital_card", "--all"]).expect(0);
    let jobs = s.estate_json(&["jobs", "--json"]);
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    let job = &jobs[0];
    let id = job["id"].as_str().unwrap();
    // Landlord: user_management and digital_card; each tenant: the same two.
    assert_eq!(job["state"], "succeeded");
    assert_eq!(job["steps"], 6);
    assert_eq!(job["succeeded"], 6);
    assert_eq!(job["failed"], 0);
    assert_eq!(job["not_started"], 0);
    assert_eq!(job["tenants_done"], 2);
    assert_eq!(job["cancel_requested_by"], serde_json::Value::Null);

    // The log, from the registry: every step, each line naming its tenant.
    let log = s.estate(&["jobs", "log", id]).expect(0).stdout;
    assert_has(&log, "started: 6 steps, 2 tenants");
    assert_has(&log, "acme      ✓ install digital_card on tenant acme");
    assert_has(&log, "globex    ✓ install user_management on tenant globex");
    assert_has(&log, "landlord  ✓ install user_management on landlord");
    assert_has(&log, "job finished: 6 succeeded, 0 failed, 0 skipped");
    // One tenant's lines only, as JSON lines numbered in order.
    let lines: Vec<serde_json::Value> = s
        .estate(&["jobs", "log", id, "--tenant", "acme", "--json"])
        .expect(0)
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 4, "{lines:#?}");
    assert!(lines.iter().all(|l| l["tenant"] == "acme"), "{lines:#?}");
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // Following a job that has ended prints its log and says how it ended.
    let follow = s.estate(&["jobs", "log", id, "--follow"]).expect(0);
    assert_eq!(follow.stdout, log);
    assert_has(&follow.stderr, &format!("job {id} succeeded: 6 ok of 6"));

    // History by job and by time.
    let by_job = s.estate_json(&["history", "--job", id, "--json"]);
    assert_eq!(by_job.as_array().unwrap().len(), 6);
    let recent = s.estate_json(&["history", "--since", "1h", "--json"]);
    assert_eq!(recent.as_array().unwrap().len(), 6);
    let future = s.estate_json(&["history", "--since", "2999-01-01", "--json"]);
    assert_eq!(future.as_array().unwrap().len(), 0);
    assert_eq!(
        s.estate_json(&["jobs", "--since", "2999-01-01", "--json"]),
        serde_json::json!([])
    );
    assert_eq!(
        s.estate_json(&["jobs", "--running", "--json"]),
        serde_json::json!([])
    );
}

on_every_setup!(the_console_counts_and_filters_history_as_estate_history_does);
fn the_console_counts_and_filters_history_as_estate_history_does(setup: Setup) {
    let s = two_tenants(setup);
    // acme's user_profiles is in the way: its user_management fails, globex's installs.
    exec(
        &s.tenant_db("acme"),
        "CREATE TABLE user_profiles (x INTEGER)",
    );
    s.estate(&["install", "digital_card", "--all"]).expect(1);
    let count = |args: &[&str]| s.estate_json(args).as_array().unwrap().len();
    let failed = count(&["history", "--failed", "--json"]);
    let acme = count(&["history", "--tenant", "acme", "--since", "1h", "--json"]);
    assert!(failed > 0 && acme > 0, "{failed} {acme}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let project = open(&s).await;
        let mut app = app_on(&project, false).await;
        for (command, rows) in [
            (
                ":history failed",
                format!("rows 1-{failed} of {failed} matching \"failed\""),
            ),
            (
                ":history acme --since 1h",
                format!("rows 1-{acme} of {acme} matching \"acme since:1h\""),
            ),
            (":history globex failed", "0 rows matching".to_string()),
        ] {
            enter(&project, &mut app, command).await;
            let shown = screen(&app, 100, 24);
            assert!(shown.contains(&rows), "{command}: {shown}");
        }
        project.close().await;
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
}

on_every_setup!(bad_job_ids_and_times_are_refused_and_change_nothing);
fn bad_job_ids_and_times_are_refused_and_change_nothing(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "user_management", "--tenant", "acme"])
        .expect(0);
    let id = s.estate_json(&["jobs", "--json"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = s.snapshot();
    for args in [
        &["jobs", "log", "20990101T000000000-ffff"][..],
        &["jobs", "cancel", "20990101T000000000-ffff"],
        &["history", "--job", "20990101T000000000-ffff"],
    ] {
        let run = s.estate(args).expect(2);
        assert_has(
            &run.stderr,
            "no job 20990101T000000000-ffff in the registry",
        );
        assert_has(&run.stderr, "`estate jobs` lists the jobs");
    }
    // A job that ended has nothing to cancel.
    let run = s.estate(&["jobs", "cancel", &id]).expect(2);
    assert_has(&run.stderr, "is not running (it is succeeded)");
    for args in [
        &["history", "--since", "12x"][..],
        &["jobs", "--since", "yesterday"],
    ] {
        let run = s.estate(args).expect(2);
        assert_has(&run.stderr, "is neither a span of time nor a date");
        assert_has(&run.stderr, "30m, 12h, 7d");
    }
    assert_eq!(s.snapshot(), before);
}

on_every_setup!(a_job_of_another_process_is_seen_running_and_stopped_by_estate_jobs_cancel);
fn a_job_of_another_process_is_seen_running_and_stopped_by_estate_jobs_cancel(setup: Setup) {
    let tenants = ["t1", "t2", "t3", "t4", "t5", "t6"];
    let s = with_tenants(setup, &tenants);
    slow_context(&s);
    let mut child = spawn_slow_install(&s);
    let deadline = Instant::now() + Duration::from_secs(60);
    // Seen from this other process while it runs, with counts that move.
    let job = loop {
        let running = s.estate_json(&["jobs", "--running", "--json"]);
        if let Some(job) = running.as_array().unwrap().first()
            && job["tenants_done"].as_i64().unwrap() >= 1
        {
            break job.clone();
        }
        assert!(Instant::now() < deadline, "the job never showed progress");
        std::thread::sleep(Duration::from_millis(100));
    };
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(job["state"], "running");
    assert_eq!(job["tenants"], 6);
    let cancel = s.estate(&["jobs", "cancel", &id]).expect(0);
    assert_has(&cancel.stdout, "asked job");
    let status = child.wait().unwrap();
    // Some steps did not run: the installing process says so.
    assert_eq!(status.code(), Some(1), "the install ended {status:?}");

    let job = s.estate_json(&["jobs", "--json"])[0].clone();
    assert_eq!(job["id"], id.as_str());
    assert_eq!(job["state"], "interrupted");
    assert_eq!(job["cancel_requested_by"], "tester");
    let (ok, failed, not_started) = (
        job["succeeded"].as_i64().unwrap(),
        job["failed"].as_i64().unwrap(),
        job["not_started"].as_i64().unwrap(),
    );
    assert!(ok >= 1, "{job:#?}");
    assert!(
        not_started >= 1,
        "the cancel came before the last tenant: {job:#?}"
    );
    assert_eq!(
        ok + failed + not_started + job["skipped"].as_i64().unwrap(),
        6
    );
    // Every tenant either has the whole context, a prefix of it, or nothing: and the counts
    // say which tenants were finished.
    let whole = tenants
        .iter()
        .filter(|t| slow_versions(&s.tenant_db(t)) == [1, 2, 3])
        .count() as i64;
    assert_eq!(whole, ok, "{job:#?}");
    let log = s.estate(&["jobs", "log", &id]).expect(0).stdout;
    assert_has(
        &log,
        "cancel requested by tester: stopping at the next migration boundary",
    );
    // The same command finishes the work.
    s.estate(&["install", "slow", "--all"]).expect(0);
    for t in tenants {
        assert_eq!(slow_versions(&s.tenant_db(t)), [1, 2, 3], "{t}");
    }
}
