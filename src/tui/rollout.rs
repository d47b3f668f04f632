//! A plan rolled out in waves from the console: `w` in the confirm window picks the waves;
//! each wave runs as a job, and when it ends a window shows its results and asks before the
//! next starts. A wave with a failed tenant stops the rollout there: the same plan again goes
//! on with what is left, as `--wave` does on the command line.

use std::collections::{BTreeSet, VecDeque};

use estate_engine::{JobReport, Outcome, Plan, WaveOrder, WaveSize};

/// The waves the confirm window offers, `w` going through them: none (one job), then
/// canaries of growing size.
pub const PRESETS: &[&[WaveSize]] = &[
    &[],
    &[WaveSize::Count(1), WaveSize::Percent(10), WaveSize::Rest],
    &[WaveSize::Count(5), WaveSize::Percent(25), WaveSize::Rest],
    &[WaveSize::Percent(10)],
];

/// How a preset reads: `1, 10%, rest`.
pub fn describe(sizes: &[WaveSize]) -> String {
    sizes
        .iter()
        .map(|s| match s {
            WaveSize::Count(n) => n.to_string(),
            WaveSize::Percent(p) => format!("{p}%"),
            WaveSize::Rest => "rest".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A rollout under way: the waves not started, and the job of the one running.
#[derive(Debug)]
pub struct Rollout {
    left: VecDeque<Plan>,
    pub number: usize,
    pub total: usize,
    /// The live job (index in `Shared::live`) of the wave running.
    pub job: usize,
}

/// What a wave did, as its window shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveEnd {
    pub number: usize,
    pub total: usize,
    pub tenants: usize,
    pub succeeded: usize,
    pub failed: Vec<String>,
    /// The job could not run at all (its error), or stopped before its end.
    pub broken: Option<String>,
    /// Tenants in the waves still to come.
    pub next: usize,
    pub left: usize,
}

impl WaveEnd {
    /// Whether the rollout must stop here.
    pub fn halts(&self) -> bool {
        !self.failed.is_empty() || self.broken.is_some()
    }
}

impl Rollout {
    /// `plan` cut into `sizes` waves, the first of them taken out to run now.
    pub fn new(plan: &Plan, sizes: &[WaveSize]) -> (Plan, Rollout) {
        let mut left: VecDeque<Plan> = plan.waves(sizes, WaveOrder::Slug).into();
        let total = left.len();
        let first = left.pop_front().unwrap_or_else(|| plan.clone());
        (
            first,
            Rollout {
                left,
                number: 1,
                total,
                job: 0,
            },
        )
    }

    /// The next wave, to run now.
    pub fn next(&mut self) -> Option<Plan> {
        let wave = self.left.pop_front()?;
        self.number += 1;
        Some(wave)
    }

    /// What the wave that just ended did.
    pub fn ended(&self, result: &Result<JobReport, String>) -> WaveEnd {
        let (succeeded, failed, broken, tenants) = match result {
            Ok(report) => {
                let failed: BTreeSet<String> = report
                    .steps
                    .iter()
                    .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
                    .map(|s| {
                        s.step
                            .tenant
                            .clone()
                            .unwrap_or_else(|| "landlord".to_string())
                    })
                    .collect();
                let ran: BTreeSet<&String> = report
                    .steps
                    .iter()
                    .filter_map(|s| s.step.tenant.as_ref())
                    .collect();
                let stopped = (report.not_started() > 0)
                    .then(|| "the job was stopped before its end".to_string());
                (
                    report.succeeded(),
                    failed.into_iter().collect(),
                    stopped,
                    ran.len(),
                )
            }
            Err(e) => (0, Vec::new(), Some(e.clone()), 0),
        };
        WaveEnd {
            number: self.number,
            total: self.total,
            tenants,
            succeeded,
            failed,
            broken,
            next: self.left.front().map_or(0, |w| w.tenants.len()),
            left: self.left.iter().map(|w| w.tenants.len()).sum(),
        }
    }

    pub fn is_last(&self) -> bool {
        self.left.is_empty()
    }
}
