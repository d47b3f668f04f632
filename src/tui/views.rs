//! Drawing: the tab bar, the selected view, the status bar, and the help overlay. Tables
//! render only the rows that fit, so thousands of tenants cost what one screen costs.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Tabs, Wrap,
};

use super::app::{App, Tab};
use super::keymap::HELP;
use super::style;
use crate::project::{ModuleState, StatusRow};

pub fn draw(frame: &mut Frame, app: &App) {
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let titles: Vec<Line> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| Line::from(format!("{} {}", i + 1, t.title())))
        .collect();
    let selected = Tab::ALL.iter().position(|t| *t == app.tab).unwrap_or(0);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(style::selected())
            .divider("│"),
        top,
    );
    match app.tab {
        Tab::Modules => modules(frame, app, body),
        Tab::Tenants => tenants(frame, app, body),
        Tab::Matrix => matrix(frame, app, body),
        Tab::Jobs => jobs(frame, app, body),
        Tab::History => history(frame, app, body),
    }
    status_bar(frame, app, bottom);
    if app.help {
        help(frame, app);
    }
}

/// A bordered table titled `title (N…)`, with `empty` shown inside when there are no rows.
#[allow(clippy::too_many_arguments)]
fn table<'a>(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    title: &str,
    count_suffix: &str,
    empty: &str,
    header: Vec<&'a str>,
    rows: Vec<Row<'a>>,
    widths: Vec<Constraint>,
) {
    let count = rows.len();
    let mut state = TableState::default().with_selected((count > 0).then(|| app.row(app.tab)));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(style::header()))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} ({count}{count_suffix}) ")),
        )
        .row_highlight_style(style::selected());
    frame.render_stateful_widget(table, area, &mut state);
    if count == 0 {
        empty_hint(frame, area, empty);
    }
}

fn empty_hint(frame: &mut Frame, area: Rect, text: &str) {
    let inner = Rect {
        x: area.x + 2,
        y: area.y + 2,
        width: area.width.saturating_sub(4),
        height: 1,
    };
    frame.render_widget(
        Paragraph::new(Span::styled(text.to_string(), style::dim())),
        inner,
    );
}

