//! A details window (`enter` in a view, or a plan with nothing to do): lines a view wrote,
//! scrolled with the moving keys. A Matrix cell's offers `t`: its module rolled back to a
//! version typed next, planned and confirmed as any rollback.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::Line;

use super::{Popup, Reply, VersionLine};
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::shared::Shared;
use crate::tui::widgets::window::{self, scroll_by};
use crate::tui::worker::CellRef;

#[derive(Debug)]
pub struct Detail {
    title: String,
    lines: Vec<Line<'static>>,
    scroll: usize,
    /// The cell whose module `t` rolls back to a version.
    cell: Option<CellRef>,
}

impl Detail {
    pub fn new(title: String, lines: Vec<Line<'static>>) -> Detail {
        Detail {
            title,
            lines,
            scroll: 0,
            cell: None,
        }
    }

    /// The detail of `cell`, which offers its rollback to a version.
    pub fn for_cell(mut self, cell: Option<CellRef>) -> Detail {
        self.cell = cell;
        self
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &Shared) -> Reply {
        match keys::in_window(Window::Detail, key) {
            Some(Command::No) => Reply::Close,
            Some(Command::ToVersion) if self.cell.is_some() => match self.cell.take() {
                Some(cell) => Reply::Open(Popup::ToVersion(VersionLine::new(cell))),
                None => Reply::Stay,
            },
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
            vec![window::keys_line(keys::footer(Window::Detail, |c| {
                c != Command::ToVersion || self.cell.is_some()
            }))],
        );
    }
}
