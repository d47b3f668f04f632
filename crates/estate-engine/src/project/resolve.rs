//! `estate resolve`: the operator's word on a `-- no-transaction` migration that stopped
//! partway. estate cannot know what a half-run statement left (an INVALID index, a table half
//! filled), so it refuses to go on until someone has looked, put the database in one state or
//! the other by hand, and said which: `--completed` (the migration's work is all there) or
//! `--undone` (none of it is). The ledger then records that, the unfinished row goes in the
//! same transaction, and the registry catches up with the ledger.

use serde::Serialize;

use super::Project;
use crate::catalog::Scope;
use crate::clock::now;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrator::{Ledger, LedgerEntry, Unfinished};
use crate::plan::TenantSelection;
use crate::registry::repairs;
use crate::tenancy::Slug;

/// What the operator says of the unfinished migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Its statements all ran (estate's, or the rest by hand): record it as done.
    Completed,
    /// None of it is there any more: record it as never run.
    Undone,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub database: String,
    pub unfinished: Unfinished,
    /// `applied`, `reverted` or `not_run`: what the ledger now says of the migration.
    pub recorded: &'static str,
}

impl Project {
    /// Records `resolution` for `context`'s unfinished migration on the landlord (`tenant`
    /// none) or a tenant.
    pub async fn resolve(
        &self,
        context: &str,
        tenant: Option<&str>,
        resolution: Resolution,
    ) -> Result<Resolved> {
        self.ensure_writable("resolve")?;
        self.catalog.require(context)?;
        let (db, scope, slug) = match tenant {
            None => (None, Scope::Landlord, None),
            Some(slug) => {
                let only = TenantSelection::Only(vec![Slug::parse(slug)?]);
                let Some(record) = self
                    .planner()
                    .resolve_tenants(&only)
                    .await?
                    .into_iter()
                    .next()
                else {
                    return Err(Error::refused(
                        format!("no tenant {slug}"),
                        "`estate tenants list` shows the tenants",
                    ));
                };
                let db = record.placement.open(&self.config, &record.slug).await?;
                (Some(db), Scope::Tenant, Some(record.slug))
            }
        };
        let target = db.as_ref().unwrap_or(self.registry.landlord());
        let result = self.resolve_on(target, context, scope, resolution).await;
        if let (Ok(_), Some(slug)) = (&result, &slug) {
            // The registry follows the ledger, as after a job. (The operator's word goes to
            // the log: the history table records jobs' steps alone.)
            let ledger = Ledger::all(target).await?;
            let installs = self.registry.installations_by_key().await?;
            let writes = repairs(slug, &ledger, &installs, &self.catalog, &self.migrators);
            self.registry.write(&writes).await?;
        }
        if let Some(db) = db {
            db.close().await;
        }
        result
    }

    async fn resolve_on(
        &self,
        db: &Database,
        context: &str,
        scope: Scope,
        resolution: Resolution,
    ) -> Result<Resolved> {
        let _lock = db.lock_transactions(self.config.lock_wait).await?;
        let err = |e| Error::db(db.label(), e);
        let mut tx = db.begin().await?;
        let (present, ledger) = Ledger::read(&mut tx).await.map_err(err)?;
        let Some(unfinished) = Unfinished::read(&mut tx, present)
            .await
            .map_err(err)?
            .into_iter()
            .find(|u| u.context == context && u.scope == scope.as_str())
        else {
            return Err(Error::refused(
                format!(
                    "{}: no {context} {scope} migration is unfinished there",
                    db.label()
                ),
                "`estate verify` lists the unfinished migrations; nothing was changed",
            ));
        };
        let up = unfinished.direction == "up";
        let recorded = match (resolution, up) {
            (Resolution::Completed, true) => {
                let checksum = self
                    .migrators
                    .get(context)
                    .map(|m| m.migrations(scope, db.engine()))
                    .unwrap_or_default()
                    .into_iter()
                    .find(|m| m.version == unfinished.version)
                    .map(|m| m.checksum)
                    .ok_or_else(|| {
                        Error::refused(
                            format!(
                                "{context} {scope} migration {} has no file any more",
                                unfinished.version
                            ),
                            "restore the migration file (git log shows it), then resolve again",
                        )
                    })?;
                let entry = LedgerEntry {
                    context: context.to_string(),
                    scope: scope.as_str().to_string(),
                    version: unfinished.version,
                    description: unfinished.description.clone(),
                    checksum,
                    batch: ledger.iter().map(|e| e.batch).max().unwrap_or(0) + 1,
                    applied_at: now(),
                    execution_ms: 0,
                    applied_by: format!("{} (estate resolve)", self.operator),
                };
                Ledger::record(&mut tx, &entry).await.map_err(err)?;
                "applied"
            }
            (Resolution::Completed, false) => {
                Ledger::erase(&mut tx, context, scope, unfinished.version)
                    .await
                    .map_err(err)?;
                "reverted"
            }
            // Reverting had not finished: the migration is still applied, as the ledger says.
            (Resolution::Undone, false) => "applied",
            (Resolution::Undone, true) => "not_run",
        };
        Unfinished::forget(&mut tx, context, scope, unfinished.version)
            .await
            .map_err(err)?;
        tx.commit().await?;
        tracing::warn!(
            database = db.label(),
            context,
            %scope,
            version = unfinished.version,
            recorded,
            operator = %self.operator,
            "an unfinished migration resolved by the operator"
        );
        Ok(Resolved {
            database: db.label().to_string(),
            unfinished,
            recorded,
        })
    }
}
