//! The views, one file each, and the tab list. A view owns its state (cursor, filter, what it
//! shows besides), answers the commands it has a use for and draws itself; what every view
//! does with the rest (moving, `esc`, marking, `i` `r` `u`) is here. Views never call each
//! other: what they share is in [`Shared`], and what one must follow of another's reaches it
//! as an [`Event`]. They know nothing of the windows: a view asks for one with an [`Outcome`].
//!
//! Adding a view: a file in this folder with a type that implements [`View`] (and `Default`),
//! its `mod` line, and its line in the list below; keys of its own are entries in `keys.rs`.

/// A view's accessors to its rows and cursor: `listing!(own rows, cursor)` for a list of its
/// own (fields `rows: Filtered`, `cursor: Cursor`), `listing!(tenants cursor)` for one over
/// the tenants shown, whose filter is in [`Shared`].
macro_rules! listing {
    (own $rows:ident, $cursor:ident) => {
        fn rows<'a>(&'a self, _shared: &'a Shared) -> &'a Filtered {
            &self.$rows
        }
        listing!(@cursor $cursor);
    };
    (tenants $cursor:ident) => {
        fn rows<'a>(&'a self, shared: &'a Shared) -> &'a Filtered {
            &shared.tenants
        }
        fn lists_tenants(&self) -> bool {
            true
        }
        listing!(@cursor $cursor);
    };
    (@cursor $cursor:ident) => {
        fn cursor(&self) -> &Cursor {
            &self.$cursor
        }
        fn cursor_mut(&mut self) -> &mut Cursor {
            &mut self.$cursor
        }
    };
}

mod history;
mod jobs;
mod matrix;
mod modules;
mod tenants;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::command::Command;
use super::marks;
use super::rows::{Cursor, Filtered};
use super::shared::Shared;
use super::worker::PlanRequest;
use estate_engine::Action;

/// Makes the tab list: the `Tab` enum (titled as its names) and `Views`, a field per view.
macro_rules! tabs {
    ($($tab:ident => $file:ident::$view:ident,)+) => {
        /// The views, in tab order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Tab {
            $($tab,)+
        }

        impl Tab {
            pub const ALL: &[Tab] = &[$(Tab::$tab,)+];

            pub fn title(self) -> &'static str {
                match self {
                    $(Tab::$tab => stringify!($tab),)+
                }
            }
        }

        /// Every view's state.
        #[derive(Default)]
        pub struct Views {
            $(pub $file: $file::$view,)+
        }

        impl Views {
            pub fn get(&self, tab: Tab) -> &dyn View {
                match tab {
                    $(Tab::$tab => &self.$file,)+
                }
            }

            pub fn get_mut(&mut self, tab: Tab) -> &mut dyn View {
                match tab {
                    $(Tab::$tab => &mut self.$file,)+
                }
            }

            fn all_mut(&mut self) -> Vec<&mut dyn View> {
                vec![$(&mut self.$file as &mut dyn View,)+]
            }
        }
    };
}

// The tab list.
tabs! {
    Modules => modules::Modules,
    Tenants => tenants::Tenants,
    Matrix => matrix::Matrix,
    Jobs => jobs::Jobs,
    History => history::History,
}

impl Tab {
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// What a view asks of the console after a command.
#[derive(Debug)]
pub enum Outcome {
    /// Not the view's own: what every view does applies.
    Unhandled,
    Done,
    /// A window with these details.
    Detail {
        title: String,
        lines: Vec<Line<'static>>,
    },
    /// A plan of this (a window waits for it).
    Plan(PlanRequest),
}

/// What happened elsewhere that views follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new snapshot: every view's rows were read again.
    Loaded,
    /// Jobs were started from this console.
    JobsStarted,
    /// A job of this console got its registry id.
    JobStarted,
    /// This tenant (data index) is wanted wherever tenants are listed; the filter that hid it
    /// is cleared.
    Tenant(usize),
    /// This module (data index) is wanted.
    Module(usize),
}

/// One view: its rows, its answers to commands, its drawing.
pub trait View {
    /// The rows it lists, through its filter.
    fn rows<'a>(&'a self, shared: &'a Shared) -> &'a Filtered;

    fn cursor(&self) -> &Cursor;

    fn cursor_mut(&mut self) -> &mut Cursor;

