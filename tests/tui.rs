//! The console, rendered: every view, dialog and the help overlay at 80×24 on the demo project
//! and on an empty one, through ratatui's test backend, compared with reviewed snapshots; and
//! driven: marks, plans, confirmations, jobs, filters and commands, against real databases.

mod common;

use common::*;
use estate::tui::{Popup, Tab};
use ratatui::crossterm::event::KeyCode;

/// The demo, with billing's broken 0003 having failed on globex: a failed job to show.
async fn demo_with_a_failed_job() -> Scratch {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    s.write(
        "contexts/billing/migrations/tenant/0003_broken.up.sql",
        "SELECT * FROM no_such_table;\n",
    );
    s.write(
        "contexts/billing/migrations/tenant/0003_broken.down.sql",
        "SELECT 1;\n",
    );
    s.estate(&["migrate", "billing", "--all"]).expect(1);
    // History sorts newest first by start; steps that started in the same millisecond would
    // come out in any order. A second each, in the order the rows were written.
    tokio::task::block_in_place(|| {
        exec(
            &s.landlord(),
            "UPDATE estate_history SET started_at = '2026-01-01T00:' || printf('%02d:%02d', id / 60, id % 60) || '.000Z'",
        )
    });
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn every_view_of_the_demo_at_80x24() {
    let s = demo_with_a_failed_job().await;
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    for (n, tab) in Tab::ALL.iter().enumerate() {
        app.on_key(key(char::from(b'1' + n as u8)));
        // What a view reads from the registry on demand (History's page, the Jobs view's
        // log) comes back.
        settle(&project, &mut app).await;
        assert_eq!(app.tab, *tab);
        insta::assert_snapshot!(
            format!("demo_{}", tab.title().to_lowercase()),
            screen(&app, 80, 24)
        );
    }
    app.on_key(key('?'));
    insta::assert_snapshot!("demo_help", screen(&app, 80, 24));
    app.on_key(key('x'));
    assert!(app.popup.is_none(), "any key closes the help");
    // Every view's keys fit at 80×24, one line each, down to the last.
    for n in 0..Tab::ALL.len() {
        app.on_key(key(char::from(b'1' + n as u8)));
        app.on_key(key('?'));
        let help = screen(&app, 80, 24);
        assert!(help.contains("any key closes this"), "{help}");
        app.on_key(key('x'));
    }
    app.on_key(key('q'));
    assert!(app.quit);
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn details_open_with_enter_and_close_with_esc() {
    let s = demo_with_a_failed_job().await;
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // Modules: billing's migrations per scope and the tables it owns.
    app.on_key(code(KeyCode::Enter));
    insta::assert_snapshot!("detail_module", screen(&app, 80, 24));
    app.on_key(code(KeyCode::Esc));
    assert!(app.popup.is_none());
    // Matrix: globex × billing, failed, with the error.
    keys(&mut app, "3j");
    app.on_key(code(KeyCode::Enter));
    // The window opens at once; its history follows from the registry.
    let loading = screen(&app, 80, 24);
    assert!(loading.contains("billing for globex"), "{loading}");
    assert!(loading.contains("loading…"), "{loading}");
    settle(&project, &mut app).await;
    let cell = screen(&app, 80, 24);
    assert!(cell.contains("billing for globex"), "{cell}");
    assert!(!cell.contains("loading…"), "{cell}");
    assert!(
        cell.contains("no_such_table"),
        "the error is shown:\n{cell}"
    );
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mark_two_cells_install_confirm_and_watch_the_job() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // Matrix, billing column: mark acme, skip globex (installed), mark initech.
    keys(&mut app, "3 j ");
    assert_eq!(app.shared.marks.len(), 2, "{:?}", app.shared.marks);
    insta::assert_snapshot!("matrix_two_marks", screen(&app, 80, 24));
    app.on_key(key('i'));
    assert!(matches!(app.popup, Some(Popup::Planning(_))));
    settle(&project, &mut app).await;
    insta::assert_snapshot!("confirm_install", screen(&app, 80, 24));
    app.on_key(key('y'));
    // Planned again before it runs: the fleet may have changed while the window was open.
    assert!(matches!(app.popup, Some(Popup::Planning(_))));
    settle(&project, &mut app).await;
    assert!(app.popup.is_none());
    app.on_key(key('4'));
    let jobs = screen(&app, 80, 24);
    // Tenants run side by side: their lines interleave in any order.
    for line in [
        "✓ install billing on tenant acme: 2 migration(s)",
        "✓ install billing on tenant initech: 2 migration(s)",
        "job finished: 2 succeeded, 0 failed, 0 skipped",
        "succeeded: 2/2 tenants, 2/2 steps, 0 failed, 0 skipped",
    ] {
        assert!(jobs.contains(line), "{line}:\n{jobs}");
    }
    // The log pane filters to one tenant: one tenant's lines come in order.
    app.on_key(key('t'));
    let acme = screen(&app, 80, 24);
    assert!(!acme.contains("initech "), "only acme's lines:\n{acme}");
    insta::assert_snapshot!("job_finished_acme_log", acme);
    // The databases agree with the screen.
    // (The fixture's database helpers run a runtime of their own.)
    tokio::task::block_in_place(|| {
        for t in ["acme", "initech"] {
            assert!(has_table(&s.tenant_db(t), "invoices"), "{t}");
        }
    });
    let status = s.estate_json(&["status", "--json"]);
    for t in ["acme", "globex", "initech"] {
        let row = status
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tenant"] == t && r["module"] == "billing")
            .unwrap();
        assert_eq!(row["state"], "installed", "{t}");
    }
    app.on_key(key('3'));
    let matrix = screen(&app, 80, 24);
    // Every module fits at 80 columns: 7 installed before, 2 now.
    assert_eq!(matrix.matches("✓ installed").count(), 9, "{matrix}");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_rollback_offers_cascade_and_changes_nothing_until_confirmed() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let before = s.snapshot();
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // acme × user_management: calendar and digital_card need it.
    keys(&mut app, "3lll");
    app.on_key(key('r'));
    settle(&project, &mut app).await;
    insta::assert_snapshot!("refused_rollback", screen(&app, 80, 24));
    assert_eq!(s.snapshot(), before, "a refused plan changes nothing");
    app.on_key(key('c'));
    assert!(matches!(app.popup, Some(Popup::Confirm(_))));
    let cascade = screen(&app, 80, 24);
    assert!(cascade.contains("rollback user_management"), "{cascade}");
    app.on_key(code(KeyCode::Esc));
    assert!(app.popup.is_none());
    assert_eq!(s.snapshot(), before, "a cancelled plan changes nothing");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_command_line_and_quit_while_a_job_runs() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    keys(&mut app, "3/glo");
    assert_eq!(app.visible(Tab::Matrix).len(), 1);
    insta::assert_snapshot!("matrix_filter_typing", screen(&app, 80, 24));
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.visible(Tab::Matrix).len(), 3, "esc clears the filter");

    keys(&mut app, ":tenant initech");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.tab, Tab::Matrix);
    assert_eq!(app.row(Tab::Matrix), 2);
    keys(&mut app, ":frobnicate");
    app.on_key(code(KeyCode::Enter));
    assert!(screen(&app, 80, 24).contains("unknown command :frobnicate"));

    // A job started and not finished: quitting asks first.
    keys(&mut app, ":install billing acme");
    app.on_key(code(KeyCode::Enter));
    let effects = app.take_effects();
    for e in effects {
        for m in estate::tui::settle(&project, e).await {
            app.on_msg(m);
        }
    }
    app.on_key(key('y'));
    // Confirmed, the plan is made again first (the fleet may have changed); then it queues.
    assert!(matches!(app.popup, Some(Popup::Planning(_))));
    for e in app.take_effects() {
        for m in estate::tui::settle(&project, e).await {
            app.on_msg(m);
        }
    }
    let queued = app.take_effects();
    app.on_key(key('q'));
    assert!(!app.quit);
    insta::assert_snapshot!("quit_while_running", screen(&app, 80, 24));
    app.on_key(key('n'));
    assert!(app.popup.is_none() && !app.quit);
    // Even :q! lets the job stop at a migration boundary: the console quits once it has.
    keys(&mut app, ":q!");
    app.on_key(code(KeyCode::Enter));
    assert!(app.quitting && !app.quit);
    assert!(screen(&app, 80, 24).contains("quitting once 1 job(s) stop"));
    for e in queued {
        for m in estate::tui::settle(&project, e).await {
            app.on_msg(m);
        }
    }
    assert!(app.quit);
    let history = s.estate_json(&["history", "billing", "--tenant", "acme", "--json"]);
    assert_eq!(
        history,
        serde_json::json!([]),
        "the cancelled job ran nothing"
    );
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_matrix_scrolls_to_keep_the_selected_module_in_view() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    keys(&mut app, "3lll");
    let narrow = screen(&app, 60, 12);
    assert!(
        narrow.contains("user_management"),
        "the last module is scrolled into view:\n{narrow}"
    );
    assert!(
        !narrow.contains("billing"),
        "the first one scrolled out:\n{narrow}"
    );
    keys(&mut app, "jG");
    assert_eq!(app.row(Tab::Matrix), 2);
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_project_read_only_refuses_actions() {
    let s = Scratch::new();
    s.estate(&["check"]).expect(0);
    s.estate(&["init"]).expect(0);
    s.estate(&["tenants", "list"]).expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, true).await;
    app.on_key(key('3'));
    insta::assert_snapshot!("empty_matrix_read_only", screen(&app, 80, 24));
    app.on_key(key('1'));
    app.on_key(key('i'));
    assert!(
        app.take_effects().is_empty(),
        "nothing is planned read-only"
    );
    let screen = screen(&app, 80, 24);
    assert!(screen.contains("read-only: install refused"), "{screen}");
    // Read-only, no key that acts is offered: not in the status line, not in the help.
    app.on_key(code(KeyCode::Esc));
    let idle = common::screen(&app, 80, 24);
    assert!(
        !idle.contains("i/r/u") && !idle.contains("space mark"),
        "{idle}"
    );
    app.on_key(key('?'));
    let help = common::screen(&app, 80, 24);
    assert!(
        help.contains("/ filter") || help.contains("filter the rows"),
        "{help}"
    );
    assert!(
        !help.contains("i r u") && !help.contains("mark the"),
        "{help}"
    );
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_migration_shows_pending_and_u_upgrades_it() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    s.write(
        "contexts/calendar/migrations/tenant/0004_add_color_to_events.up.sql",
        "ALTER TABLE events ADD COLUMN color VARCHAR(7);\n",
    );
    s.write(
        "contexts/calendar/migrations/tenant/0004_add_color_to_events.down.sql",
        "ALTER TABLE events DROP COLUMN color;\n",
    );
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    keys(&mut app, "3l");
    let before = screen(&app, 80, 24);
    assert_eq!(before.matches("↑ 1 pending").count(), 2, "{before}");
    // The whole calendar column, from the Modules view: only outdated cells are planned.
    keys(&mut app, "1j");
    app.on_key(key('u'));
    settle(&project, &mut app).await;
    let confirm = screen(&app, 80, 24);
    assert!(confirm.contains("upgrade calendar"), "{confirm}");
    assert!(confirm.contains("2 tenant(s)"), "{confirm}");
    // The window defaults to no: enter cancels, y runs.
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup.is_none() && app.take_effects().is_empty());
    assert!(screen(&app, 80, 24).contains("cancelled: nothing ran"));
    app.on_key(key('u'));
    settle(&project, &mut app).await;
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    keys(&mut app, "3");
    let after = screen(&app, 80, 24);
    assert!(!after.contains("pending"), "{after}");
    let status = s.estate_json(&["status", "--json"]);
    for t in ["acme", "initech"] {
        assert_eq!(state(&status, t, "calendar"), st("installed", 5, 0), "{t}");
    }
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn v_verifies_and_the_matrix_shows_drift_with_its_fix() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    // acme: its digital_card registry row deleted by hand, and calendar's first tenant
    // migration edited after it ran; initech: its database gone.
    // (The helpers block on a runtime of their own.)
    tokio::task::block_in_place(|| {
        exec(
            &s.landlord(),
            "DELETE FROM estate_tenant_modules WHERE tenant = 'acme' AND module = 'digital_card'",
        );
        s.remove_tenant_database("initech");
    });
    let edited = s.path("contexts/calendar/migrations/tenant/0001_create_calendars.up.sql");
    let mut sql = std::fs::read_to_string(&edited).unwrap();
    sql.push_str("\n-- edited after it ran\n");
    std::fs::write(&edited, sql).unwrap();

    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    app.on_key(key('3'));
    assert!(
        screen(&app, 80, 24).contains("drift unchecked (v)"),
        "the Matrix says drift was not checked"
    );
    app.on_key(key('v'));
    assert!(screen(&app, 80, 24).contains("verifying"));
    settle(&project, &mut app).await;
    insta::assert_snapshot!("matrix_drift", screen(&app, 80, 24));

    // acme × digital_card: what is wrong and the fix.
    keys(&mut app, "ll");
    app.on_key(code(KeyCode::Enter));
    let detail = screen(&app, 80, 24);
    assert!(detail.contains("drift (last verify)"), "{detail}");
    assert!(detail.contains("registry"), "{detail}");
    assert!(detail.contains("verify --repair"), "{detail}");
    app.on_key(code(KeyCode::Esc));
    // initech: its database is gone, whatever the module.
    keys(&mut app, "jj");
    app.on_key(code(KeyCode::Enter));
    let detail = screen(&app, 80, 24);
    assert!(detail.contains("does not exist"), "{detail}");
    assert!(detail.contains("fix:"), "{detail}");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn details_after_a_verify_open_in_every_view() {
    let s = demo_with_a_failed_job().await;
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    keys(&mut app, "3v");
    settle(&project, &mut app).await;
    // A row past the number of tenants: its details once looked for drift of a tenant there.
    keys(&mut app, "1G");
    app.on_key(code(KeyCode::Enter));
    let module = screen(&app, 80, 24);
    assert!(module.contains("Module user_management"), "{module}");
    app.on_key(code(KeyCode::Esc));
    keys(&mut app, "5");
    settle(&project, &mut app).await;
    keys(&mut app, "G");
    app.on_key(code(KeyCode::Enter));
    let history = screen(&app, 80, 24);
    assert!(history.contains("outcome"), "{history}");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_modules_map_shows_the_graph_and_the_tables_each_module_owns() {
    let s = demo_with_a_failed_job().await;
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // digital_card, the third module: highlighted in the tree and its tables in view.
    keys(&mut app, "jjm");
    assert!(app.views.modules.map);
    insta::assert_snapshot!("modules_map", screen(&app, 80, 24));
    // A narrow split (tmux) draws it too, cramped but whole.
    for width in [20, 30, 40] {
        let narrow = screen(&app, width, 12);
        assert!(narrow.contains("Tables"), "{narrow}");
    }
    app.on_key(key('m'));
    assert!(!app.views.modules.map, "m again goes back to the list");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_modules_map_flags_cycles_and_tables_claimed_twice() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    manifest(&s, "ping", "ping", "requires = [\"pong\"]");
    manifest(&s, "pong", "pong", "requires = [\"ping\"]");
    migration_pair(
        &s,
        "pong",
        "tenant",
        "0001_create_invoices",
        "CREATE TABLE invoices (id INTEGER);",
        "DROP TABLE invoices;",
    );
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    let list = screen(&app, 100, 30);
    assert!(
        list.contains("⚠ 1 cycle(s), 1 table(s) claimed twice (m)"),
        "{list}"
    );
    app.on_key(key('m'));
    let screen = screen(&app, 100, 30);
    assert!(screen.contains("⚠ cycle: ping → pong → ping"), "{screen}");
    assert!(screen.contains("invoices ⚠"), "{screen}");
    assert!(
        screen.contains("claimed twice: invoices (billing, pong)"),
        "{screen}"
    );
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_install_shows_failed_in_the_matrix_with_why_in_its_detail() {
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    tokio::task::block_in_place(|| {
        exec(
            &s.tenant_db("acme"),
            "CREATE TABLE user_profiles (x INTEGER);",
        );
        s.estate(&["install", "digital_card", "--tenant", "acme"])
            .expect(1);
    });
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // Matrix, digital_card's column (billing, calendar, digital_card).
    keys(&mut app, "3ll");
    let matrix = screen(&app, 80, 24);
    let acme = matrix.lines().find(|l| l.contains("acme")).unwrap();
    // user_management failed, and digital_card, blocked by it, is failed too.
    assert_eq!(acme.matches("✗ failed").count(), 2, "{matrix}");
    app.on_key(code(KeyCode::Enter));
    settle(&project, &mut app).await;
    let cell = screen(&app, 80, 24);
    assert!(cell.contains("digital_card for acme"), "{cell}");
    assert!(cell.contains("✗ failed"), "{cell}");
    assert!(
        cell.contains("blocked: requirement user_management did not succeed"),
        "the reason is shown:\n{cell}"
    );
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn r_then_enter_rolls_back_nothing_and_a_fleet_rollback_wants_its_name_typed() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let before = s.snapshot();
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // Modules view, calendar: installed for acme and initech, and its landlord scope.
    app.on_key(key('j'));
    app.on_key(key('r'));
    settle(&project, &mut app).await;
    let plan = screen(&app, 80, 24);
    insta::assert_snapshot!("confirm_rollback_drops", plan);
    for what in [
        "calendar, tenant scope of 2 tenant(s): drops calendars, events",
        "calendar, landlord scope: drops calendar_global_config",
        "rolls back 2 tenant(s) and the landlord scope: y, then type calendar",
        "y confirm by name",
        "n/esc/enter cancel",
    ] {
        assert!(plan.contains(what), "{what}:\n{plan}");
    }
    // Two keys out of habit: enter cancels.
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup.is_none());
    assert!(app.take_effects().is_empty(), "nothing asked for");
    assert!(screen(&app, 80, 24).contains("cancelled: nothing ran"));
    assert_eq!(s.snapshot(), before, "r then enter changed nothing");

    // s shows the SQL the steps run, each script once with where it runs; s again the plan.
    app.on_key(key('r'));
    settle(&project, &mut app).await;
    app.on_key(key('s'));
    let sql = screen(&app, 80, 40);
    insta::assert_snapshot!("confirm_rollback_sql", sql);
    for what in [
        "Confirm: SQL",
        "rollback calendar [tenant] on acme, initech",
        "-- 0003_add_location_to_events.down.sql",
        "ALTER TABLE events DROP COLUMN location;",
        "-- 0001_create_calendar_global_config.down.sql",
    ] {
        assert!(sql.contains(what), "{what}:\n{sql}");
    }
    app.on_key(key('s'));
    assert!(screen(&app, 80, 24).contains("drops calendars, events"));

    // y asks for the name; a wrong one is said, and nothing runs.
    app.on_key(key('y'));
    assert!(screen(&app, 80, 24).contains("type calendar to confirm:"));
    keys(&mut app, "calendr");
    app.on_key(code(KeyCode::Enter));
    let wrong = screen(&app, 80, 24);
    insta::assert_snapshot!("confirm_rollback_typed_wrong", wrong);
    assert!(
        wrong.contains("\"calendr\" is not \"calendar\": nothing ran"),
        "{wrong}"
    );
    assert!(matches!(app.popup, Some(Popup::Confirm(_))));
    assert!(app.take_effects().is_empty());
    assert_eq!(s.snapshot(), before, "a wrong name changed nothing");
    // esc leaves, and nothing ran.
    app.on_key(code(KeyCode::Esc));
    assert!(app.popup.is_none() && app.take_effects().is_empty());
    assert_eq!(s.snapshot(), before);

    // Typed right, it runs.
    app.on_key(key('r'));
    settle(&project, &mut app).await;
    app.on_key(key('y'));
    keys(&mut app, "calendar");
    app.on_key(code(KeyCode::Enter));
    assert!(matches!(app.popup, Some(Popup::Planning(_))));
    settle(&project, &mut app).await;
    assert!(app.popup.is_none());
    let status = s.estate_json(&["status", "--json"]);
    for t in ["acme", "initech"] {
        assert_eq!(state(&status, t, "calendar").0, "not_installed", "{t}");
        tokio::task::block_in_place(|| assert!(!has_table(&s.tenant_db(t), "events"), "{t}"));
    }
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_confirm_window_left_open_while_another_process_changes_the_fleet_shows_the_plan_anew() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // billing for acme and initech, planned and shown…
    keys(&mut app, "3 j ");
    app.on_key(key('i'));
    settle(&project, &mut app).await;
    assert!(matches!(app.popup, Some(Popup::Confirm(_))));
    // …while another operator installs it for acme from the CLI.
    s.estate(&["install", "billing", "--tenant", "acme"])
        .expect(0);
    let before = s.estate_json(&["history", "--json"]);
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    let shown = screen(&app, 100, 30);
    assert!(matches!(app.popup, Some(Popup::Confirm(_))), "{shown}");
    assert!(
        shown.contains("the fleet changed since the plan was shown"),
        "{shown}"
    );
    assert!(
        shown.contains("initech") && !shown.contains("tenant acme"),
        "{shown}"
    );
    assert_eq!(
        s.estate_json(&["history", "--json"]),
        before,
        "nothing ran on the stale confirmation"
    );
    // The new plan, confirmed, runs.
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    assert!(app.popup.is_none());
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "initech", "billing").0, "installed");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_of_one_tenant_is_confirmed_with_y_alone() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // Matrix, acme × calendar: one tenant, and initech keeps calendar's landlord scope.
    keys(&mut app, "3l");
    app.on_key(key('r'));
    settle(&project, &mut app).await;
    let plan = screen(&app, 80, 24);
    assert!(plan.contains("y run it"), "{plan}");
    assert!(plan.contains("drops calendars, events"), "{plan}");
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    assert!(app.popup.is_none());
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "calendar").0, "not_installed");
    assert_eq!(state(&status, "initech", "calendar").0, "installed");
    project.close().await;
}

