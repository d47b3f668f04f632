//! The checks a plan makes on each database it reads, before anything runs: the catalog is
//! valid and names the modules, and no applied migration of any context drifted from its
//! file or lost it (the one drift check, `migrator::Standing`).
//!
//! Each database's ledger is read once, when it is first checked, and kept: the status of
//! every module there is then taken from that read wherever its migrator can say it so.

use std::sync::Arc;

use super::Planner;
use crate::catalog::Scope;
use crate::database::Database;
use crate::error::Result;
use crate::migrator::ScopeStatus;

impl Planner<'_> {
    /// Where every plan starts: refuses an invalid catalog or an unknown module, and a
    /// landlord whose ledger drifted (every plan may run a landlord step).
    pub(super) async fn check_modules(&self, modules: &[String]) -> Result<()> {
        self.catalog.ensure_valid()?;
        for m in modules {
            self.catalog.require(m)?;
        }
        self.verify_database(self.registry.landlord()).await
    }

    /// The status of `module` on a tenant database, `None` when it could not be reached.
    pub(super) async fn tenant_status(
        &self,
        module: &str,
        db: Option<&Database>,
    ) -> Result<Option<ScopeStatus>> {
        let Some(db) = db else { return Ok(None) };
        match self.clean_status(module, Scope::Tenant, db).await {
            Ok(status) => Ok(Some(status)),
            // A program that cannot answer on one tenant is that tenant's trouble, as an
            // unreachable database is: its step is tried, and fails there with the reason.
            Err(e) if self.migrator(module)?.keeps_own_ledger() => {
                tracing::warn!(module, database = db.label(), error = %e, "status unknown while planning");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Refuses to touch a database where any applied migration (of any context) no longer
    /// matches its file, or lost it: nothing may be built on, or reverted from, SQL that no
    /// longer matches what ran. One read of the ledger per database.
    pub(super) async fn verify_database(&self, db: &Database) -> Result<()> {
        let entries = crate::migrator::verify_database(self.migrators, db).await?;
        crate::sync::lock(&self.ledgers).insert(db.label().to_string(), Arc::new(entries));
        Ok(())
    }

    /// The status of `module` in `scope` on `db`, refused when an applied migration drifted
    /// or vanished: nothing may be built on, or reverted from, SQL that no longer matches.
    pub(super) async fn clean_status(
        &self,
        module: &str,
        scope: Scope,
        db: &Database,
    ) -> Result<ScopeStatus> {
        let migrator = self.migrator(module)?;
        let ledger = crate::sync::lock(&self.ledgers).get(db.label()).cloned();
        let from_ledger = ledger.and_then(|l| migrator.status_from(scope, db.engine(), &l));
        let status = match from_ledger {
            Some(status) => status,
            None => migrator.status(scope, db).await?,
        };
        status.refuse_unclean(db.label(), module, scope, None)?;
        Ok(status)
    }
}
