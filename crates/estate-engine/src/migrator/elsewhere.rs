//! The stand-in for a migrator that another binary compiles in.
//!
//! A context whose manifest says `[migrator] binary = "NAME"` has Rust migration code that
//! only that binary holds. Any other binary (estate's own included) still lists the module,
//! reads what its ledger records as applied (the ledger is estate's table, whoever wrote the
//! rows) and shows its installations; it refuses to plan anything for it, naming the binary
//! that can.

use super::{
    Ledger, LedgerEntry, MigrationInfo, MigrationRun, ModuleMigrator, RunContext, ScopeStatus,
    Target,
};
use crate::catalog::Scope;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::sql::Engine;

/// The refusal of anything that would run `context`'s migrator, which is in `binary`.
pub fn not_here(context: &str, binary: &str) -> Error {
    Error::refused(
        format!(
            "module {context}'s migrator is Rust code in the binary `{binary}` (its context.toml says [migrator] binary = {binary:?}); this binary does not have it"
        ),
        format!("run the binary `{binary}`, which takes every estate command, for this module"),
    )
}

pub struct ElsewhereMigrator {
    context: String,
    binary: String,
}

impl ElsewhereMigrator {
    pub fn new(context: impl Into<String>, binary: impl Into<String>) -> Self {
        ElsewhereMigrator {
            context: context.into(),
            binary: binary.into(),
        }
    }

    fn status_of(applied: Vec<LedgerEntry>) -> ScopeStatus {
        // Applied rows are whatever the other binary recorded; none is "missing": this binary
        // cannot know that binary's migrations, so it claims nothing about them.
        ScopeStatus {
            applied,
            ..ScopeStatus::default()
        }
    }

    fn refusal(&self) -> Error {
        not_here(&self.context, &self.binary)
    }
}

#[async_trait::async_trait]
impl ModuleMigrator for ElsewhereMigrator {
    fn context(&self) -> &str {
        &self.context
    }

    fn migrations(&self, _scope: Scope, _engine: Engine) -> Vec<MigrationInfo> {
        Vec::new()
    }

    fn elsewhere(&self) -> Option<&str> {
        Some(&self.binary)
    }

    async fn status(&self, scope: Scope, db: &Database) -> Result<ScopeStatus> {
        Ok(Self::status_of(
            Ledger::entries(db, &self.context, scope).await?,
        ))
    }

    fn status_from(
        &self,
        scope: Scope,
        _engine: Engine,
        ledger: &[LedgerEntry],
    ) -> Option<ScopeStatus> {
        Some(Self::status_of(
            ledger
                .iter()
                .filter(|e| e.context == self.context && e.scope == scope.as_str())
                .cloned()
                .collect(),
        ))
    }

    async fn migrate(
        &self,
        _scope: Scope,
        _db: &Database,
        _target: Target,
        _run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        Err(self.refusal())
    }

    async fn rollback(
        &self,
        _scope: Scope,
        _db: &Database,
        _target: Target,
        _run: &RunContext,
    ) -> Result<Vec<MigrationRun>> {
        Err(self.refusal())
    }
}
