//! Plans as text: what the planning window says it waits for, a plan as the confirmation
//! (and a refusal's `--cascade` alternative) shows it, with the tables a rollback drops, the
//! SQL its steps run (`s`, as the CLI's `--dry-run` prints it), and why a plan came back empty.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::style;
use crate::tui::widgets::text::dim;
use crate::tui::worker::PlanRequest;
use estate_engine::{Plan, Step, TenantSelection};

/// `install digital_card for acme, globex`.
pub fn describe(request: &PlanRequest) -> String {
    let groups: Vec<String> = request
        .groups
        .iter()
        .map(|g| {
            let tenants = match &g.tenants {
                TenantSelection::All => "every tenant".to_string(),
                TenantSelection::Only(t) if t.len() > 5 => format!("{} tenants", t.len()),
                TenantSelection::Only(t) => t
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                TenantSelection::Where(c) => format!(
                    "the tenants where {}",
                    c.iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            };
            match request.to {
                Some(to) => format!("{} for {tenants} to version {to:04}", g.modules.join(" ")),
                None => format!("{} for {tenants}", g.modules.join(" ")),
            }
        })
        .collect();
    format!(
        "{}{} {}",
        request.action,
        if request.cascade { " --cascade" } else { "" },
        groups.join("; ")
    )
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
pub fn lines(plan: &Plan) -> Vec<Line<'static>> {
    let tenants = plan.tenant_steps.values().filter(|s| !s.is_empty()).count();
    // A move to a version says where to: the module stays installed there.
    let to = plan
        .steps()
        .first()
        .and_then(|s| s.to)
        .map(|v| format!(" to version {v:04}"))
        .unwrap_or_default();
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} {}{to}", plan.action, plan.modules.join(" ")),
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
    for d in plan.drops() {
        lines.push(Line::from(Span::styled(
            format!("  ⚠ {d}"),
            style::failed(),
        )));
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

/// A migration's file name and its SQL (`None`: it runs Rust code).
type Script = (String, Option<String>);

/// The SQL `plan`'s steps run, in the order they run, each script once with the databases
/// that run it (a fleet's tenants mostly run the same).
pub fn sql_lines(plan: &Plan) -> Vec<Line<'static>> {
    // (what runs, where, its scripts): the scripts are the key, where they run is gathered.
    let mut groups: Vec<(String, Vec<String>, Vec<Script>)> = Vec::new();
    for step in plan.steps() {
        let scripts: Vec<Script> = step
            .migrations
            .iter()
            .map(|m| {
                let (sql, source) = m.script(step.action.is_down());
                // The heading names the module and the scope: the file's name is enough.
                let file = std::path::Path::new(source)
                    .file_name()
                    .map_or(source.into(), |f| f.to_string_lossy());
                (file.into_owned(), sql.map(str::to_string))
            })
            .collect();
        let what = format!("{} {} [{}]", step.action, step.module, step.scope);
        let at = step.tenant.clone().unwrap_or_default();
        match groups
            .iter_mut()
            .find(|(w, _, sc)| *w == what && *sc == scripts)
        {
            Some((_, databases, _)) => databases.push(at),
            None => groups.push((what, vec![at], scripts)),
        }
    }
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} {}", plan.action, plan.modules.join(" ")),
            style::header(),
        ),
        Span::raw(": the SQL of each step, as --dry-run prints it"),
    ])];
    for (what, databases, scripts) in groups {
        let on = if databases.len() > 3 {
            format!(
                "{} tenant(s): {}, …",
                databases.len(),
                databases[..3].join(", ")
            )
        } else {
            databases.join(", ")
        };
        lines.push(Line::default());
        let mut heading = vec![Span::styled(what, style::header())];
        if !on.is_empty() {
            heading.push(Span::raw(format!(" on {on}")));
        }
        lines.push(Line::from(heading));
        if scripts.is_empty() {
            lines.push(dim("  no migrations to run"));
        }
        for (source, sql) in scripts {
            lines.push(dim(format!("  -- {source}")));
            match sql {
                Some(sql) => {
                    lines.extend(sql.trim_end().lines().map(|l| Line::from(format!("  {l}"))))
                }
                None => lines.push(dim("  (runs its migrator's own code, not SQL)")),
            }
        }
    }
    lines
}
