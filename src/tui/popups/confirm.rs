//! A plan on its way and the plan to confirm: every destructive action shows its plan and runs
//! only when the operator says yes. While the registry plans, the window says what it waits
//! for, and `esc` abandons it.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::{Reply, plan};
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::window::{self, scroll_by};
use crate::tui::worker::PlanRequest;
use estate_engine::Plan;

/// Waiting for the registry's plan of `request`.
#[derive(Debug)]
pub struct Planning {
    pub request: PlanRequest,
}

impl Planning {
    pub fn new(request: PlanRequest) -> Planning {
        Planning { request }
    }

    pub fn on_key(&self, key: KeyEvent, shared: &mut Shared) -> Reply {
        match keys::in_window(Window::Planning, key) {
            Some(Command::No) => {
                shared.say("planning abandoned: nothing ran");
                Reply::Close
            }
            _ => Reply::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        window::draw(
            frame,
            &shared.window_scroll,
            "Planning",
            vec![
                Line::from(plan::describe(&self.request)),
                Line::default(),
                Line::from(Span::styled(
                    "the registry is checking dependencies and each database…",
                    style::dim(),
                )),
            ],
            0,
            Some(&keys::footer(Window::Planning, |_| true)),
        );
    }
}

/// Plans to confirm, one job each.
#[derive(Debug)]
pub struct Confirm {
    plans: Vec<Plan>,
    scroll: usize,
}

impl Confirm {
    pub fn new(plans: Vec<Plan>) -> Confirm {
        Confirm { plans, scroll: 0 }
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &mut Shared) -> Reply {
        match keys::in_window(Window::Confirm, key) {
            Some(Command::Yes) => Reply::Run(std::mem::take(&mut self.plans)),
            Some(Command::No) => {
                shared.say("cancelled: nothing ran");
                Reply::Close
            }
            cmd => {
                scroll_by(&mut self.scroll, cmd, shared.window_scroll.get());
                Reply::Stay
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, shared: &Shared) {
        let mut lines = Vec::new();
        for (i, p) in self.plans.iter().enumerate() {
            if i > 0 {
                lines.push(Line::default());
            }
            lines.extend(plan::lines(p));
        }
        let title = if self.plans.len() > 1 {
            format!("Confirm {} jobs", self.plans.len())
        } else {
            "Confirm".to_string()
        };
        window::draw(
            frame,
            &shared.window_scroll,
            &title,
            lines,
            self.scroll,
            Some(&keys::footer(Window::Confirm, |_| true)),
        );
    }
}