/// The sample's 4 modules and 17 more, named as applications name theirs.
const MORE_MODULES: [&str; 17] = [
    "accounting",
    "analytics_dashboard",
    "audit_log",
    "chat",
    "crm",
    "document_storage",
    "expenses",
    "forms",
    "helpdesk",
    "inventory",
    "invoicing_extras",
    "loyalty_points",
    "notifications",
    "payroll",
    "projects",
    "reporting",
    "time_tracking",
];

#[tokio::test(flavor = "multi_thread")]
async fn at_80x24_a_matrix_of_21_modules_turns_compact_and_names_the_selected_module() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    for m in MORE_MODULES {
        manifest(&s, m, m, "");
        migration_pair(
            &s,
            m,
            "tenant",
            "0001_create_items",
            &format!("CREATE TABLE {m}_items (id INTEGER PRIMARY KEY);"),
            &format!("DROP TABLE {m}_items;"),
        );
    }
    s.estate(&["install", "crm", "chat", "--tenant", "acme"])
        .expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    app.on_key(key('3'));
    let matrix = screen(&app, 80, 24);
    insta::assert_snapshot!("matrix_21_modules_compact", matrix);
    assert!(matrix.contains("modules 1-21 of 21"), "{matrix}");
    assert!(matrix.contains("▼ accounting"), "{matrix}");
    // The second header line: a column per module, by its first letters.
    let columns = matrix.lines().nth(3).unwrap();
    let shown = columns
        .trim_matches('│')
        .split_whitespace()
        .filter(|w| *w != "TENANT")
        .count();
    assert!(shown >= 12, "{shown} module columns:\n{matrix}");
    // The header follows the cursor: billing is the fourth module.
    keys(&mut app, "lll");
    assert!(screen(&app, 80, 24).contains("▼ billing"));
    // The last, at the right border, is named ending over its column.
    keys(&mut app, &"l".repeat(20));
    let last = screen(&app, 80, 24);
    assert!(last.contains("user_management ▼"), "{last}");
    assert!(last.contains("modules 1-21 of 21"), "{last}");
    // Narrower, the columns scroll to keep the selected one in view, and the title says which.
    let narrow = screen(&app, 40, 12);
    assert!(narrow.contains("modules 14-21"), "{narrow}");
    assert!(narrow.contains("user_management ▼"), "{narrow}");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_filter_reads_states_and_module_states_and_answers_bad_input() {
    let s = demo_with_a_failed_job().await;
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // Matrix, on initech; /failed: globex alone (its billing failed), the cursor on it.
    keys(&mut app, "3jj");
    keys(&mut app, "/failed");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.visible(Tab::Matrix), [1]);
    assert_eq!(
        app.row(Tab::Matrix),
        0,
        "the cursor lands on the first match"
    );
    let failed = screen(&app, 80, 24);
    insta::assert_snapshot!("matrix_filter_failed", failed);
    assert!(failed.contains("1 row(s) match"), "{failed}");
    // The Tenants view lists the same tenants; Modules and History read states their way.
    app.on_key(key('2'));
    assert_eq!(app.visible(Tab::Tenants), [1]);
    keys(&mut app, "1/✗");
    app.on_key(code(KeyCode::Enter));
    let billing = app.visible(Tab::Modules);
    assert_eq!(billing.len(), 1);
    assert_eq!(app.shared.data.modules[billing[0]].name, "billing");
    enter(&project, &mut app, "5/billing:failed").await;
    let history = app.visible(Tab::History);
    assert!(!history.is_empty());
    for h in history {
        let row = &app.views.history.page().rows[*h];
        assert_eq!(
            (row.module_name(), row.outcome != "succeeded"),
            ("billing", true)
        );
    }
    assert!(screen(&app, 80, 24).contains("History (rows 1-1 of 1 matching \"billing:failed\")"));
    // A word the registry cannot be asked about: said beside the line, refused on enter,
    // and the filter stays.
    keys(&mut app, "/ glob");
    let typing = screen(&app, 80, 24);
    assert!(typing.contains("no module or tenant \"glob\""), "{typing}");
    app.on_key(code(KeyCode::Enter));
    settle(&project, &mut app).await;
    let refused = screen(&app, 80, 24);
    assert!(
        refused.contains("filter unchanged: no module or tenant \"glob\""),
        "{refused}"
    );
    assert!(refused.contains("matching \"billing:failed\""), "{refused}");
    // A tenant and failed; esc clears the filter and asks for every row again.
    enter(&project, &mut app, "/globex failed").await;
    assert_eq!(app.visible(Tab::History).len(), 1);
    app.on_key(code(KeyCode::Esc));
    settle(&project, &mut app).await;
    assert!(screen(&app, 80, 24).contains("History (rows 1-11 of 11)"));

    // module:state in the Matrix.
    keys(&mut app, "3");
    app.on_key(code(KeyCode::Esc));
    keys(&mut app, "/billing:failed");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.visible(Tab::Matrix), [1]);
    keys(&mut app, "/");
    app.on_key(code(KeyCode::Esc));
    keys(&mut app, "/calendar:installed");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.visible(Tab::Matrix), [0, 2]);

    // A module that does not exist: said beside the line as it is typed (the rows follow
    // what parses); entered, said in the status line, and the filter is what it was.
    keys(&mut app, "/ billng:failed");
    let typing = screen(&app, 80, 24);
    insta::assert_snapshot!("filter_bad_module_typing", typing);
    assert!(
        typing.contains("no module \"billng\" in billng:failed: did you mean billing:failed?"),
        "{typing}"
    );
    app.on_key(code(KeyCode::Enter));
    let refused = screen(&app, 80, 24);
    assert!(
        refused.contains("filter unchanged: no module \"billng\""),
        "{refused}"
    );
    assert!(
        refused.contains("matching \"calendar:installed\""),
        "{refused}"
    );
    assert_eq!(app.visible(Tab::Matrix), [0, 2]);
    // An unknown state, likewise.
    keys(&mut app, "/ billing:broken");
    app.on_key(code(KeyCode::Enter));
    let state = screen(&app, 80, 24);
    assert!(
        state.contains("filter unchanged: no state \"broken\" in billing:broken"),
        "{state}"
    );
    assert_eq!(app.visible(Tab::Matrix), [0, 2]);
    // Tab completes a module, then its state.
    app.on_key(code(KeyCode::Esc));
    keys(&mut app, "/bil");
    app.on_key(code(KeyCode::Tab));
    keys(&mut app, "fa");
    app.on_key(code(KeyCode::Tab));
    assert!(screen(&app, 80, 24).contains("/billing:failed █"));
    assert_eq!(app.visible(Tab::Matrix), [1]);
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn n_and_shift_n_go_to_the_next_and_previous_trouble_and_s_sorts_by_a_state() {
    let s = demo_with_a_failed_job().await;
    // calendar's new migration: pending for acme and initech.
    color_migration(&s, ADD_COLOR);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    app.on_key(key('3'));
    let at = |app: &estate::tui::App| (app.row(Tab::Matrix), app.views.matrix.column);
    // acme × calendar ↑, globex × billing ✗, initech × calendar ↑, then round again.
    app.on_key(key('n'));
    assert_eq!(at(&app), (0, 1));
    app.on_key(key('n'));
    assert_eq!(at(&app), (1, 0));
    insta::assert_snapshot!("matrix_n_on_failed", screen(&app, 80, 24));
    // The cell under the cursor, read from the screen.
    app.on_key(code(KeyCode::Enter));
    assert!(screen(&app, 80, 24).contains("billing for globex  ✗ failed"));
    app.on_key(code(KeyCode::Esc));
    app.on_key(key('n'));
    assert_eq!(at(&app), (2, 1));
    app.on_key(key('n'));
    assert_eq!(at(&app), (0, 1));
    assert!(screen(&app, 80, 24).contains("past the last: from the top"));
    app.on_key(key('N'));
    assert_eq!(at(&app), (2, 1));
    assert!(screen(&app, 80, 24).contains("past the first: from the bottom"));
    app.on_key(key('N'));
    assert_eq!(at(&app), (1, 0));
    // The Tenants view goes by tenant, History by failed row.
    keys(&mut app, "2gn");
    assert_eq!(app.row(Tab::Tenants), 1);
    keys(&mut app, "5");
    settle(&project, &mut app).await;
    keys(&mut app, "gn");
    let h = app.visible(Tab::History)[app.row(Tab::History)];
    assert_ne!(app.views.history.page().rows[h].outcome, "succeeded");

    // s on billing's column: its failed tenant first; s again, by slug.
    keys(&mut app, "3h");
    app.on_key(key('s'));
    assert_eq!(app.visible(Tab::Matrix), [1, 0, 2]);
    let sorted = screen(&app, 80, 24);
    assert!(sorted.contains("by billing state"), "{sorted}");
    assert!(sorted.contains("s again: by slug"), "{sorted}");
    app.on_key(key('s'));
    assert_eq!(app.visible(Tab::Matrix), [0, 1, 2]);
    // The Tenants view sorts by trouble: globex's failure, then the pending ones.
    keys(&mut app, "2s");
    assert_eq!(app.visible(Tab::Tenants)[0], 1);
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shift_v_marks_a_range_and_commands_take_ranges_and_complete_names() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    s.add_tenants(&["t0100", "t0101", "t0102", "t0103"]);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // Matrix, calendar: V on acme, down two, V: acme, globex, initech marked.
    keys(&mut app, "3lV");
    assert!(screen(&app, 80, 24).contains("range: move to its other end"));
    keys(&mut app, "jj");
    app.on_key(key('V'));
    assert_eq!(app.shared.marks.len(), 3, "{:?}", app.shared.marks);
    let ranged = screen(&app, 80, 24);
    insta::assert_snapshot!("matrix_range_marked", ranged);
    assert!(ranged.contains("3 row(s) marked"), "{ranged}");
    // esc leaves a range started, marking nothing.
    keys(&mut app, "jV");
    app.on_key(code(KeyCode::Esc));
    assert!(screen(&app, 80, 24).contains("range left: nothing marked"));
    assert_eq!(app.shared.marks.len(), 3);
    app.on_key(code(KeyCode::Esc));
    assert!(app.shared.marks.is_empty());

    // A range of tenants in a command: the slugs between, in sorted order.
    keys(&mut app, ":install billing t0101..t0103");
    app.on_key(code(KeyCode::Enter));
    let planning = screen(&app, 80, 24);
    assert!(
        planning.contains("install billing for t0101, t0102, t0103"),
        "{planning}"
    );
    settle(&project, &mut app).await;
    assert!(screen(&app, 80, 24).contains("3 tenant(s)"));
    app.on_key(code(KeyCode::Esc));

    // Bad input is answered in the status line, with the fix; nothing is planned.
    for (line, says) in [
        (
            ":install billing t0103..t0101",
            "t0103..t0101 runs backwards: write the smaller slug first, t0101..t0103",
        ),
        (
            ":install billing t01..",
            "t01.. is not a range: write FIRST..LAST, e.g. t0100..t0199",
        ),
        (
            ":install billing zz0..zz9",
            "no tenant between zz0 and zz9: the Tenants view (2) lists them",
        ),
        (
            ":install biling acme",
            "biling is no module or tenant: did you mean billing? (tab completes names)",
        ),
    ] {
        keys(&mut app, line);
        app.on_key(code(KeyCode::Enter));
        assert!(
            app.popup.is_none() && app.take_effects().is_empty(),
            "{line}"
        );
        let answer = screen(&app, 80, 24);
        assert!(
            answer.lines().last().unwrap().contains(says),
            "{line}:\n{answer}"
        );
    }

    // Tab completes the command, a module, then as far as the slugs agree.
    keys(&mut app, ":roll");
    app.on_key(code(KeyCode::Tab));
    keys(&mut app, "bil");
    app.on_key(code(KeyCode::Tab));
    keys(&mut app, "t01");
    app.on_key(code(KeyCode::Tab));
    let completing = screen(&app, 80, 24);
    insta::assert_snapshot!("palette_tab_completion", completing);
    let mut bottom = completing.lines().rev();
    assert_eq!(
        bottom.next(),
        Some(":rollback billing t010█"),
        "{completing}"
    );
    assert_eq!(
        bottom.next(),
        Some("4 of them: t0100 t0101 t0102 t0103"),
        "{completing}"
    );
    app.on_key(code(KeyCode::Esc));
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_line_cut_at_the_edge_reads_whole_and_history_gives_by_the_spare_width() {
    let s = demo_with_a_failed_job().await;
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // The failed migrate's log: enter focuses the pane, enter again opens it whole.
    app.on_key(key('4'));
    settle(&project, &mut app).await;
    let pane = screen(&app, 80, 24);
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Enter));
    assert!(matches!(app.popup, Some(Popup::Detail(_))));
    // (The error names the scratch project's folder, which changes from run to run: no
    // snapshot.)
    let whole = screen(&app, 80, 24);
    assert!(whole.contains("Log: 4 line(s), whole"), "{whole}");
    // Cut in the pane, whole in the window (wrapped where it is long).
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let unwrapped = words(&whole.replace('│', " "));
    assert!(
        unwrapped.contains("no such table: no_such_table"),
        "{whole}"
    );
    assert!(
        !words(&pane).contains("no such table: no_such_table"),
        "{pane}"
    );
    app.on_key(code(KeyCode::Esc));
    assert!(app.popup.is_none());
    // History at 120 columns: BY takes what the other columns leave.
    app.on_key(key('5'));
    settle(&project, &mut app).await;
    let wide = screen(&app, 120, 24);
    let header = wide.lines().nth(2).unwrap();
    let by = header.find("BY").unwrap();
    let took = header.find("TOOK").unwrap();
    assert!(by - took <= 10, "{header}");
    assert!(header.trim_end_matches('│').len() - by > 40, "{header}");
    project.close().await;
}

