//! The console driven in-process, as tests/tui.rs does: keys handed to its `App`, the work it
//! asks for carried out in line against the real databases, the screen drawn on ratatui's test
//! backend and read back as text, with what changes from run to run masked.

use estate::tui::{App, Snapshot, draw};
use estate_engine::Project;
use estate_engine::config::Config;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::scratch::Scratch;

/// The screen as text, with what changes from run to run (times, durations) masked.
pub fn screen(app: &App, width: u16, height: u16) -> String {
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

/// Replaces times with `<time>`, `N ms` with `# ms` and a scratch folder's random name with
/// stars, keeping every column where it was.
pub fn mask(text: &str) -> String {
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
        // A scratch project's folder (`/tmp/.tmpAb12Cd`), named in errors.
        if rest.starts_with("/tmp/.tmp") {
            out.push_str("/tmp/.tmp");
            i += 9;
            let mut n = 0;
            while n < 6 && i < chars.len() && chars[i].is_ascii_alphanumeric() {
                out.push('*');
                i += 1;
                n += 1;
            }
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

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

pub fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

pub fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(key(c));
    }
}

/// Carries out the work the app asked for, feeding the results back, until it asks for none.
pub async fn settle(project: &Project, app: &mut App) {
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

/// Types `text`, presses enter, and carries out the work that asked for (a `:` command, a
/// `/` filter, a window's history).
pub async fn enter(project: &Project, app: &mut App, text: &str) {
    keys(app, text);
    app.on_key(code(KeyCode::Enter));
    settle(project, app).await;
}

pub async fn open(s: &Scratch) -> Project {
    let config = Config::load(Some(&s.path("config/estate.toml"))).unwrap();
    Project::open(config).await.unwrap()
}

pub async fn app_on(project: &Project, read_only: bool) -> App {
    let mut snapshot = Snapshot::load(project).await.unwrap();
    // The jobs this process starts are by whoever runs the tests; the CLI's are by "tester".
    assert!(!snapshot.operator.is_empty());
    snapshot.operator = "tester".to_string();
    App::new(snapshot, read_only)
}
