//! Which tenants a plan targets, and how each is read: opened and checked, planned blind
//! when its server cannot be reached, or not opened at all when the registry's rows can
//! stand for its ledger.

use std::collections::HashMap;

use super::{Installs, Plan, Planner, TenantSelection};
use crate::database::{Address, Database};
use crate::error::{Error, Result};
use crate::migrator::Applied;
use crate::registry::{InstallState, TenantRecord};
use crate::sql::Engine;
use crate::tenancy::matches_all;

impl Planner<'_> {
    /// The tenants selected, each known to the registry.
    pub async fn resolve_tenants(&self, selection: &TenantSelection) -> Result<Vec<TenantRecord>> {
        match selection {
            TenantSelection::All => self.registry.tenants().await,
            TenantSelection::Where(conditions) => {
                let tenants = self.registry.tenants().await?;
                let any = !tenants.is_empty();
                let chosen: Vec<TenantRecord> = tenants
                    .into_iter()
                    .filter(|t| matches_all(conditions, &t.tags))
                    .collect();
                if chosen.is_empty() && any {
                    let asked: Vec<String> =
                        conditions.iter().map(|c| format!("--where {c}")).collect();
                    return Err(Error::refused(
                        format!("no tenant matches {}", asked.join(" ")),
                        "`estate tenants list` shows each tenant's tags; `estate tenants tag SLUG KEY=VALUE` sets one",
                    ));
                }
                Ok(chosen)
            }
            TenantSelection::Only(slugs) => {
                let mut out = Vec::new();
                for slug in slugs {
                    let Some(t) = self.registry.tenant(slug.as_str()).await? else {
                        return Err(Error::refused(
                            format!("unknown tenant {:?}", slug.as_str()),
                            format!(
                                "`estate tenants list` shows the tenants; add this one with `estate tenants add {slug}`"
                            ),
                        ));
                    };
                    if !out.iter().any(|o: &TenantRecord| o.slug == t.slug) {
                        out.push(t);
                    }
                }
                Ok(out)
            }
        }
    }

    async fn open_tenant(&self, tenant: &TenantRecord) -> Result<Database> {
        let db = tenant.placement.open(self.config, &tenant.slug).await?;
        if let Err(e) = self.verify_database(&db).await {
            db.close().await;
            return Err(e);
        }
        Ok(db)
    }

    /// Opens a tenant for planning. A tenant whose server cannot be reached now is planned
    /// blind (its steps are tried when the job runs and fail naming the server) instead of
    /// refusing the whole plan: one server down must not stop the others' tenants.
    pub(super) async fn open_for_plan(
        &self,
        tenant: &TenantRecord,
        plan: &mut Plan,
    ) -> Result<Option<Database>> {
        match self.open_tenant(tenant).await {
            Ok(db) => Ok(Some(db)),
            Err(e) if !e.is_refusal() => {
                tracing::warn!(tenant = %tenant.slug, error = %e, "tenant unreachable while planning");
                plan.notes.push(format!(
                    "{} cannot be reached now ({e}); its steps will be tried and reported",
                    tenant.slug
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// What the registry alone says `tenant` has applied (the tenant-scope version of each
    /// installed module), when that can stand for its ledger without opening its database:
    /// every installation of the tenant is recorded installed, with the version it applied
    /// and a digest of the files up to it that the files still give. A failed installation, a
    /// row from before versions were recorded, or a file changed since (drift) says `None`:
    /// the tenant is opened and read.
    fn recorded_state<'i>(
        &self,
        tenant: &TenantRecord,
        installs: &'i Installs,
        digests: &mut HashMap<(String, Engine, i64), String>,
    ) -> Option<RecordedState<'i>> {
        let mut applied = Vec::new();
        for (module, i) in installs.get(&tenant.slug).into_iter().flatten() {
            let Some(migrator) = self.migrators.get(module) else {
                // Not in the catalog any more: the ledger check skips it too.
                continue;
            };
            if migrator.elsewhere().is_some() {
                // Another binary's: the ledger check skips it too, and nothing here plans it.
                continue;
            }
            if migrator.keeps_own_ledger() {
                // Only the program can say what is applied there: asked, database by database.
                return None;
            }
            let (InstallState::Installed, Some(version), Some(digest)) =
                (i.state, i.applied_version, i.applied_digest.as_deref())
            else {
                return None;
            };
            // The files' digest up to a version is the same for every tenant: made once.
            let engine = tenant.placement.engine;
            let key = (module.clone(), engine, version);
            let files = match digests.get(&key) {
                Some(d) => d,
                None => {
                    let known = self.tenant_migrations_after(module, engine, 0).ok()?;
                    digests
                        .entry(key)
                        .or_insert(Applied::of(&known, version).digest)
                }
            };
            if files != digest {
                return None;
            }
            applied.push((module.as_str(), version));
        }
        applied.shrink_to_fit();
        Some(RecordedState(applied))
    }

    /// What the registry alone says each of `tenants` has applied, where that can stand for
    /// its ledger (see `recorded_state`) and its database exists; `None` for a tenant to open.
    /// A tenant whose registry rows can stand for its ledger is not opened: a fleet install
    /// reads one registry query and asks each server which databases exist, rather than
    /// opening a thousand of them. Its job checks the ledger under the lock before the first
    /// step. A missing database (or one that cannot be asked about) is opened as any other,
    /// which refuses it or plans it blind.
    pub(super) async fn recorded_states<'i>(
        &self,
        tenants: &[TenantRecord],
        installs: &'i Installs,
    ) -> Vec<Option<RecordedState<'i>>> {
        let mut digests = HashMap::new();
        let mut recorded: Vec<Option<RecordedState<'i>>> = tenants
            .iter()
            .map(|t| self.recorded_state(t, installs, &mut digests))
            .collect();
        let mut addresses: Vec<(usize, Address)> = Vec::with_capacity(tenants.len());
        for (i, r) in recorded.iter_mut().enumerate() {
            if r.is_none() {
                continue;
            }
            match tenants[i].placement.address(self.config) {
                Ok(a) => addresses.push((i, a)),
                // Opening it says what is wrong.
                Err(_) => *r = None,
            }
        }
        let refs: Vec<&Address> = addresses.iter().map(|(_, a)| a).collect();
        let found = Database::existing(&refs).await;
        for ((i, _), exists) in addresses.iter().zip(found) {
            if exists != Some(true) {
                recorded[*i] = None;
            }
        }
        recorded
    }
}

/// What the registry says one tenant has applied: each installed module's tenant-scope
/// version. A few pairs, not a map: at 100,000 tenants a map each was 37 MiB of a plan.
pub(super) struct RecordedState<'i>(Vec<(&'i str, i64)>);

impl RecordedState<'_> {
    /// The version of `module` applied, 0 when it is not installed.
    pub(super) fn version_of(&self, module: &str) -> i64 {
        self.0
            .iter()
            .find(|(m, _)| *m == module)
            .map_or(0, |(_, v)| *v)
    }
}
