//! Rust migrators an embedding binary compiles in, registered by context name.
//!
//! A registration is a factory, not an instance: every [`Project`](crate::Project) the binary
//! opens (the CLI's, the console's at start, on reload and on verify, the repair of a killed
//! job's tenants) builds the context's migrator from it, so a registered migrator cannot be
//! lost by reopening the project.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::ModuleMigrator;
use crate::catalog::Scope;
use crate::error::{Error, Result};
use crate::sql::Engine;

/// Builds a context's migrator.
pub type MigratorFactory = Arc<dyn Fn() -> Arc<dyn ModuleMigrator> + Send + Sync>;

/// The Rust migrators of a binary, by context name; empty in estate's own binary.
#[derive(Clone, Default)]
pub struct RegisteredMigrators {
    factories: BTreeMap<String, MigratorFactory>,
}

impl std::fmt::Debug for RegisteredMigrators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.factories.keys()).finish()
    }
}

impl RegisteredMigrators {
    /// Registers `factory` as the migrator of `context`, replacing any earlier registration.
    pub fn register<M, F>(&mut self, context: impl Into<String>, factory: F)
    where
        M: ModuleMigrator + 'static,
        F: Fn() -> M + Send + Sync + 'static,
    {
        self.factories.insert(
            context.into(),
            Arc::new(move || Arc::new(factory()) as Arc<dyn ModuleMigrator>),
        );
    }

    /// The contexts that have a registered migrator, in name order.
    pub fn contexts(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    pub fn contains(&self, context: &str) -> bool {
        self.factories.contains_key(context)
    }

    /// A new migrator for `context`, when one is registered.
    pub fn build(&self, context: &str) -> Option<Arc<dyn ModuleMigrator>> {
        self.factories.get(context).map(|f| f())
    }

    pub fn is_empty(&self) -> bool {
        self.factories.is_empty()
    }
}

/// Refuses a Rust migrator whose migrations, in some scope on some engine, are not numbered
/// from 1 in ascending order: version 0 is the ledger's "nothing applied", and a version
/// given twice or out of order would be planned one way and applied another.
pub(crate) fn check_versions(migrator: &dyn ModuleMigrator) -> Result<()> {
    for scope in [Scope::Landlord, Scope::Tenant] {
        for engine in Engine::ALL {
            let versions: Vec<i64> = migrator
                .migrations(scope, engine)
                .iter()
                .map(|m| m.version)
                .collect();
            if !numbered(&versions) {
                return Err(Error::refused(
                    format!(
                        "the Rust migrator of {} lists its {scope} migrations on {engine} as versions {versions:?}: versions start at 1 (0 means \"nothing applied\") and ascend, each once",
                        migrator.context()
                    ),
                    "number the migrations its migrations() returns from 1, in order",
                ));
            }
        }
    }
    Ok(())
}

/// From 1, ascending, each once.
fn numbered(versions: &[i64]) -> bool {
    versions.first().is_none_or(|v| *v >= 1) && versions.windows(2).all(|w| w[0] < w[1])
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_start_at_1_and_ascend_each_once() {
        for good in [&[][..], &[1], &[1, 2, 5], &[20240115093000]] {
            assert!(super::numbered(good), "{good:?}");
        }
        for bad in [&[0][..], &[0, 1], &[-3], &[2, 1], &[1, 1]] {
            assert!(!super::numbered(bad), "{bad:?}");
        }
    }
}
