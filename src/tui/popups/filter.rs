//! The `/` line: a filter for the focused view's rows (the language is `query`'s), applied as
//! it is typed; enter keeps it, esc clears it. What does not parse yet is said beside the
//! line and leaves the rows as the last filter that did; entered, it is answered in the status
//! line and the filter goes back to what it was before the line opened. Tab completes a module
//! (then its state after `:`) or a state. In a view whose filter the registry answers
//! (History), a word the registry cannot be asked about does not parse.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::complete::complete;
use super::{Edit, Reply, edit};
use crate::tui::history::Conditions;
use crate::tui::query::{Query, state_words};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::status_line;

#[derive(Debug)]
pub struct FilterLine {
    text: String,
    /// The view's filter when the line opened.
    before: Query,
    /// Why the text does not parse.
    problem: Option<String>,
    /// The registry answers the view's filter: the words are read as its conditions too.
    registry: bool,
}

impl FilterLine {
    /// The line, starting from the view's filter.
    pub fn new(before: Query, registry: bool) -> FilterLine {
        FilterLine {
            text: before.text().to_string(),
            before,
            problem: None,
            registry,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, shared: &mut Shared) -> Reply {
        let modules = &shared.data.matrix.modules;
        let data = &shared.data;
        let registry = self.registry;
        let parsed = |text: &str| {
            let query = Query::parse(text, modules)?;
            if registry {
                Conditions::read(&query, modules, |t| data.tenant_index(t).is_some())?;
            }
            Ok::<Query, String>(query)
        };
        match edit(&mut self.text, key) {
            Edit::Completing => {
                self.problem = complete_term(&mut self.text, modules);
                match parsed(&self.text) {
                    Ok(query) => Reply::Filter(query),
                    Err(_) => Reply::Stay,
                }
            }
            Edit::Changed => match parsed(&self.text) {
                Ok(query) => {
                    self.problem = None;
                    Reply::Filter(query)
                }
                Err(e) => {
                    self.problem = Some(e);
                    Reply::Stay
                }
            },
            Edit::Emptied => Reply::Close,
            Edit::Dismissed => Reply::FilterClosed(None),
            Edit::Submitted => match parsed(&self.text) {
                Ok(query) => Reply::FilterClosed(Some(query)),
                Err(e) => {
                    shared.warn(format!("filter unchanged: {e}"));
                    Reply::FilterRestored(self.before.clone())
                }
            },
            Edit::Ignored => Reply::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let note = self
            .problem
            .as_ref()
            .map(|p| Span::styled(p.clone(), style::failed()));
        status_line::input(frame, area, "/", &self.text, note);
    }
}

/// Completes the last word: a module (then `:`) or a state; after `module:`, a state.
fn complete_term(text: &mut String, modules: &[String]) -> Option<String> {
    let word = text.rsplit(char::is_whitespace).next().unwrap_or_default();
    let candidates: Vec<String> = match word.split_once(':') {
        Some((module, _)) => state_words().map(|s| format!("{module}:{s}")).collect(),
        None => modules
            .iter()
            .cloned()
            .chain(state_words().map(String::from))
            .collect(),
    };
    complete(text, candidates.iter().map(String::as_str), |w| {
        if modules.iter().any(|m| m == w) {
            ":"
        } else {
            " "
        }
    })
}
