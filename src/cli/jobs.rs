//! `estate jobs`: every job the registry knows, whichever process ran it (the CLI, a console,
//! cron): the list with each job's counts, a job's log (`log ID`, `--follow` until it ends)
//! and `cancel ID`, which asks the job's own process to stop at a migration boundary.

use std::time::Duration;

use super::args::{JobLogArgs, JobsArgs, JobsCommand, JobsList};
use super::table::{Table, styled};
use super::{EXIT_FAILED, EXIT_OK, colour, open, print_json};
use crate::theme::theme;
use estate_engine::{
    Config, JobFilter, JobRecord, LineKind, LoggedLine, RegisteredMigrators, Result, Slug,
    parse_since,
};

/// How often `jobs log --follow` reads the registry for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(250);

/// Lines read from the registry at a time.
const LOG_PAGE: i64 = 5_000;

pub async fn run(config: Config, registered: &RegisteredMigrators, args: JobsArgs) -> Result<u8> {
    match args.command {
        None => list(config, registered, args.list).await,
        Some(JobsCommand::Log(args)) => log(config, registered, args).await,
        Some(JobsCommand::Cancel(args)) => {
            let project = open(config, registered).await?;
            project.cancel_job(&args.id).await?;
            outln!(
                "asked job {} to stop at its next migration boundary (`estate jobs log {} --follow` shows it stop)",
                args.id,
                args.id
            );
            Ok(EXIT_OK)
        }
    }
}

async fn list(config: Config, registered: &RegisteredMigrators, args: JobsList) -> Result<u8> {
    let filter = JobFilter {
        running: args.running,
        since: args.since.as_deref().map(parse_since).transpose()?,
        limit: args.limit.max(1),
    };
    let project = open(config, registered).await?;
    let jobs = project.jobs(&filter).await?;
    if args.json {
        print_json(&jobs);
    } else {
        out!("{}", colour(render(&jobs)));
    }
    Ok(EXIT_OK)
}

/// A job's steps by outcome, as a list and the console say them.
pub fn steps_summary(job: &JobRecord) -> String {
    let c = &job.counts;
    let mut parts = vec![format!("{} ok", c.succeeded)];
    for (n, what) in [
        (c.failed, "failed"),
        (c.skipped, "skipped"),
        (c.not_started, "not started"),
        (job.steps_left(), "left"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!("{} of {}", parts.join(", "), job.steps)
}

fn render(jobs: &[JobRecord]) -> String {
    if jobs.is_empty() {
        return "no jobs yet\n".to_string();
    }
    let mut table = Table::new([
        "ID", "STARTED", "ACTION", "MODULES", "STATE", "TENANTS", "STEPS", "BY",
    ]);
    for j in jobs {
        let t = theme();
        let state = match j.state.as_str() {
            "succeeded" => styled(t.installed, "succeeded"),
            "running" if j.cancel_requested_by.is_some() => styled(t.outdated, "cancelling"),
            "running" => styled(t.outdated, "running"),
            other => styled(t.failed, other),
        };
        let tenants = if j.counts.tenants_failed > 0 {
            format!(
                "{}/{} ({} failed)",
                j.counts.tenants_done, j.tenants, j.counts.tenants_failed
            )
        } else {
            format!("{}/{}", j.counts.tenants_done, j.tenants)
        };
        let by = match &j.ssh_client {
            Some(c) => format!("{} (ssh {c})", j.operator),
            None => j.operator.clone(),
        };
        table.row(vec![
            j.id.clone().into(),
            j.started_at.clone().into(),
            j.action.clone().into(),
            j.modules.clone().into(),
            state,
            tenants.into(),
            steps_summary(j).into(),
            by.into(),
        ]);
    }
    table.render()
}

async fn log(config: Config, registered: &RegisteredMigrators, args: JobLogArgs) -> Result<u8> {
    if let Some(t) = &args.tenant {
        Slug::parse(t)?;
    }
    let project = open(config, registered).await?;
    // Refuses an id no job has before printing anything.
    let mut job = project.job(&args.id).await?;
    let tenant = args.tenant.as_deref();
    let mut after = 0;
    loop {
        // Read the job's state before its lines: lines written before it ended are then
        // all there when it reads as ended.
        let running = job.is_running();
        loop {
            let lines = project.job_log(&args.id, after, tenant, LOG_PAGE).await?;
            let Some(last) = lines.last() else { break };
            after = last.seq;
            print_lines(&lines, args.json);
            if (lines.len() as i64) < LOG_PAGE {
                break;
            }
        }
        if !args.follow || !running {
            break;
        }
        tokio::time::sleep(FOLLOW_POLL).await;
        job = project.job(&args.id).await?;
    }
    if !args.follow {
        return Ok(EXIT_OK);
    }
    if !args.json {
        errln!("job {} {}: {}", job.id, job.state, steps_summary(&job));
    }
    Ok(if job.state == "succeeded" {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

fn print_lines(lines: &[LoggedLine], json: bool) {
    if json {
        for l in lines {
            match serde_json::to_string(l) {
                Ok(s) => outln!("{s}"),
                Err(e) => errln!("error: could not encode JSON: {e}"),
            }
        }
        return;
    }
    let width = lines
        .iter()
        .filter_map(|l| l.line.tenant.as_ref().map(|t| t.chars().count()))
        .max()
        .unwrap_or(0)
        .max("landlord".len());
    let t = theme();
    let mut out = String::new();
    for l in lines {
        let who = l.line.tenant.as_deref().unwrap_or("landlord");
        let style = match l.line.kind {
            LineKind::Ok => t.installed,
            LineKind::Failed => t.failed,
            LineKind::Skipped => t.outdated,
            LineKind::Info => anstyle::Style::new(),
        };
        out.push_str(&format!(
            "{}  {who:<width$}  {style}{}{style:#}\n",
            l.line.clock(),
            l.line.text
        ));
    }
    out!("{}", colour(out));
}
