//! A plan as an operator reads it: the landlord's steps and each tenant's (over a fleet, each
//! kind of tenant once), with the SQL of every migration under `--dry-run`.

use super::render::{plural, versions};
use super::table::paint;
use crate::theme::theme;
use estate_engine::{Action, Plan, Step};

/// The plan, step by step; with `sql`, the SQL each migration would run.
pub fn plan(plan: &Plan, sql: bool) -> String {
    let mut out = String::new();
    let tenants = plan.tenants.len();
    let what = if plan.modules.is_empty() {
        "installed modules".to_string()
    } else {
        plan.modules.join(", ")
    };
    out.push_str(&paint(
        theme().header,
        match tenants {
            0 if plan.tenant_steps.is_empty() => {
                format!("Plan: {} {what} on the landlord\n", plan.action)
            }
            _ => format!(
                "Plan: {} {what} for {}\n",
                plan.action,
                plural(tenants, "tenant")
            ),
        },
    ));
    for note in &plan.notes {
        out.push_str(&format!("  {} {note}\n", paint(theme().note, "note:")));
    }
    if plan.is_empty() {
        out.push_str("  nothing to do\n");
        return out;
    }
    let mut n = 0;
    let mut section = |title: &str, steps: &[Step], out: &mut String| {
        if steps.is_empty() {
            return;
        }
        out.push_str(&format!("  {}\n", paint(theme().header, title)));
        for s in steps {
            n += 1;
            let reason = s
                .reason
                .as_ref()
                .map(|r| paint(theme().dim, format!(" ({r})")))
                .unwrap_or_default();
            let count = if s.unknown {
                "not known while planning: what is pending will be known when it runs".to_string()
            } else if s.migrations.is_empty() {
                "no migrations in this scope".to_string()
            } else {
                format!(
                    "{}: {}",
                    plural(s.migrations.len(), "migration"),
                    versions(&s.migrations, s.action.is_down())
                )
            };
            out.push_str(&format!(
                "  {n:>3}. {} {} [{}]{reason}  {count}\n",
                s.action, s.module, s.scope
            ));
            if sql && s.action != Action::Adopt {
                for m in s.migrations.iter() {
                    let (body, source) = m.script(s.action.is_down());
                    out.push_str(&paint(theme().dim, format!("       -- {source}\n")));
                    match body {
                        Some(body) => {
                            for line in body.trim_end().lines() {
                                out.push_str(&format!("       {line}\n"));
                            }
                        }
                        None => out.push_str("       (runs its migrator's own code, not SQL)\n"),
                    }
                }
            }
        }
    };
    let landlord_last = plan.action.is_down();
    if !landlord_last {
        section("landlord", &plan.landlord, &mut out);
    }
    for (title, steps) in tenant_sections(plan) {
        section(&title, steps, &mut out);
    }
    if landlord_last {
        section("landlord", &plan.landlord, &mut out);
    }
    for d in plan.drops() {
        out.push_str(&paint(theme().failed, format!("  {d}\n")));
    }
    out
}

/// From how many tenants with steps a plan shows each kind of tenant once: a fleet's plan is
/// a few blocks an operator reads, not one block per tenant (`--dry-run --json` keeps them all).
const GROUP_FROM: usize = 10;

/// How many slugs a group's title names before it counts the rest.
const GROUP_NAMES: usize = 5;

/// Each tenant's steps under its title; over a fleet, the tenants whose steps are the same
/// (same modules, scopes, actions and migrations) under one title that counts them.
fn tenant_sections(plan: &Plan) -> Vec<(String, &[Step])> {
    let with_steps: Vec<(&String, &Vec<Step>)> = plan
        .tenant_steps
        .iter()
        .filter(|(_, steps)| !steps.is_empty())
        .collect();
    if with_steps.len() < GROUP_FROM {
        return with_steps
            .into_iter()
            .map(|(t, steps)| (format!("tenant {t}"), steps.as_slice()))
            .collect();
    }
    let same = |s: &Step| {
        let versions: Vec<i64> = s.migrations.iter().map(|m| m.version).collect();
        (
            s.module.clone(),
            s.scope.to_string(),
            s.action.as_str(),
            s.reason.clone(),
            s.unknown,
            s.to,
            versions,
        )
    };
    let mut groups: Vec<(Vec<&String>, &Vec<Step>)> = Vec::new();
    let mut index: std::collections::HashMap<Vec<_>, usize> = std::collections::HashMap::new();
    for (tenant, steps) in with_steps {
        let key: Vec<_> = steps.iter().map(same).collect();
        match index.get(&key) {
            Some(&i) => groups[i].0.push(tenant),
            None => {
                index.insert(key, groups.len());
                groups.push((vec![tenant], steps));
            }
        }
    }
    groups
        .into_iter()
        .map(|(tenants, steps)| {
            let title = match tenants.as_slice() {
                [one] => format!("tenant {one}"),
                many => {
                    let named: Vec<&str> =
                        many.iter().take(GROUP_NAMES).map(|t| t.as_str()).collect();
                    let more = many.len().saturating_sub(GROUP_NAMES);
                    let rest = if more > 0 {
                        format!(", and {more} more")
                    } else {
                        String::new()
                    };
                    format!("{} tenants ({}{rest}), each", many.len(), named.join(", "))
                }
            };
            (title, steps.as_slice())
        })
        .collect()
}
