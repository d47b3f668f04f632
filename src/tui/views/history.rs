//! The History view: what ran, newest first, per context and per tenant: when, how long, by
//! whom, and how it ended; `enter` shows a row whole, with its error. It shows one page of the
//! registry's history at a time, asked for when the view is shown and after a reload, titled
//! with where the page is in the whole (`rows 1-500 of 7,954`); moving past the page's first
//! or last row (or `g` `G` to the ends) asks for the page it lands on. The `/` filter is the
//! registry's to answer: a module, a tenant, `failed`, `module:failed`, `since:12h`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::{Event, Outcome, View};
use crate::tui::command::Command;
use crate::tui::history::{Asker, Conditions, HistoryAnswer, HistoryRequest, PAGE, thousands};
use crate::tui::query::Query;
use crate::tui::rows::{Cursor, Filtered};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::table::{self, List, Spec, header};
use crate::tui::widgets::text::{field, short_time};
use crate::tui::worker::Effect;
use estate_engine::{HistoryEntry, HistoryPage};

#[derive(Debug, Default)]
pub struct History {
    /// The page's rows (all shown: the registry filtered them), with the filter as typed.
    rows: Filtered,
    cursor: Cursor,
    /// The page shown, newest first, and how many rows its filter matches in all.
    page: HistoryPage,
    /// The filter's conditions the page answers.
    conditions: Conditions,
    /// A page asked for and not yet answered.
    waiting: Option<Waiting>,
    /// The page shown is what the registry holds: false until one is asked for, and again
    /// after a reload (a job ended), so the view asks when it is shown.
    current: bool,
}

/// A page asked for: the request, the filter it answers, the row the cursor lands on.
#[derive(Debug)]
struct Waiting {
    request: HistoryRequest,
    query: Query,
    conditions: Conditions,
    land: usize,
}

impl History {
    /// The rows of the page shown, newest first.
    pub fn page(&self) -> &HistoryPage {
        &self.page
    }

    /// Asks for the page starting `offset` rows from the newest under `query`, the cursor to
    /// land on its row `land`.
    fn ask(
        &mut self,
        query: Query,
        conditions: Conditions,
        offset: i64,
        land: usize,
        shared: &mut Shared,
    ) {
        let filter = match conditions.filter(offset, PAGE) {
            Ok(filter) => filter,
            Err(e) => return shared.warn(format!("history: {e}")),
        };
        let request = HistoryRequest {
            asker: Asker::History,
            filter,
        };
        // The same page asked again (enter on the filter typed): the answer on its way does.
        let again = self.waiting.as_ref().is_some_and(|w| w.request == request);
        if !again {
            shared.ask(Effect::History(request.clone()));
        }
        self.current = true;
        self.waiting = Some(Waiting {
            request,
            query,
            conditions,
            land,
        });
    }

    /// A move past the page's first or last row asks for the page it lands on; a move within
    /// the page is every view's (`Unhandled`).
    fn turn(&mut self, command: Command, shared: &mut Shared) -> Outcome {
        let (offset, len, total) = (
            self.page.offset,
            self.page.rows.len() as i64,
            self.page.total,
        );
        if len == 0 {
            return Outcome::Unhandled;
        }
        let at = offset + self.cursor.row as i64;
        let screen = shared.page.get().max(1) as i64;
        let target = match command {
            Command::Down => at + 1,
            Command::Up => at - 1,
            Command::PageDown => at + screen,
            Command::PageUp => at - screen,
            Command::Top => 0,
            _ => total - 1,
        }
        .clamp(0, (total - 1).max(0));
        if (offset..offset + len).contains(&target) {
            return Outcome::Unhandled;
        }
        // Pages start at multiples of PAGE, so the same row is always on the same page.
        let first = target / PAGE * PAGE;
        let query = self.rows.query().clone();
        let conditions = self.conditions.clone();
        self.ask(query, conditions, first, (target - first) as usize, shared);
        Outcome::Done
    }

    /// The page asked for arrived, or the registry's refusal of it.
    pub fn on_page(
        &mut self,
        request: &HistoryRequest,
        answer: &HistoryAnswer,
        shared: &mut Shared,
    ) -> Outcome {
        // Only the last page asked for: an earlier answer arriving late is dropped.
        let Some(waiting) = self.waiting.take_if(|w| w.request == *request) else {
            return Outcome::Done;
        };
        match answer {
            Ok(page) => {
                self.page = page.clone();
                self.conditions = waiting.conditions;
                let rows = 0..self.page.rows.len();
                self.rows.refilter(
                    Some(waiting.query),
                    rows,
                    |_, _| true,
                    &mut [&mut self.cursor],
                );
                self.cursor.row = waiting.land.min(self.page.rows.len().saturating_sub(1));
                self.cursor.anchor = None;
            }
            Err(e) => {
                let first = e.lines().next().unwrap_or_default();
                shared.warn(format!("history: {first}"));
            }
        }
        Outcome::Done
    }

    /// The title's count: where the page is in the whole, and the filter.
    fn count(&self) -> String {
        let page = &self.page;
        if self.waiting.is_some() && page.rows.is_empty() && page.total == 0 {
            return "loading…".to_string();
        }
        let shown = match page.rows.len() as i64 {
            0 => format!("{} rows", thousands(page.total)),
            n => format!(
                "rows {}-{} of {}",
                thousands(page.offset + 1),
                thousands(page.offset + n),
                thousands(page.total)
            ),
        };
        let filter = &self.rows.filter;
        let matching = if filter.is_empty() {
            String::new()
        } else {
            format!(" matching \"{filter}\"")
        };
        let loading = if self.waiting.is_some() {
            " · loading…"
        } else {
            ""
        };
        format!("{shown}{matching}{loading}")
    }
}

