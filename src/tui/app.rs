//! The console's routing: which view is shown, what is open over it, and the work asked for.
//! A key goes to the open popup, else to the focused view, after the keys that route (tabs,
//! help, filter and command lines, reload, quit); what a popup or a view asks for in return
//! (a window, a plan, the filter typed, a command) is done here, and background results go to
//! the shared state and the views that follow them. Nothing here draws a view or touches a
//! database: work is asked for as an [`Effect`] and its result comes back as a [`Msg`].

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs};

use super::command::Command;
use super::data::Snapshot;
use super::keys;
use super::marks;
use super::popups::{
    CommandLine, Detail, FilterLine, Help, PaletteCommand, Planning, Popup, QuitQuestion, Refused,
    RemoveTenant, Reply, WaveQuestion, removed,
};
use super::query::Query;
use super::rollout::{Rollout, WaveEnd};
use super::shared::Shared;
use super::style;
use super::views::{Event, Outcome, Tab, Views};
use super::widgets::status_line::{self, Status};
use super::worker::{Effect, Msg, PlanGroup, PlanRequest};
use estate_engine::Plan;

pub struct App {
    pub tab: Tab,
    pub views: Views,
    pub shared: Shared,
    /// The window or line open over the views.
    pub popup: Option<Popup>,
    pub quit: bool,
    /// Quit once the running jobs have stopped.
    pub quitting: bool,
    /// A plan rolling out in waves.
    rollout: Option<Rollout>,
}

impl App {
    pub fn new(data: Snapshot, read_only: bool) -> App {
        let mut app = App {
            tab: Tab::Modules,
            views: Views::default(),
            shared: Shared::new(data, read_only),
            popup: None,
            quit: false,
            quitting: false,
            rollout: None,
        };
        app.views.notify(Event::Loaded, &mut app.shared);
        app
    }

    /// A console waiting for its first snapshot (asked for here).
    pub fn loading(read_only: bool) -> App {
        let mut app = App::new(Snapshot::default(), read_only);
        app.shared.loaded = false;
        app.shared.ask(Effect::Reload);
        app
    }

