//! Cancelling a job stops it at a migration boundary: the migration under way finishes whole,
//! the rest of its step is left for the next run, the job is recorded as interrupted and the
//! same command afterwards finishes the work. Runs on SQLite and both PostgreSQL layouts.

mod common;
use common::*;

use estate_engine::TenantSelection;
use estate_engine::jobs::{JobControl, JobEvent};
use estate_engine::tenancy::Slug;

on_every_setup!(a_cancelled_install_stops_between_two_migrations_and_the_next_run_finishes);
fn a_cancelled_install_stops_between_two_migrations_and_the_next_run_finishes(setup: Setup) {
    let s = with_tenants(setup, &["acme"]);
    slow_context(&s);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let report = rt.block_on(async {
        let project = open_project(&s).await;
        let tenants = TenantSelection::Only(vec![Slug::parse("acme").unwrap()]);
        let plan = project
            .plan_install(&["slow".to_string()], &tenants)
            .await
            .unwrap();
        let control = JobControl::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let canceller = {
            let control = control.clone();
            async move {
                while let Some(event) = rx.recv().await {
                    // The step has started: its first migration runs, the slow second one
                    // may start before the cancel lands; the third never does.
                    if let JobEvent::StepStarted { .. } = event {
                        control.cancel();
                    }
                }
            }
        };
        let (report, ()) = tokio::join!(project.run(&plan, Some(tx), control.clone()), canceller);
        project.close().await;
        report.unwrap()
    });
    assert_eq!(report.failed(), 1, "{report:#?}");
    let error = format!("{:?}", report.steps[0].outcome);
    assert!(error.contains("cancelled by the operator"), "{error}");

    // Stopped at a boundary: a prefix of the migrations, each one whole.
    let db = s.tenant_db("acme");
    let applied = slow_versions(&db);
    assert!(
        applied == [1] || applied == [1, 2],
        "stopped at a boundary before 0003: {applied:?}"
    );
    assert!(has_table(&db, "slow_one"));
    assert_eq!(has_table(&db, "slow_two"), applied.contains(&2));
    assert!(!has_table(&db, "slow_three"));
    let job = query(&s.landlord(), "SELECT state FROM estate_jobs");
    assert_eq!(job, vec![names(&["interrupted"])]);
    // Installed, partly: outdated with what is left pending, not failed.
    let status = s.estate_json(&["status", "--tenant", "acme", "--json"]);
    let n = applied.len() as i64;
    assert_eq!(state(&status, "acme", "slow"), st("outdated", n, 3 - n));
    assert_matrix_matches_status(&s);

    // The same command picks up from there.
    s.estate(&["install", "slow", "--tenant", "acme"]).expect(0);
    assert_eq!(slow_versions(&db), [1, 2, 3]);
    assert!(has_table(&db, "slow_three"));
    assert_matrix_matches_status(&s);
}
