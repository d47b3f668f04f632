//! The Tenants view: each tenant's placement and how many modules it has installed, outdated
//! or failed; its details (`enter`: each module's state, recent history, and what the last
//! verify found); `v` verifies. It lists the tenants shown, with their tags, through the filter
//! it shares with the Matrix (`plan=enterprise` matches tags). Marking a tenant marks it for
//! every module; `X` removes it (its slug typed to confirm).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::{Event, Outcome, View};
use crate::tui::command::Command;
use crate::tui::data::Snapshot;
use crate::tui::history::{Asker, HistoryAnswer, HistoryRequest, detail_lines};
use crate::tui::rows::{Cursor, Filtered, Order};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::table::{self, List, Spec, header, mark};
use crate::tui::widgets::text::{field, heading, short_time, state_span};
use crate::tui::worker::{Effect, TenantRemoval};
use estate_engine::{ModuleState, Tags};

#[derive(Debug, Default)]
pub struct Tenants {
    cursor: Cursor,
}

impl View for Tenants {
    listing!(tenants cursor);

    /// The tenant for every module.
    fn cells(&self, shared: &Shared, row: usize) -> Vec<(String, String)> {
        match shared.tenants.at(row) {
            Some(t) => (0..shared.data.modules.len())
                .map(|m| (shared.tenant_slug(t), shared.module_name(m)))
                .collect(),
            None => Vec::new(),
        }
    }

    /// A module failed or pending.
    fn trouble(&self, shared: &Shared, index: usize) -> bool {
        let [_, outdated, failed] = shared.data.counts[index];
        outdated + failed > 0
    }

    fn order(&self, _shared: &Shared) -> Option<Order> {
        Some(Order::Trouble)
    }

    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome {
        match command {
            Command::Enter => match super::selected(self, shared) {
                Some(t) => {
                    // The window opens now; its history follows from the registry.
                    let request =
                        HistoryRequest::detail(Asker::Tenants, shared.tenant_slug(t), None);
                    shared.ask(Effect::History(request));
                    tenant_detail(shared, t, None)
                }
                None => Outcome::Done,
            },
            Command::Verify => {
                shared.verify();
                Outcome::Done
            }
            Command::Remove => {
                if shared.read_only {
                    shared
                        .warn("read-only: tenants cannot be removed (restart without --read-only)");
                    return Outcome::Done;
                }
                match super::selected(self, shared) {
                    Some(t) => Outcome::Remove(removal(&shared.data, t)),
                    None => Outcome::Done,
                }
            }
            _ => Outcome::Unhandled,
        }
    }

    fn on_event(&mut self, event: Event, shared: &Shared) {
        if let Event::Tenant(t) = event
            && let Some(pos) = shared.tenants.position(t)
        {
            self.cursor.row = pos;
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let data = &shared.data;
        let modules = &data.matrix.modules;
        // The tags' column only where some tenant has tags: at 80 columns every one counts.
        let tagged = data.tenants().iter().any(|t| !t.tags.is_empty());
        let mut titles = vec!["", "TENANT", "NAME", "TAGS", "PLACEMENT", "✓", "↑", "✗"];
        let mut widths = vec![
            Constraint::Length(1),
            Constraint::Length(14),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Length(3),
        ];
        if !tagged {
            titles.remove(3);
            widths.remove(3);
        }
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
                title: "Tenants",
                suffix: shared.order.describe(),
                empty: "no tenants yet: `estate tenants add SLUG`",
                header: header(&titles),
                widths,
                header_height: 1,
                highlight: true,
            },
            |i, _| {
                let t = &data.tenants()[i];
                let [ok, outdated, failed] = data.counts[i];
                let marked = !shared.marks.is_empty()
                    && !modules.is_empty()
                    && modules
                        .iter()
                        .all(|m| shared.marks.contains(&(t.slug.clone(), m.clone())));
                let mut cells = vec![
                    Cell::from(mark(marked)),
                    Cell::from(t.slug.clone()),
                    Cell::from(t.name.clone()),
                    Cell::from(t.placement.describe()),
                    Cell::from(Span::styled(ok.to_string(), style::installed())),
                    Cell::from(Span::styled(outdated.to_string(), style::outdated())),
                    Cell::from(Span::styled(failed.to_string(), style::failed())),
                ];
                if tagged {
                    cells.insert(3, Cell::from(tag_text(&t.tags)));
                }
                Row::new(cells)
            },
        );
    }
}

/// What the removal window shows of tenant `t`: the modules it has stand in the way.
fn removal(data: &Snapshot, t: usize) -> TenantRemoval {
    let tenant = &data.tenants()[t];
    TenantRemoval {
        slug: tenant.slug.clone(),
        name: tenant.name.clone(),
        database: tenant.placement.describe(),
        modules: data
            .matrix
            .modules
            .iter()
            .enumerate()
            .filter(|(m, _)| data.matrix.cell(t, *m).state != ModuleState::NotInstalled)
            .map(|(_, name)| name.clone())
            .collect(),
    }
}

/// A tenant's tags as the filter takes them (`plan=enterprise region=eu`), `-` for none.
fn tag_text(tags: &Tags) -> String {
    if tags.is_empty() {
        return "-".to_string();
    }
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A tenant's window: what the last verify found first, then its details.
pub(super) fn tenant_detail(shared: &Shared, t: usize, history: Option<&HistoryAnswer>) -> Outcome {
    super::with_drift(shared, t, None, detail(&shared.data, t, history))
}

/// A tenant's details: placement, each module's state, and its newest history (`None` while
/// the registry is asked).
fn detail(
    data: &Snapshot,
    t: usize,
    history: Option<&HistoryAnswer>,
) -> (String, Vec<Line<'static>>) {
    let tenant = &data.tenants()[t];
    let mut lines = vec![
        Line::from(vec![
            Span::styled(tenant.slug.clone(), style::header()),
            Span::raw(format!("  {}", tenant.name)),
        ]),
        field("placement", tenant.placement.describe()),
        field("tags", tag_text(&tenant.tags)),
        field("added", short_time(&tenant.created_at)),
        Line::default(),
        heading("modules"),
    ];
    for (m, name) in data.matrix.modules.iter().enumerate() {
        let cell = data.matrix.cell(t, m);
        lines.push(Line::from(vec![
            Span::raw(format!("  {name:<20} ")),
            state_span(cell.state, cell.pending),
        ]));
    }
    lines.push(Line::default());
    lines.push(heading("history (newest first)"));
    let more = format!(":history {}", tenant.slug);
    lines.extend(detail_lines(
        history,
        false,
        "nothing ran for this tenant yet",
        &more,
    ));
    (format!("Tenant {}", tenant.slug), lines)
}
