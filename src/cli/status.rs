//! `estate status` (the installation matrix, from the registry, or with `--live` from every
//! tenant's ledger) and `estate history` (what ran, when, by whom, how long).

use std::collections::BTreeMap;

use super::args::{HistoryArgs, StatusArgs};
use super::{EXIT_FAILED, EXIT_OK, colour, open, print_json, render};
use estate_engine::{
    Config, HistoryFilter, Project, RegisteredMigrators, Result, Slug, parse_since,
};

pub async fn status(
    config: Config,
    registered: &RegisteredMigrators,
    args: StatusArgs,
) -> Result<u8> {
    let tenants: Vec<String> = args.tenant.iter().cloned().collect();
    let selection = super::selection_of(&tenants, &args.conditions)?;
    let project = open(config, registered).await?;
    let rows = if args.live {
        project.status_of(&selection).await?
    } else {
        project.recorded_status_of(&selection).await?
    };
    if args.json {
        print_json(&rows);
    } else {
        out!(
            "{}",
            colour(render::matrix(&rows, &placements(&project).await?))
        );
        if !args.live {
            // Say what the matrix knows: what each tenant's last job recorded, not its
            // database. On stderr, so the matrix on stdout is the console's and the demo's.
            errln!(
                "  from the registry, as each tenant's last job left it; `estate status --live` reads every tenant's database"
            );
        }
    }
    // Each unreadable tenant once, with why; the matrix above shows everyone else.
    let mut unreachable: Vec<(&str, &str)> = rows
        .iter()
        .filter_map(|r| Some((r.tenant.as_str(), r.error.as_deref()?)))
        .collect();
    unreachable.dedup_by_key(|(t, _)| *t);
    for (tenant, error) in &unreachable {
        errln!("tenant {tenant}: its database cannot be read: {error}");
    }
    if unreachable.is_empty() {
        Ok(EXIT_OK)
    } else {
        errln!(
            "  fix: restore those databases (or bring their servers back); `estate verify` lists every finding"
        );
        Ok(EXIT_FAILED)
    }
}

pub async fn history(
    config: Config,
    registered: &RegisteredMigrators,
    args: HistoryArgs,
) -> Result<u8> {
    if let Some(t) = &args.tenant {
        Slug::parse(t)?;
    }
    let filter = HistoryFilter {
        module: args.module,
        tenant: args.tenant,
        job: args.job,
        since: args.since.as_deref().map(parse_since).transpose()?,
        outcome: args.failed.then(|| "failed".to_string()),
        limit: args.limit,
        offset: 0,
        tags: super::tag_conditions(&args.conditions)?,
    };
    let project = open(config, registered).await?;
    let entries = project.history(&filter).await?;
    if args.json {
        print_json(&entries);
    } else {
        out!("{}", colour(render::history(&entries)));
    }
    Ok(EXIT_OK)
}

/// Where each tenant lives, for the matrix: only when tenants live on PostgreSQL servers (a
/// SQLite file per tenant says nothing the slug does not).
pub async fn placements(project: &Project) -> Result<BTreeMap<String, String>> {
    Ok(project
        .tenants()
        .await?
        .into_iter()
        .filter(|t| t.placement.server.is_some())
        .map(|t| (t.slug, t.placement.describe()))
        .collect())
}
