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
use crate::tui::worker::PlanRequest;
use estate_engine::Plan;

#[derive(Debug)]
pub struct Refused {
    error: String,
    /// The same plans with `--cascade`, when those are allowed.
    cascade: Option<Vec<Plan>>,
    /// What was asked, with `--cascade`: confirming the alternative plans it again first.
    cascade_request: Option<PlanRequest>,
    scroll: usize,
}

impl Refused {
    pub fn new(error: String, cascade: Option<Vec<Plan>>) -> Refused {
        Refused {
            error,
            cascade,
            cascade_request: None,
            scroll: 0,
        }
    }

    /// The refusal of `request`: its `--cascade` alternative is planned again once confirmed.
    pub fn for_request(mut self, request: &PlanRequest) -> Refused {
        self.cascade_request = Some(PlanRequest {
            cascade: true,
            ..request.clone()
        });
        self
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &Shared) -> Reply {
        match keys::in_window(Window::Refused, key) {
            Some(Command::Cascade) if self.cascade.is_some() => {
                let plans = self.cascade.take().unwrap_or_default();
                let confirm = Confirm::new(plans);
                Reply::Open(Popup::Confirm(match self.cascade_request.take() {
                    Some(request) => confirm.for_request(request),
                    None => confirm,
                }))
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
