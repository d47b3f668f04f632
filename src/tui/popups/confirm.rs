//! A plan on its way and the plan to confirm: every destructive action shows its plan and runs
//! only when the operator says yes. While the registry plans, the window says what it waits
//! for, and `esc` abandons it.
//!
//! The window defaults to no: `enter` cancels, only `y` runs. A rollback over more than one
//! tenant, or of a landlord scope, asks more: after `y` the operator types the modules' names,
//! so that no two keys pressed out of habit drop a fleet's tables. `s` shows the SQL the steps
//! run instead of the plan. Confirmed, the plans are made again before they run: if the fleet
//! changed meanwhile (another operator's job), the window shows the new plan, or the refusal.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::{Edit, Reply, edit_with, plan};
use crate::tui::command::Command;
use crate::tui::keys::{self, Window};
use crate::tui::rollout;
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::window::{self, keys_line, scroll_by};
use crate::tui::worker::PlanRequest;
use estate_engine::Plan;

/// Waiting for the registry's plan of `request`; or, once confirmed, for the same plan
/// made again (`recheck`), since the fleet may have changed while the window was open.
#[derive(Debug)]
pub struct Planning {
    pub request: PlanRequest,
    pub recheck: bool,
}

impl Planning {
    pub fn new(request: PlanRequest) -> Planning {
        Planning {
            request,
            recheck: false,
        }
    }

    pub fn rechecking(request: PlanRequest) -> Planning {
        Planning {
            request,
            recheck: true,
        }
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
                    if self.recheck {
                        "confirmed: checking the fleet did not change since the plan was shown…"
                    } else {
                        "the registry is checking dependencies and each database…"
                    },
                    style::dim(),
                )),
            ],
            0,
            vec![keys_line(keys::footer(Window::Planning, |_| true))],
        );
    }
}

/// Plans to confirm, one job each.
#[derive(Debug)]
pub struct Confirm {
    plans: Vec<Plan>,
    scroll: usize,
    /// The SQL of the steps is shown instead of the plan.
    sql: bool,
    /// What the operator must type to run them, when the plans need more than `y`.
    phrase: Option<String>,
    /// What is typed so far, once `y` asked for it.
    typed: Option<String>,
    /// The last typed answer was wrong.
    wrong: Option<String>,
    /// What was asked, planned again once confirmed: the plans run only if the fleet still
    /// plans the same (another process may have run a job meanwhile).
    request: Option<PlanRequest>,
    /// Why this window shows again.
    notice: Option<String>,
    /// Which of `rollout::PRESETS` the plan runs in (0: one job).
    waves: usize,
}

/// Whether `plan` needs its modules' names typed: a rollback over more than one tenant, or
/// of a landlord scope.
fn guarded(plan: &Plan) -> bool {
    let tenants = plan.tenant_steps.values().filter(|s| !s.is_empty()).count();
    plan.action.is_down() && (tenants > 1 || !plan.landlord.is_empty())
}

impl Confirm {
    pub fn new(plans: Vec<Plan>) -> Confirm {
        let mut names: Vec<&str> = Vec::new();
        for p in plans.iter().filter(|p| guarded(p)) {
            for m in &p.modules {
                if !names.contains(&m.as_str()) {
                    names.push(m);
                }
            }
        }
        let phrase = (!names.is_empty()).then(|| names.join(" "));
        Confirm {
            plans,
            scroll: 0,
            sql: false,
            phrase,
            typed: None,
            wrong: None,
            request: None,
            notice: None,
            waves: 0,
        }
    }

    /// Whether waves are offered: one plan, over more than one tenant.
    fn waves_offered(&self) -> bool {
        let [plan] = self.plans.as_slice() else {
            return false;
        };
        plan.tenant_steps.values().filter(|s| !s.is_empty()).count() > 1
    }

    /// Plans of `request`: confirming plans it again first.
    pub fn for_request(mut self, request: PlanRequest) -> Confirm {
        self.request = Some(request);
        self
    }

    /// Says why the window is shown again.
    pub fn with_notice(mut self, notice: impl Into<String>) -> Confirm {
        self.notice = Some(notice.into());
        self
    }

    /// The operator said yes: the plans run, once planned again when their request is known.
    fn confirmed(&mut self, shared: &mut Shared) -> Reply {
        shared.pending_waves = (self.waves > 0).then(|| rollout::PRESETS[self.waves].to_vec());
        let plans = std::mem::take(&mut self.plans);
        match self.request.take() {
            Some(request) => Reply::Recheck(request, plans),
            None => Reply::Run(plans),
        }
    }

