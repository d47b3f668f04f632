//! The console's routing: which view is shown, the window or line open over it, and the work
//! asked for. A key goes to the open window or line, else to the focused view (after the keys
//! every view shares: tabs, help, reload, quit); background results go to the shared state
//! and the views that follow them. Nothing here draws a view's rows or touches a database:
//! work is asked for as an [`Effect`] and its result comes back as a [`Msg`].

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs};

use super::command::Command;
use super::data::Snapshot;
use super::detail;
use super::dialogs;
use super::keys::{self, Window};
use super::marks;
use super::palette::{self, PaletteCommand};
use super::shared::Shared;
use super::style;
use super::views::{Event, Outcome, Tab, Views};
use super::widgets::status_line::{self, Status};
use super::widgets::window::scroll_by;
use super::worker::{Effect, Msg, PlanGroup, PlanRequest};
use estate_engine::Plan;

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

pub struct App {
    pub tab: Tab,
    pub views: Views,
    pub shared: Shared,
    pub input: Option<Input>,
    pub dialog: Option<Dialog>,
    pub help: bool,
    pub quit: bool,
    /// Quit once the running jobs have stopped.
    pub quitting: bool,
}

impl App {
    pub fn new(data: Snapshot, read_only: bool) -> App {
        let mut app = App {
            tab: Tab::Modules,
            views: Views::default(),
            shared: Shared::new(data, read_only),
            input: None,
            dialog: None,
            help: false,
            quit: false,
            quitting: false,
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
        self.shared.message = None;
        match cmd {
            Command::Quit => self.ask_quit(),
            Command::Help => self.help = true,
            Command::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            Command::PrevTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
            }
            Command::GoTo(n) => {
                if let Some(tab) = Tab::ALL.get(n) {
                    self.tab = *tab;
                }
            }
            Command::Refresh => self.shared.reload(),
            Command::Filter => {
                let filter = &self.views.get(self.tab).rows(&self.shared).filter;
                self.input = Some(Input::Filter(filter.clone()));
            }
            Command::Palette => self.input = Some(Input::Command(String::new())),
            cmd => {
                let outcome = self.views.on_command(self.tab, cmd, &mut self.shared);
                self.follow(outcome);
            }
        }
    }

