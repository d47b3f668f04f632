//! The console's state and what each key and each background result does to it. Drawing
//! reads it; nothing here draws or touches a database: work is asked for as an [`Effect`]
//! and its result comes back as a [`Msg`].

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::Line;

use super::command::Command;
use super::data::Snapshot;
use super::detail;
use super::drift::{self, Drift, Findings};
use super::jobs::{LineKind, LiveJob, LogLine};
use super::keys::{self, Window};
use super::palette::{self, PaletteCommand};
use super::rows::{Cursor, Filtered};
use super::widgets::log_pane::LogPane;
use super::widgets::status_line::Tone;
use super::widgets::text;
use super::widgets::window::scroll_by;
use super::worker::{Effect, Msg, PlanGroup, PlanRequest};
use estate_engine::ModuleState;
use estate_engine::Slug;
use estate_engine::{Action, Plan, TenantSelection};
use estate_engine::{JobControl, JobEvent};

/// The views, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Modules,
    Tenants,
    Matrix,
    Jobs,
    History,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Modules,
        Tab::Tenants,
        Tab::Matrix,
        Tab::Jobs,
        Tab::History,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Modules => "Modules",
            Tab::Tenants => "Tenants",
            Tab::Matrix => "Matrix",
            Tab::Jobs => "Jobs",
            Tab::History => "History",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// A line being typed at the bottom: a filter or a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Filter(String),
    Command(String),
}

/// A window over the view: a plan to confirm, a refusal, details, the quit question.
#[derive(Debug)]
pub enum Dialog {
    Planning(PlanRequest),
    Confirm {
        plans: Vec<Plan>,
        scroll: usize,
    },
    Refused {
        error: String,
        cascade: Option<Vec<Plan>>,
        scroll: usize,
    },
    Quit {
        running: usize,
    },
    Detail {
        title: String,
        lines: Vec<Line<'static>>,
        scroll: usize,
    },
}

/// A row of the Jobs view: a job this console started, or one the registry recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobRow {
    Live(usize),
    Recorded(usize),
}

pub struct App {
    pub data: Snapshot,
    /// False until the first snapshot arrives.
    pub loaded: bool,
    pub tab: Tab,
    pub read_only: bool,
    /// Each tab's rows that pass its filter, as indexes into the data.
    pub lists: [Filtered; 5],
    /// The selected row of each tab.
    pub cursors: [Cursor; 5],
    /// Rows that fit in each table, as last drawn.
    pub page: Cell<usize>,
    /// How far the open window can scroll, as last drawn.
    pub dialog_scroll_max: Cell<usize>,
    /// The selected module column of the Matrix.
    pub column: usize,
    pub input: Option<Input>,
    /// Marked cells: (tenant, module).
    pub marks: BTreeSet<(String, String)>,
    pub dialog: Option<Dialog>,
    pub help: bool,
    pub live: Vec<LiveJob>,
    pub log: LogPane,
    pub message: Option<(String, Tone)>,
    pub quit: bool,
    /// Quit once the running jobs have stopped.
    pub quitting: bool,
    /// The last verify's findings, shown in the Matrix.
    pub drift: Drift,
    /// The Modules view shows the map (graph and tables) instead of the list.
    pub modules_map: bool,
    effects: Vec<Effect>,
}

impl App {
    pub fn new(data: Snapshot, read_only: bool) -> App {
        let mut app = App {
            data,
            loaded: true,
            tab: Tab::Modules,
            read_only,
            lists: Default::default(),
            cursors: Default::default(),
            page: Cell::new(10),
            dialog_scroll_max: Cell::new(0),
            column: 0,
            input: None,
            marks: BTreeSet::new(),
            dialog: None,
            help: false,
            live: Vec::new(),
            log: LogPane::default(),
            message: None,
            quit: false,
            quitting: false,
            drift: Drift::default(),
            modules_map: false,
            effects: Vec::new(),
        };
        app.refilter_all();
        app
    }

