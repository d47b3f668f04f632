//! Bringing the registry back in line with the ledgers, for tenants whose rows may lag them.
//!
//! The registry learns what a job did from the job's events, after each tenant's migrations
//! commit; a job killed in between leaves a tenant's ledger ahead of (or, for a rollback,
//! behind) its registry rows. The ledger, written in the same transaction as the migrations,
//! is the truth: for each module with a tenant scope, its rows say whether the module is
//! there and how far (the applied version and the digest of what is applied, from the ledger's
//! own checksums, so a changed file still shows as drift). A module the ledger cannot speak
//! for (no tenant migrations) keeps its row.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{InstallState, Installation, Registry, RegistryWrite};
use crate::catalog::{Catalog, Scope};
use crate::config::Config;
use crate::error::Result;
use crate::migrator::{Applied, Ledger, LedgerEntry, ModuleMigrator};

/// Repairs the registry rows of `tenants` from their ledgers; returns how many rows changed.
/// A tenant that cannot be opened now is left as it is (logged): the next repair, or its next
/// job, will see it.
pub async fn repair_from_ledgers(
    config: &Config,
    catalog: &Catalog,
    migrators: &BTreeMap<String, Arc<dyn ModuleMigrator>>,
    registry: &Registry,
    tenants: &[String],
) -> Result<usize> {
    let installs = registry.installations_by_key().await?;
    let mut writes = Vec::new();
    for slug in tenants {
        let Some(record) = registry.tenant(slug).await? else {
            continue;
        };
        let db = match record.placement.open(config, slug).await {
            Ok(db) => db,
            Err(e) => {
                tracing::warn!(tenant = %slug, error = %e, "cannot repair the registry rows of a tenant now");
                continue;
            }
        };
        let ledger = Ledger::all(&db).await;
        db.close().await;
        let ledger = match ledger {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(tenant = %slug, error = %e, "cannot read a tenant's ledger to repair its rows");
                continue;
            }
        };
        writes.extend(repairs(slug, &ledger, &installs, catalog, migrators));
    }
    let changed = writes.len();
    registry.write(&writes).await?;
    Ok(changed)
}

/// What the registry rows of tenant `slug` should become for them to tell its ledger (the
/// whole of it) truly: one write per row that disagrees.
pub fn repairs(
    slug: &str,
    ledger: &[LedgerEntry],
    installs: &BTreeMap<(String, String), Installation>,
    catalog: &Catalog,
    migrators: &BTreeMap<String, Arc<dyn ModuleMigrator>>,
) -> Vec<RegistryWrite> {
    let mut writes = Vec::new();
    for (module, migrator) in migrators {
        if !migrator.has_scope(Scope::Tenant) {
            continue;
        }
        let applied: Vec<&LedgerEntry> = ledger
            .iter()
            .filter(|e| &e.context == module && e.scope == Scope::Tenant.as_str())
            .collect();
        let row = installs.get(&(slug.to_string(), module.clone()));
        let write = match (applied.last(), row.map(|r| r.state)) {
            (None, None) => None,
            // Rolled back there: the ledger has nothing of it.
            (None, Some(InstallState::Installed)) => Some(RegistryWrite::Removal {
                unless_after: None,
                tenant: slug.to_string(),
                module: module.clone(),
            }),
            // Its last install failed before anything committed: the row says so.
            (None, Some(InstallState::Failed)) => None,
            (Some(newest), _) => {
                let now = Applied::from_ledger(&applied, newest.version);
                // A failed step's row agrees when it records what the ledger holds: the
                // failure is the news it carries, and the repair must not erase it.
                let same = row.is_some_and(|r| {
                    matches!(r.state, InstallState::Installed | InstallState::Failed)
                        && r.applied_version == Some(now.version)
                        && r.applied_digest.as_deref() == Some(now.digest.as_str())
                });
                (!same).then(|| RegistryWrite::Installation {
                    tenant: slug.to_string(),
                    module: module.clone(),
                    state: InstallState::Installed,
                    version: catalog
                        .get(module)
                        .map(|c| c.manifest.version.clone())
                        .unwrap_or_default(),
                    applied: Some(now),
                    error: None,
                })
            }
        };
        if let Some(w) = write {
            tracing::warn!(tenant = %slug, %module, write = ?w, "registry row disagrees with the ledger");
            writes.push(w);
        }
    }
    writes
}
