//! What the world outside estate hears of a job: each event that matters to it (a module
//! installed, upgraded or rolled back for a tenant, a tenant failed, the job finished) becomes
//! a [`DomainEvent`] once the registry has recorded it. Subscribers of `Project` receive it;
//! each `[[hooks]]` command that follows it runs with it as JSON on its standard input,
//! a few at a time, each within its timeout. A hook that fails is logged and reported with
//! the job; it never fails a migration.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Semaphore, broadcast};
use tokio::task::JoinSet;

use super::events::JobEvent;
use crate::catalog::{Catalog, Scope};
use crate::clock::now;
use crate::config::{Hook, HookOn};

/// How many hook commands run at once: a fleet's thousand installs must not fork a thousand.
const HOOKS_AT_ONCE: usize = 4;

/// One event for hooks and subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainEvent {
    pub event: HookOn,
    pub job_id: String,
    pub operator: String,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The module's version, as its manifest says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_version: Option<String>,
    /// The tenant-scope migrations the step applied or reverted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `job_finished`: its steps by outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<StepCounts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepCounts {
    pub succeeded: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_started: usize,
}

/// A hook that did not end well, as the job's report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookFailure {
    pub on: HookOn,
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    pub error: String,
}

/// The hooks of one job, fed its events batch by batch after each is recorded.
pub struct Hooks {
    hooks: Arc<Vec<Hook>>,
    root: PathBuf,
    subscribers: Option<broadcast::Sender<DomainEvent>>,
    job_id: String,
    operator: String,
    versions: HashMap<String, String>,
    /// The migrations each (tenant, module) step ran, for the event that follows it.
    ran: HashMap<(String, String), Vec<i64>>,
    running: JoinSet<Option<HookFailure>>,
    limit: Arc<Semaphore>,
}

impl Hooks {
    pub fn new(
        hooks: &[Hook],
        root: PathBuf,
        subscribers: Option<broadcast::Sender<DomainEvent>>,
        catalog: &Catalog,
        job_id: &str,
        operator: &str,
    ) -> Hooks {
        Hooks {
            hooks: Arc::new(hooks.to_vec()),
            root,
            subscribers,
            job_id: job_id.to_string(),
            operator: operator.to_string(),
            versions: catalog
                .contexts
                .iter()
                .map(|(name, c)| (name.clone(), c.manifest.version.to_string()))
                .collect(),
            ran: HashMap::new(),
            running: JoinSet::new(),
            limit: Arc::new(Semaphore::new(HOOKS_AT_ONCE)),
        }
    }

    /// Whether anyone listens: without hooks or subscribers, events are not even built.
    pub fn is_idle(&self) -> bool {
        self.hooks.is_empty()
            && self
                .subscribers
                .as_ref()
                .is_none_or(|s| s.receiver_count() == 0)
    }

    /// The events of a batch the registry has just recorded.
    pub fn on_batch(&mut self, batch: &[JobEvent]) {
        if self.is_idle() {
            return;
        }
        for event in batch {
            let Some(domain) = self.domain(event) else {
                continue;
            };
            if let Some(s) = &self.subscribers {
                let _ = s.send(domain.clone());
            }
            for hook in self.hooks.iter().filter(|h| h.on == domain.event) {
                let (hook, root, limit) = (hook.clone(), self.root.clone(), self.limit.clone());
                let domain = domain.clone();
                self.running.spawn(async move {
                    let _permit = limit.acquire_owned().await.ok()?;
                    let error = run(&hook, &root, &domain).await.err()?;
                    tracing::warn!(hook = %hook.command.join(" "), on = hook.on.as_str(), tenant = ?domain.tenant, %error, "a hook failed");
                    Some(HookFailure {
                        on: hook.on,
                        command: hook.command.join(" "),
                        tenant: domain.tenant,
                        module: domain.module,
                        error,
                    })
                });
            }
        }
    }

    /// Waits for the hooks still running (each within its timeout); those that failed.
    pub async fn finish(mut self) -> Vec<HookFailure> {
        let mut failures = Vec::new();
        while let Some(done) = self.running.join_next().await {
            if let Ok(Some(f)) = done {
                failures.push(f);
            }
        }
        failures
    }

    fn domain(&mut self, event: &JobEvent) -> Option<DomainEvent> {
        let (on, tenant, module, error, steps) = match event {
            JobEvent::StepSucceeded {
                step, migrations, ..
            } => {
                if let (Some(t), Scope::Tenant) = (&step.tenant, step.scope) {
                    self.ran
                        .insert((t.clone(), step.module.clone()), migrations.clone());
                }
                return None;
            }
            JobEvent::ModuleInstalled { tenant, module } => (
                HookOn::ModuleInstalled,
                Some(tenant),
                Some(module),
                None,
                None,
            ),
            JobEvent::ModuleUpgraded { tenant, module } => (
                HookOn::ModuleUpgraded,
                Some(tenant),
                Some(module),
                None,
                None,
            ),
            JobEvent::ModuleRolledBack { tenant, module, .. } => (
                HookOn::ModuleRolledBack,
                Some(tenant),
                Some(module),
                None,
                None,
            ),
            JobEvent::StepFailed { step, error, .. } if step.tenant.is_some() => (
                HookOn::TenantFailed,
                step.tenant.as_ref(),
                Some(&step.module),
                Some(error.clone()),
                None,
            ),
            JobEvent::JobFinished {
                succeeded,
                failed,
                skipped,
                not_started,
                ..
            } => (
                HookOn::JobFinished,
                None,
                None,
                None,
                Some(StepCounts {
                    succeeded: *succeeded,
                    failed: *failed,
                    skipped: *skipped,
                    not_started: *not_started,
                }),
            ),
            _ => return None,
        };
        let migrations = match (tenant, module) {
            (Some(t), Some(m)) if on != HookOn::TenantFailed => {
                self.ran.remove(&(t.clone(), m.clone())).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        Some(DomainEvent {
            event: on,
            job_id: self.job_id.clone(),
            operator: self.operator.clone(),
            at: now(),
            tenant: tenant.cloned(),
            module_version: module.and_then(|m| self.versions.get(m).cloned()),
            module: module.cloned(),
            migrations,
            error,
            steps,
        })
    }
}

/// Runs one hook with `event` on its standard input; why it failed, if it did.
async fn run(hook: &Hook, root: &std::path::Path, event: &DomainEvent) -> Result<(), String> {
    let payload = serde_json::to_string(event).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(&hook.program)
        .args(&hook.command[1..])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", hook.program.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its input is its own business, not a failure.
        let _ = stdin.write_all(payload.as_bytes()).await;
        let _ = stdin.write_all(b"\n").await;
    }
    match tokio::time::timeout(hook.timeout, child.wait_with_output()).await {
        Err(_) => Err(format!(
            "did not end within {} s and was killed",
            hook.timeout.as_secs()
        )),
        Ok(Err(e)) => Err(format!("could not be waited for: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let said = String::from_utf8_lossy(&out.stderr);
            let last = said.lines().rev().find(|l| !l.trim().is_empty());
            Err(match last {
                Some(line) => format!("exited with {}: {}", out.status, line.trim()),
                None => format!("exited with {}", out.status),
            })
        }
    }
}
