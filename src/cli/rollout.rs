//! A job rolled out in waves (`--wave 5 --wave 25% --wave rest`): each wave a job of its own
//! over its tenants, the next started only when the wave before had fewer failed tenants
//! than `--max-failures` (1 unless given), after `--wave-pause` if asked (a signal then stops
//! the rollout before the next wave). A halted rollout says which tenants ran, which failed
//! and which were not started, and exits 1; the same command again plans what is left.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::args::{OrderArg, RunFlags};
use super::{EXIT_FAILED, EXIT_OK, colour, print_json, render};
use estate_engine::{
    Error, JobReport, Outcome, Plan, Project, Result, WaveOrder, WaveSize, check_waves,
};

/// The waves and the order asked for.
pub struct Rollout {
    sizes: Vec<WaveSize>,
    order: WaveOrder,
}

/// One wave as it ran.
#[derive(Debug, Serialize)]
struct WaveRun {
    wave: usize,
    tenants: Vec<String>,
    failed: Vec<String>,
    report: JobReport,
}

impl Rollout {
    /// The rollout `--wave` asks for, checked; `None` without waves.
    pub fn of(flags: &RunFlags) -> Result<Option<Rollout>> {
        // An order no wave follows would be ignored: said, rather than passed over.
        let ordered = flags.order == OrderArg::Random || flags.seed.is_some();
        if flags.waves.is_empty() && ordered {
            return Err(Error::refused(
                "--order and --seed order the tenants of waves, and no --wave was given",
                "add the waves, e.g. --wave 5 --wave 25% --wave rest, or leave out --order and --seed",
            ));
        }
        if flags.seed.is_some() && flags.order == OrderArg::Slug {
            return Err(Error::refused(
                "--seed shuffles the tenants, and the order is by slug",
                "add --order random, or leave out --seed",
            ));
        }
        if flags.waves.is_empty() {
            return Ok(None);
        }
        let sizes: Vec<WaveSize> = flags
            .waves
            .iter()
            .map(|w| WaveSize::parse(w))
            .collect::<Result<_>>()?;
        check_waves(&sizes)?;
        let order = match flags.order {
            OrderArg::Slug => WaveOrder::Slug,
            OrderArg::Random => WaveOrder::Random(flags.seed.unwrap_or_else(new_seed)),
        };
        Ok(Some(Rollout { sizes, order }))
    }

