//! `estate demo`: demo tenants on the project, each with a few modules installed, then the
//! matrix, and the console when this is a terminal.

use std::io::IsTerminal;

use super::status::placements;
use super::{EXIT_FAILED, EXIT_OK, Next, colour, create, read_only, render};
use estate_engine::{Config, JobControl, Project, RegisteredMigrators, Result};
use estate_engine::{Slug, TenantSelection};

/// The demo's tenants and what each gets installed.
const DEMO: &[(&str, &str, &[&str])] = &[
    ("acme", "Acme Corporation", &["digital_card", "calendar"]),
    ("globex", "Globex", &["billing"]),
    ("initech", "Initech", &["calendar"]),
];

/// Refused in read-only mode before the project is opened (and, on a new project, created).
pub async fn run(config: Config, registered: &RegisteredMigrators) -> Result<Next> {
    if config.read_only {
        return Err(read_only("the demo"));
    }
    demo(create(config, registered).await?).await
}

async fn demo(project: Project) -> Result<Next> {
    project.catalog().ensure_valid()?;
    for (slug, name, _) in DEMO {
        if project.tenant(slug).await?.is_none() {
            project.add_tenant(slug, Some(name), None).await?;
            outln!("added tenant {slug} ({name})");
        }
    }
    let mut status = EXIT_OK;
    for (slug, _, modules) in DEMO {
        let modules: Vec<String> = modules
            .iter()
            .filter(|m| project.catalog().get(m).is_some())
            .map(|m| m.to_string())
            .collect();
        let plan = project
            .plan_install(&modules, &TenantSelection::Only(vec![Slug::parse(slug)?]))
            .await?;
        if plan.is_empty() {
            continue;
        }
        let report = project.run(&plan, None, JobControl::default()).await?;
        outln!(
            "installed {} for {slug}: {} migrations",
            modules.join(", "),
            report.migrations()
        );
        if !report.is_success() {
            out!("{}", colour(render::report(&report)));
            status = EXIT_FAILED;
        }
    }
    outln!();
    let rows = project.status(None).await?;
    out!(
        "{}",
        colour(render::matrix(&rows, &placements(&project).await?))
    );
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(Next::Console(Box::new(project), status));
    }
    outln!(
        "\nnext: `estate` opens the console; `estate history`, `estate install calendar --all`, `estate rollback calendar --tenant acme`"
    );
    Ok(Next::Exit(status))
}
