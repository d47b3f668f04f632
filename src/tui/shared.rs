//! What every view and window reads and may change: the snapshot, the marks, the jobs this
//! console started, the last verify's drift, the tenants shown (the Tenants and Matrix views
//! list them through one filter, and the Modules view marks a module for them), the last
//! message, and the work asked for. Views never call each other; what one does that another
//! shows goes through here. Nothing here draws or touches a database: work is asked for as an
//! [`Effect`] and its result comes back as a `Msg`, which the routing hands to these methods.

use std::cell::Cell;
use std::collections::BTreeSet;

use super::data::Snapshot;
use super::drift::{Drift, Findings};
use super::jobs::{LiveJob, RecordedLog};
use super::query::Query;
use super::rows::{Cursor, Filtered, Order};
use super::widgets::status_line::Tone;
use super::worker::{Effect, LOG_LINES};
use estate_engine::{
    JobControl, JobEvent, JobRecord, JobReport, ModuleState, Plan, VerifyReport, WaveSize,
};

pub struct Shared {
    pub data: Snapshot,
    /// False until the first snapshot arrives.
    pub loaded: bool,
    pub read_only: bool,
    /// Marked cells: (tenant, module).
    pub marks: BTreeSet<(String, String)>,
    /// The jobs this console started, oldest first.
    pub live: Vec<LiveJob>,
    /// A read of the registry's jobs is under way: a slow server never piles reads up.
    pub polling_jobs: bool,
    /// The log of the job selected in the Jobs view when this console did not start it.
    pub recorded_log: Option<RecordedLog>,
    /// The last verify's findings, shown in the Matrix.
    pub drift: Drift,
    pub message: Option<(String, Tone)>,
    /// The tenants the Tenants and Matrix views list, through their one filter.
    pub tenants: Filtered,
    /// The order they are listed in.
    pub order: Order,
    /// Rows that fit in the table drawn last: a page, for the keys read before the next frame.
    pub page: Cell<usize>,
    /// How far the window drawn last can scroll, likewise.
    pub window_scroll: Cell<usize>,
    /// The waves the plans confirmed last are to run in (`w` in the confirm window).
    pub pending_waves: Option<Vec<WaveSize>>,
    effects: Vec<Effect>,
}

impl Shared {
    pub fn new(data: Snapshot, read_only: bool) -> Shared {
        Shared {
            data,
            loaded: true,
            read_only,
            marks: BTreeSet::new(),
            live: Vec::new(),
            polling_jobs: false,
            recorded_log: None,
            drift: Drift::default(),
            message: None,
            tenants: Filtered::default(),
            order: Order::default(),
            page: Cell::new(10),
            window_scroll: Cell::new(0),
            pending_waves: None,
            effects: Vec::new(),
        }
    }

    pub fn say(&mut self, message: impl Into<String>) {
        self.message = Some((message.into(), Tone::Info));
    }

    pub fn warn(&mut self, message: impl Into<String>) {
        self.message = Some((message.into(), Tone::Error));
    }

    /// Asks for work in the background.
    pub fn ask(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// The work asked for since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn tenant_slug(&self, t: usize) -> String {
        self.data.tenants()[t].slug.clone()
    }

    pub fn module_name(&self, m: usize) -> String {
        self.data.modules[m].name.clone()
    }

    /// Reads the tenants shown again, through `filter` when one is given and in their order;
    /// each of `cursors` (the views over them) stays on its row, or goes to the first match of
    /// a new filter.
    pub fn refilter_tenants(&mut self, filter: Option<Query>, cursors: &mut [&mut Cursor]) {
        let data = &self.data;
        let tenants = data.tenants();
        self.tenants.refilter(
            filter,
            self.order.rows(data),
            |t, query| {
                query.matches_tagged(
                    || {
                        let r = &tenants[t];
                        format!("{} {} {}", r.slug, r.name, r.placement.describe())
                    },
                    |module, state| {
                        Some(match module {
                            None => data.matrix.row(t).iter().any(|c| c.state == state),
                            Some(m) => data
                                .module_index(m)
                                .is_some_and(|m| data.matrix.cell(t, m).state == state),
                        })
                    },
                    Some(&tenants[t].tags),
                )
            },
            cursors,
        );
    }

