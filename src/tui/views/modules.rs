//! The Modules view: the catalog with requires and required-by, the selected module's summary
//! below it, its details (`enter`: migrations per scope, tables owned), and the map (`m`):
//! the dependency graph beside the tables each context owns. Marking a module marks it for
//! every tenant shown (the filter of the Tenants and Matrix views).

mod map;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Wrap};

use super::{Event, Outcome, View};
use crate::tui::command::Command;
use crate::tui::query::Query;
use crate::tui::rows::{Cursor, Filtered};
use crate::tui::shared::Shared;
use crate::tui::style;
use crate::tui::widgets::table::{self, List, Spec, header, mark, or_dash};
use crate::tui::widgets::text::{dim, field, heading, list};
use estate_engine::{ModuleState, ModuleSummary};

#[derive(Debug, Default)]
pub struct Modules {
    rows: Filtered,
    cursor: Cursor,
    /// The map (graph and tables) is shown instead of the list.
    pub map: bool,
}

impl Modules {
    fn selected<'a>(&self, shared: &'a Shared) -> Option<&'a ModuleSummary> {
        super::selected(self, shared).map(|i| &shared.data.modules[i])
    }
}

impl View for Modules {
    listing!(own rows, cursor);

    fn refilter(&mut self, filter: Option<Query>, shared: &Shared) {
        let data = &shared.data;
        let modules = &data.modules;
        self.rows.refilter(
            filter,
            0..modules.len(),
            |i, query| {
                let m = &modules[i];
                // A module's state is its tenants': `failed` lists the modules that failed
                // somewhere.
                let column = data.module_index(&m.name);
                query.matches(
                    || format!("{} {} {}", m.name, m.title, m.description),
                    |module, state| {
                        Some(
                            module.is_none_or(|n| n == m.name)
                                && column.is_some_and(|c| data.matrix.count(c, state) > 0),
                        )
                    },
                )
            },
            &mut [&mut self.cursor],
        );
    }

