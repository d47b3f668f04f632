//! The quit question, asked while jobs run: quitting cancels them, each at its next migration
//! boundary.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::Line;

use super::Reply;
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::shared::Shared;
use crate::tui::widgets::window;

#[derive(Debug)]
pub struct QuitQuestion {
    /// Jobs running when it was asked.
    running: usize,
}

impl QuitQuestion {
    pub fn new(running: usize) -> QuitQuestion {
        QuitQuestion { running }
    }

    pub fn on_key(&self, key: KeyEvent) -> Reply {
        match keys::in_window(Window::Quit, key) {
            Some(Command::Yes) => Reply::Quit,
            Some(Command::No) => Reply::Close,
            _ => Reply::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        window::draw(
            frame,
            &shared.window_scroll,
            "Quit?",
            vec![
                Line::from(format!("{} job(s) still running.", self.running)),
                Line::from(
                    "Quitting cancels them: each stops at its next migration boundary, \
                     nothing is left half-applied, and the same action later picks up from there.",
                ),
            ],
            0,
            vec![window::keys_line(keys::footer(Window::Quit, |_| true))],
        );
    }
}
