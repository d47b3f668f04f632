//! Every key of the console, in one place: the event loop asks it what a key means, and the
//! help overlay lists it, per view.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::Tab;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    Back,
    Enter,
    NextTab,
    PrevTab,
    GoTo(Tab),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Refresh,
    Mark,
    Install,
    Rollback,
    Upgrade,
    Filter,
    Palette,
    Cancel,
    TenantFilter,
    Follow,
    Verify,
    Map,
}

/// Where a key works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    Everywhere,
    Only(&'static [Tab]),
}

const ACTING: &[Tab] = &[Tab::Modules, Tab::Tenants, Tab::Matrix];

/// The keys, as the help overlay shows them: (where, keys, what they do).
pub const HELP: &[(Where, &str, &str)] = &[
    (Where::Everywhere, "tab / shift-tab", "next / previous view"),
    (
        Where::Everywhere,
        "1 2 3 4 5",
        "Modules, Tenants, Matrix, Jobs, History",
    ),
    (Where::Everywhere, "j k / ↓ ↑", "move down / up"),
    (
        Where::Only(&[Tab::Matrix]),
        "h l / ← →",
        "move left / right across modules",
    ),
    (
        Where::Everywhere,
        "ctrl-d ctrl-u / pgdn pgup",
        "page down / up",
    ),
    (Where::Everywhere, "g G / home end", "first / last row"),
    (Where::Only(&[Tab::Matrix]), "space", "mark the cell"),
    (
        Where::Only(&[Tab::Modules]),
        "space",
        "mark the module for every tenant shown",
    ),
    (
        Where::Only(&[Tab::Tenants]),
        "space",
        "mark the tenant for every module",
    ),
    (
        Where::Only(ACTING),
        "i r u",
        "install / roll back / upgrade the marks (or the cursor)",
    ),
    (
        Where::Only(&[Tab::Modules]),
        "m",
        "map: dependency graph and tables; j k move the highlighted module (m: the list)",
    ),
    (
        Where::Only(&[Tab::Tenants, Tab::Matrix]),
        "v",
        "verify: compare registry, ledgers and files; drift shows in the Matrix",
    ),
    (
        Where::Only(&[Tab::Jobs]),
        "enter",
        "focus the log pane (j k scroll, G follow)",
    ),
    (
        Where::Only(&[Tab::Jobs]),
        "t",
        "log pane: next tenant filter (all, then each tenant)",
    ),
    (
        Where::Only(&[Tab::Jobs]),
        "c",
        "cancel the job at its next migration boundary",
    ),
    (
        Where::Only(&[Tab::Modules, Tab::Tenants, Tab::Matrix, Tab::History]),
        "enter",
        "details",
    ),
    (Where::Everywhere, "/", "filter the rows (esc clears)"),
    (
        Where::Everywhere,
        ":",
        "command: :install calendar acme, :tenant acme, :q",
    ),
    (
        Where::Everywhere,
        "ctrl-r / F5",
        "reload from the databases",
    ),
    (Where::Everywhere, "?", "this help"),
    (Where::Everywhere, "esc", "close, back out, clear marks"),
    (
        Where::Everywhere,
        "q / ctrl-c",
        "quit (asks while jobs run)",
    ),
];

/// The help lines of `tab`.
pub fn help_for(tab: Tab) -> Vec<(&'static str, &'static str)> {
    HELP.iter()
        .filter(|(w, _, _)| match w {
            Where::Everywhere => true,
            Where::Only(tabs) => tabs.contains(&tab),
        })
        .map(|(_, k, what)| (*k, *what))
        .collect()
}

pub fn command(key: KeyEvent) -> Option<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Command::Quit,
        KeyCode::Char('d') if ctrl => Command::PageDown,
        KeyCode::Char('u') if ctrl => Command::PageUp,
        KeyCode::Char('r') if ctrl => Command::Refresh,
        _ if ctrl => return None,
        KeyCode::F(5) => Command::Refresh,
        KeyCode::Char('q') => Command::Quit,
        KeyCode::Char('?') => Command::Help,
        KeyCode::Esc => Command::Back,
        KeyCode::Enter => Command::Enter,
        KeyCode::Tab => Command::NextTab,
        KeyCode::BackTab => Command::PrevTab,
        KeyCode::Char(c @ '1'..='5') => Command::GoTo(Tab::ALL[(c as u8 - b'1') as usize]),
        KeyCode::Char('j') | KeyCode::Down => Command::Down,
        KeyCode::Char('k') | KeyCode::Up => Command::Up,
        KeyCode::Char('h') | KeyCode::Left => Command::Left,
        KeyCode::Char('l') | KeyCode::Right => Command::Right,
        KeyCode::PageDown => Command::PageDown,
        KeyCode::PageUp => Command::PageUp,
        KeyCode::Char('g') | KeyCode::Home => Command::Top,
        KeyCode::Char('G') | KeyCode::End => Command::Bottom,
        KeyCode::Char(' ') => Command::Mark,
        KeyCode::Char('i') => Command::Install,
        KeyCode::Char('r') => Command::Rollback,
        KeyCode::Char('u') => Command::Upgrade,
        KeyCode::Char('/') => Command::Filter,
        KeyCode::Char(':') => Command::Palette,
        KeyCode::Char('c') => Command::Cancel,
        KeyCode::Char('t') => Command::TenantFilter,
        KeyCode::Char('f') => Command::Follow,
        KeyCode::Char('v') => Command::Verify,
        KeyCode::Char('m') => Command::Map,
        _ => return None,
    })
}
