//! The Matrix view: tenants × modules, each cell installed, pending migrations, failed or not
//! installed, or the drift the last verify found there. A cursor row (a tenant, through the
//! filter shared with the Tenants view) and a cursor column (a module, `h` `l`); the columns
//! scroll to keep the selected one in view. `space` marks the cell, `enter` shows its history
//! and drift, `v` verifies.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::{Event, Outcome, View};
use crate::tui::command::Command;
use crate::tui::data::Snapshot;
use crate::tui::drift;
use crate::tui::rows::{Cursor, Filtered};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::table::{self, List, Spec, mark};
use crate::tui::widgets::text::{dim, field, heading, history_line, state_span};
use estate_engine::{Finding, HistoryEntry, MatrixCell, ModuleState};

#[derive(Debug, Default)]
pub struct Matrix {
    cursor: Cursor,
    /// The selected module column.
    pub column: usize,
}

impl View for Matrix {
    listing!(tenants cursor);

    /// The cell under the cursor.
    fn cells(&self, shared: &Shared) -> Vec<(String, String)> {
        match super::selected(self, shared) {
            Some(t) if self.column < shared.data.modules.len() => {
                vec![(shared.tenant_slug(t), shared.module_name(self.column))]
            }
            _ => Vec::new(),
        }
    }

    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome {
        let modules = shared.data.modules.len();
        match command {
            Command::Right => self.column = (self.column + 1).min(modules.saturating_sub(1)),
            Command::Left => self.column = self.column.saturating_sub(1),
            Command::Verify => shared.verify(),
            Command::Enter => {
                let Some(t) = super::selected(self, shared).filter(|_| modules > 0) else {
                    return Outcome::Done;
                };
                let (title, lines) = detail(&shared.data, t, self.column);
                let module = &shared.data.matrix.modules[self.column];
                let found = drift::about(&shared.drift, &shared.tenant_slug(t), Some(module));
                return Outcome::Detail {
                    title,
                    lines: drift::first(found, lines),
                };
            }
            _ => return Outcome::Unhandled,
        }
        Outcome::Done
    }

    fn on_event(&mut self, event: Event, shared: &Shared) {
        match event {
            Event::Loaded => {
                self.column = self.column.min(shared.data.modules.len().saturating_sub(1));
            }
            Event::Module(m) => self.column = m,
            Event::Tenant(t) => {
                if let Some(pos) = shared.tenants.position(t) {
                    self.cursor.row = pos;
                }
            }
            Event::JobsStarted | Event::JobStarted => {}
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared) {
        const TENANT: u16 = 14;
        let data = &shared.data;
        let modules = &data.matrix.modules;
        // Wide enough for "*↑ 99 pending" and the longest module name.
        let longest = modules.iter().map(|m| m.chars().count()).max().unwrap_or(0) as u16;
        let column = longest.max(13) + 1;
        let fits = (area.width.saturating_sub(TENANT + 2) / (column + 1)).max(1) as usize;
        // Scroll the columns so the selected one is always on screen.
        let first = self.column.saturating_sub(fits - 1);
        let shown: Vec<usize> = (first..modules.len()).take(fits).collect();
        let mut head = vec![Cell::from("TENANT")];
        head.extend(shown.iter().map(|m| {
            let st = if *m == self.column {
                style::selected()
            } else {
                Style::default()
            };
            Cell::from(Span::styled(modules[*m].clone(), st))
        }));
        let mut widths = vec![Constraint::Length(TENANT)];
        widths.extend(shown.iter().map(|_| Constraint::Length(column)));
        let columns = if modules.len() > shown.len() {
            format!(
                " tenants, modules {}-{} of {} (h/l)",
                first + 1,
                first + shown.len(),
                modules.len()
            )
        } else {
            " tenants".to_string()
        };
        let suffix = format!("{columns} · {}", shared.drift.summary());
        let findings = shared.drift.findings();
        table::draw(
            frame,
            area,
            List {
                rows: &shared.tenants,
                cursor: &self.cursor,
                total: data.tenants().len(),
                page: &shared.page,
            },
            Spec {
                title: "Matrix",
                suffix,
                empty: "no tenants yet: `estate tenants add SLUG`",
                header: head,
                widths,
                highlight: false,
            },
            |t, selected| {
                let slug = &data.tenants()[t].slug;
                let whole = findings.and_then(|f| f.of_tenant_itself(slug));
                let name_style = match (selected, whole) {
                    (true, _) => style::selected(),
                    (false, Some(_)) => style::failed(),
                    (false, None) => Style::default(),
                };
                let name = match whole {
                    Some(_) => format!("⚠ {slug}"),
                    None => slug.clone(),
                };
                let mut cells = vec![Cell::from(Span::styled(name, name_style))];
                cells.extend(shown.iter().map(|m| {
                    let marked = !shared.marks.is_empty()
                        && shared.marks.contains(&(slug.clone(), modules[*m].clone()));
                    cell(
                        data.matrix.cell(t, *m),
                        findings.and_then(|f| f.of_cell(slug, &modules[*m])),
                        marked,
                        selected && *m == self.column,
                    )
                }));
                Row::new(cells)
            },
        );
    }
}

/// A matrix cell: a symbol first, so it reads without colour; `*` when marked. Drift the last
/// verify found there shows instead of the registry's state, which it puts in doubt.
fn cell(c: MatrixCell, drift: Option<&Finding>, marked: bool, cursor: bool) -> Cell<'static> {
    let (text, st) = match (drift, c.state) {
        (Some(f), _) => (drift::short(f.kind).to_string(), style::failed()),
        (None, ModuleState::Installed) => ("✓ installed".to_string(), style::installed()),
        (None, ModuleState::Outdated) => (format!("↑ {} pending", c.pending), style::outdated()),
        (None, ModuleState::Failed) => ("✗ failed".to_string(), style::failed()),
        (None, ModuleState::NotInstalled) => ("·".to_string(), style::dim()),
    };
    let st = if cursor {
        st.add_modifier(Modifier::REVERSED)
    } else {
        st
    };
    Cell::from(Line::from(vec![
        Span::styled(mark(marked), style::header()),
        Span::styled(text, st),
    ]))
}

/// One cell's details: its state and the history of that module for that tenant.
fn detail(data: &Snapshot, t: usize, m: usize) -> (String, Vec<Line<'static>>) {
    let tenant = &data.tenants()[t].slug;
    let module = &data.matrix.modules[m];
    let c = data.matrix.cell(t, m);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{module} for {tenant}  "), style::header()),
            state_span(c.state, c.pending),
        ]),
        field("applied", c.applied.to_string()),
        field("pending", c.pending.to_string()),
        Line::default(),
        heading("history (newest first)"),
    ];
    let mine: Vec<&HistoryEntry> = data
        .history
        .iter()
        .filter(|h| h.tenant.as_deref() == Some(tenant.as_str()) && h.module == *module)
        .collect();
    if mine.is_empty() {
        lines.push(dim("  nothing ran yet"));
    }
    for h in mine {
        lines.push(history_line(h));
        if let Some(e) = &h.error {
            lines.extend(
                e.lines()
                    .map(|l| Line::from(Span::styled(format!("    {l}"), style::failed()))),
            );
        }
    }
    (format!("{module} × {tenant}"), lines)
}