impl View for History {
    listing!(own rows, cursor);

    /// The rows are the page's; the registry filtered them.
    fn refilter(&mut self, _filter: Option<Query>, _shared: &Shared) {
        let rows = 0..self.page.rows.len();
        self.rows
            .refilter(None, rows, |_, _| true, &mut [&mut self.cursor]);
    }

    fn filters_in_registry(&self) -> bool {
        true
    }

    fn ask_filtered(&mut self, query: Query, shared: &mut Shared) {
        let modules = &shared.data.matrix.modules;
        let data = &shared.data;
        match Conditions::read(&query, modules, |t| data.tenant_index(t).is_some()) {
            Ok(conditions) => self.ask(query, conditions, 0, 0, shared),
            // The `/` and `:` lines check first; a filter that no longer reads (a tenant
            // gone since) is said and changes nothing.
            Err(e) => shared.warn(format!("filter unchanged: {e}")),
        }
    }

    fn shown(&mut self, shared: &mut Shared) {
        if !self.current {
            let query = self.rows.query().clone();
            let conditions = self.conditions.clone();
            let land = self.cursor.row;
            self.ask(query, conditions, self.page.offset, land, shared);
        }
    }

    fn on_event(&mut self, event: Event, _shared: &Shared) {
        if event == Event::Loaded {
            self.current = false;
        }
    }

    /// It failed.
    fn trouble(&self, _shared: &Shared, index: usize) -> bool {
        self.page.rows[index].outcome != "succeeded"
    }

    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome {
        match command {
            Command::Enter => match super::selected(self, shared) {
                Some(i) => {
                    let (title, lines) = detail(&self.page.rows[i]);
                    Outcome::Detail {
                        title,
                        lines,
                        cell: None,
                    }
                }
                None => Outcome::Done,
            },
            Command::Down
            | Command::Up
            | Command::PageDown
            | Command::PageUp
            | Command::Top
            | Command::Bottom => self.turn(command, shared),
            _ => Outcome::Unhandled,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let history = &self.page.rows;
        let module_width = shared
            .data
            .modules
            .iter()
            .map(|m| m.name.chars().count() as u16)
            .max()
            .unwrap_or(0)
            .clamp(6, 24);
        let empty = if self.waiting.is_some() && history.is_empty() {
            "loading the history…"
        } else if !self.rows.filter.is_empty() {
            "nothing matches the filter: esc clears it"
        } else {
            "no history yet"
        };
        table::draw_counted(
            frame,
            area,
            List {
                rows: &self.rows,
                cursor: &self.cursor,
                total: 0,
                page: &shared.page,
            },
            Spec {
                title: "History",
                suffix: String::new(),
                empty,
                header: header(&[
                    "",
                    "STARTED (UTC)",
                    "TENANT",
                    "MODULE",
                    "ACTION",
                    "TOOK",
                    "BY",
                ]),
                // The module as wide as the longest name; who ran it (and from where)
                // takes the rest.
                widths: vec![
                    Constraint::Length(1),
                    Constraint::Length(14),
                    Constraint::Length(10),
                    Constraint::Length(module_width),
                    Constraint::Length(8),
                    Constraint::Length(8),
                    Constraint::Fill(1),
                ],
                header_height: 1,
                highlight: true,
            },
            self.count(),
            |i, _| {
                let h = &history[i];
                let outcome = if h.outcome == "succeeded" {
                    Span::styled("✓", style::installed())
                } else {
                    Span::styled("✗", style::failed())
                };
                let by = match &h.ssh_client {
                    Some(c) => format!("{} ({c})", h.operator),
                    None => h.operator.clone(),
                };
                Row::new(vec![
                    Cell::from(outcome),
                    Cell::from(short_time(&h.started_at)),
                    Cell::from(h.tenant.clone().unwrap_or_else(|| "landlord".to_string())),
                    Cell::from(h.module_name().to_string()),
                    Cell::from(h.action.clone()),
                    Cell::from(format!("{} ms", h.duration_ms)),
                    Cell::from(by),
                ])
            },
        );
    }
}

/// One history row, whole.
fn detail(h: &HistoryEntry) -> (String, Vec<Line<'static>>) {
    let by = match &h.ssh_client {
        Some(c) => format!("{} from {c}", h.operator),
        None => h.operator.clone(),
    };
    let mut lines = vec![
        field("job", h.job_id.clone()),
        field(
            "target",
            h.tenant
                .clone()
                .map_or("landlord".to_string(), |t| format!("tenant {t}")),
        ),
        field("module", format!("{} ({} scope)", h.module_name(), h.scope)),
        field("action", h.action.clone()),
        field("migrations", h.migrations.clone()),
        field("started", h.started_at.clone()),
        field("finished", h.finished_at.clone()),
        field("took", format!("{} ms", h.duration_ms)),
        field("by", by),
        field("outcome", h.outcome.clone()),
    ];
    if let Some(e) = &h.error {
        lines.push(Line::default());
        lines.extend(
            e.lines()
                .map(|l| Line::from(Span::styled(l.to_string(), style::failed()))),
        );
    }
    (format!("{} {}", h.action, h.module_name()), lines)
}
