//! A refused plan: the registry's reason and its fix, nothing changed; for a rollback refused
//! because of dependants, the `--cascade` alternative, planned already (`c` confirms it).

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::{Confirm, Popup, Reply, plan};
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::window::{self, scroll_by};
use estate_engine::Plan;

#[derive(Debug)]
pub struct Refused {
    error: String,
    /// The same plans with `--cascade`, when those are allowed.
    cascade: Option<Vec<Plan>>,
    scroll: usize,
}

impl Refused {
    pub fn new(error: String, cascade: Option<Vec<Plan>>) -> Refused {
        Refused {
            error,
            cascade,
            scroll: 0,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &Shared) -> Reply {
        match keys::in_window(Window::Refused, key) {
            Some(Command::Cascade) if self.cascade.is_some() => {
                let plans = self.cascade.take().unwrap_or_default();
                Reply::Open(Popup::Confirm(Confirm::new(plans)))
            }
            Some(Command::No) => Reply::Close,
            cmd => {
                scroll_by(&mut self.scroll, cmd, shared.window_scroll.get());
                Reply::Stay
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        let mut lines: Vec<Line> = self
            .error
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let st = if i == 0 {
                    style::failed()
                } else {
                    style::note()
                };
                Line::from(Span::styled(l.trim_start().to_string(), st))
            })
            .collect();
        lines.push(Line::from(Span::styled(
            "nothing was changed",
            style::dim(),
        )));
        if let Some(plans) = &self.cascade {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                "with --cascade, the dependants are rolled back first:",
                style::header(),
            )));
            for p in plans {
                lines.extend(plan::lines(p));
            }
        }
        let footer = keys::footer(Window::Refused, |c| {
            c != Command::Cascade || self.cascade.is_some()
        });
        window::draw(
            frame,
            &shared.window_scroll,
            "Refused",
            lines,
            self.scroll,
            vec![window::keys_line(footer)],
        );
    }
}
