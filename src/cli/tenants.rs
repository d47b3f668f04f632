//! `estate init` (the registry created in a new project's landlord) and `estate tenants`: the
//! tenants the registry knows (`list`) and a new one provisioned (`add`): its database or
//! schema made where the config's tenancy places it. `init` and the first `add` are what may
//! create a registry; every other command refuses a landlord that holds none.

use serde_json::json;

use super::args::{InitArgs, TenantsCommand};
use super::{EXIT_OK, Next, colour, create, open, print_json, read_only, render};
use estate_engine::Slug;
use estate_engine::{Config, Project, RegisteredMigrators, Result};

/// Creates the registry; refused (exit 2, nothing changed) where one is there, and where an
/// earlier one shows unless `--force`, which says what it created over.
pub async fn init(
    config: Config,
    registered: &RegisteredMigrators,
    args: InitArgs,
) -> Result<Next> {
    let place = config.landlord.describe();
    let (project, evidence) = Project::init_with(config, registered.clone(), args.force).await?;
    crate::logging::start();
    let over = evidence.found().then(|| evidence.describe());
    if args.json {
        print_json(&json!({ "landlord": place, "created": true, "over": over }));
    } else {
        outln!("created the registry in the landlord database ({place})");
        if let Some(over) = &over {
            errln!(
                "warning: --force: a new registry over an earlier one's traces: {over}; no registry row names those tenants"
            );
        }
        outln!("next: `estate tenants add SLUG` adds a tenant; `estate modules` lists the modules");
    }
    project.close().await;
    Ok(Next::Exit(EXIT_OK))
}

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
        TenantsCommand::Import {
            file,
            format,
            skip_invalid,
            json,
        } => {
            if config.read_only {
                return Err(read_only("importing tenants"));
            }
            let rows = super::tenant_files::read(&file, format)?;
            let project = create(config, registered).await?;
            let report = project.import_tenants(&rows, skip_invalid).await?;
            if json {
                print_json(&report);
            } else {
                outln!("imported {} tenant(s)", report.registered.len());
                for r in &report.refused {
                    errln!("skipped line {} ({}): {}", r.line, r.slug, r.reason);
                }
            }
            Ok(if report.refused.is_empty() {
                EXIT_OK
            } else {
                super::EXIT_FAILED
            })
        }
        TenantsCommand::Export { format } => {
            let project = open(config, registered).await?;
            let tenants = project.tenants().await?;
            out!("{}", super::tenant_files::write(&tenants, format)?);
            Ok(EXIT_OK)
        }
        TenantsCommand::Add {
            slug,
            name,
            server,
            existing,
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
            let project = create(config, registered).await?;
            let record = if existing {
                project
                    .add_existing_tenant(&slug, name.as_deref(), server.as_deref())
                    .await?
            } else {
                project
                    .add_tenant(&slug, name.as_deref(), server.as_deref())
                    .await?
            };
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
