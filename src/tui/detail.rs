//! The text of the detail windows (`enter`) and of plans: built from the snapshot, as lines
//! ready to draw.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::data::Snapshot;
use super::jobs::{LineKind, LogLine};
use super::style;
use super::widgets::text::{dim, field, heading, history_line, list, short_time, state_span};
use estate_engine::ModuleSummary;
use estate_engine::{HistoryEntry, Plan, Step};

/// A module: what it is, what it needs, its migrations and the tables it owns per scope.
pub fn module(m: &ModuleSummary) -> (String, Vec<Line<'static>>) {
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

/// A tenant: placement, each module's state, and its recent history.
pub fn tenant(data: &Snapshot, t: usize) -> (String, Vec<Line<'static>>) {
    let tenant = &data.tenants()[t];
    let mut lines = vec![
        Line::from(vec![
            Span::styled(tenant.slug.clone(), style::header()),
            Span::raw(format!("  {}", tenant.name)),
        ]),
        field("placement", tenant.placement.describe()),
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
    let mine: Vec<&HistoryEntry> = data
        .history
        .iter()
        .filter(|h| h.tenant.as_deref() == Some(tenant.slug.as_str()))
        .take(50)
        .collect();
    if mine.is_empty() {
        lines.push(dim("  nothing ran for this tenant yet"));
    }
    lines.extend(mine.into_iter().map(history_line));
    (format!("Tenant {}", tenant.slug), lines)
}

/// One cell of the matrix: its state and the history of that module for that tenant.
pub fn cell(data: &Snapshot, t: usize, m: usize) -> (String, Vec<Line<'static>>) {
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

/// One history row, whole.
pub fn history(h: &HistoryEntry) -> (String, Vec<Line<'static>>) {
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

/// A recorded job's log, from its history rows (oldest first).
pub fn job_log(data: &Snapshot, job_id: &str) -> Vec<LogLine> {
    data.history
        .iter()
        .rev()
        .filter(|h| h.job_id == job_id)
        .map(|h| LogLine {
            at: h.started_at.get(11..19).unwrap_or("").to_string(),
            tenant: h.tenant.clone(),
            kind: if h.outcome == "succeeded" {
                LineKind::Ok
            } else {
                LineKind::Failed
            },
            text: format!(
                "{} {} {} on {}: migrations {} in {} ms{}",
                if h.outcome == "succeeded" {
                    "✓"
                } else {
                    "✗"
                },
                h.action,
                h.module,
                h.tenant
                    .as_ref()
                    .map_or("landlord".to_string(), |t| format!("tenant {t}")),
                if h.migrations.is_empty() {
                    "-"
                } else {
                    &h.migrations
                },
                h.duration_ms,
                h.error
                    .as_ref()
                    .and_then(|e| e.lines().next())
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
        })
        .collect()
}

fn step_line(step: &Step) -> String {
    let n = step.migrations.len();
    let what = if step.unknown {
        "database unreachable while planning".to_string()
    } else {
        let outside = step
            .migrations
            .iter()
            .filter(|m| m.outside_transaction(step.action.is_down()))
            .count();
        let note = if outside > 0 {
            format!(", {outside} outside a transaction")
        } else {
            String::new()
        };
        format!("{n} migration{}{note}", if n == 1 { "" } else { "s" })
    };
    let why = step
        .reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!("{} {}: {what}{why}", step.action, step.module)
}

/// How many tenant rows a plan shows before it summarises the rest.
const TENANTS_SHOWN: usize = 12;

/// A plan as the confirmation window shows it.
pub fn plan(plan: &Plan) -> Vec<Line<'static>> {
    let tenants = plan.tenant_steps.values().filter(|s| !s.is_empty()).count();
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} {}", plan.action, plan.modules.join(" ")),
            style::header(),
        ),
        Span::raw(format!(
            ": {} step(s), {} migration(s), {tenants} tenant(s)",
            plan.step_count(),
            plan.migration_count()
        )),
    ])];
    for n in &plan.notes {
        lines.push(Line::from(Span::styled(format!("  • {n}"), style::note())));
    }
    if !plan.landlord.is_empty() {
        lines.push(dim("  landlord"));
        for s in &plan.landlord {
            lines.push(Line::from(format!("    {}", step_line(s))));
        }
    }
    let shown: Vec<_> = plan
        .tenant_steps
        .iter()
        .filter(|(_, s)| !s.is_empty())
        .collect();
    if !shown.is_empty() {
        lines.push(dim(format!("  tenants ({tenants})")));
    }
    for (t, steps) in shown.iter().take(TENANTS_SHOWN) {
        let first = steps.first().map(step_line).unwrap_or_default();
        lines.push(Line::from(format!("    {t:<14} {first}")));
        for s in steps.iter().skip(1) {
            lines.push(Line::from(format!("    {:<14} {}", "", step_line(s))));
        }
    }
    if shown.len() > TENANTS_SHOWN {
        lines.push(dim(format!(
            "    … and {} more tenant(s) with the same kind of steps",
            shown.len() - TENANTS_SHOWN
        )));
    }
    lines
}

/// Why a plan came back empty.
pub fn nothing_to_do(plans: &[Plan]) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(
        "The registry planned no step: nothing would change.",
    )];
    for n in plans.iter().flat_map(|p| &p.notes) {
        lines.push(Line::from(Span::styled(format!("  • {n}"), style::note())));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "enter or esc closes",
        Style::default(),
    )));
    lines
}
