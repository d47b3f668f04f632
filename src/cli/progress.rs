//! What the CLI shows on stderr while a job runs.
//!
//! On a terminal, a progress bar of the job's tenants (done / total, failures, the time left
//! from the job's own progress events) with failures and skips printed above it; off a
//! terminal (CI logs, pipes), plain lines: the job's steps and migrations for a small job, and
//! for a fleet a progress line at every tenth of the way, so a log of a thousand tenants stays
//! readable. Either way every failure is printed when it happens.

use std::io::Write as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::render;
use estate_engine::{JobEvent, Progress, human_duration};

/// Jobs with at most this many tenants print every step and migration.
const SMALL_JOB: usize = 10;

pub struct JobProgress {
    bar: Option<ProgressBar>,
    /// Print every step and migration (a small job).
    detailed: bool,
    /// The last tenth of the way a plain progress line was printed for.
    last_tenth: usize,
}

impl JobProgress {
    /// `terminal`: stderr is a terminal (and colours and redraws are welcome).
    pub fn new(terminal: bool) -> JobProgress {
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
            JobEvent::StepFailed { .. } | JobEvent::StepSkipped { .. } => {
                if let Some(text) = render::event(event) {
                    self.line(&text);
                }
            }
            _ if self.detailed => {
                if let Some(text) = render::event(event) {
                    self.line(&text);
                }
            }
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
