//! Every key of the console, in one place: the event loop asks it what a key means, and the
//! help overlay lists it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::Tab;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    Back,
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
}

/// The keys, as the help overlay shows them: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    ("tab / shift-tab", "next / previous view"),
    ("1 2 3 4 5", "Modules, Tenants, Matrix, Jobs, History"),
    ("j k / ↓ ↑", "move down / up"),
    ("h l / ← →", "move left / right (Matrix columns)"),
    ("ctrl-d ctrl-u / pgdn pgup", "page down / up"),
    ("g G / home end", "first / last row"),
    ("ctrl-r / F5", "reload from the databases"),
    ("?", "this help"),
    ("esc", "close this help, back out"),
    ("q / ctrl-c", "quit"),
];

pub fn command(key: KeyEvent) -> Option<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Command::Quit,
        KeyCode::Char('d') if ctrl => Command::PageDown,
        KeyCode::Char('u') if ctrl => Command::PageUp,
        KeyCode::Char('r') if ctrl => Command::Refresh,
        KeyCode::F(5) => Command::Refresh,
        KeyCode::Char('q') => Command::Quit,
        KeyCode::Char('?') => Command::Help,
        KeyCode::Esc => Command::Back,
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
        _ => return None,
    })
}