    /// Does what a view asked for.
    fn follow(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Unhandled | Outcome::Done => {}
            Outcome::Detail { title, lines } => {
                self.dialog = Some(Dialog::Detail {
                    title,
                    lines,
                    scroll: 0,
                })
            }
            Outcome::Plan(request) => self.plan(request),
        }
    }

    fn set_filter(&mut self, text: String) {
        self.views.set_filter(self.tab, text, &mut self.shared);
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
                    self.set_filter(String::new());
                }
                self.input = None;
                return;
            }
            Some(Command::Submit) => {
                match self.input.take() {
                    Some(Input::Command(line)) => self.run_command(&line),
                    Some(Input::Filter(text)) => {
                        let shown = self.visible(self.tab).len();
                        self.set_filter(text);
                        if !self
                            .views
                            .get(self.tab)
                            .rows(&self.shared)
                            .filter
                            .is_empty()
                        {
                            self.shared
                                .say(format!("{shown} row(s) match; / to change, esc clears"));
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
            self.set_filter(text);
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
        let max = self.shared.window_scroll.get();
        match dialog {
            Dialog::Planning(_) => {
                if cmd == Some(Command::No) {
                    self.dialog = None;
                    self.shared.say("planning abandoned: nothing ran");
                }
            }
            Dialog::Confirm { plans, scroll } => match cmd {
                Some(Command::Yes) => {
                    let plans = std::mem::take(plans);
                    self.dialog = None;
                    if self.shared.start(plans) {
                        self.views.notify(Event::JobsStarted, &mut self.shared);
                    }
                }
                Some(Command::No) => {
                    self.dialog = None;
                    self.shared.say("cancelled: nothing ran");
                }
                _ => scroll_by(scroll, cmd, max),
            },
            Dialog::Refused {
                cascade, scroll, ..
            } => match cmd {
                Some(Command::Cascade) if cascade.is_some() => {
                    let plans = cascade.take().unwrap_or_default();
                    self.dialog = Some(Dialog::Confirm { plans, scroll: 0 });
                }
                Some(Command::No) => self.dialog = None,
                _ => scroll_by(scroll, cmd, max),
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
                _ => scroll_by(scroll, cmd, max),
            },
        }
    }

    fn plan(&mut self, request: PlanRequest) {
        self.dialog = Some(Dialog::Planning(request.clone()));
        self.shared.ask(Effect::Plan(request));
    }

    fn ask_quit(&mut self) {
        let running = self.shared.running();
        if running == 0 {
            self.quit = true;
        } else {
            self.dialog = Some(Dialog::Quit { running });
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

    // --- the command line -------------------------------------------------------------------

    pub fn run_command(&mut self, line: &str) {
        let data = &self.shared.data;
        let parsed = palette::parse(
            line,
            |m| data.module_index(m).is_some(),
            |t| data.tenant_index(t).is_some(),
        );
        let cmd = match parsed {
            Ok(cmd) => cmd,
            Err(e) => return self.shared.warn(e),
        };
        match cmd {
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
                });
            }
            PaletteCommand::Tenant(slug) => {
                if let Some(t) = self.shared.data.tenant_index(&slug) {
                    self.tab = Tab::Matrix;
                    self.views.notify(Event::Tenant(t), &mut self.shared);
                    self.shared.say(format!("tenant {slug}"));
                }
            }
            PaletteCommand::Module(name) => {
                if let Some(m) = self.shared.data.module_index(&name) {
                    self.tab = Tab::Modules;
                    self.views.notify(Event::Module(m), &mut self.shared);
                    self.shared.say(format!("module {name}"));
                }
            }
            PaletteCommand::History(text) => {
                self.tab = Tab::History;
                self.set_filter(text);
            }
            PaletteCommand::View(tab) => self.tab = tab,
            PaletteCommand::Cancel => {
                self.tab = Tab::Jobs;
                let outcome = self
                    .views
                    .on_command(Tab::Jobs, Command::Cancel, &mut self.shared);
                self.follow(outcome);
            }
            PaletteCommand::Reload => self.shared.reload(),
            PaletteCommand::Verify => {
                self.tab = Tab::Matrix;
                self.shared.verify();
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
                self.shared.take_snapshot(*snapshot);
                self.views.notify(Event::Loaded, &mut self.shared);
            }
            Msg::Loaded(Err(e)) => {
                self.shared.loaded = true;
                self.shared.warn(format!("loading failed: {e}"));
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
            Msg::Event(i, event) => {
                if self.shared.on_job_event(i, event) {
                    self.views.notify(Event::JobStarted, &mut self.shared);
                }
            }
            // Taken by the event loop before it reaches here.
            Msg::Reopened(_) => {}
            Msg::Verified(result) => self.shared.on_verified(result),
            Msg::Finished(i, result) => {
                self.shared.on_finished(i, result);
                self.check_quit();
            }
        }
    }
}

/// Draws the console: the tab bar, the focused view, the bottom line, and the window over
/// them, if one is open.
pub fn draw(frame: &mut Frame, app: &App) {
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
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
    if !app.shared.loaded {
        frame.render_widget(
            Paragraph::new(Span::styled("loading the registry…", style::dim()))
                .block(Block::default().borders(Borders::ALL)),
            body,
        );
    } else {
        app.views.get(app.tab).draw(frame, body, &app.shared);
    }
    bottom_line(frame, app, bottom);
    dialogs::draw(frame, app);
}

/// The bottom line: what is being typed, or the state and the last message.
fn bottom_line(frame: &mut Frame, app: &App, area: Rect) {
    if let Some(input) = &app.input {
        let (prompt, text) = match input {
            Input::Filter(t) => ("/", t),
            Input::Command(t) => (":", t),
        };
        return status_line::input(frame, area, prompt, text);
    }
    let shared = &app.shared;
    status_line::draw(
        frame,
        area,
        Status {
            read_only: shared.read_only,
            running: shared.running(),
            quitting: app.quitting,
            marked: shared.marks.len(),
            problems: shared.data.problems,
            message: shared.message.as_ref().map(|(m, tone)| (m.as_str(), *tone)),
            reminder: &keys::reminder(),
        },
    );
}
