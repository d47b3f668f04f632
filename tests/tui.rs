//! The console, rendered: every view, dialog and the help overlay at 80×24 on the demo project
//! and on an empty one, through ratatui's test backend, compared with reviewed snapshots; and
//! driven: marks, plans, confirmations, jobs, filters and commands, against real databases.

mod common;

use common::*;
use estate::tui::{App, Popup, Snapshot, Tab, draw};
use estate_engine::Project;
use estate_engine::config::Config;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The screen as text, with what changes from run to run (times, durations) masked.
fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..height {
        let line: String = (0..width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    mask(&out)
}

/// Replaces times with `<time>` and `N ms` with `# ms`, keeping every column where it was.
fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        // `MM-DD HH:MM:SS`, as the console shows times.
        let rest: String = chars[i..chars.len().min(i + 14)].iter().collect();
        let shape: String = rest
            .chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect();
        if shape == "99-99 99:99:99" {
            out.push_str("<time>        ");
            i += 14;
            continue;
        }
        // `HH:MM:SS` in the log pane.
        if shape.starts_with("99:99:99") {
            out.push_str("<clock> ");
            i += 8;
            continue;
        }
        // Job ids: `20261125T172233123-1a2b`.
        if shape.starts_with("99999999T") && chars.len() >= i + 23 {
            out.push_str("<job-id>               ");
            i += 23;
            continue;
        }
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let end = (i..chars.len())
                .find(|&j| !chars[j].is_ascii_digit())
                .unwrap_or(chars.len());
            let after: String = chars[end..chars.len().min(end + 3)].iter().collect();
            if after == " ms" {
                // Keep the cell's width whatever the number of digits: eat the padding too.
                let stop = (end + 3..chars.len())
                    .find(|&j| chars[j] != ' ')
                    .unwrap_or(chars.len());
                // Inline (no padding after it), what follows moves with the number's width,
                // which varies with the machine's pace: blank it up to the pane's border.
                if stop == end + 3 {
                    let border = (stop..chars.len())
                        .find(|&j| chars[j] == '│' || chars[j] == '\n')
                        .unwrap_or(chars.len());
                    out.push_str(&format!("{:<w$}", "# ms", w = border - i));
                    i = border;
                    continue;
                } else {
                    out.push_str(&format!("{:<w$}", "# ms", w = stop - i));
                }
                i = stop;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(key(c));
    }
}

/// Carries out the work the app asked for, feeding the results back, until it asks for none.
async fn settle(project: &Project, app: &mut App) {
    loop {
        let effects = app.take_effects();
        if effects.is_empty() {
            return;
        }
        for effect in effects {
            for msg in estate::tui::settle(project, effect).await {
                app.on_msg(msg);
            }
        }
    }
}

async fn open(s: &Scratch) -> Project {
    let config = Config::load(Some(&s.path("config/estate.toml"))).unwrap();
    Project::open(config).await.unwrap()
}

async fn app_on(project: &Project, read_only: bool) -> App {
    let mut snapshot = Snapshot::load(project).await.unwrap();
    // The jobs this process starts are by whoever runs the tests; the CLI's are by "tester".
    assert!(!snapshot.operator.is_empty());
    snapshot.operator = "tester".to_string();
    App::new(snapshot, read_only)
}

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
    let cell = screen(&app, 80, 24);
    assert!(cell.contains("billing for globex"), "{cell}");
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
    assert!(app.popup.is_none());
    settle(&project, &mut app).await;
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
    // billing, calendar and digital_card fit at 80 columns: 4 installed before, 2 now.
    assert_eq!(matrix.matches("✓ installed").count(), 6, "{matrix}");
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
    app.on_key(code(KeyCode::Enter));
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
    keys(&mut app, "5G");
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
    assert_eq!(acme.matches("✗ failed").count(), 1, "{matrix}");
    app.on_key(code(KeyCode::Enter));
    let cell = screen(&app, 80, 24);
    assert!(cell.contains("digital_card for acme"), "{cell}");
    assert!(cell.contains("✗ failed"), "{cell}");
    assert!(
        cell.contains("blocked: requirement user_management did not succeed"),
        "the reason is shown:\n{cell}"
    );
    project.close().await;
}
