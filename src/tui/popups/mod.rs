//! What opens over the views, one file each: the windows (the plan being made and the one to
//! confirm, a refusal, details, the help, the quit question, a tenant's removal) and the lines typed at the bottom
//! (the `/` filter, the `:` command line). An open popup takes every key and answers with a
//! [`Reply`]; it knows nothing of the views or of the routing, which follows the reply.

mod complete;
mod confirm;
mod detail;
mod filter;
mod help;
mod palette;
mod plan;
mod quit;
mod refused;
mod remove;
mod to_version;
mod wave;

pub use confirm::{Confirm, Planning};
pub use detail::Detail;
pub use filter::FilterLine;
pub use help::Help;
pub use palette::{CommandLine, PaletteCommand};
pub use quit::QuitQuestion;
pub use refused::Refused;
pub use remove::{RemoveTenant, removed};
pub use to_version::VersionLine;
pub use wave::WaveQuestion;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;

use super::command::Command;
use super::keys;
use super::query::Query;
use super::shared::Shared;
use super::worker::PlanRequest;
use estate_engine::Plan;

/// What is open over the views.
#[derive(Debug)]
pub enum Popup {
    /// The `/` line.
    Filter(FilterLine),
    /// The `:` line.
    Palette(CommandLine),
    Help(Help),
    Planning(Planning),
    Confirm(Confirm),
    Refused(Refused),
    Quit(QuitQuestion),
    Detail(Detail),
    Remove(RemoveTenant),
    ToVersion(VersionLine),
    Wave(WaveQuestion),
}

/// What a popup asks of the console after a key.
#[derive(Debug)]
pub enum Reply {
    /// It stays open.
    Stay,
    Close,
    /// It gives way to another.
    Open(Popup),
    /// It closes, and the confirmed plans run.
    Run(Vec<Plan>),
    /// It closes; `request` is planned again, and the confirmed plans run if it plans the
    /// same (else the new plan, or its refusal, is shown).
    Recheck(PlanRequest, Vec<Plan>),
    /// It closes, and the console quits, asking first while jobs run.
    AskQuit,
    /// It closes, the jobs stop at their next migration boundary, and the console quits then.
    Quit,
    /// The focused view's filter, as typed so far (the line stays open).
    Filter(Query),
    /// The filter line closed: with this filter (enter), or clearing it (esc, `None`).
    FilterClosed(Option<Query>),
    /// The filter line closed on a filter that does not parse: the one before it stays.
    FilterRestored(Query),
    /// The command line closed with this command.
    Command(PaletteCommand),
    /// A wave ended well: the next starts.
    NextWave,
    /// The rollout stops after the wave that ended.
    StopRollout,
}

impl Popup {
    /// The window a plan request ends in: the plan to confirm, the refusal (with its
    /// `--cascade` alternative), or the reason there is nothing to do.
    pub fn planned(
        request: &PlanRequest,
        result: Result<Vec<Plan>, String>,
        cascade: Option<Vec<Plan>>,
    ) -> Popup {
        match result {
            Ok(plans) if plans.iter().all(Plan::is_empty) => Popup::Detail(Detail::new(
                format!("{}: nothing to do", request.action),
                plan::nothing_to_do(&plans),
            )),
            Ok(plans) => Popup::Confirm(Confirm::new(plans).for_request(request.clone())),
            Err(error) => Popup::Refused(Refused::new(error, cascade).for_request(request)),
        }
    }

    /// The window a confirmed plan ends in when `request`, planned again, plans otherwise:
    /// the fleet changed while the window was open.
    pub fn replanned(request: &PlanRequest, result: Result<Vec<Plan>, String>) -> Popup {
        const CHANGED: &str =
            "the fleet changed since the plan was shown (another job ran): nothing ran";
        match result {
            Ok(plans) if !plans.iter().all(Plan::is_empty) => Popup::Confirm(
                Confirm::new(plans)
                    .for_request(request.clone())
                    .with_notice(format!("{CHANGED}; this is the plan now")),
            ),
            Ok(_) => Popup::Refused(Refused::new(
                format!("{CHANGED}, and there is nothing to do now"),
                None,
            )),
            Err(error) => Popup::Refused(Refused::new(
                format!("{CHANGED}, and it is refused now:\n{error}"),
                None,
            )),
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &mut Shared) -> Reply {
        match self {
            Popup::Filter(p) => p.on_key(key, shared),
            Popup::Palette(p) => p.on_key(key, shared),
            Popup::Help(p) => p.on_key(key),
            Popup::Planning(p) => p.on_key(key, shared),
            Popup::Confirm(p) => p.on_key(key, shared),
            Popup::Refused(p) => p.on_key(key, shared),
            Popup::Quit(p) => p.on_key(key),
            Popup::Detail(p) => p.on_key(key, shared),
            Popup::Remove(p) => p.on_key(key, shared),
            Popup::ToVersion(p) => p.on_key(key, shared),
            Popup::Wave(p) => p.on_key(key),
        }
    }

    /// Whether it is typed on the bottom line (rather than a window over the view).
    pub fn is_line(&self) -> bool {
        matches!(self, Popup::Filter(_) | Popup::Palette(_))
    }

    /// Draws it: a line on `bottom`, a window over the frame.
    pub fn draw(&self, frame: &mut Frame, bottom: Rect, shared: &Shared) {
        match self {
            Popup::Filter(p) => p.draw(frame, bottom),
            Popup::Palette(p) => p.draw(frame, bottom),
            Popup::Help(p) => p.draw(frame, shared),
            Popup::Planning(p) => p.draw(frame, shared),
            Popup::Confirm(p) => p.draw(frame, shared),
            Popup::Refused(p) => p.draw(frame, shared),
            Popup::Quit(p) => p.draw(frame, shared),
            Popup::Detail(p) => p.draw(frame, shared),
            Popup::Remove(p) => p.draw(frame, shared),
            Popup::ToVersion(p) => p.draw(frame, shared),
            Popup::Wave(p) => p.draw(frame, shared),
        }
    }
}

/// What a key did to a line being typed.
enum Edit {
    Changed,
    /// Backspace on an empty line: it closes.
    Emptied,
    Dismissed,
    Submitted,
    /// Tab: complete the last word.
    Completing,
    Ignored,
}

/// What every line does with a key: other keys than its own are text.
fn edit(text: &mut String, key: KeyEvent) -> Edit {
    edit_with(text, key, keys::in_line(key))
}

/// What a line does with `key`, which gives `command` where the line is typed.
fn edit_with(text: &mut String, key: KeyEvent, command: Option<Command>) -> Edit {
    match command {
        None => match key.code {
            KeyCode::Char(c) => {
                text.push(c);
                Edit::Changed
            }
            _ => Edit::Ignored,
        },
        Some(Command::Erase) => match text.pop() {
            Some(_) => Edit::Changed,
            None => Edit::Emptied,
        },
        Some(Command::Dismiss) => Edit::Dismissed,
        Some(Command::Submit) => Edit::Submitted,
        Some(Command::Complete) => Edit::Completing,
        Some(_) => Edit::Ignored,
    }
}
