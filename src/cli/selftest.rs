//! `estate test CONTEXT`: the context's migrations up, down and up again on scratch
//! databases; exit 1 names the first migration whose down does not undo its up.

use super::args::{EngineArg, ScopeArg, TestArgs};
use super::{EXIT_FAILED, EXIT_OK, open, print_json};
use estate_engine::Engine;
use estate_engine::{Config, RegisteredMigrators, Result, Scope};

pub async fn run(config: Config, registered: &RegisteredMigrators, args: TestArgs) -> Result<u8> {
    let engines = match args.engine {
        Some(EngineArg::Sqlite) => vec![Engine::Sqlite],
        Some(EngineArg::Postgres) => vec![Engine::Postgres],
        None if config.servers.is_empty() => vec![Engine::Sqlite],
        None => vec![Engine::Sqlite, Engine::Postgres],
    };
    let scopes = match args.scope {
        ScopeArg::Landlord => vec![Scope::Landlord],
        ScopeArg::Tenant => vec![Scope::Tenant],
        ScopeArg::All => vec![Scope::Landlord, Scope::Tenant],
    };
    let project = open(config, registered).await?;
    let runs = project
        .test_context(&args.context, &scopes, &engines)
        .await?;
    project.close().await;
    let passed = runs.iter().all(|r| r.passed());
    if args.json {
        print_json(&serde_json::json!({ "context": args.context, "passed": passed, "runs": runs }));
    } else {
        for r in &runs {
            let what = format!("{} {} on {}", args.context, r.scope, r.engine);
            match (&r.mismatch, &r.error) {
                (Some(m), _) => {
                    outln!(
                        "✗ {what}: the down of migration {} ({}) does not undo its up",
                        m.version,
                        m.source
                    );
                    for d in &m.differences {
                        outln!("    {d}");
                    }
                }
                (None, Some(e)) => outln!("✗ {what}: {e}"),
                (None, None) => outln!(
                    "✓ {what}: {} migration(s) up, down and up again, each down undoing its up",
                    r.migrations
                ),
            }
        }
        if runs.is_empty() {
            outln!("{} has no migrations to test here", args.context);
        }
    }
    Ok(if passed { EXIT_OK } else { EXIT_FAILED })
}