    /// The work asked for since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.shared.take_effects()
    }

    /// The data indexes `tab` shows, in order.
    pub fn visible(&self, tab: Tab) -> &[usize] {
        self.views.get(tab).rows(&self.shared).visible()
    }

    /// The selected position among `tab`'s rows.
    pub fn row(&self, tab: Tab) -> usize {
        self.views.get(tab).cursor().row
    }

    /// Once a second, without a key: the registry's jobs (any process's) read anew, and the
    /// selected job's log followed.
    pub fn tick(&mut self) {
        self.shared.poll_jobs();
        self.follow_selected();
    }

    /// The selected job's log, read from the registry when another process runs it.
    fn follow_selected(&mut self) {
        if self.tab != Tab::Jobs {
            return;
        }
        if let Some(job) = self.views.jobs.recorded(&self.shared).cloned() {
            self.shared.follow_log(&job);
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        self.on_key_routed(key);
        self.follow_selected();
    }

    fn on_key_routed(&mut self, key: KeyEvent) {
        if let Some(popup) = self.popup.as_mut() {
            let reply = popup.on_key(key, &mut self.shared);
            return self.answer(reply);
        }
        let Some(command) = keys::in_views(key) else {
            return;
        };
        self.shared.message = None;
        let tabs = Tab::ALL.len();
        match command {
            Command::Quit => self.ask_quit(),
            Command::Help => {
                self.popup = Some(Popup::Help(Help::new(self.tab, self.shared.read_only)))
            }
            Command::NextTab => self.show(Tab::ALL[(self.tab.index() + 1) % tabs]),
            Command::PrevTab => self.show(Tab::ALL[(self.tab.index() + tabs - 1) % tabs]),
            Command::GoTo(n) => {
                if let Some(tab) = Tab::ALL.get(n) {
                    self.show(*tab);
                }
            }
            Command::Refresh => self.shared.reload(),
            Command::Filter => {
                let view = self.views.get(self.tab);
                let filter = view.rows(&self.shared).query().clone();
                self.popup = Some(Popup::Filter(FilterLine::new(
                    filter,
                    view.filters_in_registry(),
                )));
            }
            Command::Palette => self.popup = Some(Popup::Palette(CommandLine::default())),
            command => {
                let outcome = self.views.on_command(self.tab, command, &mut self.shared);
                self.follow(outcome);
            }
        }
    }

    /// Brings `tab` to the front.
    fn show(&mut self, tab: Tab) {
        self.tab = tab;
        self.views.shown(tab, &mut self.shared);
    }

    /// Does what a view asked for.
    fn follow(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Unhandled | Outcome::Done => {}
            Outcome::Detail { title, lines, cell } => {
                self.popup = Some(Popup::Detail(Detail::new(title, lines).for_cell(cell)));
            }
            Outcome::Plan(request) => self.plan(request),
            Outcome::Remove(tenant) => {
                self.popup = Some(Popup::Remove(RemoveTenant::new(tenant)));
            }
        }
    }

    /// Does what the open popup asked for.
    fn answer(&mut self, reply: Reply) {
        if !matches!(reply, Reply::Stay | Reply::Filter(_)) {
            self.popup = None;
        }
        match reply {
            Reply::Stay | Reply::Close => {}
            Reply::Open(popup) => self.popup = Some(popup),
            Reply::Run(plans) => self.start(plans),
            Reply::Recheck(request, shown) => {
                self.popup = Some(Popup::Planning(Planning::rechecking(request.clone())));
                self.shared.ask(Effect::Recheck { request, shown });
            }
            Reply::AskQuit => self.ask_quit(),
            Reply::Quit => self.stop_and_quit(),
            Reply::Filter(query) | Reply::FilterRestored(query) => self.set_filter(query),
            Reply::FilterClosed(None) => self.set_filter(Query::default()),
            Reply::FilterClosed(Some(query)) => {
                // The registry's answer comes later, its count in the view's title.
                let some = !query.is_empty() && !self.views.get(self.tab).filters_in_registry();
                self.set_filter(query);
                if some {
                    let shown = self.visible(self.tab).len();
                    self.shared
                        .say(format!("{shown} row(s) match; / to change, esc clears"));
                }
            }
            Reply::Command(command) => self.run(command),
            Reply::NextWave => match self.rollout.as_mut().and_then(Rollout::next) {
                Some(wave) => self.start_wave(wave),
                None => self.rollout = None,
            },
            Reply::StopRollout => {
                if let Some(r) = self.rollout.take() {
                    self.shared.warn(format!(
                        "rollout stopped after wave {} of {}: the same plan again goes on with what is left",
                        r.number, r.total
                    ));
                }
            }
        }
    }

    fn set_filter(&mut self, query: Query) {
        self.views.set_filter(self.tab, query, &mut self.shared);
    }

    fn start(&mut self, plans: Vec<Plan>) {
        let waves = self.shared.pending_waves.take();
        if let (Some(sizes), [plan]) = (waves, plans.as_slice()) {
            let (first, rollout) = Rollout::new(plan, &sizes);
            self.rollout = Some(rollout);
            return self.start_wave(first);
        }
        if self.shared.start(plans) {
            self.views.notify(Event::JobsStarted, &mut self.shared);
        }
    }

    /// Starts the wave `plan` of the rollout under way, as a job.
    fn start_wave(&mut self, plan: Plan) {
        let started = self.shared.start(vec![plan]);
        match self.rollout.as_mut() {
            Some(r) if started => {
                r.job = self.shared.live.len() - 1;
                let (number, total) = (r.number, r.total);
                self.shared.say(format!(
                    "wave {number} of {total} started: 4 shows it; its results come before the next"
                ));
                self.views.notify(Event::JobsStarted, &mut self.shared);
            }
            _ => self.rollout = None,
        }
    }

    /// A wave ended: the next is asked for, unless it was the last or it failed.
    fn wave_ended(&mut self, end: WaveEnd) {
        let last = self.rollout.as_ref().is_none_or(Rollout::is_last);
        if last && !end.halts() {
            self.rollout = None;
            self.shared
                .say(format!("rollout done: {} wave(s)", end.total));
            return;
        }
        self.popup = Some(Popup::Wave(WaveQuestion::new(end)));
    }

    fn plan(&mut self, request: PlanRequest) {
        self.popup = Some(Popup::Planning(Planning::new(request.clone())));
        self.shared.ask(Effect::Plan(request));
    }

    fn ask_quit(&mut self) {
        let running = self.shared.running();
        if running == 0 {
            self.quit = true;
        } else {
            self.popup = Some(Popup::Quit(QuitQuestion::new(running)));
        }
    }

    fn stop_and_quit(&mut self) {
        self.quitting = true;
        self.shared.cancel_all();
        self.check_quit();
    }

    fn check_quit(&mut self) {
        if self.quitting && self.shared.running() == 0 {
            self.quit = true;
        }
    }

    /// Carries out a `:` command.
    fn run(&mut self, command: PaletteCommand) {
        match command {
            PaletteCommand::Act {
                action,
                modules,
                tenants,
                cascade,
            } => {
                if self.shared.read_only {
                    // Says why nothing is planned.
                    marks::plan(&mut self.shared, action, Vec::new());
                    return;
                }
                self.plan(PlanRequest {
                    action,
                    groups: vec![PlanGroup { modules, tenants }],
                    cascade,
                    to: None,
                });
            }
            PaletteCommand::Tenant(slug) => {
                if let Some(t) = self.shared.data.tenant_index(&slug) {
                    self.show(Tab::Matrix);
                    self.views.notify(Event::Tenant(t), &mut self.shared);
                    self.shared.say(format!("tenant {slug}"));
                }
            }
            PaletteCommand::Module(name) => {
                if let Some(m) = self.shared.data.module_index(&name) {
                    self.show(Tab::Modules);
                    self.views.notify(Event::Module(m), &mut self.shared);
                    self.shared.say(format!("module {name}"));
                }
            }
            PaletteCommand::History(query) => {
                // The filter asked for first: shown then, the view has nothing more to ask.
                self.tab = Tab::History;
                self.set_filter(query);
                self.show(Tab::History);
            }
            PaletteCommand::View(tab) => self.show(tab),
            PaletteCommand::Cancel => {
                self.show(Tab::Jobs);
                let outcome = self
                    .views
                    .on_command(Tab::Jobs, Command::Cancel, &mut self.shared);
                self.follow(outcome);
            }
            PaletteCommand::Reload => self.shared.reload(),
            PaletteCommand::Verify => {
                self.show(Tab::Matrix);
                self.shared.verify();
            }
            PaletteCommand::Help => {
                self.popup = Some(Popup::Help(Help::new(self.tab, self.shared.read_only)))
            }
            // Even forced, a job is never cut in the middle of a migration: it stops at the
            // next boundary, and the console quits then.
            PaletteCommand::Quit { force: true } => self.stop_and_quit(),
            PaletteCommand::Quit { force: false } => self.ask_quit(),
        }
    }

    /// Takes a result from the background.
    pub fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Loaded(Ok(snapshot)) => {
                self.shared.take_snapshot(*snapshot);
                self.views.notify(Event::Loaded, &mut self.shared);
                // The view in front reads what the registry has now; the others when shown.
                self.views.shown(self.tab, &mut self.shared);
            }
            Msg::Loaded(Err(e)) => {
                self.shared.loaded = true;
                let first = e.lines().next().unwrap_or_default();
                self.shared.warn(format!("loading failed: {first}"));
                // The whole of it, fix included, where it can be read.
                self.popup = Some(Popup::Refused(Refused::new(e, None)));
            }
            Msg::Planned {
                request,
                result,
                cascade,
            } => {
                // A plan nobody waits for any more (its window was closed) is dropped.
                if matches!(&self.popup, Some(Popup::Planning(p)) if p.request == request) {
                    self.popup = Some(Popup::planned(&request, result, cascade));
                }
            }
            Msg::Rechecked {
                request,
                shown,
                result,
            } => {
                // Confirmed, then abandoned (esc) while it was planned again: nothing runs.
                if !matches!(&self.popup, Some(Popup::Planning(p)) if p.recheck && p.request == request)
                {
                    return;
                }
                self.popup = None;
                match result {
                    Ok(now) if Plan::same_steps(&shown, &now) => self.start(shown),
                    result => self.popup = Some(Popup::replanned(&request, result)),
                }
            }
            Msg::Event(i, event) => {
                if self.shared.on_job_event(i, event) {
                    self.views.notify(Event::JobStarted, &mut self.shared);
                }
            }
            // Taken by the event loop before it reaches here.
            Msg::Reopened(_) => {}
            Msg::Verified(result) => self.shared.on_verified(result),
            Msg::History { request, answer } => {
                match self.views.on_history(&request, &answer, &mut self.shared) {
                    // A detail waiting for its rows takes them; one closed meanwhile stays so.
                    Outcome::Detail { title, lines, cell } => {
                        if matches!(&self.popup, Some(Popup::Detail(d)) if d.title() == title) {
                            self.popup =
                                Some(Popup::Detail(Detail::new(title, lines).for_cell(cell)));
                        }
                    }
                    outcome => self.follow(outcome),
                }
            }
            Msg::Finished(i, result) => {
                let wave = self.rollout.as_ref().filter(|r| r.job == i);
                let end = wave.map(|r| r.ended(&result));
                self.shared.on_finished(i, result);
                if let Some(end) = end {
                    self.wave_ended(end);
                }
                self.check_quit();
            }
            Msg::Jobs(result) => {
                let selected = self.views.jobs.selected_id(&self.shared);
                self.shared.on_jobs(result);
                self.views.jobs.keep_on(selected, &self.shared);
                self.follow_selected();
            }
            Msg::JobLog { job, result } => self.shared.on_job_log(&job, result),
            Msg::CancelAsked { job, result } => self.shared.on_cancel_asked(&job, result),
            Msg::Removed { slug, result } => match result {
                Ok(removal) => {
                    // Read again quietly: what the removal did is the message to keep.
                    self.shared.ask(Effect::Reload);
                    self.shared.say(removed(&removal));
                }
                Err(e) => {
                    let error = format!("tenant {slug} was not removed: {e}");
                    self.popup = Some(Popup::Refused(Refused::new(error, None)));
                }
            },
            Msg::Retry { job, result } => match result {
                Ok(request) => self.plan(request),
                Err(e) => self.shared.warn(format!("retrying job {job}: {e}")),
            },
        }
    }
}

