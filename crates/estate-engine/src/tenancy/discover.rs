//! Tenant databases found where the config's tenancy puts them, whether or not the registry
//! names them: the files of the tenant folder that the path template could have made, and the
//! databases (or schemas) on the servers that the templates could have made.
//!
//! Two questions need them. A landlord that holds no registry may be a new project or a
//! registry lost (a file deleted, a config pointing elsewhere): tenant databases tell the
//! second from the first, so estate never starts an empty registry over a fleet. And `verify`
//! reports the ones no registry row names.
//!
//! A name counts only when its slug is valid and the placement it gives passes the checks every
//! tenant's does (inside the tenant folder, not the landlord): the landlord's own file or
//! database is never taken for a tenant's, whatever the templates.

use std::collections::BTreeMap;

use super::{Placement, Slug};
use crate::config::{Config, Layout, SLUG_PLACEHOLDER};
use crate::error::{Error, Result};

/// One tenant database found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub slug: Slug,
    pub placement: Placement,
}

/// What was found, and where nobody could look.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub found: Vec<Found>,
    /// Places that could not be read (a server down, a folder unreadable), with why.
    pub unknown: Vec<String>,
}

/// Every tenant database the config's tenancy could have made that exists now.
pub async fn discover(config: &Config) -> Discovery {
    let mut discovery = Discovery::default();
    match config.tenancy.layout {
        Layout::Sqlite => match files(config) {
            Ok(found) => discovery.found = found,
            Err(e) => discovery.unknown.push(e.to_string()),
        },
        Layout::Database | Layout::Schema => {
            for server in &config.servers {
                if let Err(e) = on_server(config, server, &mut discovery.found).await {
                    discovery
                        .unknown
                        .push(format!("server {} could not be asked: {e}", server.name));
                }
            }
        }
    }
    discovery.found.sort_by(|a, b| a.slug.cmp(&b.slug));
    discovery
}

/// The slug in `name` where `template` (one name holding `{slug}`) has it, when it is a valid
/// slug and the template makes exactly `name` of it.
fn slug_in(name: &str, template: &str) -> Option<Slug> {
    let (prefix, suffix) = template.split_once(SLUG_PLACEHOLDER)?;
    let middle = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let slug = Slug::parse(middle).ok()?;
    (template.replace(SLUG_PLACEHOLDER, slug.as_str()) == name).then_some(slug)
}

/// `slug`'s placement, on `server`, when it is one estate would open.
fn placement(config: &Config, slug: &Slug, server: Option<&str>) -> Option<Placement> {
    let placement = Placement::for_new_tenant(config, slug, server, &BTreeMap::new()).ok()?;
    placement.address(config).is_ok().then_some(placement)
}

/// The tenant folder's entries that the path template could have made, each a file (a
/// symbolic link is nobody's database: estate never opens one).
fn files(config: &Config) -> Result<Vec<Found>> {
    let folder = config.tenancy.folder();
    let template = config.tenancy.path_template.strip_prefix(&folder).ok();
    // The component that holds the slug: the first below the folder.
    let Some(first) = template
        .and_then(|t| t.components().next())
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
    else {
        return Ok(Vec::new());
    };
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("reading {}", folder.display()), e)),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(slug) = slug_in(&entry.file_name().to_string_lossy(), &first) else {
            continue;
        };
        let path = config.tenancy.path_for(slug.as_str());
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        if let Some(placement) = placement(config, &slug, None) {
            found.push(Found { slug, placement });
        }
    }
    Ok(found)
}

/// The databases (database layout) or schemas (schema layout) on `server` the templates could
/// have made.
async fn on_server(
    config: &Config,
    server: &crate::database::Server,
    found: &mut Vec<Found>,
) -> Result<()> {
    let tenancy = &config.tenancy;
    let databases = server.databases().await?;
    for database in databases {
        if tenancy.layout == Layout::Database {
            if let Some(slug) = slug_in(&database, &tenancy.database_template)
                && let Some(placement) = placement(config, &slug, Some(&server.name))
            {
                found.push(Found { slug, placement });
            }
            continue;
        }
        // Schema layout: the shared database is the template's name (or, were the slug in
        // it, each database it could make), and the tenants are its schemas.
        let shared = if tenancy.database_template.contains(SLUG_PLACEHOLDER) {
            slug_in(&database, &tenancy.database_template).is_some()
        } else {
            database == tenancy.database_template
        };
        if !shared {
            continue;
        }
        for schema in server.schemas(&database).await? {
            if let Some(slug) = slug_in(&schema, &tenancy.schema_template)
                && let Some(placement) = placement(config, &slug, Some(&server.name))
                && placement.location == database
            {
                found.push(Found { slug, placement });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::slug_in;

    #[test]
    fn a_slug_is_read_back_only_from_a_name_its_template_makes() {
        let slug = |name, template| slug_in(name, template).map(|s| s.to_string());
        assert_eq!(slug("acme.db", "{slug}.db"), Some("acme".into()));
        assert_eq!(slug("t_acme", "t_{slug}"), Some("acme".into()));
        assert_eq!(slug("e1_2_acme", "e1_2_{slug}"), Some("acme".into()));
        // Not what the template makes, or no valid slug inside.
        for (name, template) in [
            ("acme.db-wal", "{slug}.db"),
            ("acme.db.lock", "{slug}.db"),
            (".db", "{slug}.db"),
            ("Acme.db", "{slug}.db"),
            ("e1_12_acme", "e1_1_{slug}"),
            ("public", "t_{slug}"),
            ("landlord.db", "landlord.db"),
        ] {
            assert_eq!(slug(name, template), None, "{name} against {template}");
        }
    }
}
