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
use super::drift;
use super::history::{Asker, HistoryAnswer, HistoryRequest};
use super::marks;
use super::query::Query;
use super::rows::{Cursor, Filtered, Order, next_hit};
use super::shared::Shared;
use super::worker::{CellRef, PlanRequest, TenantRemoval};
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
    /// A window with these details; a cell's offers to roll it back to a version.
    Detail {
        title: String,
        lines: Vec<Line<'static>>,
        cell: Option<CellRef>,
    },
    /// A plan of this (a window waits for it).
    Plan(PlanRequest),
    /// The removal window for this tenant.
    Remove(TenantRemoval),
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
    fn refilter(&mut self, _filter: Option<Query>, _shared: &Shared) {}

    /// The cells (tenant, module) the row at position `row` stands for, to mark or to act on.
    fn cells(&self, _shared: &Shared, _row: usize) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Whether data row `index` has trouble, a ✗ failed or ↑ pending, that `n` `N` jump to.
    fn trouble(&self, _shared: &Shared, _index: usize) -> bool {
        false
    }

    /// The order `s` lists the tenants in, for a view over them.
    fn order(&self, _shared: &Shared) -> Option<Order> {
        None
    }

    /// Answers `command`, or leaves it to what every view does ([`Outcome::Unhandled`]).
    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome;

    fn on_event(&mut self, _event: Event, _shared: &Shared) {}

    /// Whether the registry answers its filter (its rows are a page of the registry's): the
    /// `/` line then checks the words against what the registry can be asked.
    fn filters_in_registry(&self) -> bool {
        false
    }

    /// Takes a new filter by asking the registry for the rows it lets through (a view whose
    /// [`filters_in_registry`](View::filters_in_registry)).
    fn ask_filtered(&mut self, _query: Query, _shared: &mut Shared) {}

    /// It was brought to the front: a view that reads the registry when shown asks now.
    fn shown(&mut self, _shared: &mut Shared) {}

    fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared);
}

impl Views {
    /// Reads every view's rows again; each cursor stays on its row.
    fn refilter(&mut self, shared: &mut Shared) {
        self.refilter_tenants(None, shared);
        for view in self.all_mut() {
            view.refilter(None, shared);
        }
    }

    /// Reads the tenants shown again, through `filter` when one is given.
    pub fn refilter_tenants(&mut self, filter: Option<Query>, shared: &mut Shared) {
        let mut cursors: Vec<&mut Cursor> = self
            .all_mut()
            .into_iter()
            .filter(|v| v.lists_tenants())
            .map(|v| v.cursor_mut())
            .collect();
        shared.refilter_tenants(filter, &mut cursors);
    }

    /// Filters `tab`'s rows through `query`.
    pub fn set_filter(&mut self, tab: Tab, query: Query, shared: &mut Shared) {
        if self.get(tab).lists_tenants() {
            self.refilter_tenants(Some(query), shared);
        } else if self.get(tab).filters_in_registry() {
            self.get_mut(tab).ask_filtered(query, shared);
        } else {
            self.get_mut(tab).refilter(Some(query), shared);
        }
    }

    /// `tab` was brought to the front.
    pub fn shown(&mut self, tab: Tab, shared: &mut Shared) {
        self.get_mut(tab).shown(shared);
    }

    /// Hands a page of history to who asked for it: the History view takes its page; a
    /// cell's or a tenant's window is made again with the rows (the routing drops it if that
    /// window was closed meanwhile).
    pub fn on_history(
        &mut self,
        request: &HistoryRequest,
        answer: &HistoryAnswer,
        shared: &mut Shared,
    ) -> Outcome {
        let data = &shared.data;
        let t = request
            .filter
            .tenant
            .as_deref()
            .and_then(|t| data.tenant_index(t));
        let m = request
            .filter
            .module
            .as_deref()
            .and_then(|m| data.module_index(m));
        match (request.asker, t, m) {
            (Asker::History, _, _) => self.history.on_page(request, answer, shared),
            (Asker::Matrix, Some(t), Some(m)) => matrix::cell_detail(shared, t, m, Some(answer)),
            (Asker::Tenants, Some(t), _) => tenants::tenant_detail(shared, t, Some(answer)),
            // The tenant or the module is gone since (a reload): no window to fill.
            _ => Outcome::Done,
        }
    }

