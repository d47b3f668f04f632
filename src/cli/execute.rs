//! `estate install`, `rollback` and `migrate`: the plan made and shown, confirmed when a
//! rollback runs on a terminal, then run as a job with progress on stderr. The first signal
//! stops the job at the next migration boundary; a second (not a hangup) stops it now.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;
use tokio::sync::mpsc::unbounded_channel;

use super::args::{AdoptArgs, InstallArgs, MigrateArgs, RollbackArgs, RunFlags, ScopeArg};
use super::{
    EXIT_FAILED, EXIT_OK, colour, open, print_json, progress, render, selection, selection_of,
};
use estate_engine::Scope;
use estate_engine::{
    Config, Error, JobControl, JobReport, Plan, Project, RegisteredMigrators, Result,
};

pub async fn install(
    config: Config,
    registered: &RegisteredMigrators,
    args: InstallArgs,
) -> Result<u8> {
    let selection = selection(&args.targets)?;
    let project = open(config, registered).await?;
    let plan = project.plan_install(&args.modules, &selection).await?;
    execute(&project, plan, &args.run, false).await
}

pub async fn adopt(
    config: Config,
    registered: &RegisteredMigrators,
    args: AdoptArgs,
) -> Result<u8> {
    let selection = selection(&args.targets)?;
    let project = open(config, registered).await?;
    let plan = project
        .plan_adopt(&args.modules, &selection, args.to)
        .await?;
    execute(&project, plan, &args.run, false).await
}

pub async fn rollback(
    config: Config,
    registered: &RegisteredMigrators,
    args: RollbackArgs,
) -> Result<u8> {
    let selection = selection(&args.targets)?;
    let project = open(config, registered).await?;
    let plan = project
        .plan_rollback(&args.modules, &selection, args.cascade)
        .await?;
    let ask = !args.yes
        && !args.run.json
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    execute(&project, plan, &args.run, ask).await
}

pub async fn migrate(
    config: Config,
    registered: &RegisteredMigrators,
    args: MigrateArgs,
) -> Result<u8> {
    let selection = selection_of(&args.tenants, &args.conditions)?;
    let scopes: &[Scope] = match args.scope {
        ScopeArg::Landlord => &[Scope::Landlord],
        ScopeArg::Tenant => &[Scope::Tenant],
        ScopeArg::All => &Scope::ALL,
    };
    let project = open(config, registered).await?;
    let plan = project
        .plan_migrate(&args.modules, &selection, scopes)
        .await?;
    execute(&project, plan, &args.run, false).await
}

/// Shows the plan, then (unless a dry run) runs it with progress on stderr and reports.
async fn execute(project: &Project, plan: Plan, flags: &RunFlags, confirm: bool) -> Result<u8> {
    if flags.dry_run || plan.is_empty() {
        if flags.json {
            print_json(&json!({ "dry_run": flags.dry_run, "plan": plan, "report": null }));
        } else {
            out!("{}", colour(render::plan(&plan, flags.dry_run)));
            if flags.dry_run {
                outln!("dry run: nothing was changed");
            }
        }
        return Ok(EXIT_OK);
    }
    project.ensure_writable(&format!("{} {}", plan.action, plan.modules.join(" ")))?;
    if !flags.json {
        out!("{}", colour(render::plan(&plan, false)));
    }
    if confirm && !confirmed(&plan)? {
        return Err(Error::refused(
            "not confirmed: nothing was changed",
            "answer y to run the plan, or pass --yes",
        ));
    }
    let report = run_job(project, &plan, flags).await?;
    if flags.json {
        print_json(&json!({ "dry_run": false, "plan": plan, "report": report }));
    } else {
        out!("{}", colour(render::report(&report)));
    }
    Ok(if report.is_success() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// Runs `plan` as a job, its progress on stderr (unless `--json`). The first signal stops the
/// job at the next migration boundary; a second (not a hangup) stops it now.
pub async fn run_job(project: &Project, plan: &Plan, flags: &RunFlags) -> Result<JobReport> {
    let control = JobControl::default().with_max_failures(flags.max_failures());
    let (tx, mut rx) = unbounded_channel();
    let show_progress = !flags.json;
    let progress = async {
        let mut shown = progress::JobProgress::new(std::io::stderr().is_terminal(), plan);
        while let Some(event) = rx.recv().await {
            if show_progress {
                shown.on(&event);
            }
        }
    };
    let signals = crate::signals::Signals::install();
    let servers = project.config().servers.clone();
    let interrupt = tokio::spawn({
        let control = control.clone();
        async move {
            let Some(mut signals) = signals else { return };
            let first = signals.next().await;
            tracing::warn!(
                signal = first.name(),
                "stopping the job at the next migration boundary"
            );
            errln!(
                "{}: stopping after the migrations under way (Ctrl-C again to force)",
                first.name()
            );
            control.cancel();
            // A statement that runs on past the grace (a runaway query, a lock that never
            // comes) is interrupted: its migration rolls back whole and the job ends.
            let grace = tokio::time::sleep(crate::signals::GRACE);
            tokio::pin!(grace);
            let mut interrupted = false;
            loop {
                tokio::select! {
                    () = &mut grace, if !interrupted => {
                        interrupted = true;
                        errln!(
                            "{}: the migrations under way did not end within {} s: interrupting them",
                            first.name(),
                            crate::signals::GRACE.as_secs()
                        );
                        estate_engine::interrupt_statements(&servers).await;
                    }
                    // A hangup again changes nothing: nobody is there. Asked twice otherwise,
                    // stop now: each migration is atomic with its ledger row, so a forced stop
                    // loses at most the one under way, never half of it.
                    again = signals.next() => {
                        if again != crate::signals::Stop::Hangup {
                            estate_engine::kill_programs();
                            std::process::exit(again.exit_status());
                        }
                    }
                }
            }
        }
    });
    let (report, ()) = tokio::join!(project.run(plan, Some(tx), control.clone()), progress);
    interrupt.abort();
    report
}

fn confirmed(plan: &Plan) -> Result<bool> {
    err!(
        "{} {} step(s), {} migration(s) to revert. Proceed? [y/N] ",
        plan.action,
        plan.step_count(),
        plan.migration_count()
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the answer", e))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
