//! What `estate verify` reads of the dependency graph in the ledgers, not the registry: a
//! module applied on a tenant without a requirement, and a module's landlord scope applied
//! while no tenant keeps the module. Either is what two jobs racing would leave if the
//! run-time checks (`jobs/guard.rs`, `jobs/landlord.rs`) ever let them through, or what a
//! hand edit leaves.

use std::collections::{BTreeMap, BTreeSet};

use super::Project;
use super::verify::{Finding, FindingKind, VerifyReport};
use crate::catalog::Scope;
use crate::migrator::LedgerEntry;
use crate::registry::Installation;

impl Project {
    /// Findings for the modules `tenant`'s ledger has whose requirements (with a tenant
    /// scope) it has not; returns the modules it has.
    pub(super) fn missing_requirements(
        &self,
        tenant: &str,
        ledger: &[LedgerEntry],
        report: &mut VerifyReport,
    ) -> BTreeSet<String> {
        let present: BTreeSet<String> = ledger
            .iter()
            .filter(|e| e.scope == Scope::Tenant.as_str())
            .map(|e| e.context.clone())
            .collect();
        for module in &present {
            for required in self.catalog.graph.requires(module) {
                let judged = self
                    .migrators
                    .get(required)
                    .is_some_and(|m| m.has_scope(Scope::Tenant) && m.elsewhere().is_none());
                if !judged || present.contains(required) {
                    continue;
                }
                report.findings.push(Finding {
                    database: tenant.to_string(),
                    kind: FindingKind::MissingRequirement,
                    module: Some(module.clone()),
                    detail: format!(
                        "{module} is applied, but its requirement {required} is not: {module}'s tables may point at tables that are gone"
                    ),
                    fix: format!(
                        "install {required} again (`estate install {required} --tenant {tenant}`), or roll {module} back"
                    ),
                    repairable: false,
                });
            }
        }
        present
    }

    /// Findings for the modules whose landlord scope the landlord's `ledger` has while no
    /// tenant keeps them: neither a verified tenant's ledger (`kept`) nor a registry row
    /// (an install `estate migrate` finishes) has them.
    pub(super) fn orphan_landlord_scopes(
        &self,
        ledger: &[LedgerEntry],
        kept: &BTreeSet<String>,
        installs: &BTreeMap<(String, String), Installation>,
        report: &mut VerifyReport,
    ) {
        let in_registry: BTreeSet<&str> = installs.keys().map(|(_, m)| m.as_str()).collect();
        let applied: BTreeSet<&str> = ledger
            .iter()
            .filter(|e| e.scope == Scope::Landlord.as_str())
            .map(|e| e.context.as_str())
            .collect();
        for module in applied {
            let has_tenant_scope = self
                .migrators
                .get(module)
                .is_some_and(|m| m.has_scope(Scope::Tenant) && m.elsewhere().is_none());
            if !has_tenant_scope || kept.contains(module) || in_registry.contains(module) {
                continue;
            }
            report.findings.push(Finding {
                database: "landlord".to_string(),
                kind: FindingKind::OrphanLandlordScope,
                module: Some(module.to_string()),
                detail: format!("{module}'s landlord scope is applied, but no tenant has {module}"),
                fix: format!(
                    "`estate rollback {module} --all` reverts it, or install {module} for a tenant"
                ),
                repairable: false,
            });
        }
    }
}
