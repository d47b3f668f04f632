//! The Jobs view: the jobs this console started (newest first), then the others the registry
//! records, whichever process runs them, read anew every second; the selected job's progress,
//! and its log pane, followed while the job runs (`enter` focuses it, `t` shows one tenant's
//! lines and counts, `c` cancels the job at its next migration boundary, `R` plans its failed,
//! skipped and not started steps again).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::{Event, Outcome, View};
use crate::tui::command::Command;
use crate::tui::jobs::{JobState, LogLine, tenant_counts, tenants_named};
use crate::tui::query::Query;
use crate::tui::rows::{Cursor, Filtered};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::gauge::{self, bar};
use crate::tui::widgets::log_pane::LogPane;
use crate::tui::widgets::table::{self, List, Spec, header};
use crate::tui::widgets::text::short_time;
use estate_engine::JobRecord;

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

    /// The selected job when this console did not start it: its log is read from the registry.
    pub fn recorded<'a>(&self, shared: &'a Shared) -> Option<&'a JobRecord> {
        match self.selected_job(shared) {
            Some(JobRow::Recorded(r)) => shared.data.jobs.get(r),
            _ => None,
        }
    }

    /// The selected job's log lines, every tenant's.
    fn all_lines<'a>(&self, shared: &'a Shared) -> &'a [LogLine] {
        match self.selected_job(shared) {
            Some(JobRow::Live(i)) => &shared.live[i].lines,
            Some(JobRow::Recorded(r)) => shared
                .recorded_log
                .as_ref()
                .filter(|l| l.job == shared.data.jobs[r].id)
                .map_or(&[], |l| &l.lines),
            None => &[],
        }
    }

    /// The selected job's log lines, through the pane's tenant filter.
    fn log_lines(&self, shared: &Shared) -> Vec<LogLine> {
        self.log.keep(self.all_lines(shared).to_vec())
    }

    /// What the log pane says when it has no line to show.
    fn empty_log(&self, shared: &Shared) -> Option<String> {
        let job = self.recorded(shared)?;
        let log = shared.recorded_log.as_ref().filter(|l| l.job == job.id);
        Some(match log {
            Some(l) if l.read && l.lines.is_empty() => format!(
                "no log kept for job {}: it ran before estate kept job logs, or its log was \
                 pruned ([log] job_log_days); `estate history --job {}` lists its steps",
                job.id, job.id
            ),
            _ => format!("reading job {}'s log…", job.id),
        })
    }

    fn cancel_selected(&self, shared: &mut Shared) {
        match self.selected_job(shared) {
            Some(JobRow::Live(i)) if shared.cancel(i) => {}
            Some(JobRow::Recorded(r)) if shared.data.jobs[r].is_running() => {
                let id = shared.data.jobs[r].id.clone();
                shared.cancel_elsewhere(&id);
            }
            _ => shared.say("no running job selected"),
        }
    }

    fn retry_selected(&self, shared: &mut Shared) {
        let (id, state) = match self.selected_job(shared) {
            Some(JobRow::Live(i)) => {
                let j = &shared.live[i];
                (j.job_id.clone(), j.state.label().to_string())
            }
            Some(JobRow::Recorded(r)) => {
                let j = &shared.data.jobs[r];
                (Some(j.id.clone()), j.state.clone())
            }
            None => return shared.say("no job selected"),
        };
        match (id, state.as_str()) {
            (Some(_), "running" | "queued") | (None, _) => {
                shared.say("the job is still running: c cancels it, R retries it once it ends")
            }
            (Some(id), "succeeded") => shared.say(format!("job {id} succeeded: nothing to retry")),
            (Some(id), _) => shared.retry(&id),
        }
    }

    /// The id of the selected job, once it has one.
    pub fn selected_id(&self, shared: &Shared) -> Option<String> {
        self.selected_job(shared)
            .and_then(|row| Self::id_of(shared, row))
    }

    /// The registry's jobs were read anew: the list may have moved under the cursor (a job
    /// started elsewhere comes first), which stays on job `id`.
    pub fn keep_on(&mut self, id: Option<String>, shared: &Shared) {
        self.refilter(None, shared);
        let Some(id) = id else { return };
        let rows = job_rows(shared);
        if let Some(at) = self
            .rows
            .visible()
            .iter()
            .position(|&i| Self::id_of(shared, rows[i]).as_deref() == Some(id.as_str()))
        {
            self.cursor.row = at;
        }
    }

    /// The id of the job a row shows, once it has one.
    fn id_of(shared: &Shared, row: JobRow) -> Option<String> {
        match row {
            JobRow::Live(i) => shared.live[i].job_id.clone(),
            JobRow::Recorded(r) => Some(shared.data.jobs[r].id.clone()),
        }
    }

    /// The log pane's next tenant filter: every tenant, then each tenant the log names.
    fn next_log_tenant(&mut self, shared: &mut Shared) {
        let tenants = tenants_named(self.all_lines(shared));
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
                    cell: None,
                };
            }
            Command::Enter => self.log.focus = true,
            Command::Cancel => self.cancel_selected(shared),
            Command::Retry => self.retry_selected(shared),
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
        let (ratio, mut label) = progress_of(shared, self.selected_job(shared));
        if let Some(t) = &self.log.tenant {
            let [ok, failed, skipped] = tenant_counts(self.all_lines(shared), t);
            label = format!("{t}: {ok} ok, {failed} failed, {skipped} skipped · {label}");
        }
        gauge::draw(frame, progress, ratio, label);
        let empty = self.empty_log(shared);
        self.log
            .draw(frame, log, &self.log_lines(shared), empty.as_deref());
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
            let c = &j.counts;
            let over = (j.steps - j.steps_left()).max(0);
            let cancel = j
                .cancel_requested_by
                .as_ref()
                .map(|by| format!("; cancel asked by {by}"))
                .unwrap_or_default();
            (
                if j.steps == 0 {
                    1.0
                } else {
                    over as f64 / j.steps as f64
                },
                format!(
                    "{}: {}/{} tenants, {over}/{} steps: {} ok, {} failed, {} skipped, {} not started{cancel}",
                    j.state,
                    c.tenants_done,
                    j.tenants,
                    j.steps,
                    c.succeeded,
                    c.failed,
                    c.skipped,
                    c.not_started
                ),
            )
        }
        None => (0.0, String::new()),
    }
}
