//! Marks, and what `i`, `r` and `u` ask for: the marked cells (or, with none, the cells the
//! cursor stands for) as plan requests, keeping only the cells the action changes, with the
//! modules wanted on the same tenants in one plan.

use std::collections::{BTreeMap, BTreeSet};

use super::shared::Shared;
use super::worker::{PlanGroup, PlanRequest};
use estate_engine::{Action, ModuleState, Slug, TenantSelection};

/// Marks `cells`, or unmarks them when every one is marked; false when there are none.
pub fn toggle(shared: &mut Shared, cells: Vec<(String, String)>) -> bool {
    if cells.is_empty() {
        return false;
    }
    if cells.iter().all(|c| shared.marks.contains(c)) {
        for c in &cells {
            shared.marks.remove(c);
        }
    } else {
        shared.marks.extend(cells);
    }
    true
}

/// The plan `action` asks for, on the marks or else on `cursor` (the cells the cursor stands
/// for); `None`, with the reason said, when there is nothing to plan or the console is
/// read-only.
pub fn plan(
    shared: &mut Shared,
    action: Action,
    cursor: Vec<(String, String)>,
) -> Option<PlanRequest> {
    if shared.read_only {
        shared.warn(format!(
            "read-only: {action} refused (restart without --read-only)"
        ));
        return None;
    }
    let cells: Vec<(String, String)> = if shared.marks.is_empty() {
        cursor
    } else {
        shared.marks.iter().cloned().collect()
    };
    // Only the cells the action changes: installing an installed module is a no-op.
    let wanted = |s: ModuleState| match action {
        Action::Install | Action::Adopt => s != ModuleState::Installed,
        Action::Rollback => s != ModuleState::NotInstalled,
        Action::Upgrade => matches!(s, ModuleState::Outdated | ModuleState::Failed),
    };
    if cells.is_empty() && shared.data.tenants().is_empty() {
        shared.warn("there are no tenants yet: add one with `estate tenants add SLUG`");
        return None;
    }
    if cells.is_empty() {
        shared.warn(format!(
            "nothing to {action}: mark cells in the Matrix (3), or select a module (1) or a tenant (2)"
        ));
        return None;
    }
    let cells: Vec<(String, String)> = cells
        .into_iter()
        .filter(|(t, m)| shared.data.cell(t, m).is_some_and(|c| wanted(c.state)))
        .collect();
    if cells.is_empty() {
        let what = match action {
            Action::Install | Action::Adopt => "every cell chosen is installed already",
            Action::Rollback => "no module chosen is installed",
            Action::Upgrade => "nothing chosen has pending migrations",
        };
        shared.say(format!("nothing to {action}: {what}"));
        return None;
    }
    Some(PlanRequest {
        to: None,
        action,
        groups: group(&cells),
        cascade: false,
    })
}

/// Cells as plan groups: modules wanted on the same tenants go in one plan.
fn group(cells: &[(String, String)]) -> Vec<PlanGroup> {
    let mut by_module: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (t, m) in cells {
        by_module.entry(m).or_default().insert(t);
    }
    let mut by_tenants: BTreeMap<BTreeSet<&str>, Vec<String>> = BTreeMap::new();
    for (m, tenants) in by_module {
        by_tenants.entry(tenants).or_default().push(m.to_string());
    }
    by_tenants
        .into_iter()
        .map(|(tenants, modules)| PlanGroup {
            modules,
            tenants: TenantSelection::Only(
                tenants
                    .into_iter()
                    .filter_map(|t| Slug::parse(t).ok())
                    .collect(),
            ),
        })
        .collect()
}
