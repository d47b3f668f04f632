//! Rust migrators an embedding binary compiles in, registered by context name.
//!
//! A registration is a factory, not an instance: every [`Project`](crate::Project) the binary
//! opens (the CLI's, the console's at start, on reload and on verify, the repair of a killed
//! job's tenants) builds the context's migrator from it, so a registered migrator cannot be
//! lost by reopening the project.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::ModuleMigrator;

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