    /// Jobs queued or running.
    pub fn running(&self) -> usize {
        self.live.iter().filter(|j| j.state.is_active()).count()
    }

    pub fn reload(&mut self) {
        self.ask(Effect::Reload);
        self.say("reloading…");
    }

    pub fn verify(&mut self) {
        if matches!(self.drift, Drift::Verifying) {
            return self.say("already verifying");
        }
        self.drift = Drift::Verifying;
        self.ask(Effect::Verify);
        self.say(
            "verifying every tenant's ledger against the registry and the files (reads only)…",
        );
    }

    /// Takes a new snapshot (the views read their rows again after).
    pub fn take_snapshot(&mut self, snapshot: Snapshot) {
        let first = !self.loaded;
        self.data = snapshot;
        self.loaded = true;
        if !first
            && self
                .message
                .as_ref()
                .is_some_and(|(m, _)| m == "reloading…")
        {
            self.say("reloaded");
        }
    }

    /// Runs confirmed plans as jobs, in the background; false when none had anything to do.
    pub fn start(&mut self, plans: Vec<Plan>) -> bool {
        let plans: Vec<Plan> = plans.into_iter().filter(|p| !p.is_empty()).collect();
        if plans.is_empty() {
            self.say("nothing to do");
            return false;
        }
        let mut jobs = Vec::new();
        for plan in plans {
            let control = JobControl::default();
            self.live
                .push(LiveJob::new(&plan, control.clone(), &self.data.operator));
            jobs.push((self.live.len() - 1, plan, control));
        }
        let n = jobs.len();
        self.ask(Effect::Run(jobs));
        self.marks.clear();
        self.say(format!(
            "{n} job(s) started in the background: 4 shows them, c cancels"
        ));
        true
    }

    /// Asks live job `i` to stop at its next migration boundary, if it is still active.
    pub fn cancel(&mut self, i: usize) -> bool {
        let Some(job) = self.live.get_mut(i).filter(|j| j.state.is_active()) else {
            return false;
        };
        // The job's runner says so in its log (the registry's too) when it sees the flag.
        job.control.cancel();
        self.say("cancelling: the job stops at its next migration boundary");
        true
    }

    /// Asks job `job`, which another process runs, to stop at its next migration boundary:
    /// the registry records who asked, and its runner stops when it reads that.
    pub fn cancel_elsewhere(&mut self, job: &str) {
        if self.read_only {
            return self.warn(format!(
                "read-only: this console cancels nothing; `estate jobs cancel {job}` does"
            ));
        }
        self.ask(Effect::CancelJob(job.to_string()));
        self.say(format!("asking job {job} to stop…"));
    }

    pub fn on_cancel_asked(&mut self, job: &str, result: Result<(), String>) {
        match result {
            Ok(()) => self.say(format!(
                "job {job} asked to stop by {}: it stops at its next migration boundary",
                self.data.operator
            )),
            Err(e) => self.warn(format!("cancelling job {job} failed: {e}")),
        }
        self.poll_jobs();
    }

    /// Plans job `job` again (its failed, skipped and not started steps).
    pub fn retry(&mut self, job: &str) {
        if self.read_only {
            return self.warn("read-only: this console plans nothing");
        }
        self.ask(Effect::Retry(job.to_string()));
        self.say(format!("planning a retry of job {job}…"));
    }

    /// Asks for the registry's jobs, whichever process runs them, unless a read is under way.
    pub fn poll_jobs(&mut self) {
        if self.loaded && !self.polling_jobs {
            self.polling_jobs = true;
            self.ask(Effect::PollJobs);
        }
    }

    /// The registry's jobs, read anew. A job another process ran that ended since the last
    /// read changed cells: a reload shows them.
    pub fn on_jobs(&mut self, result: Result<Vec<JobRecord>, String>) {
        self.polling_jobs = false;
        let jobs = match result {
            Ok(jobs) => jobs,
            Err(e) => return self.warn(format!("reading the jobs failed: {e}")),
        };
        let ours: BTreeSet<&str> = self
            .live
            .iter()
            .filter_map(|j| j.job_id.as_deref())
            .collect();
        // Ended since the last read, or started and ended between two reads.
        let ended_elsewhere = jobs
            .iter()
            .filter(|j| !j.is_running() && !ours.contains(j.id.as_str()))
            .any(|j| {
                !self
                    .data
                    .jobs
                    .iter()
                    .any(|old| old.id == j.id && old.state == j.state)
            });
        self.data.jobs = jobs;
        if ended_elsewhere {
            self.ask(Effect::Reload);
        }
    }

