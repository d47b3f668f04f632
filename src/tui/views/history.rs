//! The History view: what ran, newest first, per context and per tenant: when, how long, by
//! whom, and how it ended; `enter` shows a row whole, with its error.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::{Outcome, View};
use crate::tui::command::Command;
use crate::tui::query::Query;
use crate::tui::rows::{Cursor, Filtered};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::table::{self, List, Spec, header};
use crate::tui::widgets::text::{field, short_time};
use estate_engine::{HistoryEntry, ModuleState};

#[derive(Debug, Default)]
pub struct History {
    rows: Filtered,
    cursor: Cursor,
}

impl View for History {
    listing!(own rows, cursor);

    fn refilter(&mut self, filter: Option<Query>, shared: &Shared) {
        let history = &shared.data.history;
        self.rows.refilter(
            filter,
            0..history.len(),
            |i, query| {
                let h = &history[i];
                let failed = h.outcome != "succeeded";
                query.matches(
                    || {
                        format!(
                            "{} {} {} {} {} {}",
                            h.tenant.as_deref().unwrap_or("landlord"),
                            h.module,
                            h.action,
                            h.outcome,
                            h.operator,
                            h.job_id
                        )
                    },
                    // `failed` and `billing:failed` read the outcome; other states the text.
                    |module, state| {
                        (state == ModuleState::Failed)
                            .then(|| failed && module.is_none_or(|m| m == h.module))
                    },
                )
            },
            &mut [&mut self.cursor],
        );
    }

    /// It failed.
    fn trouble(&self, shared: &Shared, index: usize) -> bool {
        shared.data.history[index].outcome != "succeeded"
    }

    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome {
        match command {
            Command::Enter => match super::selected(self, shared) {
                Some(i) => {
                    let (title, lines) = detail(&shared.data.history[i]);
                    Outcome::Detail { title, lines }
                }
                None => Outcome::Done,
            },
            _ => Outcome::Unhandled,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let history = &shared.data.history;
        let module_width = shared
            .data
            .modules
            .iter()
            .map(|m| m.name.chars().count() as u16)
            .max()
            .unwrap_or(0)
            .clamp(6, 24);
        table::draw(
            frame,
            area,
            List {
                rows: &self.rows,
                cursor: &self.cursor,
                total: history.len(),
                page: &shared.page,
            },
            Spec {
                title: "History",
                suffix: String::new(),
                empty: "no history yet",
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
                    Cell::from(h.module.clone()),
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
        field("module", format!("{} ({} scope)", h.module, h.scope)),
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
    (format!("{} {}", h.action, h.module), lines)
}
