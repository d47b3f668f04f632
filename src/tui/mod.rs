//! The console: a ratatui face on the same [`Project`] API the CLI uses.
//!
//! `app` holds the state and turns keys and background results into changes, `worker` runs
//! everything that touches a database in tokio tasks (the UI thread never waits on one),
//! `data` is the snapshot the views show, `jobs` follows the jobs this console started,
//! `views` and `dialogs` draw, `detail` writes the text of details and plans, `keymap` is the
//! one place keys are named (the help overlay is made from it), `palette` parses `:` commands
//! and `style` maps the shared theme onto ratatui. The terminal is always restored, on quit,
//! on error and on panic.

mod app;
mod data;
mod detail;
mod dialogs;
mod jobs;
mod keymap;
mod palette;
mod style;
mod views;
mod worker;

pub use app::{App, Dialog, Input, JobRow, Tab};
pub use data::Snapshot;
pub use jobs::{JobState, LiveJob};
pub use views::draw;
pub use worker::{Effect, Msg, PlanGroup, PlanRequest};

use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use crate::error::{Error, Result};
use crate::project::Project;

/// Carries out `effect` and waits for its results: what the event loop does in the
/// background, done in line (for tests and benchmarks).
pub async fn settle(project: &Project, effect: Effect) -> Vec<Msg> {
    let (tx, rx) = std::sync::mpsc::channel();
    match effect {
        Effect::Reload => drop(tx.send(worker::load(project).await)),
        Effect::Plan(request) => drop(tx.send(worker::plan(project, request).await)),
        Effect::Run(jobs) => worker::run(project, jobs, &tx).await,
    }
    drop(tx);
    rx.into_iter().collect()
}

/// Opens the console on `project` and runs it until the operator quits.
pub async fn run(mut project: Arc<Project>) -> Result<()> {
    let handle = tokio::runtime::Handle::current();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut app = App::loading(project.config.read_only);
    // ratatui::init installs a panic hook that restores the terminal before the report.
    let mut terminal = ratatui::init();
    let result = tokio::task::block_in_place(|| {
        loop {
            for effect in app.take_effects() {
                worker::spawn(&handle, project.clone(), effect, tx.clone());
            }
            terminal
                .draw(|frame| views::draw(frame, &app))
                .map_err(|e| Error::io("drawing the console", e))?;
            if app.quit {
                return Ok(());
            }
            // Short, so background results show promptly; a resize redraws on the next turn.
            if event::poll(Duration::from_millis(50))
                .map_err(|e| Error::io("reading the terminal", e))?
            {
                // Take every key already typed before drawing again, so a held key never lags.
                loop {
                    if let Event::Key(key) =
                        event::read().map_err(|e| Error::io("reading the terminal", e))?
                        && key.kind == KeyEventKind::Press
                    {
                        app.on_key(key);
                    }
                    if !event::poll(Duration::ZERO)
                        .map_err(|e| Error::io("reading the terminal", e))?
                    {
                        break;
                    }
                }
            }
            while let Ok(msg) = rx.try_recv() {
                match msg {
                    Msg::Reopened(fresh) => project = fresh,
                    msg => app.on_msg(msg),
                }
            }
        }
    });
    ratatui::restore();
    result
}