    /// Runs `plan` wave by wave (or, a dry run, shows the waves); `show_plan` unless the
    /// confirmation showed it already.
    pub async fn run(
        &self,
        project: &Project,
        plan: Plan,
        flags: &RunFlags,
        show_plan: bool,
    ) -> Result<u8> {
        let waves = plan.waves(&self.sizes, self.order);
        let seed = match self.order {
            WaveOrder::Random(seed) => Some(seed),
            WaveOrder::Slug => None,
        };
        let order_said = match seed {
            Some(seed) => format!("random order, seed {seed} (--seed {seed} repeats it)"),
            None => "slug order".to_string(),
        };
        let groups: Vec<Vec<String>> = waves.iter().map(|w| w.tenants.clone()).collect();
        if flags.dry_run {
            if flags.json {
                print_json(
                    &json!({ "dry_run": true, "plan": plan, "waves": groups, "seed": seed }),
                );
            } else {
                out!("{}", colour(render::plan(&plan, true)));
                outln!("{} wave(s), {order_said}:", waves.len());
                for (i, g) in groups.iter().enumerate() {
                    outln!("  wave {}: {}", i + 1, g.join(", "));
                }
                outln!("dry run: nothing was changed");
            }
            return Ok(EXIT_OK);
        }
        if !flags.json {
            if show_plan {
                out!("{}", colour(render::plan(&plan, false)));
            }
            outln!(
                "rolling out to {} tenant(s) in {} wave(s), {order_said}",
                groups.iter().map(Vec::len).sum::<usize>(),
                waves.len()
            );
        }
        let threshold = flags.max_failures().unwrap_or(1);
        let mut ran: Vec<WaveRun> = Vec::new();
        let mut halted: Option<String> = None;
        for (i, wave) in waves.iter().enumerate() {
            if i > 0
                && let Some(seconds) = flags.wave_pause
                && let Some(stop) = pause(seconds).await
            {
                halted = Some(format!("{stop} during the pause before wave {}", i + 1));
                break;
            }
            if !flags.json {
                errln!(
                    "wave {}/{}: {} tenant(s): {}",
                    i + 1,
                    waves.len(),
                    wave.tenants.len(),
                    wave.tenants.join(", ")
                );
            }
            let report = super::execute::run_job(project, wave, flags).await?;
            if !flags.json {
                out!("wave {}: {}", i + 1, colour(render::report(&report)));
            }
            let failed = failed_tenants(&report);
            let stopped = report.not_started() > 0;
            let landlord_failed = report
                .steps
                .iter()
                .any(|s| s.step.tenant.is_none() && matches!(s.outcome, Outcome::Failed { .. }));
            let run = WaveRun {
                wave: i + 1,
                tenants: wave.tenants.clone(),
                failed: failed.clone(),
                report,
            };
            ran.push(run);
            if landlord_failed {
                halted = Some(format!("the landlord's step failed in wave {}", i + 1));
            } else if failed.len() >= threshold {
                halted = Some(format!(
                    "{} tenant(s) failed in wave {} ({}), the limit being {threshold}",
                    failed.len(),
                    i + 1,
                    failed.join(", ")
                ));
            } else if stopped {
                halted = Some(format!("wave {} was stopped before its end", i + 1));
            }
            if halted.is_some() {
                break;
            }
        }
        let not_started: Vec<String> = groups[ran.len()..].iter().flatten().cloned().collect();
        let failed: Vec<String> = ran.iter().flat_map(|w| w.failed.clone()).collect();
        if flags.json {
            print_json(&json!({
                "dry_run": false,
                "plan": plan,
                "rollout": {
                    "order": if seed.is_some() { "random" } else { "slug" },
                    "seed": seed,
                    "waves": ran,
                    "halted": halted,
                    "failed": failed,
                    "not_started": not_started,
                },
            }));
        } else if let Some(why) = &halted {
            errln!(
                "rollout halted: {why}\n  {} wave(s) ran; failed: {}; not started ({}): {}\n  fix: look at the failures (`estate history --failed`), correct them, then run the same command again to go on with what is left",
                ran.len(),
                if failed.is_empty() {
                    "none".to_string()
                } else {
                    failed.join(", ")
                },
                not_started.len(),
                if not_started.is_empty() {
                    "none".to_string()
                } else {
                    not_started.join(", ")
                },
            );
        } else {
            outln!("rollout done: {} wave(s)", ran.len());
        }
        let all_well = halted.is_none() && ran.iter().all(|w| w.report.is_success());
        Ok(if all_well { EXIT_OK } else { EXIT_FAILED })
    }
}

/// The tenants with a failed step, in slug order.
fn failed_tenants(report: &JobReport) -> Vec<String> {
    let failed: BTreeSet<String> = report
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
        .filter_map(|s| s.step.tenant.clone())
        .collect();
    failed.into_iter().collect()
}

/// Waits `seconds`; the name of the signal that cut it short, if one did. Said on stderr
/// with `--json` too: a rollout that waits must not look hung.
async fn pause(seconds: u64) -> Option<&'static str> {
    errln!("pausing {seconds} s before the next wave (Ctrl-C stops the rollout here)");
    let Some(mut signals) = crate::signals::Signals::install() else {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        return None;
    };
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(seconds)) => None,
        stop = signals.next() => Some(stop.name()),
    }
}

/// A seed for `--order random` when none is given: the clock's nanoseconds, printed so the
/// order can be had again.
fn new_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_007)
        .unwrap_or(1)
}
