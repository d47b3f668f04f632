//! `estate modules`: the catalog as operators read it: each module's version, requires,
//! required-by, migrations per scope and tenants (`--json`: the rows the console shows).

use super::{EXIT_OK, colour, open, print_json, render};
use estate_engine::{Config, RegisteredMigrators, Result};

pub async fn modules(config: Config, registered: &RegisteredMigrators, json: bool) -> Result<u8> {
    let project = open(config, registered).await?;
    let installs = project.installations().await?;
    if json {
        let rows = project.modules().await?;
        print_json(&rows);
    } else {
        let lookup = |n: &str| project.migrator(n).cloned();
        out!(
            "{}",
            colour(render::modules(
                project.catalog(),
                &lookup,
                project.config().tenancy.layout.engine(),
                &installs
            ))
        );
    }
    Ok(EXIT_OK)
}