fn modules(frame: &mut Frame, app: &App, area: Rect) {
    let [list, detail] = Layout::vertical([Constraint::Min(5), Constraint::Length(6)]).areas(area);
    let rows: Vec<Row> = app
        .data
        .modules
        .iter()
        .map(|m| {
            Row::new(vec![
                Cell::from(m.name.clone()),
                Cell::from(m.version.clone()),
                Cell::from(or_dash(m.requires.join(", "))),
                Cell::from(or_dash(m.required_by.join(", "))),
                Cell::from(format!("{}/{}", m.landlord_migrations, m.tenant_migrations)),
                Cell::from(m.tenants.to_string()),
            ])
        })
        .collect();
    table(
        frame,
        app,
        list,
        "Modules",
        "",
        "no contexts: add a folder with a context.toml under contexts/",
        vec![
            "MODULE",
            "VERSION",
            "REQUIRES",
            "REQUIRED BY",
            "L/T",
            "TENANTS",
        ],
        rows,
        vec![
            Constraint::Length(16),
            Constraint::Length(8),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(7),
        ],
    );
    let text = match app.data.modules.get(app.row(Tab::Modules)) {
        Some(m) => vec![
            Line::from(vec![
                Span::styled(m.title.clone(), style::header()),
                Span::raw(format!("  {}", m.version)),
            ]),
            Line::from(m.description.clone()),
            Line::from(Span::styled(
                format!(
                    "migrations: {} landlord, {} tenant; installed for {} tenant(s)",
                    m.landlord_migrations, m.tenant_migrations, m.tenants
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

/// `2026-11-25T15:33:41.740Z` as `11-25 15:33:41` (UTC): the date and the second are what an
/// operator compares; the year and milliseconds only take width.
fn short_time(t: &str) -> String {
    t.get(5..19)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| t.to_string())
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".to_string() } else { s }
}

fn tenants(frame: &mut Frame, app: &App, area: Rect) {
    let rows: Vec<Row> = app
        .data
        .tenants
        .iter()
        .map(|t| {
            let mine: Vec<&StatusRow> = app
                .data
                .status
                .iter()
                .filter(|r| r.tenant == t.slug)
                .collect();
            let count = |s: ModuleState| mine.iter().filter(|r| r.state == s).count();
            Row::new(vec![
                Cell::from(t.slug.clone()),
                Cell::from(t.name.clone()),
                Cell::from(t.placement.describe()),
                Cell::from(Span::styled(
                    count(ModuleState::Installed).to_string(),
                    style::installed(),
                )),
                Cell::from(Span::styled(
                    count(ModuleState::Outdated).to_string(),
                    style::outdated(),
                )),
                Cell::from(Span::styled(
                    count(ModuleState::Failed).to_string(),
                    style::failed(),
                )),
            ])
        })
        .collect();
    table(
        frame,
        app,
        area,
        "Tenants",
        "",
        "no tenants yet: `estate tenants add SLUG`",
        vec!["TENANT", "NAME", "PLACEMENT", "✓", "↑", "✗"],
        rows,
        vec![
            Constraint::Length(14),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Length(3),
        ],
    );
}

/// A matrix cell: a symbol first, so it reads without colour.
fn cell(row: Option<&StatusRow>) -> Cell<'static> {
    match row.map(|r| (r.state, r.pending)) {
        Some((ModuleState::Installed, _)) => {
            Cell::from(Span::styled("✓ installed", style::installed()))
        }
        Some((ModuleState::Outdated, n)) => {
            Cell::from(Span::styled(format!("↑ {n} pending"), style::outdated()))
        }
        Some((ModuleState::Failed, _)) => Cell::from(Span::styled("✗ failed", style::failed())),
        _ => Cell::from(Span::styled("·", style::dim())),
    }
}

fn matrix(frame: &mut Frame, app: &App, area: Rect) {
    const TENANT: u16 = 14;
    // Wide enough for "↑ 99 pending" and the longest module name.
    let longest = app
        .data
        .modules
        .iter()
        .map(|m| m.name.chars().count())
        .max()
        .unwrap_or(0) as u16;
    let column = longest.max(12) + 1;
    let fits = (area.width.saturating_sub(TENANT + 2) / (column + 1)).max(1) as usize;
    let modules: Vec<&str> = app.data.modules.iter().map(|m| m.name.as_str()).collect();
    // Scroll the columns so the selected one is always on screen.
    let first = app.column.saturating_sub(fits - 1);
    let shown: Vec<&str> = modules.iter().skip(first).take(fits).copied().collect();
    let by_cell: BTreeMap<(&str, &str), &StatusRow> = app
        .data
        .status
        .iter()
        .map(|r| ((r.tenant.as_str(), r.module.as_str()), r))
        .collect();
    let rows: Vec<Row> = app
        .data
        .tenants
        .iter()
        .map(|t| {
            let mut cells = vec![Cell::from(t.slug.clone())];
            cells.extend(
                shown
                    .iter()
                    .map(|m| cell(by_cell.get(&(t.slug.as_str(), *m)).copied())),
            );
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["TENANT"];
    header.extend(shown.iter().copied());
    let mut widths = vec![Constraint::Length(TENANT)];
    widths.extend(shown.iter().map(|_| Constraint::Length(column)));
    let more = if modules.len() > shown.len() {
        format!(
            " tenants, modules {}-{} of {} (h/l)",
            first + 1,
            first + shown.len(),
            modules.len()
        )
    } else {
        " tenants".to_string()
    };
    table(
        frame,
        app,
        area,
        "Matrix",
        &more,
        "no tenants yet: `estate tenants add SLUG`",
        header,
        rows,
        widths,
    );
}

fn jobs(frame: &mut Frame, app: &App, area: Rect) {
    let rows: Vec<Row> = app
        .data
        .jobs
        .iter()
        .map(|j| {
            let state = match j.state.as_str() {
                "succeeded" => Span::styled(j.state.clone(), style::installed()),
                "running" | "interrupted" => Span::styled(j.state.clone(), style::outdated()),
                _ => Span::styled(j.state.clone(), style::failed()),
            };
            Row::new(vec![
                Cell::from(short_time(&j.started_at)),
                Cell::from(j.action.clone()),
                Cell::from(j.modules.clone()),
                Cell::from(state),
                Cell::from(format!("{}/{}", j.steps - j.failed - j.skipped, j.steps)),
                Cell::from(j.operator.clone()),
            ])
        })
        .collect();
    table(
        frame,
        app,
        area,
        "Jobs",
        "",
        "no jobs yet",
        vec!["STARTED (UTC)", "ACTION", "MODULES", "STATE", "DONE", "BY"],
        rows,
        vec![
            Constraint::Length(14),
            Constraint::Length(8),
            Constraint::Fill(1),
            Constraint::Length(11),
            Constraint::Length(6),
            Constraint::Length(10),
        ],
    );
}

fn history(frame: &mut Frame, app: &App, area: Rect) {
    // Newest first: the question at 3 a.m. is "what just happened".
    let rows: Vec<Row> = app
        .data
        .history
        .iter()
        .rev()
        .map(|h| {
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
        })
        .collect();
    table(
        frame,
        app,
        area,
        "History",
        "",
        "no history yet",
        vec![
            "",
            "STARTED (UTC)",
            "TENANT",
            "MODULE",
            "ACTION",
            "TOOK",
            "BY",
        ],
        rows,
        vec![
            Constraint::Length(1),
            Constraint::Length(14),
            Constraint::Length(10),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(10),
        ],
    );
}

fn status_bar(frame: &mut Frame, app: &App, area: Rect) {
    let mut spans = Vec::new();
    if app.read_only {
        spans.push(Span::styled(" READ-ONLY ", style::selected()));
        spans.push(Span::raw(" "));
    }
    if app.data.problems > 0 {
        spans.push(Span::styled(
            format!(
                "{} problem(s) in contexts: estate check  ",
                app.data.problems
            ),
            style::failed(),
        ));
    }
    match &app.message {
        Some(m) => spans.push(Span::styled(m.clone(), style::note())),
        None => spans.push(Span::styled(
            "? help  tab views  j/k move  ctrl-r reload  q quit",
            style::dim(),
        )),
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn help(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let width = 76.min(area.width);
    let height = (HELP.len() as u16 + 4).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:>25}  "), style::header()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::from(Span::styled(
        format!("{:>25}  any key closes this", ""),
        Style::default(),
    )));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Keys: {} ", app.tab.title())),
        ),
        rect,
    );
}