    /// Reads the log of job `job` as the registry keeps it: whole when it is newly selected,
    /// then the lines after the last read while it runs, and once more after it ends.
    pub fn follow_log(&mut self, job: &JobRecord) {
        let log = match &mut self.recorded_log {
            Some(log) if log.job == job.id => log,
            other => other.insert(RecordedLog::new(&job.id)),
        };
        if log.reading || log.complete {
            return;
        }
        log.reading = true;
        // Its lines are all written before its row says it ended: this read is the last.
        log.complete = !job.is_running();
        self.effects.push(Effect::JobLog {
            job: job.id.clone(),
            after: log.last_seq,
        });
    }

    pub fn on_job_log(
        &mut self,
        job: &str,
        result: Result<Vec<estate_engine::LoggedLine>, String>,
    ) {
        let Some(log) = self.recorded_log.as_mut().filter(|l| l.job == job) else {
            return;
        };
        match result {
            Ok(lines) => {
                let more = lines.len() as i64 >= LOG_LINES;
                log.extend(lines);
                if more {
                    // A long log comes in several reads, one after the other.
                    log.complete = false;
                    log.reading = true;
                    let after = log.last_seq;
                    self.ask(Effect::JobLog {
                        job: job.to_string(),
                        after,
                    });
                }
            }
            Err(e) => {
                log.reading = false;
                log.complete = true;
                self.warn(format!("reading job {job}'s log failed: {e}"));
            }
        }
    }

    /// Stops every active job at its next migration boundary.
    pub fn cancel_all(&self) {
        for j in self.live.iter().filter(|j| j.state.is_active()) {
            j.control.cancel();
        }
    }

    /// An event of live job `i`; true when the job just started (it has a registry id now).
    pub fn on_job_event(&mut self, i: usize, event: JobEvent) -> bool {
        // The matrix shows each cell change as it happens.
        match &event {
            JobEvent::ModuleInstalled { tenant, module }
            | JobEvent::ModuleUpgraded { tenant, module } => {
                self.data.set_state(tenant, module, ModuleState::Installed)
            }
            JobEvent::ModuleRolledBack { tenant, module, .. } => {
                self.data
                    .set_state(tenant, module, ModuleState::NotInstalled)
            }
            JobEvent::StepFailed { step, .. } => {
                if let Some(t) = &step.tenant {
                    self.data.set_state(t, &step.module, ModuleState::Failed);
                }
            }
            _ => {}
        }
        let started = matches!(event, JobEvent::JobStarted { .. });
        if let Some(job) = self.live.get_mut(i) {
            job.on(&event);
        }
        started
    }

    /// Live job `i`'s task ended; a reload shows what it left.
    pub fn on_finished(&mut self, i: usize, result: Result<JobReport, String>) {
        if let Some(job) = self.live.get_mut(i) {
            let ok = result.as_ref().is_ok_and(|r| r.is_success());
            job.finish(result);
            let state = job.state.label().to_string();
            let what = format!("{} {}", job.action, job.modules);
            if ok {
                self.say(format!("{what}: {state}"));
            } else {
                self.warn(format!("{what}: {state}; 4 shows its log"));
            }
        }
        self.ask(Effect::Reload);
    }

    pub fn on_verified(&mut self, result: Result<VerifyReport, String>) {
        match result {
            Ok(report) => {
                self.drift = Drift::Checked {
                    at: chrono::Utc::now().format("%H:%M:%S").to_string(),
                    findings: Findings::new(report),
                };
                let summary = self.drift.summary();
                if self.drift.findings().is_some_and(|f| f.len() > 0) {
                    self.warn(format!("verify: {summary}; enter on a ⚠ shows the fix"));
                } else {
                    self.say(format!("verify: {summary}"));
                }
            }
            Err(e) => {
                self.warn(format!("verify failed: {e}"));
                self.drift = Drift::Failed(e);
            }
        }
    }
}
