//! Finer targets: one module moved to a chosen version on one scope (`rollback M --to V`,
//! `migrate M --to V`), and a module installed on the landlord scope alone, before any tenant
//! exists (`install M --scope landlord`).
//!
//! A module moved to a version stays installed where it was: its dependants keep what they
//! require, so no dependency check applies, and the registry records the version it is at.

use std::collections::BTreeSet;

use super::rollback::DropsRead;
use super::{Action, Plan, Planner, Step, TenantSelection, no_tenants};
use crate::catalog::Scope;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrator::{MigrationInfo, ScopeStatus};
use crate::registry::TenantRecord;

/// Which way a move to a version goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Planner<'_> {
    /// Plans installing `modules` (and what they require) on the landlord scope only.
    pub async fn install_landlord(&self, modules: &[String]) -> Result<Plan> {
        self.check_modules(modules).await?;
        let closure = self
            .catalog
            .graph
            .closure(modules.iter().map(String::as_str));
        let mut plan = self.empty_plan(Action::Install, modules, &[]);
        let needed: BTreeSet<String> = closure.iter().cloned().collect();
        self.landlord_up(&mut plan, &closure, &needed, Action::Install)
            .await?;
        if plan.landlord.is_empty() {
            plan.notes
                .push("the landlord has every landlord migration of these already".to_string());
        }
        Ok(plan)
    }

    /// Plans moving `module`'s `scope` to version `to` (up: applying the pending ones up to
    /// it; down: reverting the applied ones above it, newest first) on the landlord, or on
    /// each selected tenant that has the module.
    pub async fn to_version(
        &self,
        module: &str,
        selection: &TenantSelection,
        scope: Scope,
        to: i64,
        direction: Direction,
    ) -> Result<Plan> {
        let modules = [module.to_string()];
        self.check_modules(&modules).await?;
        let migrator = self.migrator(module)?;
        let engine = match scope {
            Scope::Landlord => self.registry.landlord().engine(),
            Scope::Tenant => self.config.tenancy.layout.engine(),
        };
        let known = migrator.migrations(scope, engine);
        check_version(module, scope, to, &known, direction)?;
        let action = match direction {
            Direction::Up => Action::Upgrade,
            Direction::Down => Action::Rollback,
        };
        let mut drops = DropsRead::default();
        let mut step = |tenant: Option<&TenantRecord>, status: Option<ScopeStatus>| {
            let migrations = match (&status, direction) {
                (None, _) => Vec::new(),
                (Some(s), Direction::Up) => s
                    .pending
                    .iter()
                    .filter(|m| m.version <= to)
                    .cloned()
                    .collect(),
                (Some(s), Direction::Down) => {
                    let applied: BTreeSet<i64> = s.applied.iter().map(|e| e.version).collect();
                    let mut out: Vec<MigrationInfo> = known
                        .iter()
                        .filter(|m| m.version > to && applied.contains(&m.version))
                        .cloned()
                        .collect();
                    out.reverse();
                    out
                }
            };
            let engine = tenant.map_or(engine, |t| t.placement.engine);
            Step {
                to: Some(to),
                module: module.to_string(),
                scope,
                tenant: tenant.map(|t| t.slug.clone()),
                action,
                unknown: status.is_none(),
                drops: (direction == Direction::Down && status.is_some())
                    .then(|| drops.of(module, scope, engine, &known, &migrations))
                    .flatten(),
                migrations: migrations.into(),
                reason: None,
                after: Vec::new(),
            }
        };
        if scope == Scope::Landlord {
            let mut plan = self.empty_plan(action, &modules, &[]);
            let status = self
                .clean_status(module, Scope::Landlord, self.registry.landlord())
                .await?;
            let s = step(None, Some(status));
            if s.migrations.is_empty() {
                plan.notes
                    .push(format!("the landlord is at {module} {to} already"));
            } else {
                plan.landlord.push(s);
            }
            return Ok(plan);
        }
        let tenants = self.resolve_tenants(selection).await?;
        if tenants.is_empty() {
            return Err(no_tenants());
        }
        let installs = self.installs().await?;
        let mut plan = self.empty_plan(action, &modules, &tenants);
        for tenant in &tenants {
            if !installs
                .get(&tenant.slug)
                .is_some_and(|i| i.contains_key(module))
            {
                plan.notes
                    .push(format!("{} does not have {module}", tenant.slug));
                plan.set_tenant_steps(tenant.slug.clone(), Vec::new());
                continue;
            }
            let db: Option<Database> = self.open_for_plan(tenant, &mut plan).await?;
            let status = self.tenant_status(module, db.as_ref()).await?;
            if let Some(db) = db {
                db.close().await;
            }
            let s = step(Some(tenant), status);
            let steps = if s.migrations.is_empty() && !s.unknown {
                plan.notes
                    .push(format!("{} is at {module} {to} already", tenant.slug));
                Vec::new()
            } else {
                vec![s]
            };
            plan.set_tenant_steps(tenant.slug.clone(), steps);
        }
        Ok(plan)
    }
}

/// Refuses a version the module's scope does not have: past its latest, below its first, or
/// (down) zero, which is a rollback of the whole module.
fn check_version(
    module: &str,
    scope: Scope,
    to: i64,
    known: &[MigrationInfo],
    direction: Direction,
) -> Result<()> {
    let versions: Vec<i64> = known.iter().map(|m| m.version).collect();
    let listed = versions
        .iter()
        .map(|v| format!("{v:04}"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(latest) = versions.last().copied() else {
        return Err(Error::refused(
            format!("{module} has no {scope} migrations"),
            "choose the other scope with --scope, or leave out --to",
        ));
    };
    if to > latest {
        return Err(Error::refused(
            format!("--to {to} is past {module}'s latest {scope} migration, {latest:04}"),
            format!("choose one of its {scope} versions: {listed}"),
        ));
    }
    if !versions.contains(&to) {
        let fix = match direction {
            Direction::Down if to == 0 => format!(
                "to remove {module} whole, roll it back without --to; otherwise choose one of: {listed}"
            ),
            _ => format!("choose one of its {scope} versions: {listed}"),
        };
        return Err(Error::refused(
            format!("{module} has no {scope} migration {to}"),
            fix,
        ));
    }
    Ok(())
}