    /// What the operator must type to confirm, if more than `y`.
    pub fn phrase(&self) -> Option<&str> {
        self.phrase.as_deref()
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &mut Shared) -> Reply {
        if let Some(typed) = self.typed.as_mut() {
            return match edit_with(typed, key, keys::in_window(Window::Typing, key)) {
                Edit::Submitted if Some(typed.trim()) == self.phrase.as_deref() => {
                    self.confirmed(shared)
                }
                Edit::Submitted => {
                    let phrase = self.phrase.as_deref().unwrap_or_default();
                    self.wrong = Some(if typed.trim().is_empty() {
                        format!("nothing typed: type {phrase} and press enter, or esc to leave")
                    } else {
                        format!(
                            "\"{}\" is not \"{phrase}\": nothing ran; type it exactly, or esc to leave",
                            typed.trim()
                        )
                    });
                    typed.clear();
                    Reply::Stay
                }
                Edit::Dismissed => {
                    shared.say("cancelled: nothing ran");
                    Reply::Close
                }
                Edit::Changed | Edit::Emptied => {
                    self.wrong = None;
                    Reply::Stay
                }
                Edit::Ignored | Edit::Completing => {
                    let scroll = keys::in_views(key).filter(|c| c.moves());
                    scroll_by(&mut self.scroll, scroll, shared.window_scroll.get());
                    Reply::Stay
                }
            };
        }
        match keys::in_window(Window::Confirm, key) {
            Some(Command::Yes | Command::TypeToConfirm) if self.phrase.is_some() => {
                self.typed = Some(String::new());
                Reply::Stay
            }
            Some(Command::Yes | Command::TypeToConfirm) => self.confirmed(shared),
            Some(Command::Waves) if self.waves_offered() => {
                self.waves = (self.waves + 1) % rollout::PRESETS.len();
                Reply::Stay
            }
            Some(Command::Sql) => {
                self.sql = !self.sql;
                self.scroll = 0;
                Reply::Stay
            }
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
        if let Some(notice) = &self.notice {
            lines.push(Line::from(Span::styled(
                format!("⚠ {notice}"),
                style::failed(),
            )));
        }
        if let Some(phrase) = &self.phrase {
            lines.push(Line::from(Span::styled(
                format!("⚠ {}: y, then type {phrase}", self.reach()),
                style::failed(),
            )));
        }
        if self.waves > 0 {
            lines.push(Line::from(Span::styled(
                format!(
                    "in waves: {}; each wave waits for your y, a failure stops the rollout (w changes)",
                    rollout::describe(rollout::PRESETS[self.waves])
                ),
                style::header(),
            )));
        }
        for (i, p) in self.plans.iter().enumerate() {
            if i > 0 || self.phrase.is_some() {
                lines.push(Line::default());
            }
            if self.sql {
                lines.extend(plan::sql_lines(p));
            } else {
                lines.extend(plan::lines(p));
            }
        }
        let title = match (self.plans.len(), self.sql) {
            (n, false) if n > 1 => format!("Confirm {n} jobs"),
            (n, true) if n > 1 => format!("Confirm {n} jobs: SQL"),
            (_, false) => "Confirm".to_string(),
            (_, true) => "Confirm: SQL".to_string(),
        };
        window::draw(
            frame,
            &shared.window_scroll,
            &title,
            lines,
            self.scroll,
            self.footer(),
        );
    }

    /// How far the guarded plans reach: `rolls back 1503 tenant(s) and the landlord scope`.
    fn reach(&self) -> String {
        let guarded = self.plans.iter().filter(|p| guarded(p));
        let tenants: std::collections::BTreeSet<&String> = guarded
            .clone()
            .flat_map(|p| p.tenant_steps.iter())
            .filter(|(_, steps)| !steps.is_empty())
            .map(|(t, _)| t)
            .collect();
        let landlord = guarded.clone().any(|p| !p.landlord.is_empty());
        match (tenants.len(), landlord) {
            (n, true) if n > 0 => format!("rolls back {n} tenant(s) and the landlord scope"),
            (_, true) => "rolls back the landlord scope".to_string(),
            (n, false) => format!("rolls back {n} tenant(s)"),
        }
    }

    /// The keys, or the line being typed and what was wrong with the last answer.
    fn footer(&self) -> Vec<Line<'static>> {
        let Some(typed) = &self.typed else {
            let guarded = self.phrase.is_some();
            let waves = self.waves_offered();
            return vec![keys_line(keys::footer(Window::Confirm, |c| match c {
                Command::Yes => !guarded,
                Command::TypeToConfirm => guarded,
                Command::Waves => waves,
                _ => true,
            }))];
        };
        let phrase = self.phrase.as_deref().unwrap_or_default();
        let mut footer = Vec::new();
        if let Some(wrong) = &self.wrong {
            footer.push(Line::from(Span::styled(wrong.clone(), style::failed())));
        }
        footer.push(Line::from(vec![
            Span::styled(format!("type {phrase} to confirm: "), style::header()),
            Span::raw(typed.clone()),
            Span::styled("█", style::dim()),
        ]));
        footer.push(keys_line(keys::footer(Window::Typing, |_| true)));
        footer
    }
}