    /// Whether it lists the tenants shown, whose one filter is in [`Shared`].
    fn lists_tenants(&self) -> bool {
        false
    }

    /// Reads its own rows again, under `filter` when one is given (a view over the tenants
    /// shown has none of its own).
    fn refilter(&mut self, _filter: Option<String>, _shared: &Shared) {}

    /// The cells (tenant, module) the cursor stands for, to mark or to act on.
    fn cells(&self, _shared: &Shared) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Answers `command`, or leaves it to what every view does ([`Outcome::Unhandled`]).
    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome;

    fn on_event(&mut self, _event: Event, _shared: &Shared) {}

    fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared);
}

impl Views {
    /// Reads every view's rows again; each cursor stays on its row.
    fn refilter(&mut self, shared: &mut Shared) {
        self.refilter_tenants(shared);
        for view in self.all_mut() {
            view.refilter(None, shared);
        }
    }

    fn refilter_tenants(&mut self, shared: &mut Shared) {
        let mut cursors: Vec<&mut Cursor> = self
            .all_mut()
            .into_iter()
            .filter(|v| v.lists_tenants())
            .map(|v| v.cursor_mut())
            .collect();
        shared.refilter_tenants(&mut cursors);
    }

    /// Filters `tab`'s rows to those containing `text`.
    pub fn set_filter(&mut self, tab: Tab, text: String, shared: &mut Shared) {
        if self.get(tab).lists_tenants() {
            shared.tenants.filter = text;
            self.refilter_tenants(shared);
        } else {
            self.get_mut(tab).refilter(Some(text), shared);
        }
    }

    /// Tells every view of `event`.
    pub fn notify(&mut self, event: Event, shared: &mut Shared) {
        match event {
            Event::Loaded => self.refilter(shared),
            Event::Tenant(t) if shared.tenants.position(t).is_none() => {
                shared.tenants.filter.clear();
                self.refilter_tenants(shared);
            }
            _ => {}
        }
        for view in self.all_mut() {
            view.on_event(event, shared);
        }
    }

    /// `tab`'s answer to `command`: its own, or what every view does.
    pub fn on_command(&mut self, tab: Tab, command: Command, shared: &mut Shared) -> Outcome {
        let outcome = self.get_mut(tab).on_command(command, shared);
        if !matches!(outcome, Outcome::Unhandled) {
            return outcome;
        }
        let view = self.get_mut(tab);
        let len = view.rows(shared).len();
        if view.cursor_mut().moves(command, len, shared.page.get()) {
            return Outcome::Done;
        }
        let action = match command {
            Command::Back => {
                self.back(tab, shared);
                return Outcome::Done;
            }
            Command::Mark => {
                mark(view, shared);
                return Outcome::Done;
            }
            Command::Install => Action::Install,
            Command::Rollback => Action::Rollback,
            Command::Upgrade => Action::Upgrade,
            _ => return Outcome::Done,
        };
        let cells = view.cells(shared);
        marks::plan(shared, action, cells).map_or(Outcome::Done, Outcome::Plan)
    }

    /// `esc`: clears the filter, or else the marks.
    fn back(&mut self, tab: Tab, shared: &mut Shared) {
        if !self.get(tab).rows(shared).filter.is_empty() {
            self.set_filter(tab, String::new(), shared);
        } else if !shared.marks.is_empty() {
            let n = shared.marks.len();
            shared.marks.clear();
            shared.say(format!("{n} mark(s) cleared"));
        }
    }
}

/// Marks the cells the cursor stands for (or unmarks them) and moves on, as in a file manager,
/// so space space marks two rows; false when the cursor stands for none.
fn mark(view: &mut dyn View, shared: &mut Shared) -> bool {
    if shared.read_only {
        shared.warn("read-only: nothing to mark, i r u are refused (restart without --read-only)");
        return false;
    }
    let cells = view.cells(shared);
    if !marks::toggle(shared, cells) {
        return false;
    }
    let len = view.rows(shared).len();
    view.cursor_mut().moves(Command::Down, len, 1);
    shared.say("i install, r roll back, u upgrade the marked; esc clears the marks");
    true
}

/// The data index of `view`'s selected row.
fn selected(view: &dyn View, shared: &Shared) -> Option<usize> {
    view.rows(shared).at(view.cursor().row)
}