    /// The module for every tenant shown.
    fn cells(&self, shared: &Shared, row: usize) -> Vec<(String, String)> {
        match self.rows.at(row).map(|i| &shared.data.modules[i]) {
            Some(m) => shared
                .tenants
                .visible()
                .iter()
                .map(|t| (shared.tenant_slug(*t), m.name.clone()))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Failed or pending for some tenant.
    fn trouble(&self, shared: &Shared, index: usize) -> bool {
        let data = &shared.data;
        data.module_index(&data.modules[index].name)
            .is_some_and(|c| {
                data.matrix.count(c, ModuleState::Failed)
                    + data.matrix.count(c, ModuleState::Outdated)
                    > 0
            })
    }

    fn on_command(&mut self, command: Command, shared: &mut Shared) -> Outcome {
        match command {
            Command::Enter => match self.selected(shared) {
                Some(m) => {
                    let (title, lines) = detail(m);
                    Outcome::Detail {
                        title,
                        lines,
                        cell: None,
                    }
                }
                None => Outcome::Done,
            },
            Command::Map => {
                self.map = !self.map;
                Outcome::Done
            }
            Command::Mark => {
                if super::mark(self, shared) && !shared.tenants.filter.is_empty() {
                    let n = shared.tenants.len();
                    shared.say(format!(
                        "marked for the {n} tenant(s) matching \"{}\" (the Matrix's filter)",
                        shared.tenants.filter
                    ));
                }
                Outcome::Done
            }
            _ => Outcome::Unhandled,
        }
    }

    fn on_event(&mut self, event: Event, shared: &Shared) {
        if let Event::Module(m) = event {
            if self.rows.position(m).is_none() {
                self.refilter(Some(Query::default()), shared);
            }
            if let Some(pos) = self.rows.position(m) {
                self.cursor.row = pos;
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared) {
        if self.map {
            let selected = self.selected(shared).map(|m| m.name.as_str());
            return map::draw(frame, area, &shared.data.map, selected);
        }
        let data = &shared.data;
        let [list, detail] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(6)]).areas(area);
        let tenants = shared.tenants.visible();
        table::draw(
            frame,
            list,
            List {
                rows: &self.rows,
                cursor: &self.cursor,
                total: data.modules.len(),
                page: &shared.page,
            },
            Spec {
                title: "Modules",
                suffix: map_warnings(shared),
                empty: "no contexts: add a folder with a context.toml under contexts/",
                header: header(&[
                    "",
                    "MODULE",
                    "VERSION",
                    "REQUIRES",
                    "REQUIRED BY",
                    "L/T",
                    "TENANTS",
                ]),
                widths: vec![
                    Constraint::Length(1),
                    Constraint::Length(16),
                    Constraint::Length(8),
                    Constraint::Fill(1),
                    Constraint::Fill(1),
                    Constraint::Length(5),
                    Constraint::Length(7),
                ],
                header_height: 1,
                highlight: true,
            },
            |i, _| {
                let m = &data.modules[i];
                let marked = !shared.marks.is_empty()
                    && !tenants.is_empty()
                    && tenants.iter().all(|t| {
                        shared
                            .marks
                            .contains(&(data.tenants()[*t].slug.clone(), m.name.clone()))
                    });
                Row::new(vec![
                    Cell::from(mark(marked)),
                    Cell::from(m.name.clone()),
                    Cell::from(m.version.clone()),
                    Cell::from(or_dash(m.requires.join(", "))),
                    Cell::from(or_dash(m.required_by.join(", "))),
                    Cell::from(format!("{}/{}", m.migrations.landlord, m.migrations.tenant)),
                    Cell::from(m.tenants.to_string()),
                ])
            },
        );
        let text = match self.selected(shared) {
            Some(m) => vec![
                Line::from(vec![
                    Span::styled(m.title.clone(), style::header()),
                    Span::raw(format!("  {}", m.version)),
                ]),
                Line::from(m.description.clone()),
                Line::from(Span::styled(
                    format!(
                        "owns: landlord {}; tenant {}  (enter: migrations, m: graph and tables)",
                        or_dash(m.tables.landlord.join(", ")),
                        or_dash(m.tables.tenant.join(", "))
                    ),
                    style::dim(),
                )),
            ],
            None => Vec::new(),
        };
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" Detail ")),
            detail,
        );
    }
}

/// What the map (`m`) would flag, said in the list's title so it is seen without opening it.
fn map_warnings(shared: &Shared) -> String {
    let map = &shared.data.map;
    let mut flags = Vec::new();
    if !map.cycles.is_empty() {
        flags.push(format!("{} cycle(s)", map.cycles.len()));
    }
    if !map.tables.conflicts.is_empty() {
        flags.push(format!(
            "{} table(s) claimed twice",
            map.tables.conflicts.len()
        ));
    }
    if flags.is_empty() {
        String::new()
    } else {
        format!(" · ⚠ {} (m)", flags.join(", "))
    }
}

/// A module's details: what it is, what it needs, its migrations and the tables it owns per
/// scope.
fn detail(m: &ModuleSummary) -> (String, Vec<Line<'static>>) {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(m.title.clone(), style::header()),
            Span::raw(format!("  {} {}", m.name, m.version)),
        ]),
        Line::from(m.description.clone()),
        Line::default(),
        field("requires", list(&m.requires)),
        field("required by", list(&m.required_by)),
        field("tenants", format!("{} have it", m.tenants)),
    ];
    for (scope, sets, tables) in [
        ("landlord", &m.sets.landlord, &m.tables.landlord),
        ("tenant", &m.sets.tenant, &m.tables.tenant),
    ] {
        lines.push(Line::default());
        lines.push(heading(format!(
            "{scope} scope: {} migration(s), owns {}",
            sets.len(),
            list(tables)
        )));
        if sets.is_empty() {
            lines.push(dim("  nothing in this scope"));
        }
        for info in sets {
            lines.push(Line::from(format!(
                "  {:04}  {}",
                info.version, info.description
            )));
        }
    }
    (format!("Module {}", m.name), lines)
}
