//! A details window (`enter` in a view, or a plan with nothing to do): lines a view wrote,
//! scrolled with the moving keys.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::Line;

use super::Reply;
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::shared::Shared;
use crate::tui::widgets::window::{self, scroll_by};

#[derive(Debug)]
pub struct Detail {
    title: String,
    lines: Vec<Line<'static>>,
    scroll: usize,
}

impl Detail {
    pub fn new(title: String, lines: Vec<Line<'static>>) -> Detail {
        Detail {
            title,
            lines,
            scroll: 0,
        }
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &Shared) -> Reply {
        match keys::in_window(Window::Detail, key) {
            Some(Command::No) => Reply::Close,
            cmd => {
                scroll_by(&mut self.scroll, cmd, shared.window_scroll.get());
                Reply::Stay
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        window::draw(
            frame,
            &shared.window_scroll,
            &self.title,
            self.lines.clone(),
            self.scroll,
            vec![window::keys_line(keys::footer(Window::Detail, |_| true))],
        );
    }
}
