//! `estate tenants remove SLUG`: refused while the tenant has modules unless `--rollback`,
//! which rolls them all back first (dependants first) as a job; then the tenant unregistered
//! and, with `--drop-database`, its database dropped. Nothing happens unless the operator
//! types the slug on a terminal, or passes `--yes`.

use std::io::IsTerminal;

use serde_json::json;

use super::args::RunFlags;
use super::tenant_args::RemoveArgs;
use super::{EXIT_FAILED, EXIT_OK, colour, open, print_json, read_only, render};
use estate_engine::{Config, Error, RegisteredMigrators, Result, Slug};

pub async fn remove(
    config: Config,
    registered: &RegisteredMigrators,
    args: RemoveArgs,
) -> Result<u8> {
    let slug = Slug::parse(&args.slug)?;
    if config.read_only {
        return Err(read_only("removing a tenant"));
    }
    let project = open(config, registered).await?;
    let Some(tenant) = project.tenant(slug.as_str()).await? else {
        return Err(Error::refused(
            format!("unknown tenant {:?}", slug.as_str()),
            "`estate tenants list` shows the tenants",
        ));
    };
    let modules = project.tenant_modules(slug.as_str()).await?;
    if !modules.is_empty() && !args.rollback {
        return Err(estate_engine::still_installed(slug.as_str(), &modules));
    }
    let database = tenant.placement.describe();
    let mut what = Vec::new();
    if !modules.is_empty() {
        what.push(format!("roll back {}", modules.join(", ")));
    }
    what.push("unregister it".to_string());
    what.push(if args.drop_database {
        format!("DROP its database {database}")
    } else {
        format!("keep its database {database}")
    });
    let summary = format!(
        "remove tenant {slug} ({}): {}",
        tenant.name,
        what.join(", then ")
    );
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes {
        if !terminal || args.json {
            return Err(Error::refused(
                format!("{summary}: not confirmed, and there is no terminal to confirm on"),
                format!("pass --yes to remove tenant {slug} without typing its slug"),
            ));
        }
        if !typed_slug(&summary, &slug)? {
            return Err(Error::refused(
                "the slug typed does not match: nothing was changed",
                format!("type {slug} exactly to remove it, or pass --yes"),
            ));
        }
    }
    let mut rollback = serde_json::Value::Null;
    if args.rollback
        && let Some(plan) = project.plan_tenant_rollback(slug.as_str()).await?
    {
        if !args.json {
            out!("{}", colour(render::plan(&plan, false)));
        }
        let report = super::execute::run_job(&project, &plan, &RunFlags::quiet(args.json)).await?;
        let succeeded = report.is_success();
        if args.json {
            rollback = json!({ "plan": plan, "report": report });
        } else {
            out!("{}", colour(render::report(&report)));
        }
        if !succeeded {
            if args.json {
                print_json(&json!({ "removed": null, "rollback": rollback }));
            }
            errln!(
                "tenant {slug} is not removed: its rollback did not finish\n  fix: correct the cause above, then run the same command again"
            );
            return Ok(EXIT_FAILED);
        }
    }
    let removal = project
        .remove_tenant(slug.as_str(), args.drop_database)
        .await?;
    if args.json {
        print_json(&json!({ "removed": removal, "rollback": rollback }));
    } else if removal.dropped {
        outln!(
            "removed tenant {slug} (job {}); its database {} was dropped",
            removal.job_id,
            removal.database
        );
    } else {
        outln!(
            "removed tenant {slug} (job {}); its database is kept at {} (`estate tenants add {slug} --existing` registers it again)",
            removal.job_id,
            removal.database
        );
    }
    Ok(EXIT_OK)
}

/// Asks the operator to type the slug, as a destructive removal deserves more than `y`.
fn typed_slug(summary: &str, slug: &Slug) -> Result<bool> {
    err!("{summary}.\nType the tenant's slug ({slug}) to confirm: ");
    Ok(super::execute::answer()? == slug.as_str())
}
