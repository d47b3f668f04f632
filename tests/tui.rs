//! The console, rendered: every view and the help overlay at 80×24 on the demo project, and
//! the empty state, through ratatui's test backend, compared with reviewed snapshots.

mod common;

use common::*;
use estate::config::Config;
use estate::tui::{App, Snapshot, Tab, draw};
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
                out.push_str(&format!("{:<w$}", "# ms", w = stop - i));
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

async fn app_on(s: &Scratch, read_only: bool) -> App {
    let config = Config::load(Some(&s.path("config/estate.toml"))).unwrap();
    let project = estate::Project::open(config).await.unwrap();
    let snapshot = Snapshot::load(&project).await.unwrap();
    project.close().await;
    App::new(snapshot, read_only)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_view_of_the_demo_at_80x24() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    // A failed job, for the Jobs and History views and the matrix.
    s.write(
        "contexts/billing/migrations/tenant/0003_broken.up.sql",
        "SELECT * FROM no_such_table;\n",
    );
    s.write(
        "contexts/billing/migrations/tenant/0003_broken.down.sql",
        "SELECT 1;\n",
    );
    s.estate(&["migrate", "billing", "--all"]).expect(1);
    let mut app = app_on(&s, false).await;
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
    assert!(!app.help, "any key closes the help");
    app.on_key(key('q'));
    assert!(app.quit);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_matrix_scrolls_to_keep_the_selected_module_in_view() {
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let mut app = app_on(&s, false).await;
    app.on_key(key('3'));
    for _ in 0..3 {
        app.on_key(key('l'));
    }
    let narrow = screen(&app, 60, 12);
    assert!(
        narrow.contains("user_management"),
        "the last module is scrolled into view:\n{narrow}"
    );
    assert!(
        !narrow.contains("billing"),
        "the first one scrolled out:\n{narrow}"
    );
    app.on_key(key('j'));
    app.on_key(key('G'));
    assert_eq!(app.row(Tab::Matrix), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_project_read_only() {
    let s = Scratch::new();
    s.estate(&["check"]).expect(0);
    s.estate(&["tenants", "list"]).expect(0);
    let mut app = app_on(&s, true).await;
    app.on_key(key('3'));
    insta::assert_snapshot!("empty_matrix_read_only", screen(&app, 80, 24));
}