    /// A console waiting for its first snapshot (asked for here).
    pub fn loading(read_only: bool) -> App {
        let mut app = App::new(Snapshot::default(), read_only);
        app.loaded = false;
        app.effects.push(Effect::Reload);
        app
    }

    /// The work asked for since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn say(&mut self, message: impl Into<String>) {
        self.message = Some((message.into(), Tone::Info));
    }

    pub fn warn(&mut self, message: impl Into<String>) {
        self.message = Some((message.into(), Tone::Error));
    }

    // --- rows, filters, selection -------------------------------------------------------

    pub fn filter(&self, tab: Tab) -> &str {
        &self.lists[tab.index()].filter
    }

    /// The data indexes a tab shows, in order.
    pub fn visible(&self, tab: Tab) -> &[usize] {
        self.lists[tab.index()].visible()
    }

    /// The selected position among the visible rows.
    pub fn row(&self, tab: Tab) -> usize {
        self.cursors[tab.index()].row
    }

    /// The data index of the selected row.
    pub fn selected(&self, tab: Tab) -> Option<usize> {
        self.lists[tab.index()].at(self.row(tab))
    }

    /// The Jobs view's rows: this console's jobs, newest first, then the registry's others.
    pub fn job_rows(&self) -> Vec<JobRow> {
        let live_ids: BTreeSet<&str> = self
            .live
            .iter()
            .filter_map(|j| j.job_id.as_deref())
            .collect();
        (0..self.live.len())
            .rev()
            .map(JobRow::Live)
            .chain(
                self.data
                    .jobs
                    .iter()
                    .enumerate()
                    .filter(|(_, j)| !live_ids.contains(j.id.as_str()))
                    .map(|(i, _)| JobRow::Recorded(i)),
            )
            .collect()
    }

    pub fn selected_job(&self) -> Option<JobRow> {
        self.selected(Tab::Jobs)
            .and_then(|i| self.job_rows().get(i).copied())
    }

    /// The text a tab's filter matches against, for data row `i`.
    fn row_text(&self, tab: Tab, i: usize, jobs: &[JobRow]) -> String {
        match tab {
            Tab::Modules => {
                let m = &self.data.modules[i];
                format!("{} {} {}", m.name, m.title, m.description)
            }
            Tab::Tenants | Tab::Matrix => {
                let t = &self.data.tenants()[i];
                format!("{} {} {}", t.slug, t.name, t.placement.describe())
            }
            Tab::Jobs => match jobs[i] {
                JobRow::Live(l) => {
                    let j = &self.live[l];
                    format!("{} {} {}", j.action, j.modules, j.state.label())
                }
                JobRow::Recorded(r) => {
                    let j = &self.data.jobs[r];
                    format!(
                        "{} {} {} {} {}",
                        j.id, j.action, j.modules, j.state, j.operator
                    )
                }
            },
            Tab::History => {
                let h = &self.data.history[i];
                format!(
                    "{} {} {} {} {} {}",
                    h.tenant.as_deref().unwrap_or("landlord"),
                    h.module,
                    h.action,
                    h.outcome,
                    h.operator,
                    h.job_id
                )
            }
        }
    }

    fn count(&self, tab: Tab, jobs: &[JobRow]) -> usize {
        match tab {
            Tab::Modules => self.data.modules.len(),
            Tab::Tenants | Tab::Matrix => self.data.tenants().len(),
            Tab::Jobs => jobs.len(),
            Tab::History => self.data.history.len(),
        }
    }

    fn refilter(&mut self, tab: Tab) {
        let jobs = if tab == Tab::Jobs {
            self.job_rows()
        } else {
            Vec::new()
        };
        let n = self.count(tab, &jobs);
        let mut list = std::mem::take(&mut self.lists[tab.index()]);
        let mut cursor = std::mem::take(&mut self.cursors[tab.index()]);
        list.refilter(n, |i| self.row_text(tab, i, &jobs), &mut [&mut cursor]);
        self.lists[tab.index()] = list;
        self.cursors[tab.index()] = cursor;
    }

    fn refilter_all(&mut self) {
        for tab in Tab::ALL {
            self.refilter(tab);
        }
        self.column = self.column.min(self.data.modules.len().saturating_sub(1));
    }

    fn select_data_row(&mut self, tab: Tab, index: usize) {
        if !self.visible(tab).contains(&index) {
            self.lists[tab.index()].filter.clear();
            self.refilter(tab);
        }
        if let Some(pos) = self.lists[tab.index()].position(index) {
            self.cursors[tab.index()].row = pos;
        }
    }

    fn set_filter(&mut self, tab: Tab, text: String) {
        self.lists[tab.index()].filter = text;
        self.refilter(tab);
        // The Tenants and Matrix views list the same tenants: one filter for both.
        let twin = match tab {
            Tab::Tenants => Some(Tab::Matrix),
            Tab::Matrix => Some(Tab::Tenants),
            _ => None,
        };
        if let Some(twin) = twin {
            self.lists[twin.index()].filter = self.lists[tab.index()].filter.clone();
            self.refilter(twin);
        }
    }

    // --- keys -----------------------------------------------------------------------------

    pub fn on_key(&mut self, key: KeyEvent) {
        if self.input.is_some() {
            return self.on_input_key(key);
        }
        if self.help {
            // The overlay takes every key: any of them closes it, q still quits.
            self.help = false;
            if keys::in_window(Window::Help, key) == Some(Command::Quit) {
                self.ask_quit();
            }
            return;
        }
        if self.dialog.is_some() {
            return self.on_dialog_key(key);
        }
        let Some(cmd) = keys::in_views(key) else {
            return;
        };
        self.message = None;
        if self.tab == Tab::Jobs && self.log.focus && self.on_log_key(cmd) {
            return;
        }
        let len = self.visible(self.tab).len();
        if self.cursors[self.tab.index()].moves(cmd, len, self.page.get()) {
            return;
        }
        match cmd {
            Command::Quit => self.ask_quit(),
            Command::Help => self.help = true,
            Command::Back => self.back(),
            Command::Enter => self.enter(),
            Command::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            Command::PrevTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
            }
            Command::GoTo(n) => {
                if let Some(tab) = Tab::ALL.get(n) {
                    self.tab = *tab;
                }
            }
            Command::Right if self.tab == Tab::Matrix => {
                self.column = (self.column + 1).min(self.data.modules.len().saturating_sub(1));
            }
            Command::Left if self.tab == Tab::Matrix => self.column = self.column.saturating_sub(1),
            Command::Refresh => self.reload(),
            Command::Mark => self.mark(),
            Command::Install => self.act(Action::Install),
            Command::Rollback => self.act(Action::Rollback),
            Command::Upgrade => self.act(Action::Upgrade),
            Command::Filter => self.input = Some(Input::Filter(self.filter(self.tab).to_string())),
            Command::Palette => self.input = Some(Input::Command(String::new())),
            Command::Cancel if self.tab == Tab::Jobs => self.cancel_selected(),
            Command::TenantFilter if self.tab == Tab::Jobs => self.next_log_tenant(),
            Command::Follow if self.tab == Tab::Jobs => self.log.scroll = None,
            Command::Verify if matches!(self.tab, Tab::Tenants | Tab::Matrix) => self.verify(),
            Command::Map if self.tab == Tab::Modules => self.modules_map = !self.modules_map,
            _ => {}
        }
    }

    fn on_input_key(&mut self, key: KeyEvent) {
        let Some(input) = self.input.as_mut() else {
            return;
        };
        let text = match input {
            Input::Filter(t) | Input::Command(t) => t,
        };
        match keys::in_line(key) {
            None => match key.code {
                KeyCode::Char(c) => text.push(c),
                _ => return,
            },
            Some(Command::Erase) => {
                if text.pop().is_none() {
                    self.input = None;
                }
            }
            Some(Command::Dismiss) => {
                if matches!(self.input, Some(Input::Filter(_))) {
                    self.set_filter(self.tab, String::new());
                }
                self.input = None;
                return;
            }
            Some(Command::Submit) => {
                match self.input.take() {
                    Some(Input::Command(line)) => self.run_command(&line),
                    Some(Input::Filter(text)) => {
                        let shown = self.visible(self.tab).len();
                        self.set_filter(self.tab, text);
                        if !self.filter(self.tab).is_empty() {
                            self.say(format!("{shown} row(s) match; / to change, esc clears"));
                        }
                    }
                    None => {}
                }
                return;
            }
            _ => return,
        }
        // A filter applies as it is typed.
        if let Some(Input::Filter(text)) = &self.input {
            let text = text.clone();
            self.set_filter(self.tab, text);
        }
    }

    fn on_dialog_key(&mut self, key: KeyEvent) {
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        let window = match dialog {
            Dialog::Planning(_) => Window::Planning,
            Dialog::Confirm { .. } => Window::Confirm,
            Dialog::Refused { .. } => Window::Refused,
            Dialog::Quit { .. } => Window::Quit,
            Dialog::Detail { .. } => Window::Detail,
        };
        let cmd = keys::in_window(window, key);
        match dialog {
            Dialog::Planning(_) => {
                if cmd == Some(Command::No) {
                    self.dialog = None;
                    self.say("planning abandoned: nothing ran");
                }
            }
            Dialog::Confirm { plans, scroll } => match cmd {
                Some(Command::Yes) => {
                    let plans = std::mem::take(plans);
                    self.dialog = None;
                    self.start(plans);
                }
                Some(Command::No) => {
                    self.dialog = None;
                    self.say("cancelled: nothing ran");
                }
                _ => scroll_by(scroll, cmd, self.dialog_scroll_max.get()),
            },
            Dialog::Refused {
                cascade, scroll, ..
            } => match cmd {
                Some(Command::Cascade) if cascade.is_some() => {
                    let plans = cascade.take().unwrap_or_default();
                    self.dialog = Some(Dialog::Confirm { plans, scroll: 0 });
                }
                Some(Command::No) => self.dialog = None,
                _ => scroll_by(scroll, cmd, self.dialog_scroll_max.get()),
            },
            Dialog::Quit { .. } => match cmd {
                Some(Command::Yes) => {
                    self.dialog = None;
                    self.stop_and_quit();
                }
                Some(Command::No) => self.dialog = None,
                _ => {}
            },
            Dialog::Detail { scroll, .. } => match cmd {
                Some(Command::No) => self.dialog = None,
                _ => scroll_by(scroll, cmd, self.dialog_scroll_max.get()),
            },
        }
    }

    /// Keys of the focused log pane; false when the key is not one of them.
    fn on_log_key(&mut self, cmd: Command) -> bool {
        let total = self.log_lines().len();
        self.log.on_command(cmd, total)
    }

    fn back(&mut self) {
        if !self.filter(self.tab).is_empty() {
            self.set_filter(self.tab, String::new());
        } else if !self.marks.is_empty() {
            let n = self.marks.len();
            self.marks.clear();
            self.say(format!("{n} mark(s) cleared"));
        }
    }

    fn reload(&mut self) {
        self.effects.push(Effect::Reload);
        self.say("reloading…");
    }

    fn verify(&mut self) {
        if matches!(self.drift, Drift::Verifying) {
            return self.say("already verifying");
        }
        self.drift = Drift::Verifying;
        self.effects.push(Effect::Verify);
        self.say(
            "verifying every tenant's ledger against the registry and the files (reads only)…",
        );
    }

    fn ask_quit(&mut self) {
        let running = self.live.iter().filter(|j| j.state.is_active()).count();
        if running == 0 {
            self.quit = true;
        } else {
            self.dialog = Some(Dialog::Quit { running });
        }
    }

    fn stop_and_quit(&mut self) {
        self.quitting = true;
        for j in self.live.iter().filter(|j| j.state.is_active()) {
            j.control.cancel();
        }
        self.check_quit();
    }

    fn check_quit(&mut self) {
        if self.quitting && !self.live.iter().any(|j| j.state.is_active()) {
            self.quit = true;
        }
    }

    fn enter(&mut self) {
        let dialog = match self.tab {
            Tab::Jobs => {
                self.log.focus = true;
                return;
            }
            Tab::Modules => self
                .selected(Tab::Modules)
                .map(|i| detail::module(&self.data.modules[i])),
            Tab::Tenants => self
                .selected(Tab::Tenants)
                .map(|t| detail::tenant(&self.data, t)),
            Tab::Matrix => self
                .selected(Tab::Matrix)
                .filter(|_| !self.data.modules.is_empty())
                .map(|t| detail::cell(&self.data, t, self.column)),
            Tab::History => self
                .selected(Tab::History)
                .map(|i| detail::history(&self.data.history[i])),
        };
        if let Some((title, lines)) = dialog {
            // Drift first: it puts what follows (the registry's state) in doubt.
            let mut drift = self.drift_lines();
            let lines = if drift.is_empty() {
                lines
            } else {
                drift.push(Line::default());
                drift.extend(lines);
                drift
            };
            self.dialog = Some(Dialog::Detail {
                title,
                lines,
                scroll: 0,
            });
        }
    }

    /// What the last verify found about the selected tenant (Tenants) or cell (Matrix).
    fn drift_lines(&self) -> Vec<Line<'static>> {
        let Some(findings) = self.drift.findings() else {
            return Vec::new();
        };
        let Some(t) = self.selected(self.tab) else {
            return Vec::new();
        };
        let tenant = self.tenant_slug(t);
        let module = self.data.matrix.modules.get(self.column).cloned();
        let mine: Vec<_> = findings
            .of_database(&tenant)
            .filter(|f| match self.tab {
                Tab::Tenants => true,
                Tab::Matrix => f.module.is_none() || f.module == module,
                _ => false,
            })
            .collect();
        if mine.is_empty() {
            return Vec::new();
        }
        let mut lines = vec![text::heading("drift (last verify)")];
        for f in mine {
            lines.extend(drift::lines(f));
        }
        lines
    }

    // --- marks and actions ------------------------------------------------------------------

    fn tenant_slug(&self, t: usize) -> String {
        self.data.tenants()[t].slug.clone()
    }

    fn module_name(&self, m: usize) -> String {
        self.data.modules[m].name.clone()
    }

    /// The cells the cursor stands for: a cell, a module's column, a tenant's row.
    fn cursor_cells(&self) -> Vec<(String, String)> {
        match self.tab {
            Tab::Matrix => match self.selected(Tab::Matrix) {
                Some(t) if self.column < self.data.modules.len() => {
                    vec![(self.tenant_slug(t), self.module_name(self.column))]
                }
                _ => Vec::new(),
            },
            Tab::Modules => match self.selected(Tab::Modules) {
                Some(m) => self
                    .visible(Tab::Matrix)
                    .iter()
                    .map(|t| (self.tenant_slug(*t), self.module_name(m)))
                    .collect(),
                None => Vec::new(),
            },
            Tab::Tenants => match self.selected(Tab::Tenants) {
                Some(t) => (0..self.data.modules.len())
                    .map(|m| (self.tenant_slug(t), self.module_name(m)))
                    .collect(),
                None => Vec::new(),
            },
            Tab::Jobs | Tab::History => Vec::new(),
        }
    }

    fn mark(&mut self) {
        let cells = self.cursor_cells();
        if cells.is_empty() {
            return;
        }
        if cells.iter().all(|c| self.marks.contains(c)) {
            for c in &cells {
                self.marks.remove(c);
            }
        } else {
            self.marks.extend(cells);
        }
        // Marking moves on, as in a file manager, so space space marks two rows.
        if self.tab != Tab::Matrix || self.visible(Tab::Matrix).len() > 1 {
            let len = self.visible(self.tab).len();
            self.cursors[self.tab.index()].moves(Command::Down, len, 1);
        }
        let filter = self.filter(Tab::Matrix);
        if self.tab == Tab::Modules && !filter.is_empty() {
            let n = self.visible(Tab::Matrix).len();
            self.say(format!(
                "marked for the {n} tenant(s) matching \"{filter}\" (the Matrix's filter)"
            ));
        } else {
            self.say("i install, r roll back, u upgrade the marked; esc clears the marks");
        }
    }

    fn act(&mut self, action: Action) {
        if self.read_only {
            return self.warn(format!(
                "read-only: {action} refused (restart without --read-only)"
            ));
        }
        let cells: Vec<(String, String)> = if self.marks.is_empty() {
            self.cursor_cells()
        } else {
            self.marks.iter().cloned().collect()
        };
        // Only the cells the action changes: installing an installed module is a no-op.
        let wanted = |s: ModuleState| match action {
            Action::Install => s != ModuleState::Installed,
            Action::Rollback => s != ModuleState::NotInstalled,
            Action::Upgrade => matches!(s, ModuleState::Outdated | ModuleState::Failed),
        };
        if cells.is_empty() && self.data.tenants().is_empty() {
            return self.warn("there are no tenants yet: add one with `estate tenants add SLUG`");
        }
        if cells.is_empty() {
            return self.warn(format!(
                "nothing to {action}: mark cells in the Matrix (3), or select a module (1) or a tenant (2)"
            ));
        }
        let cells: Vec<(String, String)> = cells
            .into_iter()
            .filter(|(t, m)| self.data.cell(t, m).is_some_and(|c| wanted(c.state)))
            .collect();
        if cells.is_empty() {
            let what = match action {
                Action::Install => "every cell chosen is installed already",
                Action::Rollback => "no module chosen is installed",
                Action::Upgrade => "nothing chosen has pending migrations",
            };
            return self.say(format!("nothing to {action}: {what}"));
        }
        let request = PlanRequest {
            action,
            groups: group(&cells),
            cascade: false,
        };
        self.plan(request);
    }

    fn plan(&mut self, request: PlanRequest) {
        self.dialog = Some(Dialog::Planning(request.clone()));
        self.effects.push(Effect::Plan(request));
    }

    /// Runs confirmed plans as jobs, in the background.
    fn start(&mut self, plans: Vec<Plan>) {
        let plans: Vec<Plan> = plans.into_iter().filter(|p| !p.is_empty()).collect();
        if plans.is_empty() {
            return self.say("nothing to do");
        }
        let mut jobs = Vec::new();
        for plan in plans {
            let control = JobControl::default();
            self.live
                .push(LiveJob::new(&plan, control.clone(), &self.data.operator));
            jobs.push((self.live.len() - 1, plan, control));
        }
        let n = jobs.len();
        self.effects.push(Effect::Run(jobs));
        self.marks.clear();
        self.refilter(Tab::Jobs);
        self.cursors[Tab::Jobs.index()].row = 0;
        self.log = LogPane::default();
        self.say(format!(
            "{n} job(s) started in the background: 4 shows them, c cancels"
        ));
    }

    fn cancel_selected(&mut self) {
        match self.selected_job() {
            Some(JobRow::Live(i)) if self.live[i].state.is_active() => {
                self.live[i].control.cancel();
                self.live[i].lines.push(LogLine {
                    at: chrono::Utc::now().format("%H:%M:%S").to_string(),
                    tenant: None,
                    kind: LineKind::Skipped,
                    text: "cancel requested: stopping at the next migration boundary".to_string(),
                });
                self.say("cancelling: the job stops at its next migration boundary");
            }
            _ => self.say("no running job selected"),
        }
    }

    // --- the log pane -----------------------------------------------------------------------

    /// The selected job's log lines, through the tenant filter.
    pub fn log_lines(&self) -> Vec<LogLine> {
        let lines: Vec<LogLine> = match self.selected_job() {
            Some(JobRow::Live(i)) => self.live[i].lines.clone(),
            Some(JobRow::Recorded(r)) => detail::job_log(&self.data, &self.data.jobs[r].id),
            None => Vec::new(),
        };
        self.log.keep(lines)
    }

    fn next_log_tenant(&mut self) {
        let tenants: Vec<String> = match self.selected_job() {
            Some(JobRow::Live(i)) => self.live[i].tenants_seen(),
            Some(JobRow::Recorded(r)) => {
                let mut seen = Vec::new();
                for l in detail::job_log(&self.data, &self.data.jobs[r].id) {
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
        self.say(match &next {
            Some(t) => format!("log: {t} only (t for the next tenant)"),
            None => "log: every tenant".to_string(),
        });
        self.log.tenant = next;
    }

    // --- the command line -------------------------------------------------------------------

    pub fn run_command(&mut self, line: &str) {
        let parsed = palette::parse(
            line,
            |m| self.data.module_index(m).is_some(),
            |t| self.data.tenant_index(t).is_some(),
        );
        let cmd = match parsed {
            Ok(cmd) => cmd,
            Err(e) => return self.warn(e),
        };
        match cmd {
            PaletteCommand::Act {
                action,
                modules,
                tenants,
                cascade,
            } => {
                if self.read_only {
                    return self.act(action);
                }
                self.plan(PlanRequest {
                    action,
                    groups: vec![PlanGroup { modules, tenants }],
                    cascade,
                });
            }
            PaletteCommand::Tenant(slug) => {
                if let Some(t) = self.data.tenant_index(&slug) {
                    self.tab = Tab::Matrix;
                    self.select_data_row(Tab::Matrix, t);
                    self.select_data_row(Tab::Tenants, t);
                    self.say(format!("tenant {slug}"));
                }
            }
            PaletteCommand::Module(name) => {
                if let Some(m) = self.data.module_index(&name) {
                    self.tab = Tab::Modules;
                    self.select_data_row(Tab::Modules, m);
                    self.column = m;
                    self.say(format!("module {name}"));
                }
            }
            PaletteCommand::History(text) => {
                self.tab = Tab::History;
                self.set_filter(Tab::History, text);
            }
            PaletteCommand::View(tab) => self.tab = tab,
            PaletteCommand::Cancel => {
                self.tab = Tab::Jobs;
                self.cancel_selected();
            }
            PaletteCommand::Reload => self.reload(),
            PaletteCommand::Verify => {
                self.tab = Tab::Matrix;
                self.verify();
            }
            PaletteCommand::Help => self.help = true,
            // Even forced, a job is never cut in the middle of a migration: it stops at the
            // next boundary, and the console quits then.
            PaletteCommand::Quit { force: true } => self.stop_and_quit(),
            PaletteCommand::Quit { force: false } => self.ask_quit(),
        }
    }

    // --- results from the background ---------------------------------------------------------

    pub fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Loaded(Ok(snapshot)) => {
                let first = !self.loaded;
                self.data = *snapshot;
                self.loaded = true;
                self.refilter_all();
                if !first
                    && self
                        .message
                        .as_ref()
                        .is_some_and(|(m, _)| m == "reloading…")
                {
                    self.say("reloaded");
                }
            }
            Msg::Loaded(Err(e)) => {
                self.loaded = true;
                self.warn(format!("loading failed: {e}"));
            }
            Msg::Planned {
                request,
                result,
                cascade,
            } => {
                // A plan nobody waits for any more (the dialog was closed) is dropped.
                if !matches!(&self.dialog, Some(Dialog::Planning(r)) if *r == request) {
                    return;
                }
                self.dialog = Some(match result {
                    Ok(plans) if plans.iter().all(Plan::is_empty) => Dialog::Detail {
                        title: format!("{}: nothing to do", request.action),
                        lines: detail::nothing_to_do(&plans),
                        scroll: 0,
                    },
                    Ok(plans) => Dialog::Confirm { plans, scroll: 0 },
                    Err(error) => Dialog::Refused {
                        error,
                        cascade,
                        scroll: 0,
                    },
                });
            }
            Msg::Event(i, event) => self.on_job_event(i, event),
            // Taken by the event loop before it reaches here.
            Msg::Reopened(_) => {}
            Msg::Verified(Ok(report)) => {
                self.drift = Drift::Checked {
                    at: chrono::Utc::now().format("%H:%M:%S").to_string(),
                    findings: Findings::new(report),
                };
                let summary = self.drift.summary();
                if self.drift.findings().is_some_and(|f| f.len() > 0) {
                    self.warn(format!("verify: {summary}; enter on a ⚠ shows the fix"));
                } else {
                    self.say(format!("verify: {summary}"));
                }
            }
            Msg::Verified(Err(e)) => {
                self.warn(format!("verify failed: {e}"));
                self.drift = Drift::Failed(e);
            }
            Msg::Finished(i, result) => {
                if let Some(job) = self.live.get_mut(i) {
                    let ok = result.as_ref().is_ok_and(|r| r.is_success());
                    job.finish(result);
                    let state = job.state.label().to_string();
                    let what = format!("{} {}", job.action, job.modules);
                    if ok {
                        self.say(format!("{what}: {state}"));
                    } else {
                        self.warn(format!("{what}: {state}; 4 shows its log"));
                    }
                }
                self.effects.push(Effect::Reload);
                self.check_quit();
            }
        }
    }

    fn on_job_event(&mut self, i: usize, event: JobEvent) {
        // The matrix shows each cell change as it happens.
        match &event {
            JobEvent::ModuleInstalled { tenant, module }
            | JobEvent::ModuleUpgraded { tenant, module } => {
                self.data.set_state(tenant, module, ModuleState::Installed)
            }
            JobEvent::ModuleRolledBack { tenant, module } => {
                self.data
                    .set_state(tenant, module, ModuleState::NotInstalled)
            }
            JobEvent::StepFailed { step, .. } => {
                if let Some(t) = &step.tenant {
                    self.data.set_state(t, &step.module, ModuleState::Failed);
                }
            }
            _ => {}
        }
        let started = matches!(event, JobEvent::JobStarted { .. });
        if let Some(job) = self.live.get_mut(i) {
            job.on(&event);
        }
        if started {
            self.refilter(Tab::Jobs);
        }
    }
}

/// Marked cells as plan groups: modules wanted on the same tenants go in one plan.
fn group(cells: &[(String, String)]) -> Vec<PlanGroup> {
    let mut by_module: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (t, m) in cells {
        by_module.entry(m).or_default().insert(t);
    }
    let mut by_tenants: BTreeMap<BTreeSet<&str>, Vec<String>> = BTreeMap::new();
    for (m, tenants) in by_module {
        by_tenants.entry(tenants).or_default().push(m.to_string());
    }
    by_tenants
        .into_iter()
        .map(|(tenants, modules)| PlanGroup {
            modules,
            tenants: TenantSelection::Only(
                tenants
                    .into_iter()
                    .filter_map(|t| Slug::parse(t).ok())
                    .collect(),
            ),
        })
        .collect()
}
