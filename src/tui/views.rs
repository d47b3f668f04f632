//! Drawing the views: the tab bar, the selected view, the status or input line. Tables build
//! only the rows that fit, so ten thousand tenants cost what one screen costs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Tabs, Wrap};

use super::app::{App, Input, JobRow, Tab};
use super::dialogs;
use super::drift;
use super::keys;
use super::style;
use super::widgets::gauge::{self, bar};
use super::widgets::status_line::{self, Status};
use super::widgets::table::{self, List, Spec, header, mark, or_dash};
use super::widgets::text::short_time;
use estate_engine::{Finding, MatrixCell, ModuleState};

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
    frame.render_widget(
        Tabs::new(titles)
            .select(app.tab.index())
            .highlight_style(style::selected())
            .divider("│"),
        top,
    );
    if !app.loaded {
        frame.render_widget(
            Paragraph::new(Span::styled("loading the registry…", style::dim()))
                .block(Block::default().borders(Borders::ALL)),
            body,
        );
    } else {
        match app.tab {
            Tab::Modules => modules(frame, app, body),
            Tab::Tenants => tenants(frame, app, body),
            Tab::Matrix => matrix(frame, app, body),
            Tab::Jobs => jobs(frame, app, body),
            Tab::History => history(frame, app, body),
        }
    }
    bottom_line(frame, app, bottom);
    dialogs::draw(frame, app);
}

/// The table list of `tab`.
fn table_list(app: &App, tab: Tab) -> List<'_> {
    let total = match tab {
        Tab::Modules => app.data.modules.len(),
        Tab::Tenants | Tab::Matrix => app.data.tenants().len(),
        Tab::Jobs => app.job_rows().len(),
        Tab::History => app.data.history.len(),
    };
    List {
        rows: &app.lists[tab.index()],
        cursor: &app.cursors[tab.index()],
        total,
        page: &app.page,
    }
}

