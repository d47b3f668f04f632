//! What a job tells its listeners while it runs, and the report it ends with.

use serde::Serialize;

use crate::catalog::Scope;
use crate::migrator::{Applied, MigrationRun};
use crate::plan::{Action, Step};

/// Names a step in events and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRef {
    pub module: String,
    pub scope: Scope,
    pub tenant: Option<String>,
    pub action: Action,
}

impl StepRef {
    pub fn of(step: &Step) -> StepRef {
        StepRef {
            module: step.module.clone(),
            scope: step.scope,
            tenant: step.tenant.clone(),
            action: step.action,
        }
    }

    /// `tenant acme` or `landlord`.
    pub fn target(&self) -> String {
        match &self.tenant {
            Some(t) => format!("tenant {t}"),
            None => "landlord".to_string(),
        }
    }
}

impl std::fmt::Display for StepRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} on {}", self.action, self.module, self.target())
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JobEvent {
    JobStarted {
        job_id: String,
        action: Action,
        steps: usize,
        tenants: usize,
    },
    StepStarted {
        step: StepRef,
    },
    MigrationApplied {
        step: StepRef,
        run: MigrationRun,
    },
    /// A line a command migrator's program wrote on stderr.
    MigratorSaid {
        step: StepRef,
        line: String,
    },
    StepSucceeded {
        step: StepRef,
        migrations: Vec<i64>,
        millis: u64,
        /// What the step's scope has applied after it; `None`: unchanged.
        applied: Option<Applied>,
    },
    StepFailed {
        step: StepRef,
        /// Migrations the step completed before the failure; each is fully applied.
        migrations: Vec<i64>,
        millis: u64,
        error: String,
        /// What the step's scope has applied after it; `None`: unchanged.
        applied: Option<Applied>,
        /// Its database could not be opened, locked or read: nothing was tried, and the
        /// module's state there stays as it was (it is the database, not the module, that
        /// needs the operator).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        unreachable: bool,
    },
    StepSkipped {
        step: StepRef,
        reason: String,
    },
    ModuleInstalled {
        tenant: String,
        module: String,
    },
    ModuleUpgraded {
        tenant: String,
        module: String,
    },
    ModuleRolledBack {
        tenant: String,
        module: String,
        /// When the rollback ended, under the tenant's lock: the registry's row is removed
        /// only if nobody wrote it since (another job may install the module there next).
        at: String,
    },
    /// A tenant step going up was skipped because what it needs did not succeed (follows its
    /// `StepSkipped`): the module is recorded failed for that tenant, blocked, with `reason`,
    /// so the intent outlives the job and `estate migrate` finishes it.
    ModuleBlocked {
        step: StepRef,
        reason: String,
    },
    /// A tenant's steps are over (or it was not started): how far the job is.
    TenantFinished {
        tenant: String,
        failed: bool,
        progress: Progress,
    },
    /// Someone (this process or another, through the registry) asked the job to stop: it
    /// stops at the next migration boundary.
    CancelRequested {
        by: String,
    },
    JobFinished {
        job_id: String,
        succeeded: usize,
        failed: usize,
        skipped: usize,
        not_started: usize,
    },
}

/// How far a job is through its tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Tenants whose steps are over, failed ones and ones not started included.
    pub done: usize,
    /// Tenants with a failed step.
    pub failed: usize,
    /// Tenants left out when the job halted (`--max-failures`).
    pub not_started: usize,
    pub total: usize,
    /// The time left at the pace measured so far, once a tenant finished.
    pub eta_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed {
        error: String,
    },
    Skipped {
        reason: String,
    },
    /// The job halted before this tenant's turn (`--max-failures`, `--fail-fast`): nothing
    /// was tried, and a re-run picks it up.
    NotStarted {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct StepOutcome {
    #[serde(flatten)]
    pub step: StepRef,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub migrations: Vec<MigrationRun>,
    pub millis: u64,
    /// When the step ended, as the registry writes times, for a step that ran.
    #[serde(skip)]
    pub ended_at: Option<String>,
}

/// What a job did, step by step.
#[derive(Debug, Clone, Serialize)]
pub struct JobReport {
    pub job_id: String,
    pub action: Action,
    pub steps: Vec<StepOutcome>,
    /// The `[[hooks]]` that failed; they never fail the job.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<super::HookFailure>,
}

impl JobReport {
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.steps.iter().filter(|s| f(&s.outcome)).count()
    }

    pub fn succeeded(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Succeeded))
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }

    pub fn not_started(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotStarted { .. }))
    }

    /// Every step succeeded.
    pub fn is_success(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0 && self.not_started() == 0
    }

    pub fn migrations(&self) -> usize {
        self.steps.iter().map(|s| s.migrations.len()).sum()
    }
}

/// A duration as people read it in a progress line: `850 ms`, `12 s`, `3 min 05 s`.
pub fn human_duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{} s", ms / 1_000),
        _ => format!("{} min {:02} s", ms / 60_000, (ms / 1_000) % 60),
    }
}