/// Draws the console: the tab bar, the focused view, the bottom line, and what is open over
/// them.
pub fn draw(frame: &mut Frame, app: &App) {
    let shared = &app.shared;
    let reminder = keys::reminder(shared.read_only);
    let status = Status {
        read_only: shared.read_only,
        running: shared.running(),
        quitting: app.quitting,
        marked: shared.marks.len(),
        problems: shared.data.problems,
        message: shared.message.as_ref().map(|(m, tone)| (m.as_str(), *tone)),
        reminder: &reminder,
    };
    let line = app.popup.as_ref().is_some_and(Popup::is_line);
    let rows = if line {
        1
    } else {
        status_line::height(&status, frame.area().width)
    };
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(rows),
    ])
    .areas(frame.area());
    let titles: Vec<Line> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| Line::from(format!("{} {}", i + 1, t.title())))
        .collect();
    frame.render_widget(
        Tabs::new(titles)
            .select(app.tab.index())
            .highlight_style(style::selected())
            .divider("│"),
        top,
    );
    if !shared.loaded {
        frame.render_widget(
            Paragraph::new(Span::styled("loading the registry…", style::dim()))
                .block(Block::default().borders(Borders::ALL)),
            body,
        );
    } else {
        app.views.get(app.tab).draw(frame, body, shared);
    }
    if !line {
        status_line::draw(frame, bottom, status);
    }
    if let Some(popup) = &app.popup {
        popup.draw(frame, bottom, shared);
    }
}