/// What the map (`m`) would flag, said in the list's title so it is seen without opening it.
fn map_warnings(app: &App) -> String {
    let map = &app.data.map;
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

fn modules(frame: &mut Frame, app: &App, area: Rect) {
    if app.modules_map {
        return super::map::draw(frame, app, area);
    }
    let [list, detail] = Layout::vertical([Constraint::Min(5), Constraint::Length(6)]).areas(area);
    let tenants = app.visible(Tab::Matrix);
    table::draw(
        frame,
        list,
        table_list(app, Tab::Modules),
        Spec {
            title: "Modules",
            suffix: map_warnings(app),
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
            highlight: true,
        },
        |i, _| {
            let m = &app.data.modules[i];
            let marked = !app.marks.is_empty()
                && !tenants.is_empty()
                && tenants.iter().all(|t| {
                    app.marks
                        .contains(&(app.data.tenants()[*t].slug.clone(), m.name.clone()))
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
    let text = match app.selected(Tab::Modules).map(|i| &app.data.modules[i]) {
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

fn tenants(frame: &mut Frame, app: &App, area: Rect) {
    let modules = &app.data.matrix.modules;
    table::draw(
        frame,
        area,
        table_list(app, Tab::Tenants),
        Spec {
            title: "Tenants",
            suffix: String::new(),
            empty: "no tenants yet: `estate tenants add SLUG`",
            header: header(&["", "TENANT", "NAME", "PLACEMENT", "✓", "↑", "✗"]),
            widths: vec![
                Constraint::Length(1),
                Constraint::Length(14),
                Constraint::Fill(1),
                Constraint::Fill(1),
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Length(3),
            ],
            highlight: true,
        },
        |i, _| {
            let t = &app.data.tenants()[i];
            let [ok, outdated, failed] = app.data.counts[i];
            let marked = !app.marks.is_empty()
                && !modules.is_empty()
                && modules
                    .iter()
                    .all(|m| app.marks.contains(&(t.slug.clone(), m.clone())));
            Row::new(vec![
                Cell::from(mark(marked)),
                Cell::from(t.slug.clone()),
                Cell::from(t.name.clone()),
                Cell::from(t.placement.describe()),
                Cell::from(Span::styled(ok.to_string(), style::installed())),
                Cell::from(Span::styled(outdated.to_string(), style::outdated())),
                Cell::from(Span::styled(failed.to_string(), style::failed())),
            ])
        },
    );
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

fn matrix(frame: &mut Frame, app: &App, area: Rect) {
    const TENANT: u16 = 14;
    let modules = &app.data.matrix.modules;
    // Wide enough for "*↑ 99 pending" and the longest module name.
    let longest = modules.iter().map(|m| m.chars().count()).max().unwrap_or(0) as u16;
    let column = longest.max(13) + 1;
    let fits = (area.width.saturating_sub(TENANT + 2) / (column + 1)).max(1) as usize;
    // Scroll the columns so the selected one is always on screen.
    let first = app.column.saturating_sub(fits - 1);
    let shown: Vec<usize> = (first..modules.len()).take(fits).collect();
    let mut head = vec![Cell::from("TENANT")];
    head.extend(shown.iter().map(|m| {
        let st = if *m == app.column {
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
    let suffix = format!("{columns} · {}", app.drift.summary());
    let findings = app.drift.findings();
    table::draw(
        frame,
        area,
        table_list(app, Tab::Matrix),
        Spec {
            title: "Matrix",
            suffix,
            empty: "no tenants yet: `estate tenants add SLUG`",
            header: head,
            widths,
            highlight: false,
        },
        |t, selected| {
            let slug = &app.data.tenants()[t].slug;
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
                let marked = !app.marks.is_empty()
                    && app.marks.contains(&(slug.clone(), modules[*m].clone()));
                cell(
                    app.data.matrix.cell(t, *m),
                    findings.and_then(|f| f.of_cell(slug, &modules[*m])),
                    marked,
                    selected && *m == app.column,
                )
            }));
            Row::new(cells)
        },
    );
}

fn job_state_style(state: &str) -> Style {
    match state {
        "succeeded" => style::installed(),
        "running" | "queued" | "interrupted" => style::outdated(),
        _ => style::failed(),
    }
}

fn jobs(frame: &mut Frame, app: &App, area: Rect) {
    let [list, gauge, log] = Layout::vertical([
        Constraint::Percentage(40),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(area);
    let rows = app.job_rows();
    table::draw(
        frame,
        list,
        table_list(app, Tab::Jobs),
        Spec {
            title: "Jobs",
            suffix: String::new(),
            empty: "no jobs yet: mark cells in the Matrix (3) and press i",
            header: header(&[
                "STARTED (UTC)",
                "ACTION",
                "MODULES",
                "STATE",
                "PROGRESS",
                "BY",
            ]),
            widths: vec![
                Constraint::Length(14),
                Constraint::Length(8),
                Constraint::Fill(1),
                Constraint::Length(11),
                Constraint::Length(18),
                Constraint::Length(8),
            ],
            highlight: true,
        },
        |i, _| match rows[i] {
            JobRow::Live(l) => {
                let j = &app.live[l];
                let state = j.state.label().to_string();
                Row::new(vec![
                    Cell::from(short_time(&j.started_at)),
                    Cell::from(j.action.clone()),
                    Cell::from(j.modules.clone()),
                    Cell::from(Span::styled(state.clone(), job_state_style(&state))),
                    Cell::from(format!(
                        "{} {}/{}",
                        bar(j.steps_done, j.steps, 8),
                        j.steps_done,
                        j.steps
                    )),
                    Cell::from(j.operator.clone()),
                ])
            }
            JobRow::Recorded(r) => {
                let j = &app.data.jobs[r];
                let done = (j.steps - j.failed - j.skipped).max(0) as usize;
                Row::new(vec![
                    Cell::from(short_time(&j.started_at)),
                    Cell::from(j.action.clone()),
                    Cell::from(if j.modules.is_empty() {
                        "(installed)".to_string()
                    } else {
                        j.modules.clone()
                    }),
                    Cell::from(Span::styled(j.state.clone(), job_state_style(&j.state))),
                    Cell::from(format!(
                        "{} {done}/{}",
                        bar(done, j.steps as usize, 8),
                        j.steps
                    )),
                    Cell::from(j.operator.clone()),
                ])
            }
        },
    );
    // The selected job's progress: tenants done out of all, and failures.
    let (ratio, label) = match app.selected_job() {
        Some(JobRow::Live(l)) => {
            let j = &app.live[l];
            let ratio = if j.steps == 0 {
                1.0
            } else {
                j.steps_done as f64 / j.steps as f64
            };
            let eta = j
                .eta_ms
                .filter(|_| j.state == super::jobs::JobState::Running)
                .map(|ms| format!(", about {} left", estate_engine::human_duration(ms)))
                .unwrap_or_default();
            (
                ratio,
                format!(
                    "{}: {}/{} tenants, {}/{} steps, {} failed, {} skipped{eta}",
                    j.state.label(),
                    j.tenants_done,
                    j.tenants,
                    j.steps_done,
                    j.steps,
                    j.failed,
                    j.skipped
                ),
            )
        }
        Some(JobRow::Recorded(r)) => {
            let j = &app.data.jobs[r];
            (
                if j.state == "succeeded" { 1.0 } else { 0.0 },
                format!(
                    "{}: {} tenants, {} steps, {} failed, {} skipped",
                    j.state, j.tenants, j.steps, j.failed, j.skipped
                ),
            )
        }
        None => (0.0, String::new()),
    };
    gauge::draw(frame, gauge, ratio, label);
    app.log.draw(frame, log, &app.log_lines());
}

fn history(frame: &mut Frame, app: &App, area: Rect) {
    table::draw(
        frame,
        area,
        table_list(app, Tab::History),
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
            widths: vec![
                Constraint::Length(1),
                Constraint::Length(14),
                Constraint::Length(10),
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(8),
                Constraint::Length(10),
            ],
            highlight: true,
        },
        |i, _| {
            let h = &app.data.history[i];
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

/// The bottom line: what is being typed, or the state and the last message.
fn bottom_line(frame: &mut Frame, app: &App, area: Rect) {
    if let Some(input) = &app.input {
        let (prompt, text) = match input {
            Input::Filter(t) => ("/", t),
            Input::Command(t) => (":", t),
        };
        return status_line::input(frame, area, prompt, text);
    }
    status_line::draw(
        frame,
        area,
        Status {
            read_only: app.read_only,
            running: app.live.iter().filter(|j| j.state.is_active()).count(),
            quitting: app.quitting,
            marked: app.marks.len(),
            problems: app.data.problems,
            message: app.message.as_ref().map(|(m, tone)| (m.as_str(), *tone)),
            reminder: &keys::reminder(),
        },
    );
}
