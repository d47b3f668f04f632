//! `estate init` (the registry created in a new project's landlord) and `estate tenants`: the
//! tenants the registry knows (`list`), a new one provisioned (`add`: its database or schema
//! made where the config's tenancy places it, then the config's default modules installed),
//! imported or exported, and tagged. `init` and the first `add` are what may create a
//! registry; every other command refuses a landlord that holds none.

use serde_json::json;

use super::args::{InitArgs, RunFlags, TenantsCommand};
use super::{EXIT_OK, Next, colour, create, open, print_json, read_only, render};
use estate_engine::{Config, Project, RegisteredMigrators, Result};
use estate_engine::{Slug, Tags};

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
                let by_tenant = render::modules_by_tenant(&installs);
                let rows: Vec<_> = tenants
                    .iter()
                    .map(|t| {
                        let modules = by_tenant
                            .get(t.slug.as_str())
                            .map_or(&[][..], Vec::as_slice);
                        json!({
                            "slug": t.slug, "name": t.name, "engine": t.placement.engine,
                            "server": t.placement.server, "location": t.placement.location,
                            "schema": t.placement.schema, "created_at": t.created_at,
                            "tags": t.tags, "modules": modules,
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
            install_defaults,
            json,
        } => {
            if config.read_only {
                return Err(read_only("importing tenants"));
            }
            let rows = super::tenant_files::read(&file, format)?;
            let project = create(config, registered).await?;
            if install_defaults {
                project.check_default_modules()?;
            }
            let report = project.import_tenants(&rows, skip_invalid).await?;
            let registered: Vec<Slug> = report
                .registered
                .iter()
                .map(|s| Slug::parse(s))
                .collect::<Result<_>>()?;
            if !json {
                outln!("imported {} tenant(s)", report.registered.len());
                for r in &report.refused {
                    errln!("skipped line {} ({}): {}", r.line, r.slug, r.reason);
                }
            }
            let defaults = match install_defaults {
                true => defaults(&project, &registered, json).await?,
                false => Defaults::default(),
            };
            if json {
                let mut out = serde_json::to_value(&report).unwrap_or_default();
                out["defaults"] = defaults.json;
                print_json(&out);
            }
            Ok(if report.refused.is_empty() && defaults.succeeded {
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
            tags,
            no_defaults,
            json,
        } => {
            let slug = Slug::parse(&slug)?;
            // Before the landlord is opened (and, on a new project, created).
            if let Some(name) = &name {
                estate_engine::check_name(name)?;
            }
            let tags = parse_tags(&tags)?;
            if config.read_only {
                return Err(read_only("adding a tenant"));
            }
            let project = create(config, registered).await?;
            // An existing database is registered as it is: its modules are adopted, not
            // installed over.
            let with_defaults = !no_defaults && !existing;
            if with_defaults {
                project.check_default_modules()?;
            }
            let record = if existing {
                project
                    .add_existing_tenant(slug.as_str(), name.as_deref(), server.as_deref(), &tags)
                    .await?
            } else {
                project
                    .add_tagged_tenant(slug.as_str(), name.as_deref(), server.as_deref(), &tags)
                    .await?
            };
            if !json {
                outln!(
                    "added tenant {} ({}), database {}",
                    record.slug,
                    record.name,
                    record.placement.describe()
                );
            }
            let defaults = match with_defaults {
                true => defaults(&project, std::slice::from_ref(&slug), json).await?,
                false => Defaults::default(),
            };
            if json {
                let mut out = serde_json::to_value(&record).unwrap_or_default();
                out["defaults"] = defaults.json;
                print_json(&out);
            }
            Ok(if defaults.succeeded {
                EXIT_OK
            } else {
                super::EXIT_FAILED
            })
        }
        TenantsCommand::Tag { slug, tags, json } => {
            let tags = parse_tags(&tags)?;
            retag(config, registered, &slug, &tags, &[], json).await
        }
        TenantsCommand::Untag { slug, keys, json } => {
            retag(config, registered, &slug, &Tags::new(), &keys, json).await
        }
        TenantsCommand::Remove(args) => {
            super::tenant_remove::remove(config, registered, args).await
        }
    }
}

/// `tenants tag` and `tenants untag`: the tenant's tags as they are afterwards.
async fn retag(
    config: Config,
    registered: &RegisteredMigrators,
    slug: &str,
    tags: &Tags,
    untag: &[String],
    json: bool,
) -> Result<u8> {
    Slug::parse(slug)?;
    if config.read_only {
        return Err(read_only("tagging a tenant"));
    }
    let project = open(config, registered).await?;
    let record = project.retag(slug, tags, untag).await?;
    if json {
        print_json(&json!({ "slug": record.slug, "tags": record.tags }));
    } else if record.tags.is_empty() {
        outln!("tenant {} has no tags", record.slug);
    } else {
        let shown: Vec<String> = record
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        outln!("tenant {} is tagged {}", record.slug, shown.join(" "));
    }
    Ok(EXIT_OK)
}

/// `--tag KEY=VALUE`s, each checked.
fn parse_tags(given: &[String]) -> Result<Tags> {
    estate_engine::parse_tags(given.iter().map(String::as_str))
}

/// How the install of the default modules went: `json` its plan and report (null when none
/// ran), `succeeded` false when a step failed.
struct Defaults {
    json: serde_json::Value,
    succeeded: bool,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            json: serde_json::Value::Null,
            succeeded: true,
        }
    }
}

/// Installs the config's default modules on `tenants`, just registered, as one job. A
/// failure leaves the tenants registered and the module failed, and says how to retry.
async fn defaults(project: &Project, tenants: &[Slug], json: bool) -> Result<Defaults> {
    let Some(plan) = project.plan_defaults(tenants).await? else {
        return Ok(Defaults::default());
    };
    if !json {
        out!("{}", colour(render::plan(&plan, false)));
    }
    let report = super::execute::run_job(project, &plan, &RunFlags::quiet(json)).await?;
    let succeeded = report.is_success();
    if !json {
        out!("{}", colour(render::report(&report)));
        if !succeeded {
            errln!(
                "the tenant(s) are registered, but their default modules did not all install\n  fix: correct the cause above, then run `estate install {} --tenant {}`",
                plan.modules.join(" "),
                tenants
                    .iter()
                    .map(Slug::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
    }
    Ok(Defaults {
        json: json!({ "plan": plan, "report": report }),
        succeeded,
    })
}
