//! The Matrix view: tenants × modules, each cell installed, pending migrations, failed or not
//! installed, or the drift the last verify found there. A cursor row (a tenant, through the
//! filter shared with the Tenants view) and a cursor column (a module, `h` `l`). Each column
//! is as wide as its module's name; when they do not all fit, the grid turns compact (one
//! symbol a cell, the selected module named over its column) and scrolls to keep the selected
//! one in view (`widgets::grid`). `space` marks the cell, `enter` shows its history and
//! drift, `v` verifies, `n` `N` go to the next ✗ or ↑, `s` sorts the tenants by this
//! module's state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, Paragraph, Row};

use super::{Event, Outcome, View};
use crate::tui::command::Command;
use crate::tui::data::Snapshot;
use crate::tui::drift;
use crate::tui::history::{Asker, HistoryAnswer, HistoryRequest, detail_lines};
use crate::tui::rows::{Cursor, Filtered, Order, next_hit};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::grid::{self, Columns, Fit};
use crate::tui::widgets::table::{self, List, Spec, mark};
use crate::tui::widgets::text::{field, heading, state_span};
use crate::tui::worker::{CellRef, Effect};
use estate_engine::{Finding, MatrixCell, ModuleState};

#[derive(Debug, Default)]
pub struct Matrix {
    cursor: Cursor,
    /// The selected module column.
    pub column: usize,
}

impl Matrix {
    /// `n` `N`: the next cell with a ✗ or ↑, row by row over the tenants shown.
    fn jump(&mut self, shared: &mut Shared, forward: bool) {
        let data = &shared.data;
        let modules = data.modules.len();
        let rows = &shared.tenants;
        let start = self.cursor.row * modules + self.column;
        let found = next_hit(start, rows.len() * modules, forward, |at| {
            rows.at(at / modules).is_some_and(|t| {
                matches!(
                    data.matrix.cell(t, at % modules).state,
                    ModuleState::Failed | ModuleState::Outdated | ModuleState::Unreachable
                )
            })
        });
        if let Some((at, _)) = found {
            self.cursor.row = at / modules;
            self.column = at % modules;
        }
        super::jumped(shared, found.map(|(_, wrapped)| wrapped), forward);
    }
}

impl View for Matrix {
    listing!(tenants cursor);

    /// The cell in the cursor's column.
    fn cells(&self, shared: &Shared, row: usize) -> Vec<(String, String)> {
        match shared.tenants.at(row) {
            Some(t) if self.column < shared.data.modules.len() => {
                vec![(shared.tenant_slug(t), shared.module_name(self.column))]
            }
            _ => Vec::new(),
        }
    }

    fn order(&self, shared: &Shared) -> Option<Order> {
        (self.column < shared.data.modules.len())
            .then(|| Order::Module(shared.module_name(self.column)))
    }

    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome {
        let modules = shared.data.modules.len();
        match command {
            Command::Right => self.column = (self.column + 1).min(modules.saturating_sub(1)),
            Command::Left => self.column = self.column.saturating_sub(1),
            Command::Verify => shared.verify(),
            Command::NextTrouble | Command::PrevTrouble if modules > 0 => {
                self.jump(shared, command == Command::NextTrouble);
            }
            Command::Enter => {
                let Some(t) = super::selected(self, shared).filter(|_| modules > 0) else {
                    return Outcome::Done;
                };
                // The window opens now; its history follows from the registry.
                let (slug, module) = (shared.tenant_slug(t), shared.module_name(self.column));
                let request = HistoryRequest::detail(Asker::Matrix, slug, Some(module));
                shared.ask(Effect::History(request));
                return cell_detail(shared, t, self.column, None);
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
        // Inside the borders, after the tenant column.
        let room = area.width.saturating_sub(2 + TENANT);
        let columns = grid::fit(modules, room, self.column);
        let compact = columns.fit == Fit::Compact;
        let shown: Vec<usize> = columns.shown().collect();
        let selected_style = |m: usize| {
            if m == self.column {
                style::selected()
            } else {
                Style::default()
            }
        };
        // Compact, a second header line names each column by its first letters; the first
        // line, drawn after the table, names the selected module.
        let mut head = vec![Cell::from(if compact {
            Text::from(vec![Line::default(), Line::from("TENANT")])
        } else {
            Text::from("TENANT")
        })];
        head.extend(shown.iter().map(|m| {
            let name = if compact {
                modules[*m].chars().take(2).collect()
            } else {
                modules[*m].clone()
            };
            let line = Line::from(Span::styled(name, selected_style(*m)));
            Cell::from(if compact {
                Text::from(vec![Line::default(), line])
            } else {
                Text::from(line)
            })
        }));
        let mut widths = vec![Constraint::Length(TENANT)];
        widths.extend(columns.widths.iter().map(|w| Constraint::Length(*w)));
        let range = if shown.is_empty() {
            " tenants".to_string()
        } else {
            format!(
                " tenants, modules {}-{} of {}{}",
                columns.first + 1,
                columns.first + shown.len(),
                modules.len(),
                if shown.len() < modules.len() {
                    " (h/l)"
                } else {
                    ""
                }
            )
        };
        let suffix = format!(
            "{range}{} · {}",
            shared.order.describe(),
            shared.drift.summary()
        );
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
                header_height: if compact { 2 } else { 1 },
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
                        columns.fit,
                        marked,
                        selected && *m == self.column,
                    )
                }));
                Row::new(cells)
            },
        );
        if compact && shown.contains(&self.column) {
            name_selected(
                frame,
                area,
                TENANT,
                &columns,
                &modules[self.column],
                self.column,
            );
        }
    }
}