/// `7,954`, as the History title counts.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// More history than the console once kept in memory (its newest 2,000 rows): 3,000 rows of
/// acme's written straight into the registry after globex's failed upgrade, ten of them an
/// hour ago and the rest long before.
async fn demo_with_3000_more_history_rows() -> Scratch {
    let s = demo_with_a_failed_job().await;
    tokio::task::block_in_place(|| add_acme_history(&s, 2990, 10));
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn history_past_the_newest_2000_rows_is_paged_from_the_registry() {
    let s = demo_with_3000_more_history_rows().await;
    let cli = s.estate_json(&["history", "--tenant", "acme", "--json"]);
    let cli = cli.as_array().unwrap();
    assert!(cli.len() > 3000, "{}", cli.len());
    let total = thousands(cli.len());
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    assert!(
        app.take_effects().is_empty(),
        "the first frame asks for no history"
    );
    // Shown, History asks for its first page: every row counted, 500 of them listed.
    keys(&mut app, "5");
    assert!(screen(&app, 80, 24).contains("History (loading…)"));
    settle(&project, &mut app).await;
    let all = thousands(
        s.estate_json(&["history", "--json"])
            .as_array()
            .unwrap()
            .len(),
    );
    let shown = screen(&app, 80, 24);
    assert!(
        shown.contains(&format!("History (rows 1-500 of {all})")),
        "{shown}"
    );

    // :history acme counts what `estate history --tenant acme` lists, a page at a time.
    enter(&project, &mut app, ":history acme").await;
    let first = screen(&app, 80, 24);
    assert!(
        first.contains(&format!(
            "History (rows 1-500 of {total} matching \"acme\")"
        )),
        "{first}"
    );
    let page = app.views.history.page();
    assert!(
        page.rows
            .iter()
            .all(|h| h.tenant.as_deref() == Some("acme"))
    );
    // G: the last page, the cursor on the oldest row, the CLI's first.
    keys(&mut app, "G");
    settle(&project, &mut app).await;
    let last = screen(&app, 80, 24);
    let from = cli.len() / 500 * 500 + 1;
    assert!(
        last.contains(&format!("rows {}-{total} of {total}", thousands(from))),
        "{last}"
    );
    let oldest = &app.views.history.page().rows[app.row(Tab::History)];
    assert_eq!(
        (oldest.module_name(), oldest.started_at.as_str()),
        (
            cli[0]["module"].as_str().unwrap(),
            cli[0]["started_at"].as_str().unwrap()
        )
    );
    // Up past the page's first row: the page before, on its last row.
    keys(&mut app, &"k".repeat(cli.len() - from + 1));
    settle(&project, &mut app).await;
    let before = screen(&app, 80, 24);
    assert!(
        before.contains(&format!(
            "rows {}-{} of {total}",
            thousands(from - 500),
            thousands(from - 1)
        )),
        "{before}"
    );
    assert_eq!(app.row(Tab::History), 499);
    // Down past it again, and g back to the first page.
    keys(&mut app, "j");
    settle(&project, &mut app).await;
    assert_eq!(app.row(Tab::History), 0);
    assert!(screen(&app, 80, 24).contains(&format!("rows {}-", thousands(from))));
    keys(&mut app, "g");
    settle(&project, &mut app).await;
    assert!(screen(&app, 80, 24).contains(&format!("rows 1-500 of {total}")));

    // --since: the ten rows of the last hour.
    enter(&project, &mut app, ":history acme --since 12h").await;
    let recent = screen(&app, 80, 24);
    assert!(
        recent.contains("History (rows 1-10 of 10 matching \"acme since:12h\")"),
        "{recent}"
    );
    // A malformed time is answered with the fix, and the view stays as it was.
    keys(&mut app, ":history acme --since 12x");
    app.on_key(code(KeyCode::Enter));
    assert!(app.take_effects().is_empty());
    let said = app.shared.message.clone().unwrap().0;
    assert!(
        said.contains("\"12x\" is neither a span of time nor a date; write a span back from now (30m, 12h, 7d, 2w)"),
        "{said}"
    );
    assert!(screen(&app, 120, 24).contains("\"12x\" is neither a span of time nor a date"));
    assert!(screen(&app, 80, 24).contains("rows 1-10 of 10 matching \"acme since:12h\""));

    // globex × billing failed before the 3,000 rows: its detail still shows the step.
    enter(&project, &mut app, "3j").await;
    let cell = screen(&app, 80, 24);
    for says in ["billing for globex", "✗ ", "no_such_table"] {
        assert!(cell.contains(says), "{cell}");
    }
    app.on_key(code(KeyCode::Esc));
    // acme's detail: its newest rows and how many more, with where to read them.
    enter(&project, &mut app, "2k").await;
    let tenant = screen(&app, 80, 40);
    let more = format!("{} more: :history acme", thousands(cli.len() - 20));
    assert!(tenant.contains(&more), "{tenant}");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_filter_reads_tags_and_marking_a_module_marks_the_tenants_it_shows() {
    let s = Scratch::new();
    tagged_fleet(&s);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    keys(&mut app, "2/plan=free");
    app.on_key(code(KeyCode::Enter));
    let shown: Vec<String> = app
        .visible(Tab::Tenants)
        .iter()
        .map(|t| app.shared.data.tenants()[*t].slug.clone())
        .collect();
    assert_eq!(shown, ["globex", "initech"]);
    let tenants = screen(&app, 100, 24);
    assert!(tenants.contains("plan=free region=us"), "{tenants}");
    // Modules view, calendar: space marks it for the tenants the filter shows.
    keys(&mut app, "1");
    let calendar = app
        .shared
        .data
        .modules
        .iter()
        .position(|m| m.name == "calendar")
        .unwrap();
    let row = app
        .visible(Tab::Modules)
        .iter()
        .position(|m| *m == calendar)
        .unwrap();
    keys(&mut app, &"j".repeat(row));
    app.on_key(key(' '));
    let mut marked: Vec<(String, String)> = app.shared.marks.iter().cloned().collect();
    marked.sort();
    assert_eq!(
        marked,
        [
            ("globex".to_string(), "calendar".to_string()),
            ("initech".to_string(), "calendar".to_string())
        ]
    );
    // A tag that does not parse is refused with its fix, beside the line.
    keys(&mut app, "2");
    app.on_key(code(KeyCode::Esc));
    keys(&mut app, "/plan=");
    let typing = screen(&app, 100, 24);
    assert!(typing.contains("tag plan has an empty value"), "{typing}");
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_is_removed_from_the_console_only_once_its_slug_is_typed() {
    let s = Scratch::new();
    s.add_tenants(&["acme", "globex"]);
    s.estate(&["install", "calendar", "--tenant", "acme"])
        .expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // acme has modules: the window offers their rollback, never the removal.
    enter(&project, &mut app, "2/acme").await;
    app.on_key(key('X'));
    let window = screen(&app, 100, 24);
    assert!(window.contains("Remove tenant acme"), "{window}");
    assert!(
        window.contains("it still has calendar, user_management"),
        "{window}"
    );
    app.on_key(key('y'));
    assert!(!screen(&app, 100, 24).contains("to remove it:"));
    app.on_key(key('r'));
    assert!(matches!(app.popup, Some(Popup::Planning(_))));
    settle(&project, &mut app).await;
    let plan = screen(&app, 100, 24);
    assert!(plan.contains("rollback"), "{plan}");
    app.on_key(code(KeyCode::Esc));

    // globex has none: d drops its database, y asks for the slug, a wrong one removes nothing.
    app.on_key(code(KeyCode::Esc));
    enter(&project, &mut app, "/globex").await;
    app.on_key(key('X'));
    app.on_key(key('d'));
    assert!(screen(&app, 100, 24).contains("will be DROPPED"));
    app.on_key(key('y'));
    keys(&mut app, "globx");
    app.on_key(code(KeyCode::Enter));
    settle(&project, &mut app).await;
    let wrong = screen(&app, 100, 24);
    assert!(
        wrong.contains("\"globx\" is not the slug: nothing was removed"),
        "{wrong}"
    );
    assert!(s.tenant_db("globex").exists());
    keys(&mut app, "globex");
    app.on_key(code(KeyCode::Enter));
    settle(&project, &mut app).await;
    let done = screen(&app, 100, 24);
    assert!(done.contains("removed tenant globex"), "{done}");
    assert!(!s.path("var/tenants/globex.db").exists(), "dropped");
    let tenants: Vec<&str> = app
        .shared
        .data
        .tenants()
        .iter()
        .map(|t| t.slug.as_str())
        .collect();
    assert_eq!(tenants, ["acme"]);
    project.close().await;

    // Read-only, X is refused.
    let project = open(&s).await;
    let mut app = app_on(&project, true).await;
    keys(&mut app, "2X");
    assert!(app.popup.is_none());
    assert!(screen(&app, 100, 24).contains("read-only"));
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cell_s_detail_rolls_its_module_back_to_a_version() {
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    s.estate(&["install", "calendar", "--tenant", "acme"])
        .expect(0);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    // Matrix, acme's calendar cell (modules: billing, calendar, …).
    keys(&mut app, "3l");
    app.on_key(code(KeyCode::Enter));
    settle(&project, &mut app).await;
    let detail = screen(&app, 100, 24);
    assert!(detail.contains("t roll back to a version"), "{detail}");
    app.on_key(key('t'));
    keys(&mut app, "x9");
    app.on_key(code(KeyCode::Enter));
    settle(&project, &mut app).await;
    let refused = screen(&app, 100, 24);
    assert!(
        refused.contains("--to 9 is past calendar's latest tenant migration"),
        "{refused}"
    );
    app.on_key(code(KeyCode::Esc));
    // Still on the calendar column.
    keys(&mut app, "3");
    app.on_key(code(KeyCode::Enter));
    settle(&project, &mut app).await;
    app.on_key(key('t'));
    keys(&mut app, "1");
    app.on_key(code(KeyCode::Enter));
    settle(&project, &mut app).await;
    let plan = screen(&app, 100, 24);
    assert!(
        plan.contains("rollback calendar to version 0001: 1 step(s), 2 migration(s)"),
        "{plan}"
    );
    assert!(plan.contains("drops events"), "{plan}");
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    settle(&project, &mut app).await;
    let db = s.tenant_db("acme");
    let ledger = tokio::task::spawn_blocking(move || {
        first_column(
            &db,
            "SELECT version FROM estate_ledger WHERE context = 'calendar' AND scope = 'tenant'",
        )
    })
    .await
    .unwrap();
    assert_eq!(ledger, ["1"]);
    assert_eq!(
        state(&s.estate_json(&["status", "--json"]), "acme", "calendar"),
        st("outdated", 2, 2)
    );
    project.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_rolls_out_in_waves_each_asked_for_and_a_failure_stops_it() {
    let s = Scratch::new();
    s.add_tenants(&["t1", "t2", "t3", "t4"]);
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    enter(&project, &mut app, ":install calendar all").await;
    // w: the first waves offered, 1, 10%, rest.
    app.on_key(key('w'));
    let confirm = screen(&app, 100, 24);
    assert!(confirm.contains("in waves: 1, 10%, rest"), "{confirm}");
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    let first = screen(&app, 100, 24);
    assert!(first.contains("Wave 1 of 3"), "{first}");
    assert!(
        first.contains("next: wave 2 of 3, 1 tenant(s) (3 left in all)"),
        "{first}"
    );
    let tenants_installed = |s: &Scratch| {
        let status = s.estate_json(&["status", "--json"]);
        ["t1", "t2", "t3", "t4"]
            .into_iter()
            .filter(|t| state(&status, t, "calendar").0 == "installed")
            .count()
    };
    assert_eq!(tenants_installed(&s), 1, "one wave, then a question");
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    assert_eq!(tenants_installed(&s), 2);
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    assert_eq!(tenants_installed(&s), 4);
    assert!(screen(&app, 100, 24).contains("rollout done: 3 wave(s)"));

    // A failure on t1 (first in slug order) stops the rollout after its wave.
    migration_pair(
        &s,
        "calendar",
        "tenant",
        "0004_add_boom",
        "CREATE TABLE boom (id INTEGER);\n",
        "DROP TABLE boom;\n",
    );
    let t1 = s.tenant_db("t1");
    tokio::task::spawn_blocking(move || exec(&t1, "CREATE TABLE boom (x INTEGER)"))
        .await
        .unwrap();
    project.close().await;
    let project = open(&s).await;
    let mut app = app_on(&project, false).await;
    enter(&project, &mut app, ":upgrade calendar all").await;
    app.on_key(key('w'));
    app.on_key(key('y'));
    settle(&project, &mut app).await;
    let halted = screen(&app, 100, 24);
    assert!(halted.contains("failed: t1"), "{halted}");
    assert!(
        halted.contains("the rollout stops here: 3 tenant(s) not started"),
        "{halted}"
    );
    app.on_key(key('y'));
    assert!(
        matches!(app.popup, Some(Popup::Wave(_))),
        "y does not go on after a failure"
    );
    app.on_key(code(KeyCode::Esc));
    assert!(screen(&app, 100, 24).contains("rollout stopped after wave 1 of 3"));
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "t2", "calendar"), st("outdated", 4, 1));
    project.close().await;
}
