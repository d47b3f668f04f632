//! What the CLI shows on stderr while a job runs.
//!
//! On a terminal, a progress bar of the job's tenants (done / total, failures, the time left
//! from the job's own progress events) with failures and skips printed above it; off a
//! terminal (CI logs, pipes), plain lines: the job's steps and migrations for a small job, and
//! for a fleet a progress line at every tenth of the way, so a log of a thousand tenants stays
//! readable. Either way every failure is printed when it happens. Off a terminal, tenants run
//! side by side interleave their lines, so each starts with its tenant (or `landlord`), padded
//! to the job's widest: `acme      ✓ applied 0001 create card templates`.

use std::io::Write as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::event_line;
use estate_engine::{JobEvent, Plan, Progress, human_duration};

/// Jobs with at most this many tenants print every step and migration.
const SMALL_JOB: usize = 10;

/// What a plain line about a landlord step starts with.
const LANDLORD: &str = "landlord";

pub struct JobProgress {
    bar: Option<ProgressBar>,
    /// Print every step and migration (a small job).
    detailed: bool,
    /// The last tenth of the way a plain progress line was printed for.
    last_tenth: usize,
    /// The width of the widest name a plain line starts with (a slug, or `landlord`).
    width: usize,
}

impl JobProgress {
    /// `terminal`: stderr is a terminal (and colours and redraws are welcome). `plan` is the
    /// job's, for the width of the names its plain lines start with.
    pub fn new(terminal: bool, plan: &Plan) -> JobProgress {
        let landlord = (!plan.landlord.is_empty()).then_some(LANDLORD.len());
        let width = plan
            .tenant_steps
            .keys()
            .map(String::len)
            .chain(landlord)
            .max()
            .unwrap_or(0);
        JobProgress {
            bar: terminal.then(|| {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} tenants  {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("█▌ "),
                );
                bar
            }),
            detailed: true,
            last_tenth: 0,
            width,
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(anstream::stderr(), "{text}");
            }
        }
    }

    /// An event's line; off a terminal, led by the tenant it is about.
    fn event_line(&self, event: &JobEvent) {
        let Some(text) = event_line::event(event) else {
            return;
        };
        match (&self.bar, event_line::event_target(event)) {
            (None, Some(tenant)) => self.line(&format!(
                "{:<width$}  {}",
                tenant.unwrap_or(LANDLORD),
                text.trim_start(),
                width = self.width
            )),
            _ => self.line(&text),
        }
    }

    pub fn on(&mut self, event: &JobEvent) {
        match event {
            JobEvent::JobStarted { tenants, .. } => {
                self.detailed = *tenants <= SMALL_JOB;
                if let Some(bar) = &self.bar {
                    bar.set_length(*tenants as u64);
                    if *tenants == 0 {
                        bar.finish_and_clear();
                    }
                }
            }
            JobEvent::TenantFinished { progress, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(progress.done as u64);
                    bar.set_message(summary(progress));
                } else if !self.detailed {
                    let tenth = progress.done * 10 / progress.total.max(1);
                    if tenth > self.last_tenth {
                        self.last_tenth = tenth;
                        self.line(&format!(
                            "progress: {}/{} tenants, {}",
                            progress.done,
                            progress.total,
                            summary(progress)
                        ));
                    }
                }
            }
            JobEvent::JobFinished { .. } => {
                if let Some(bar) = &self.bar {
                    bar.finish_and_clear();
                }
            }
            JobEvent::StepFailed { .. } | JobEvent::StepSkipped { .. } => self.event_line(event),
            _ if self.detailed => self.event_line(event),
            _ => {}
        }
    }
}

fn summary(p: &Progress) -> String {
    let mut parts = vec![format!("{} failed", p.failed)];
    if p.not_started > 0 {
        parts.push(format!("{} not started", p.not_started));
    }
    if let Some(ms) = p.eta_ms.filter(|_| p.done < p.total) {
        parts.push(format!("about {} left", human_duration(ms)));
    }
    parts.join(", ")
}
