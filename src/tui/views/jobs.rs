//! The Jobs view: the jobs this console started (newest first), then the others the registry
//! recorded; the selected job's progress, and its log pane (`enter` focuses it, `t` shows one
//! tenant's lines, `c` cancels the job at its next migration boundary).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::{Event, Outcome, View};
use crate::tui::command::Command;
use crate::tui::jobs::{JobState, LogLine, recorded_log};
use crate::tui::query::Query;
use crate::tui::rows::{Cursor, Filtered};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::gauge::{self, bar};
use crate::tui::widgets::log_pane::LogPane;
use crate::tui::widgets::table::{self, List, Spec, header};
use crate::tui::widgets::text::short_time;

#[derive(Debug, Default)]
pub struct Jobs {
    rows: Filtered,
    cursor: Cursor,
    log: LogPane,
}

/// A row: a job this console started, or one the registry recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobRow {
    Live(usize),
    Recorded(usize),
}

/// This console's jobs, newest first, then the registry's others.
fn job_rows(shared: &Shared) -> Vec<JobRow> {
    let live_ids: std::collections::BTreeSet<&str> = shared
        .live
        .iter()
        .filter_map(|j| j.job_id.as_deref())
        .collect();
    (0..shared.live.len())
        .rev()
        .map(JobRow::Live)
        .chain(
            shared
                .data
                .jobs
                .iter()
                .enumerate()
                .filter(|(_, j)| !live_ids.contains(j.id.as_str()))
                .map(|(i, _)| JobRow::Recorded(i)),
        )
        .collect()
}

impl Jobs {
    fn selected_job(&self, shared: &Shared) -> Option<JobRow> {
        super::selected(self, shared).and_then(|i| job_rows(shared).get(i).copied())
    }

    /// The selected job's log lines, through the pane's tenant filter.
    fn log_lines(&self, shared: &Shared) -> Vec<LogLine> {
        self.log.keep(match self.selected_job(shared) {
            Some(JobRow::Live(i)) => shared.live[i].lines.clone(),
            Some(JobRow::Recorded(r)) => {
                recorded_log(&shared.data.history, &shared.data.jobs[r].id)
            }
            None => Vec::new(),
        })
    }

    fn cancel_selected(&self, shared: &mut Shared) {
        match self.selected_job(shared) {
            Some(JobRow::Live(i)) if shared.cancel(i) => {}
            _ => shared.say("no running job selected"),
        }
    }

    /// The log pane's next tenant filter: every tenant, then each tenant the log names.
    fn next_log_tenant(&mut self, shared: &mut Shared) {
        let tenants: Vec<String> = match self.selected_job(shared) {
            Some(JobRow::Live(i)) => shared.live[i].tenants_seen(),
            Some(JobRow::Recorded(r)) => {
                let mut seen = Vec::new();
                for l in recorded_log(&shared.data.history, &shared.data.jobs[r].id) {
                    if let Some(t) = l.tenant
                        && !seen.contains(&t)
                    {
                        seen.push(t);
                    }
                }
                seen
            }
            None => Vec::new(),
        };
        let next = match &self.log.tenant {
            None => tenants.first().cloned(),
            Some(t) => tenants
                .iter()
                .position(|x| x == t)
                .and_then(|i| tenants.get(i + 1).cloned()),
        };
        self.log.scroll = None;
        shared.say(match &next {
            Some(t) => format!("log: {t} only (t for the next tenant)"),
            None => "log: every tenant".to_string(),
        });
        self.log.tenant = next;
    }
}

impl View for Jobs {
    listing!(own rows, cursor);

    fn refilter(&mut self, filter: Option<Query>, shared: &Shared) {
        let jobs = job_rows(shared);
        let text = |i: usize| match jobs[i] {
            JobRow::Live(l) => {
                let j = &shared.live[l];
                format!("{} {} {}", j.action, j.modules, j.state.label())
            }
            JobRow::Recorded(r) => {
                let j = &shared.data.jobs[r];
                format!(
                    "{} {} {} {} {}",
                    j.id, j.action, j.modules, j.state, j.operator
                )
            }
        };
        let keep = |i: usize, query: &Query| query.matches(|| text(i), |_, _| None);
        self.rows
            .refilter(filter, 0..jobs.len(), keep, &mut [&mut self.cursor]);
    }

    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome {
        if self.log.focus {
            let total = self.log_lines(shared).len();
            if self.log.on_command(command, total) {
                return Outcome::Done;
            }
        }
        match command {
            // Focused, enter opens the lines from the first shown, whole and wrapped.
            Command::Enter if self.log.focus => {
                let lines = self.log.whole_from_shown(&self.log_lines(shared));
                return Outcome::Detail {
                    title: format!("Log: {} line(s), whole", lines.len()),
                    lines,
                };
            }
            Command::Enter => self.log.focus = true,
            Command::Cancel => self.cancel_selected(shared),
            Command::TenantFilter => self.next_log_tenant(shared),
            Command::Follow => self.log.scroll = None,
            _ => return Outcome::Unhandled,
        }
        Outcome::Done
    }

