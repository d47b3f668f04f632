//! `estate tenants`: the tenants the registry knows (`list`) and a new one provisioned (`add`):
//! its database or schema made where the config's tenancy places it.

use serde_json::json;

use super::args::TenantsCommand;
use super::{EXIT_OK, colour, open, print_json, read_only, render};
use estate_engine::Slug;
use estate_engine::{Config, RegisteredMigrators, Result};

pub async fn run(
    config: Config,
    registered: &RegisteredMigrators,
    command: TenantsCommand,
) -> Result<u8> {
    match command {
        TenantsCommand::List(flag) => {
            let project = open(config, registered).await?;
            let tenants = project.tenants().await?;
            let installs = project.installations().await?;
            if flag.json {
                let rows: Vec<_> = tenants
                .iter()
                .map(|t| {
                    let modules: Vec<&str> =
                        installs.iter().filter(|i| i.tenant == t.slug).map(|i| i.module.as_str()).collect();
                    json!({
                        "slug": t.slug, "name": t.name, "engine": t.placement.engine,
                        "server": t.placement.server, "location": t.placement.location,
                        "schema": t.placement.schema, "created_at": t.created_at, "modules": modules,
                    })
                })
                .collect();
                print_json(&rows);
            } else {
                out!("{}", colour(render::tenants(&tenants, &installs)));
            }
            Ok(EXIT_OK)
        }
        TenantsCommand::Add {
            slug,
            name,
            server,
            json,
        } => {
            Slug::parse(&slug)?;
            // Before the landlord is opened (and, on a new project, created).
            if let Some(name) = &name {
                estate_engine::check_name(name)?;
            }
            if config.read_only {
                return Err(read_only("adding a tenant"));
            }
            let project = open(config, registered).await?;
            let record = project
                .add_tenant(&slug, name.as_deref(), server.as_deref())
                .await?;
            if json {
                print_json(&record);
            } else {
                outln!(
                    "added tenant {} ({}), database {}",
                    record.slug,
                    record.name,
                    record.placement.describe()
                );
            }
            Ok(EXIT_OK)
        }
    }
}
