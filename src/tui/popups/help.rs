//! The `?` overlay: the focused view's keys, read from the key map. Any key closes it; the
//! quit keys still quit.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::Reply;
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::views::Tab;
use crate::tui::widgets::window;

#[derive(Debug)]
pub struct Help {
    tab: Tab,
    read_only: bool,
}

impl Help {
    /// The keys of `tab` (read-only: not those that act).
    pub fn new(tab: Tab, read_only: bool) -> Help {
        Help { tab, read_only }
    }

    pub fn on_key(&self, key: KeyEvent) -> Reply {
        match keys::in_window(Window::Help, key) {
            Some(Command::Quit) => Reply::AskQuit,
            _ => Reply::Close,
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        let mut lines: Vec<Line> = keys::help(self.tab, self.read_only)
            .into_iter()
            .map(|(k, what)| {
                Line::from(vec![
                    Span::styled(format!("{k:>25}  "), style::header()),
                    Span::raw(what),
                ])
            })
            .collect();
        lines.push(Line::from(Span::styled(
            format!("{:>25}  any key closes this", ""),
            style::dim(),
        )));
        window::draw(
            frame,
            &shared.window_scroll,
            &format!("Keys: {}", self.tab.title()),
            lines,
            0,
            Vec::new(),
        );
    }
}
