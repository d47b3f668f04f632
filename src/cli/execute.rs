//! `estate install`, `rollback` and `migrate`: the plan made and shown, confirmed when a
//! rollback runs on a terminal, then run as a job with progress on stderr. The first signal
//! stops the job at the next migration boundary; a second (not a hangup) stops it now.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;
use tokio::sync::mpsc::unbounded_channel;

use super::args::{AdoptArgs, InstallArgs, MigrateArgs, RollbackArgs, RunFlags, ScopeArg};
use super::{EXIT_FAILED, EXIT_OK, colour, open, print_json, progress, render, selection_of};
use estate_engine::{
    Config, Error, JobControl, JobReport, Plan, Project, RegisteredMigrators, Result,
};
use estate_engine::{Direction, Scope, TenantSelection};

pub async fn install(
    config: Config,
    registered: &RegisteredMigrators,
    args: InstallArgs,
) -> Result<u8> {
    let landlord_only = match args.scope {
        None | Some(ScopeArg::All) => false,
        Some(ScopeArg::Landlord) => true,
        Some(ScopeArg::Tenant) => {
            return Err(Error::refused(
                "install --scope tenant: an install runs the landlord scope before the tenant scope",
                "leave out --scope, or give --scope landlord to install the landlord scope alone",
            ));
        }
    };
    let given =
        args.targets.all || !args.targets.tenants.is_empty() || !args.targets.conditions.is_empty();
    if landlord_only && given {
        return Err(Error::refused(
            "install --scope landlord acts on no tenant, and tenants were named",
            "leave out --tenant, --all and --where with --scope landlord",
        ));
    }
    let selection = if landlord_only {
        None
    } else {
        Some(args.targets.selection()?)
    };
    let project = open(config, registered).await?;
    let plan = match &selection {
        None => project.plan_install_landlord(&args.modules).await?,
        Some(selection) => project.plan_install(&args.modules, selection).await?,
    };
    execute(&project, plan, &args.run, false).await
}

pub async fn adopt(
    config: Config,
    registered: &RegisteredMigrators,
    args: AdoptArgs,
) -> Result<u8> {
    let selection = args.targets.selection()?;
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
    let project;
    let plan = match (args.to, args.scope) {
        (Some(to), Some(scope)) => {
            let (module, scope) = one_module(&args.modules, scope, "rollback")?;
            let selection = match scope {
                Scope::Landlord => TenantSelection::All,
                Scope::Tenant => args.targets.selection()?,
            };
            project = open(config, registered).await?;
            project
                .plan_to_version(module, &selection, scope, to, Direction::Down)
                .await?
        }
        _ => {
            let selection = args.targets.selection()?;
            project = open(config, registered).await?;
            project
                .plan_rollback(&args.modules, &selection, args.cascade)
                .await?
        }
    };
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
    if let Some(to) = args.to {
        let (module, scope) = one_module(&args.modules, args.scope, "migrate")?;
        let project = open(config, registered).await?;
        let plan = project
            .plan_to_version(module, &selection, scope, to, Direction::Up)
            .await?;
        return execute(&project, plan, &args.run, false).await;
    }
    let project = open(config, registered).await?;
    let plan = project
        .plan_migrate(&args.modules, &selection, scopes)
        .await?;
    execute(&project, plan, &args.run, false).await
}

/// `--to` moves one module's one scope: refused for several modules, or both scopes.
fn one_module<'a>(
    modules: &'a [String],
    scope: ScopeArg,
    command: &str,
) -> Result<(&'a str, Scope)> {
    let [module] = modules else {
        return Err(Error::refused(
            format!(
                "{command} --to names a version of one module, and {} were given",
                modules.len()
            ),
            format!("run `estate {command} MODULE --to VERSION --scope tenant` once per module"),
        ));
    };
    let scope = match scope {
        ScopeArg::Landlord => Scope::Landlord,
        ScopeArg::Tenant => Scope::Tenant,
        ScopeArg::All => {
            return Err(Error::refused(
                format!("{command} --to: a version is one scope's, and no scope was chosen"),
                "add --scope tenant or --scope landlord",
            ));
        }
    };
    Ok((module, scope))
}

/// Shows the plan, then (unless a dry run) runs it with progress on stderr and reports.
async fn execute(project: &Project, plan: Plan, flags: &RunFlags, confirm: bool) -> Result<u8> {
    let rollout = super::rollout::Rollout::of(flags)?;
    if let Some(rollout) = &rollout
        && !plan.is_empty()
    {
        if !flags.dry_run {
            project.ensure_writable(&format!("{} {}", plan.action, plan.modules.join(" ")))?;
        }
        if confirm && !flags.dry_run {
            out!("{}", colour(render::plan(&plan, false)));
            if !confirmed(&plan)? {
                return Err(Error::refused(
                    "not confirmed: nothing was changed",
                    "answer y to run the plan, or pass --yes",
                ));
            }
        }
        return rollout.run(project, plan, flags, !confirm).await;
    }
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
    Ok(matches!(
        answer()?.as_str(),
        "y" | "Y" | "yes" | "YES" | "Yes"
    ))
}

/// The line the operator types after a question on stderr, trimmed.
pub fn answer() -> Result<String> {
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the answer", e))?;
    Ok(answer.trim().to_string())
}
