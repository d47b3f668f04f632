//! The console's Jobs view over the registry: jobs any process ran show on the next tick
//! (no key pressed), with the log the registry kept; what ran elsewhere shows in the Matrix
//! after; `R` plans a failed job again and finishes what the operator asked for.

mod common;

use common::*;
use estate::tui::{Popup, Tab};
use ratatui::crossterm::event::KeyCode;

#[tokio::test(flavor = "multi_thread")]
async fn a_job_run_by_the_cli_shows_on_the_next_tick_with_its_log() {
    let s = Scratch::new();
    s.add_tenants(&["acme", "globex"]);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    app.on_key(key('4'));
    settle(&project, &mut app).await;
    assert!(app.visible(Tab::Jobs).is_empty(), "no job yet");

    // Another process installs calendar while the console is open.
    tokio::task::block_in_place(|| {
        s.estate(&["install", "calendar", "--tenant", "acme"])
            .expect(0)
    });
    let id = tokio::task::block_in_place(|| {
        first_column(&s.landlord(), "SELECT id FROM estate_jobs")
            .pop()
            .unwrap()
    });
    // Nothing read it yet: no key, just the console's second going by.
    app.tick();
    settle(&project, &mut app).await;
    assert_eq!(app.visible(Tab::Jobs).len(), 1);
    let shown = screen(&app, 100, 30);
    for what in [
        "install",
        "calendar",
        "succeeded",
        // The log, as the registry kept it (the CLI wrote it).
        "✓ install calendar on tenant acme: 3 migration(s)",
        "job finished: 4 succeeded, 0 failed, 0 skipped",
        "succeeded: 1/1 tenants, 4/4 steps: 4 ok, 0 failed, 0 skipped, 0 not started",
    ] {
        assert!(shown.contains(what), "{what:?} is not in:\n{shown}");
    }
    // What it changed shows in the Matrix: the job's end asked for a reload.
    assert_eq!(
        app.shared.data.cell("acme", "calendar").map(|c| c.state),
        Some(estate_engine::ModuleState::Installed)
    );

    // One tenant's lines and counts: t.
    app.on_key(key('t'));
    let acme = screen(&app, 100, 30);
    assert!(acme.contains("acme: 2 ok, 0 failed, 0 skipped"), "{acme}");

    // A second job comes first; the cursor stays on the job it was on.
    tokio::task::block_in_place(|| {
        s.estate(&["install", "billing", "--tenant", "globex"])
            .expect(0)
    });
    app.tick();
    settle(&project, &mut app).await;
    assert_eq!(app.visible(Tab::Jobs).len(), 2);
    assert_eq!(app.row(Tab::Jobs), 1, "still on the calendar job");
    assert_eq!(app.views.jobs.selected_id(&app.shared), Some(id));
    project.close().await;
}

/// The lost intent of issue 14: `install digital_card` where user_management fails leaves
/// digital_card failed (blocked) there, and `R` on that job after the fix installs both.
#[tokio::test(flavor = "multi_thread")]
async fn r_on_a_failed_job_plans_what_it_left_and_finishes_it() {
    let s = Scratch::new();
    s.add_tenants(&["acme", "globex"]);
    tokio::task::block_in_place(|| {
        exec(
            &s.tenant_db("acme"),
            "CREATE TABLE user_profiles (x INTEGER);",
        );
        s.estate(&["install", "digital_card", "--all"]).expect(1);
        exec(&s.tenant_db("acme"), "DROP TABLE user_profiles;");
    });
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "digital_card").0, "failed");
    assert_eq!(state(&status, "globex", "digital_card").0, "installed");

    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    app.on_key(key('4'));
    settle(&project, &mut app).await;
    let failed = screen(&app, 100, 30);
    assert!(
        failed.contains("blocked") || failed.contains("skipped"),
        "{failed}"
    );

    app.on_key(key('R'));
    settle(&project, &mut app).await;
    let plan = screen(&app, 100, 30);
    assert!(matches!(app.popup, Some(Popup::Confirm(_))), "{plan}");
    assert!(plan.contains("digital_card"), "{plan}");
    // Only acme is left: globex's steps succeeded, so they plan as nothing.
    assert!(plan.contains("1 tenant(s)"), "{plan}");
    assert!(plan.contains("globex already has digital_card"), "{plan}");
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    let status = s.estate_json(&["status", "--json"]);
    for module in ["user_management", "digital_card"] {
        assert_eq!(state(&status, "acme", module).0, "installed", "{module}");
    }

    // A job that succeeded has nothing to retry; read-only retries nothing.
    app.on_key(code(KeyCode::Esc));
    app.tick();
    settle(&project, &mut app).await;
    keys(&mut app, "gR");
    assert!(app.take_effects().is_empty());
    assert!(screen(&app, 100, 30).contains("succeeded: nothing to retry"));
    let mut read_only = app_on(&project, true).await;
    keys(&mut read_only, "4jR");
    let asked = format!("{:?}", read_only.take_effects());
    assert!(!asked.contains("Retry"), "{asked}");
    assert!(screen(&read_only, 100, 30).contains("read-only"));
    project.close().await;
}
