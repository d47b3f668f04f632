//! The `/` line: a filter for the focused view's rows, applied as it is typed; enter keeps
//! it, esc clears it.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::{Edit, Reply, edit};
use crate::tui::widgets::status_line;

#[derive(Debug)]
pub struct FilterLine {
    text: String,
}

impl FilterLine {
    /// The line, starting from the view's filter.
    pub fn new(text: String) -> FilterLine {
        FilterLine { text }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Reply {
        match edit(&mut self.text, key) {
            Edit::Changed => Reply::Filter(self.text.clone()),
            Edit::Emptied => Reply::Close,
            Edit::Dismissed => Reply::FilterClosed(None),
            Edit::Submitted => Reply::FilterClosed(Some(std::mem::take(&mut self.text))),
            Edit::Ignored => Reply::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        status_line::input(frame, area, "/", &self.text);
    }
}