    fn on_event(&mut self, event: Event, shared: &Shared) {
        match event {
            Event::JobsStarted => {
                self.refilter(None, shared);
                self.cursor.row = 0;
                self.log = LogPane::default();
            }
            Event::JobStarted => self.refilter(None, shared),
            Event::Loaded | Event::Tenant(_) | Event::Module(_) => {}
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let [list, progress, log] = Layout::vertical([
            Constraint::Percentage(40),
            Constraint::Length(1),
            Constraint::Min(3),
        ])
        .areas(area);
        let rows = job_rows(shared);
        table::draw(
            frame,
            list,
            List {
                rows: &self.rows,
                cursor: &self.cursor,
                total: rows.len(),
                page: &shared.page,
            },
            Spec {
                title: "Jobs",
                suffix: String::new(),
                empty: "no jobs yet: mark cells in the Matrix (3) and press i",
                header: header(&[
                    "STARTED (UTC)",
                    "ACTION",
                    "MODULES",
                    "STATE",
                    "PROGRESS",
                    "BY",
                ]),
                widths: vec![
                    Constraint::Length(14),
                    Constraint::Length(8),
                    Constraint::Fill(1),
                    Constraint::Length(11),
                    Constraint::Length(18),
                    Constraint::Length(8),
                ],
                header_height: 1,
                highlight: true,
            },
            |i, _| row(shared, rows[i]),
        );
        let (ratio, label) = progress_of(shared, self.selected_job(shared));
        gauge::draw(frame, progress, ratio, label);
        self.log.draw(frame, log, &self.log_lines(shared));
    }
}

fn job_state_style(state: &str) -> Style {
    match state {
        "succeeded" => style::installed(),
        "running" | "queued" | "interrupted" => style::outdated(),
        _ => style::failed(),
    }
}

fn row(shared: &Shared, job: JobRow) -> Row<'static> {
    match job {
        JobRow::Live(l) => {
            let j = &shared.live[l];
            let state = j.state.label().to_string();
            Row::new(vec![
                Cell::from(short_time(&j.started_at)),
                Cell::from(j.action.clone()),
                Cell::from(j.modules.clone()),
                Cell::from(Span::styled(state.clone(), job_state_style(&state))),
                Cell::from(format!(
                    "{} {}/{}",
                    bar(j.steps_done, j.steps, 8),
                    j.steps_done,
                    j.steps
                )),
                Cell::from(j.operator.clone()),
            ])
        }
        JobRow::Recorded(r) => {
            let j = &shared.data.jobs[r];
            let done = (j.steps - j.steps_left()).max(0) as usize;
            Row::new(vec![
                Cell::from(short_time(&j.started_at)),
                Cell::from(j.action.clone()),
                Cell::from(if j.modules.is_empty() {
                    "(installed)".to_string()
                } else {
                    j.modules.clone()
                }),
                Cell::from(Span::styled(j.state.clone(), job_state_style(&j.state))),
                Cell::from(format!(
                    "{} {done}/{}",
                    bar(done, j.steps as usize, 8),
                    j.steps
                )),
                Cell::from(j.operator.clone()),
            ])
        }
    }
}

/// The selected job's progress: tenants done out of all, and failures.
fn progress_of(shared: &Shared, job: Option<JobRow>) -> (f64, String) {
    match job {
        Some(JobRow::Live(l)) => {
            let j = &shared.live[l];
            let ratio = if j.steps == 0 {
                1.0
            } else {
                j.steps_done as f64 / j.steps as f64
            };
            let eta = j
                .eta_ms
                .filter(|_| j.state == JobState::Running)
                .map(|ms| format!(", about {} left", estate_engine::human_duration(ms)))
                .unwrap_or_default();
            (
                ratio,
                format!(
                    "{}: {}/{} tenants, {}/{} steps, {} failed, {} skipped{eta}",
                    j.state.label(),
                    j.tenants_done,
                    j.tenants,
                    j.steps_done,
                    j.steps,
                    j.failed,
                    j.skipped
                ),
            )
        }
        Some(JobRow::Recorded(r)) => {
            let j = &shared.data.jobs[r];
            (
                if j.state == "succeeded" { 1.0 } else { 0.0 },
                format!(
                    "{}: {}/{} tenants, {} steps: {} ok, {} failed, {} skipped, {} not started",
                    j.state,
                    j.counts.tenants_done,
                    j.tenants,
                    j.steps,
                    j.counts.succeeded,
                    j.counts.failed,
                    j.counts.skipped,
                    j.counts.not_started
                ),
            )
        }
        None => (0.0, String::new()),
    }
}
