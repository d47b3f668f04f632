//! The fleet loop: a job's landlord phase (`landlord.rs`), then its tenants side by side
//! (reversed for a rollback), within the global and each server's concurrency limit, halting the tenants not
//! yet started once `--max-failures` tenants failed.
//!
//! One tenant's failure never stops another: its outcome is counted, and only the failure
//! policy (or a cancel) keeps the remaining tenants from starting.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;

use super::events::{JobEvent, Outcome, Progress, StepOutcome};
use super::landlord::LandlordUp;
use super::runner::{Events, JobControl, JobRunner};
use super::tenant::{CANCELLED, failed_to_start, not_started};
use crate::plan::{Plan, Step};
use crate::registry::TenantRecord;
use crate::sync::lock;

/// A job's count of its tenants, for progress events and the failure policy.
struct Tally {
    started: Instant,
    total: usize,
    done: usize,
    failed: usize,
    not_started: usize,
    /// Set once `max_failures` tenants failed: tenants not yet started stay so.
    halted: Option<String>,
}

impl Tally {
    fn progress(&self) -> Progress {
        // Paced on the tenants that ran: the ones not started took no time.
        let ran = self.done - self.not_started;
        let left = self.total - self.done;
        let eta_ms = (ran > 0).then(|| {
            let per = self.started.elapsed().as_millis() as f64 / ran as f64;
            (per * left as f64) as u64
        });
        Progress {
            done: self.done,
            failed: self.failed,
            not_started: self.not_started,
            total: self.total,
            eta_ms,
        }
    }
}

impl JobRunner<'_> {
    /// The whole plan: the landlord first, then the tenants; for a rollback the tenants
    /// first, since a module's landlord scope may go only once no tenant keeps it.
    pub(super) async fn execute(
        &self,
        plan: &Plan,
        job_id: &str,
        tx: &Events,
        control: &JobControl,
    ) -> Vec<StepOutcome> {
        let mut outcomes = Vec::new();
        let mut landlord_up = LandlordUp::default();
        if plan.action.is_down() {
            let tenant_outcomes = self.tenants(plan, &landlord_up, tx, control).await;
            let landlord = self
                .landlord_down(plan, job_id, &tenant_outcomes, tx, control)
                .await;
            outcomes.extend(tenant_outcomes);
            outcomes.extend(landlord);
        } else {
            let landlord = self.landlord_up(plan, &mut landlord_up, tx, control).await;
            let tenant_outcomes = self.tenants(plan, &landlord_up, tx, control).await;
            let unused = self
                .landlord_unused(job_id, &landlord, &tenant_outcomes, tx, control)
                .await;
            outcomes.extend(landlord);
            outcomes.extend(tenant_outcomes);
            outcomes.extend(unused);
        }
        outcomes
    }

    /// Every tenant's steps, tenants side by side: at most `concurrency` at once, and at most
    /// each server's own limit on one server. The next tenant starts whenever any finishes,
    /// so a slow tenant holds only itself; tenants are taken in turn from each server, so a
    /// server at its limit does not hold the others back.
    async fn tenants(
        &self,
        plan: &Plan,
        landlord: &LandlordUp,
        tx: &Events,
        control: &JobControl,
    ) -> Vec<StepOutcome> {
        let records: BTreeMap<String, TenantRecord> = match self.registry.tenants().await {
            Ok(all) => all.into_iter().map(|t| (t.slug.clone(), t)).collect(),
            Err(e) => {
                let error = format!("the registry could not be read: {e}");
                return plan
                    .tenant_steps
                    .values()
                    .flatten()
                    .map(|s| failed_to_start(s, &error, true, tx))
                    .collect();
            }
        };
        let limits: BTreeMap<String, Arc<tokio::sync::Semaphore>> = self
            .config
            .servers
            .iter()
            .map(|s| (s.name.clone(), s.permits()))
            .collect();
        let mut by_server: BTreeMap<
            Option<String>,
            std::collections::VecDeque<(&String, &Vec<Step>)>,
        > = BTreeMap::new();
        for (tenant, steps) in plan.tenant_steps.iter().filter(|(_, s)| !s.is_empty()) {
            let server = records.get(tenant).and_then(|r| r.placement.server.clone());
            by_server
                .entry(server)
                .or_default()
                .push_back((tenant, steps));
        }
        let total: usize = by_server.values().map(|q| q.len()).sum();
        let mut order = Vec::with_capacity(total);
        while order.len() < total {
            for queue in by_server.values_mut() {
                if let Some(next) = queue.pop_front() {
                    order.push(next);
                }
            }
        }
        let tally = Mutex::new(Tally {
            started: Instant::now(),
            total,
            done: 0,
            failed: 0,
            not_started: 0,
            halted: None,
        });
        let halted = || {
            lock(&tally)
                .halted
                .clone()
                .or_else(|| control.is_cancelled().then(|| CANCELLED.to_string()))
        };
        futures::stream::iter(order)
            .map(|(tenant, steps)| {
                let record = records.get(tenant);
                let limit = record
                    .and_then(|r| r.placement.server.as_ref())
                    .and_then(|s| limits.get(s))
                    .cloned();
                let tally = &tally;
                async move {
                    let _permit = match &limit {
                        Some(l) => l.acquire().await.ok(),
                        None => None,
                    };
                    let outcomes = match halted() {
                        Some(reason) => steps.iter().map(|s| not_started(s, &reason)).collect(),
                        None => {
                            self.tenant(plan, tenant, record, landlord, tx, control)
                            .await
                        }
                    };
                    let failed = outcomes
                        .iter()
                        .any(|o| matches!(o.outcome, Outcome::Failed { .. }));
                    let skipped = outcomes
                        .iter()
                        .all(|o| matches!(o.outcome, Outcome::NotStarted { .. }));
                    let progress = {
                        let mut t = lock(tally);
                        t.done += 1;
                        t.failed += usize::from(failed);
                        t.not_started += usize::from(skipped);
                        if let Some(max) = control.max_failures()
                            && t.failed >= max
                            && t.halted.is_none()
                        {
                            tracing::warn!(failed = t.failed, max, "halting the job: too many tenants failed");
                            t.halted = Some(format!(
                                "not started: the job halted after {} tenant(s) failed (--max-failures {max})",
                                t.failed
                            ));
                        }
                        t.progress()
                    };
                    let _ = tx.send(JobEvent::TenantFinished {
                        tenant: tenant.clone(),
                        failed,
                        progress,
                    });
                    outcomes
                }
            })
            .buffer_unordered(self.config.concurrency)
            .collect::<Vec<Vec<StepOutcome>>>()
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}
