//! The console: a ratatui face on the same [`Project`] API the CLI uses.
//!
//! `app` holds the state and turns keys into changes, `data` loads what the views show (one
//! snapshot of the registry and the catalog), `views` draws each tab, `keymap` is the one place
//! keys are named (the help overlay is made from it), `style` maps the shared theme onto
//! ratatui. The terminal is always restored, on quit, on error and on panic.

mod app;
mod data;
mod keymap;
mod style;
mod views;

pub use app::{App, Tab};
pub use data::Snapshot;
pub use views::draw;

use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use crate::error::{Error, Result};
use crate::project::Project;

/// Opens the console on `project` and runs it until the operator quits.
pub async fn run(project: &Project) -> Result<()> {
    let snapshot = Snapshot::load(project).await?;
    let mut app = App::new(snapshot, project.config.read_only);
    // ratatui::init installs a panic hook that restores the terminal before the report.
    let mut terminal = ratatui::init();
    let result = tokio::task::block_in_place(|| {
        let handle = tokio::runtime::Handle::current();
        loop {
            terminal
                .draw(|frame| views::draw(frame, &app))
                .map_err(|e| Error::io("drawing the console", e))?;
            if app.quit {
                return Ok(());
            }
            if !event::poll(Duration::from_millis(250))
                .map_err(|e| Error::io("reading the terminal", e))?
            {
                continue;
            }
            match event::read().map_err(|e| Error::io("reading the terminal", e))? {
                Event::Key(key) if key.kind == KeyEventKind::Press => app.on_key(key),
                // A resize redraws on the next turn of the loop.
                _ => {}
            }
            if app.reload {
                app.reload = false;
                match handle.block_on(Snapshot::load(project)) {
                    Ok(s) => {
                        app.replace(s);
                        app.say("refreshed");
                    }
                    Err(e) => app.say(format!("refresh failed: {e}")),
                }
            }
        }
    });
    ratatui::restore();
    result
}
