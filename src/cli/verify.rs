//! `estate verify` (the registry, the ledgers and the files compared; findings, and with
//! `--repair` their fixes) and `estate resolve` (the operator's word on a no-transaction
//! migration that stopped partway).

use super::args::{ResolveArgs, VerifyArgs};
use super::{EXIT_FAILED, EXIT_OK, colour, open, print_json, read_only, render};
use estate_engine::{Config, RegisteredMigrators, Resolution, Result, Slug};

/// Exit 0 when nothing is wrong (after the repair, with --repair), 1 when findings remain.
pub async fn verify(
    config: Config,
    registered: &RegisteredMigrators,
    args: VerifyArgs,
) -> Result<u8> {
    let selection = super::selection_of(&args.tenants, &args.conditions)?;
    let project = open(config, registered).await?;
    let report = project.verify(&selection, args.repair).await?;
    if args.json {
        print_json(&report);
    } else {
        out!("{}", colour(render::findings(&report)));
    }
    Ok(if report.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

pub async fn resolve(
    config: Config,
    registered: &RegisteredMigrators,
    args: ResolveArgs,
) -> Result<u8> {
    if let Some(t) = &args.tenant {
        Slug::parse(t)?;
    }
    if config.read_only {
        return Err(read_only("resolve"));
    }
    let resolution = if args.completed {
        Resolution::Completed
    } else {
        Resolution::Undone
    };
    let project = open(config, registered).await?;
    let resolved = project
        .resolve(&args.context, args.tenant.as_deref(), resolution)
        .await?;
    if args.json {
        print_json(&resolved);
    } else {
        let u = &resolved.unfinished;
        outln!(
            "resolved on {}: {} {} migration {:04} ({}) is now recorded as {}",
            resolved.database,
            u.context,
            u.scope,
            u.version,
            u.description,
            resolved.recorded.replace('_', " ")
        );
    }
    Ok(EXIT_OK)
}