    /// Tells every view of `event`.
    pub fn notify(&mut self, event: Event, shared: &mut Shared) {
        match event {
            Event::Loaded => self.refilter(shared),
            Event::Tenant(t) if shared.tenants.position(t).is_none() => {
                self.refilter_tenants(Some(Query::default()), shared);
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
            Command::Range => {
                range(view, shared);
                return Outcome::Done;
            }
            Command::NextTrouble | Command::PrevTrouble => {
                let forward = command == Command::NextTrouble;
                let rows = view.rows(shared);
                let found = next_hit(view.cursor().row, rows.len(), forward, |row| {
                    rows.at(row).is_some_and(|i| view.trouble(shared, i))
                });
                if let Some((row, _)) = found {
                    view.cursor_mut().row = row;
                }
                jumped(shared, found.map(|(_, wrapped)| wrapped), forward);
                return Outcome::Done;
            }
            Command::Sort => {
                if let Some(order) = view.order(shared) {
                    let order = if shared.order == order {
                        Order::Slug
                    } else {
                        order
                    };
                    shared.say(match &order {
                        Order::Slug => "tenants by slug (s sorts again)".to_string(),
                        Order::Module(m) => {
                            format!("tenants by {m} state, ✗ first; s again: by slug")
                        }
                        Order::Trouble => {
                            "tenants by trouble, most ✗ first; s again: by slug".to_string()
                        }
                    });
                    shared.order = order;
                    self.refilter_tenants(None, shared);
                }
                return Outcome::Done;
            }
            Command::Install => Action::Install,
            Command::Rollback => Action::Rollback,
            Command::Upgrade => Action::Upgrade,
            _ => return Outcome::Done,
        };
        let cells = view.cells(shared, view.cursor().row);
        marks::plan(shared, action, cells).map_or(Outcome::Done, Outcome::Plan)
    }

    /// `esc`: leaves a range being marked, or clears the filter, or else the marks.
    fn back(&mut self, tab: Tab, shared: &mut Shared) {
        let cursor = self.get_mut(tab).cursor_mut();
        if cursor.anchor.take().is_some() {
            shared.say("range left: nothing marked");
        } else if !self.get(tab).rows(shared).filter.is_empty() {
            self.set_filter(tab, Query::default(), shared);
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
    let cells = view.cells(shared, view.cursor().row);
    if !marks::toggle(shared, cells) {
        return false;
    }
    let len = view.rows(shared).len();
    view.cursor_mut().moves(Command::Down, len, 1);
    shared.say("i install, r roll back, u upgrade the marked; esc clears the marks");
    true
}

/// `V`: starts a range at the cursor; at its other end, marks the cells of every row between
/// (or unmarks them, when all are marked).
fn range(view: &mut dyn View, shared: &mut Shared) {
    if shared.read_only {
        shared.warn("read-only: nothing to mark, i r u are refused (restart without --read-only)");
        return;
    }
    let cursor = view.cursor_mut();
    let Some(anchor) = cursor.anchor.take() else {
        cursor.anchor = Some(cursor.row);
        return shared.say("range: move to its other end, then V marks it; esc leaves");
    };
    let row = cursor.row;
    let rows = anchor.min(row)..=anchor.max(row);
    let n = rows.clone().count();
    let cells: Vec<(String, String)> = rows.flat_map(|r| view.cells(shared, r)).collect();
    let before = shared.marks.len();
    if marks::toggle(shared, cells) {
        let now = shared.marks.len();
        shared.say(if now >= before {
            format!("{n} row(s) marked: i install, r roll back, u upgrade them; esc clears")
        } else {
            format!("{n} row(s) unmarked")
        });
    }
}

/// Says where `n` or `N` went: nowhere, or round the end.
fn jumped(shared: &mut Shared, wrapped: Option<bool>, forward: bool) {
    match wrapped {
        None => shared.say("no ✗ failed or ↑ pending among the rows shown"),
        Some(true) if forward => shared.say("past the last: from the top (n next, N previous)"),
        Some(true) => shared.say("past the first: from the bottom (n next, N previous)"),
        Some(false) => shared.message = None,
    }
}

/// A tenant's (or a cell's, with `module`) details window: what the last verify found there
/// first, then `lines`.
fn with_drift(
    shared: &Shared,
    t: usize,
    module: Option<&str>,
    (title, lines): (String, Vec<Line<'static>>),
) -> Outcome {
    let found = drift::about(&shared.drift, &shared.tenant_slug(t), module);
    Outcome::Detail {
        title,
        lines: drift::first(found, lines),
        cell: None,
    }
}

/// The data index of `view`'s selected row.
fn selected(view: &dyn View, shared: &Shared) -> Option<usize> {
    view.rows(shared).at(view.cursor().row)
}
