//! The registry's listener: turns a job's events into tenant_modules and history rows.
//!
//! It runs beside the job and is the only writer of registry rows during the job, so the
//! landlord sees one writer. A failure to record is logged and does not stop the job: the
//! ledgers are the truth, and the registry can be reconciled from them.

use std::collections::HashMap;

use super::events::{JobEvent, StepRef};
use crate::catalog::{Catalog, Scope};
use crate::migrator::now;
use crate::operator::Operator;
use crate::registry::{HistoryEntry, Registry};

pub(super) struct Recorder<'a> {
    pub registry: &'a Registry,
    pub catalog: &'a Catalog,
    pub operator: &'a Operator,
    pub job_id: String,
    started: HashMap<(String, String, Option<String>), String>,
    /// The tenant-scope version each tenant step left, for the install row that follows it.
    applied: HashMap<(String, String), i64>,
    pub errors: usize,
}

fn key(step: &StepRef) -> (String, String, Option<String>) {
    (
        step.module.clone(),
        step.scope.to_string(),
        step.tenant.clone(),
    )
}

impl<'a> Recorder<'a> {
    pub fn new(
        registry: &'a Registry,
        catalog: &'a Catalog,
        operator: &'a Operator,
        job_id: String,
    ) -> Self {
        Recorder {
            registry,
            catalog,
            operator,
            job_id,
            started: HashMap::new(),
            applied: HashMap::new(),
            errors: 0,
        }
    }

    fn version(&self, module: &str) -> String {
        self.catalog
            .get(module)
            .map(|c| c.manifest.version.clone())
            .unwrap_or_default()
    }

    pub async fn on(&mut self, event: &JobEvent) {
        let result = match event {
            JobEvent::StepStarted { step } => {
                self.started.insert(key(step), now());
                Ok(())
            }
            JobEvent::StepSucceeded {
                step,
                migrations,
                millis,
                applied_version,
            } => {
                self.remember_applied(step, *applied_version);
                self.history(step, migrations, *millis, None).await
            }
            JobEvent::StepFailed {
                step,
                migrations,
                millis,
                error,
                applied_version,
            } => {
                // For the ModuleUpgraded that follows a step cancelled midway.
                self.remember_applied(step, *applied_version);
                let recorded = self.history(step, migrations, *millis, Some(error)).await;
                match &step.tenant {
                    Some(tenant) => {
                        let version = self.version(&step.module);
                        let applied = applied_version.filter(|_| step.scope == Scope::Tenant);
                        recorded.and(
                            self.registry
                                .set_failed(tenant, &step.module, &version, applied, error)
                                .await,
                        )
                    }
                    None => recorded,
                }
            }
            JobEvent::ModuleInstalled { tenant, module }
            | JobEvent::ModuleUpgraded { tenant, module } => {
                let version = self.version(module);
                // A module without tenant migrations ran no tenant step: nothing applied there.
                let applied = self
                    .applied
                    .remove(&(tenant.clone(), module.clone()))
                    .unwrap_or(0);
                self.registry
                    .set_installed(tenant, module, &version, Some(applied))
                    .await
            }
            JobEvent::ModuleRolledBack { tenant, module } => {
                self.registry.remove_installation(tenant, module).await
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.errors += 1;
            tracing::error!(job = %self.job_id, error = %e, "could not record a job event in the registry");
        }
    }

    /// Keeps the tenant-scope version a step left, for the installation row that follows.
    fn remember_applied(&mut self, step: &StepRef, applied_version: Option<i64>) {
        if let (Some(tenant), Some(v), Scope::Tenant) = (&step.tenant, applied_version, step.scope)
        {
            self.applied
                .insert((tenant.clone(), step.module.clone()), v);
        }
    }

    async fn history(
        &mut self,
        step: &StepRef,
        migrations: &[i64],
        millis: u64,
        error: Option<&String>,
    ) -> crate::Result<()> {
        let finished_at = now();
        let started_at = self
            .started
            .remove(&key(step))
            .unwrap_or_else(|| finished_at.clone());
        let entry = HistoryEntry {
            job_id: self.job_id.clone(),
            tenant: step.tenant.clone(),
            module: step.module.clone(),
            scope: step.scope.to_string(),
            action: step.action.to_string(),
            operator: self.operator.user.clone(),
            ssh_client: self.operator.ssh_client.clone(),
            started_at,
            finished_at,
            duration_ms: millis as i64,
            migrations: migrations
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(","),
            outcome: if error.is_some() {
                "failed"
            } else {
                "succeeded"
            }
            .to_string(),
            error: error.cloned(),
        };
        self.registry.record_history(&entry).await
    }
}