/// The compact grid's first header line: the selected module's name over its column (ending
/// there when it would run past the border).
fn name_selected(
    frame: &mut Frame,
    area: Rect,
    tenant: u16,
    columns: &Columns,
    name: &str,
    column: usize,
) {
    let left = area.x + 1 + tenant + 1;
    let right = area.x + area.width.saturating_sub(1);
    let at = left + columns.offset(column);
    let label = format!("▼ {name}");
    let len = label.chars().count() as u16;
    let (x, label) = if at + len <= right {
        (at, label)
    } else {
        (
            (at + 2).saturating_sub(len + 1).max(area.x + 1),
            format!("{name} ▼"),
        )
    };
    let width = right.saturating_sub(x).min(len);
    if area.height > 2 && width > 0 {
        frame.render_widget(
            Paragraph::new(Span::styled(label, style::header())),
            Rect {
                x,
                y: area.y + 1,
                width,
                height: 1,
            },
        );
    }
}

/// A matrix cell: a symbol first, so it reads without colour; `*` when marked. Drift the last
/// verify found there shows instead of the registry's state, which it puts in doubt. How much
/// it says beside the symbol is `fit`'s.
fn cell(
    c: MatrixCell,
    drift: Option<&Finding>,
    fit: Fit,
    marked: bool,
    cursor: bool,
) -> Cell<'static> {
    let (words, short, st) = match (drift, c.state) {
        (Some(f), _) => (
            drift::short(f.kind).to_string(),
            "⚠".to_string(),
            style::failed(),
        ),
        (None, ModuleState::Installed) => (
            "✓ installed".to_string(),
            "✓".to_string(),
            style::installed(),
        ),
        (None, ModuleState::Outdated) => (
            format!("↑ {} pending", c.pending),
            format!("↑{}", c.pending),
            style::outdated(),
        ),
        (None, ModuleState::Failed) => ("✗ failed".to_string(), "✗".to_string(), style::failed()),
        (None, ModuleState::NotInstalled) => ("·".to_string(), "·".to_string(), style::dim()),
        (None, ModuleState::Unreachable) => (
            "⚠ unreachable".to_string(),
            "⚠".to_string(),
            style::failed(),
        ),
    };
    let text = match fit {
        Fit::Words => words,
        Fit::Short => short,
        Fit::Compact => short.chars().take(1).collect(),
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

/// One cell's window: what the last verify found there first, then its details.
pub(super) fn cell_detail(
    shared: &Shared,
    t: usize,
    m: usize,
    history: Option<&HistoryAnswer>,
) -> Outcome {
    let module = &shared.data.matrix.modules[m];
    let lines = detail(&shared.data, t, m, history);
    let outcome = super::with_drift(shared, t, Some(module), lines);
    // A module with tenant migrations applied there may go back to one of them.
    let c = shared.data.matrix.cell(t, m);
    let installed = !matches!(
        c.state,
        ModuleState::NotInstalled | ModuleState::Unreachable
    );
    match outcome {
        Outcome::Detail { title, lines, .. } if installed && c.applied > 0 && !shared.read_only => {
            Outcome::Detail {
                title,
                lines,
                cell: Some(CellRef {
                    tenant: shared.tenant_slug(t),
                    module: module.clone(),
                }),
            }
        }
        outcome => outcome,
    }
}

/// One cell's details: its state and the newest history of that module for that tenant
/// (`None` while the registry is asked).
fn detail(
    data: &Snapshot,
    t: usize,
    m: usize,
    history: Option<&HistoryAnswer>,
) -> (String, Vec<Line<'static>>) {
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
    let more = format!(":history {tenant} {module}");
    lines.extend(detail_lines(history, true, "nothing ran yet", &more));
    (format!("{module} × {tenant}"), lines)
}
