//! Human renderings of job reports, the matrix, the catalog, tenants and history (plans:
//! render_plan.rs).

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use super::render_plan::plan;
use super::table::{Cell, Table, paint, styled};
use crate::theme::theme;
use estate_engine::Engine;
use estate_engine::{Catalog, Problem, Scope};
use estate_engine::{HistoryEntry, Installation, TenantRecord};
use estate_engine::{JobReport, Outcome};
use estate_engine::{MigrationInfo, ModuleMigrator};
use estate_engine::{ModuleState, StatusRow};

pub(super) fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

pub(super) fn versions(migrations: &[MigrationInfo], down: bool) -> String {
    migrations
        .iter()
        .map(|m| {
            let outside = if m.outside_transaction(down) {
                " (outside a transaction)"
            } else {
                ""
            };
            format!("{:04} {}{outside}", m.version, m.description)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn report(report: &JobReport) -> String {
    let mut out = String::new();
    let total_ms: u64 = report.steps.iter().map(|s| s.millis).sum();
    let not_started = if report.not_started() > 0 {
        format!(", {} not started", report.not_started())
    } else {
        String::new()
    };
    let line = format!(
        "{}: {} succeeded, {} failed, {} skipped{not_started}; {} (job {}, {} ms of steps)\n",
        report.action,
        report.succeeded(),
        report.failed(),
        report.skipped(),
        plural(report.migrations(), "migration"),
        report.job_id,
        total_ms
    );
    out.push_str(&paint(
        if report.is_success() {
            theme().installed
        } else {
            theme().failed
        },
        line,
    ));
    for s in &report.steps {
        match &s.outcome {
            Outcome::Failed { error } => out.push_str(&format!(
                "  {} {}: {error}\n",
                paint(theme().failed, "failed"),
                s.step
            )),
            Outcome::Skipped { reason } => out.push_str(&format!(
                "  {} {}: {reason}\n",
                paint(theme().outdated, "skipped"),
                s.step
            )),
            // Said once below: the list of a halted fleet's tenants would bury the failures.
            Outcome::Succeeded | Outcome::NotStarted { .. } => {}
        }
    }
    if let Some(Outcome::NotStarted { reason }) = report
        .steps
        .iter()
        .map(|s| &s.outcome)
        .find(|o| matches!(o, Outcome::NotStarted { .. }))
    {
        let tenants: BTreeSet<&str> = report
            .steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::NotStarted { .. }))
            .filter_map(|s| s.step.tenant.as_deref())
            .collect();
        out.push_str(&format!(
            "  {} {}: {}\n",
            paint(theme().outdated, "not started"),
            plural(tenants.len(), "tenant"),
            reason.trim_start_matches("not started: ")
        ));
        out.push_str("  run the same command again to go on with them\n");
    }
    if report.failed() > 0 {
        out.push_str(&format!(
            "  fix the cause, then run {} to finish what failed or was blocked\n",
            finishing_command(report)
        ));
    }
    // Hooks never fail the job; what they said is worth knowing all the same.
    for h in &report.hooks {
        let about = [h.tenant.as_deref(), h.module.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        out.push_str(&format!(
            "  {} on {} ({}){}: {}\n",
            paint(theme().outdated, "hook failed"),
            h.on.as_str(),
            h.command,
            if about.is_empty() {
                String::new()
            } else {
                format!(" for {about}")
            },
            h.error
        ));
    }
    out
}

/// Tenants named one by one in the command that finishes a job, at most.
const NAMED_TENANTS: usize = 5;

/// The command that finishes what a job left failed: the same rollback again; otherwise
/// `estate migrate` (which installs what was blocked and retries what failed) for the failed
/// tenants, or `--all` when the landlord failed or they are many.
fn finishing_command(report: &JobReport) -> String {
    if report.action.is_down() {
        return "the same rollback again".to_string();
    }
    let failed: Vec<Option<&str>> = report
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
        .map(|s| s.step.tenant.as_deref())
        .collect();
    let tenants: BTreeSet<&str> = failed.iter().flatten().copied().collect();
    if failed.contains(&None) || tenants.len() > NAMED_TENANTS {
        "`estate migrate --all`".to_string()
    } else {
        format!(
            "`estate migrate --tenant {}`",
            tenants.into_iter().collect::<Vec<_>>().join(",")
        )
    }
}

fn state_cell(row: &StatusRow) -> Cell {
    match row.state {
        ModuleState::Installed => styled(theme().installed, "✓ installed"),
        ModuleState::Outdated => styled(theme().outdated, format!("↑ {} pending", row.pending)),
        ModuleState::Failed => styled(theme().failed, "✗ failed"),
        ModuleState::NotInstalled => styled(theme().dim, "·"),
        ModuleState::Unreachable => styled(theme().failed, "⚠ unreachable"),
    }
}

/// The tenants × modules matrix.
/// The tenants × modules matrix; `placements` (tenant to where it lives) adds a column when
/// tenants live on PostgreSQL servers.
pub fn matrix(rows: &[StatusRow], placements: &BTreeMap<String, String>) -> String {
    let modules: Vec<String> = {
        let mut m: Vec<String> = rows.iter().map(|r| r.module.clone()).collect();
        m.sort();
        m.dedup();
        m
    };
    let mut by_tenant: BTreeMap<&str, BTreeMap<&str, &StatusRow>> = BTreeMap::new();
    for r in rows {
        by_tenant.entry(&r.tenant).or_default().insert(&r.module, r);
    }
    if by_tenant.is_empty() {
        return "no tenants yet: add one with `estate tenants add SLUG`\n".to_string();
    }
    let mut headers = vec!["TENANT".to_string()];
    if !placements.is_empty() {
        headers.push("PLACEMENT".to_string());
    }
    headers.extend(modules.iter().cloned());
    let mut table = Table::with_headers(headers);
    for (tenant, cells) in &by_tenant {
        let mut row: Vec<Cell> = vec![(*tenant).into()];
        if !placements.is_empty() {
            row.push(styled(
                theme().dim,
                placements.get(*tenant).cloned().unwrap_or_default(),
            ));
        }
        for m in &modules {
            row.push(
                cells
                    .get(m.as_str())
                    .map_or_else(|| "".into(), |r| state_cell(r)),
            );
        }
        table.row(row);
    }
    let mut out = table.render();
    let unreachable = rows.iter().any(|r| r.state == ModuleState::Unreachable);
    out.push_str(&paint(
        theme().dim,
        format!(
            "✓ installed  ↑ outdated (migrations pending)  ✗ failed  · not installed{}\n",
            if unreachable {
                "  ⚠ unreachable (its database cannot be read)"
            } else {
                ""
            }
        ),
    ));
    out
}

pub fn modules(
    catalog: &Catalog,
    migrators: &dyn Fn(&str) -> Option<std::sync::Arc<dyn ModuleMigrator>>,
    engine: Engine,
    installs: &[Installation],
) -> String {
    let mut table = Table::new([
        "MODULE",
        "VERSION",
        "TITLE",
        "REQUIRES",
        "REQUIRED BY",
        "LANDLORD",
        "TENANT",
        "TENANTS",
    ]);
    for (name, c) in &catalog.contexts {
        let count = |scope| migrators(name).map_or(0, |m| m.migrations(scope, engine).len());
        let tenants = installs.iter().filter(|i| &i.module == name).count();
        table.row(vec![
            styled(theme().header, name.clone()),
            c.manifest.version.clone().into(),
            c.manifest.title.clone().into(),
            or_dash(c.manifest.requires.join(", ")),
            or_dash(catalog.graph.required_by(name).join(", ")),
            count(Scope::Landlord).to_string().into(),
            count(Scope::Tenant).to_string().into(),
            tenants.to_string().into(),
        ]);
    }
    if table.is_empty() {
        return "no contexts found\n".to_string();
    }
    table.render()
}

fn or_dash(s: String) -> Cell {
    if s.is_empty() {
        styled(theme().dim, "-")
    } else {
        s.into()
    }
}

/// Each tenant's installed modules, in the installations' order: one pass, so a list of a
/// hundred thousand tenants costs as much again, not its square.
pub fn modules_by_tenant(installs: &[Installation]) -> HashMap<&str, Vec<&str>> {
    let mut by: HashMap<&str, Vec<&str>> = HashMap::new();
    for i in installs {
        by.entry(i.tenant.as_str())
            .or_default()
            .push(i.module.as_str());
    }
    by
}

pub fn tenants(tenants: &[TenantRecord], installs: &[Installation]) -> String {
    if tenants.is_empty() {
        return "no tenants yet: add one with `estate tenants add SLUG`\n".to_string();
    }
    let mut table = Table::new([
        "TENANT", "NAME", "TAGS", "ENGINE", "DATABASE", "MODULES", "CREATED",
    ]);
    let by_tenant = modules_by_tenant(installs);
    for t in tenants {
        let modules = by_tenant
            .get(t.slug.as_str())
            .map_or(&[][..], Vec::as_slice);
        table.row(vec![
            styled(theme().header, t.slug.clone()),
            t.name.clone().into(),
            or_dash(estate_engine::format_tag_list(&t.tags).replace(';', " ")),
            t.placement.engine.as_str().into(),
            t.placement.describe().into(),
            or_dash(modules.join(", ")),
            t.created_at.clone().into(),
        ]);
    }
    table.render()
}

pub fn history(entries: &[HistoryEntry]) -> String {
    if entries.is_empty() {
        return "no history yet\n".to_string();
    }
    let mut table = Table::new([
        "STARTED",
        "TENANT",
        "MODULE",
        "SCOPE",
        "ACTION",
        "OUTCOME",
        "MIGRATIONS",
        "MS",
        "BY",
        "ERROR",
    ]);
    for e in entries {
        let by = match &e.ssh_client {
            Some(c) => format!("{} (ssh {c})", e.operator),
            None => e.operator.clone(),
        };
        table.row(vec![
            e.started_at.clone().into(),
            e.tenant
                .clone()
                .map_or_else(|| styled(theme().dim, "landlord"), Cell::from),
            e.module_name().to_string().into(),
            e.scope.clone().into(),
            e.action.clone().into(),
            if e.outcome == "succeeded" {
                styled(theme().installed, "succeeded")
            } else {
                styled(theme().failed, e.outcome.clone())
            },
            or_dash(e.migrations.clone()),
            e.duration_ms.to_string().into(),
            by.into(),
            e.error
                .as_deref()
                .map(|s| s.lines().next().unwrap_or_default().to_string())
                .unwrap_or_default()
                .into(),
        ]);
    }
    table.render()
}

pub fn problems(problems: &[Problem]) -> String {
    let mut out = String::new();
    for p in problems {
        out.push_str(&format!(
            "{} {}: {}\n    {} {}\n",
            paint(theme().failed, "✗"),
            p.location,
            p.message,
            paint(theme().dim, "fix:"),
            p.fix
        ));
    }
    out
}

/// `estate verify`: each finding with its fix, or that all is well.
pub fn findings(report: &estate_engine::VerifyReport) -> String {
    let mut out = String::new();
    if report.repaired > 0 {
        out.push_str(&format!(
            "repaired: {} from the ledgers\n",
            plural(report.repaired, "registry row")
        ));
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    if report.findings.is_empty() {
        out.push_str(&paint(
            theme().installed,
            "verified: the registry, the ledgers and the migration files agree\n",
        ));
        return out;
    }
    for f in &report.findings {
        out.push_str(&format!(
            "{} {}: {}\n  fix: {}\n",
            paint(theme().failed, "✗"),
            f.database,
            f.detail,
            f.fix
        ));
    }
    let repairable = report.findings.iter().filter(|f| f.repairable).count();
    out.push_str(&format!(
        "{}{}\n",
        plural(report.findings.len(), "finding"),
        if repairable > 0 {
            format!("; {repairable} can be repaired with `estate verify --repair`")
        } else {
            String::new()
        }
    ));
    out
}
