//! An adopt step (`estate adopt`): under the database's lock, the schema checked again against
//! what the module's migrations create (the plan's reading may be old), then the migrations
//! recorded in estate's ledger, nothing run. A database that does not match fails the step
//! with the difference and changes nothing.

use super::runner::JobRunner;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrator::RunContext;
use crate::migrator::adopt::{decide_module, record};
use crate::plan::Step;

impl JobRunner<'_> {
    pub(super) async fn adopt(&self, step: &Step, db: &Database, run: &RunContext) -> Result<()> {
        let Some(to) = step.migrations.iter().map(|m| m.version).max() else {
            return Ok(());
        };
        let migrator = self
            .migrators
            .get(&step.module)
            .ok_or_else(|| Error::Migrator(format!("no migrator for {}", step.module)))?;
        let set = self
            .catalog
            .contexts
            .get(&step.module)
            .and_then(|c| c.set(step.scope));
        let known = migrator.migrations(step.scope, db.engine());
        let decision = decide_module(db, set, &known, &step.module, step.scope, Some(to)).await?;
        if !decision.differences.is_empty() {
            return Err(Error::Migrator(format!(
                "{} does not hold what {} {} migrations up to {} create: {}; install the module there instead, or adopt it --to the version it is at",
                db.label(),
                step.module,
                step.scope,
                decision.version,
                decision.differences.join("; ")
            )));
        }
        record(db, &step.module, step.scope, &decision.adopt, run).await
    }
}
