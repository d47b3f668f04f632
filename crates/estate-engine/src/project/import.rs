//! Registering tenants whose databases exist already (`estate tenants import`, `tenants add
//! --existing`): nothing is created. Each row's placement is checked as a new tenant's is
//! (inside the tenant folder, not the landlord, its own file), and must exist; no two rows,
//! and no row and a registered tenant, may share a slug or a database. The rows that pass are
//! registered in one landlord transaction, all of them or (unless the caller skips the
//! invalid ones) none.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Project;
use crate::config::Layout;
use crate::database::{Address, Database};
use crate::error::{Error, Result};
use crate::registry::{NewTenant, TenantRecord};
use crate::sql::Engine;
use crate::tenancy::{
    Placement, Slug, Tags, check_name, file_identity, format_tag_list, parse_tag_list,
};

/// One tenant to register, as a file of tenants gives it. Which placement fields apply is
/// the layout's business: `path` for SQLite, `database` for a database per tenant, `database`
/// (the shared one by default) and `schema` for a schema per tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantRow {
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The tenant's tags as one field: `plan=enterprise;region=eu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
}

/// A row that passed: its slug, placement, address, and its file's identity (SQLite).
type CheckedRow = (Slug, Placement, Address, Option<(u64, u64)>);

/// What an import did: the slugs registered, and the rows refused (their line and why).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub registered: Vec<String>,
    pub refused: Vec<RefusedRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefusedRow {
    /// The row's line in the file (the header is line 1 of a CSV).
    pub line: usize,
    pub slug: String,
    pub reason: String,
}

impl Project {
    /// Registers the tenants of `rows` (each with its line number) whose databases exist.
    /// Any refused row refuses the whole import (exit 2, nothing registered), each refused
    /// row named, unless `skip_invalid`, which registers the others.
    pub async fn import_tenants(
        &self,
        rows: &[(usize, TenantRow)],
        skip_invalid: bool,
    ) -> Result<ImportReport> {
        self.ensure_writable("importing tenants")?;
        let (good, refused) = self.checked_rows(rows).await?;
        if !refused.is_empty() && !skip_invalid {
            return Err(refusal(&refused));
        }
        self.registry.add_tenants(&good).await?;
        let report = ImportReport {
            registered: good.into_iter().map(|t| t.slug.to_string()).collect(),
            refused,
        };
        tracing::info!(
            registered = report.registered.len(),
            refused = report.refused.len(),
            "tenants imported"
        );
        Ok(report)
    }

    /// The rows that may be registered (slug, name, placement), and the others with why.
    async fn checked_rows(
        &self,
        rows: &[(usize, TenantRow)],
    ) -> Result<(Vec<NewTenant>, Vec<RefusedRow>)> {
        let registered = self.registry.tenants().await?;
        let mut slugs: BTreeSet<String> = registered.iter().map(|t| t.slug.clone()).collect();
        let mut places: BTreeMap<String, String> = registered
            .iter()
            .map(|t| (t.placement.describe(), t.slug.clone()))
            .collect();
        let landlord_file = self.landlord_file();
        let mut files: BTreeMap<(u64, u64), String> = BTreeMap::new();
        if self.config.tenancy.layout == Layout::Sqlite {
            for t in &registered {
                if let Some(id) = file_identity(&self.config.root.join(&t.placement.location)) {
                    files.insert(id, t.slug.clone());
                }
            }
        }
        let mut report = ImportReport::default();
        let mut candidates: Vec<(usize, NewTenant, Address)> = Vec::new();
        for (line, row) in rows {
            let refuse = |reason: String| RefusedRow {
                line: *line,
                slug: row.slug.clone(),
                reason,
            };
            let checked = self
                .check_row(row, &slugs, &places, landlord_file, &files)
                .and_then(|checked| Ok((checked, row_tags(row)?)))
                .map_err(|e| problem_of(&e));
            match checked {
                Ok(((slug, placement, address, file), tags)) => {
                    slugs.insert(slug.to_string());
                    places.insert(placement.describe(), slug.to_string());
                    if let Some(file) = file {
                        files.insert(file, slug.to_string());
                    }
                    let name = row.name.clone().unwrap_or_else(|| slug.to_string());
                    let tenant = NewTenant {
                        slug,
                        name,
                        placement,
                        tags,
                    };
                    candidates.push((*line, tenant, address));
                }
                Err(reason) => report.refused.push(refuse(reason)),
            }
        }
        // Whether each database is there: a file check, or one question per server.
        let addresses: Vec<&Address> = candidates.iter().map(|c| &c.2).collect();
        let found = Database::existing(&addresses).await;
        let mut good = Vec::new();
        for (candidate, exists) in candidates.into_iter().zip(found) {
            let (line, tenant, _) = candidate;
            let placement = &tenant.placement;
            let reason = match exists {
                Some(true) => None,
                Some(false) => Some(format!(
                    "its database ({}) does not exist",
                    placement.describe()
                )),
                None => Some(format!(
                    "its server {} could not be asked whether {} exists",
                    placement.server.as_deref().unwrap_or_default(),
                    placement.describe()
                )),
            };
            match reason {
                Some(reason) => report.refused.push(RefusedRow {
                    line,
                    slug: tenant.slug.to_string(),
                    reason,
                }),
                None => good.push(tenant),
            }
        }
        report.refused.sort_by_key(|r| r.line);
        Ok((good, report.refused))
    }

    /// Registers one tenant whose database is already where the tenancy templates place it
    /// (`tenants add SLUG --existing`), creating nothing; refused as an import's row would be.
    pub async fn add_existing_tenant(
        &self,
        slug: &str,
        name: Option<&str>,
        server: Option<&str>,
        tags: &Tags,
    ) -> Result<TenantRecord> {
        let parsed = Slug::parse(slug)?;
        // Its path, database and schema left empty: a row's empty placement is where the
        // tenancy's templates put the tenant (`placement_of`).
        let row = TenantRow {
            slug: slug.to_string(),
            name: name.map(str::to_string),
            server: server.map(str::to_string),
            tags: (!tags.is_empty()).then(|| format_tag_list(tags)),
            ..TenantRow::default()
        };
        self.ensure_writable("adding a tenant")?;
        let (good, refused) = self.checked_rows(&[(1, row)]).await?;
        if let Some(refused) = refused.first() {
            return Err(Error::refused(
                format!(
                    "tenant {parsed} cannot be registered as it is: {}",
                    refused.reason
                ),
                "check the tenancy path or templates in the config, or add the tenant without --existing to provision a new database",
            ));
        }
        self.registry.add_tenants(&good).await?;
        self.registry.tenant(parsed.as_str()).await?.ok_or_else(|| {
            Error::Migrator(format!(
                "tenant {parsed} was registered but cannot be read back"
            ))
        })
    }

    /// A row's slug, placement and address as a new tenant's would be checked, its file's
    /// identity for SQLite; the reason it is refused otherwise.
    fn check_row(
        &self,
        row: &TenantRow,
        slugs: &BTreeSet<String>,
        places: &BTreeMap<String, String>,
        landlord_file: Option<(u64, u64)>,
        files: &BTreeMap<(u64, u64), String>,
    ) -> Result<CheckedRow> {
        let slug = Slug::parse(&row.slug)?;
        if let Some(name) = &row.name {
            check_name(name)?;
        }
        if slugs.contains(slug.as_str()) {
            return Err(Error::refused(
                format!("tenant {slug} is there already"),
                "give each tenant its own slug",
            ));
        }
        let placement = self.placement_of(row, &slug)?;
        let address = placement.address(&self.config)?;
        if let Some(owner) = places.get(&placement.describe()) {
            return Err(Error::refused(
                format!("{} is tenant {owner}'s database", placement.describe()),
                "each tenant needs a database of its own",
            ));
        }
        let mut identity = None;
        if let Address::Sqlite { path } = &address
            && let Some(file) = file_identity(path)
        {
            if landlord_file == Some(file) {
                return Err(Error::refused(
                    format!("{} is the landlord's database", placement.describe()),
                    "a tenant's database is a file of its own",
                ));
            }
            if let Some(owner) = files.get(&file) {
                return Err(Error::refused(
                    format!(
                        "{} is the same file as tenant {owner}'s database",
                        placement.describe()
                    ),
                    "each tenant needs a database of its own",
                ));
            }
            identity = Some(file);
        }
        Ok((slug, placement, address, identity))
    }

    /// The placement a row names, by the config's layout. An empty path, database or schema
    /// is where the tenancy's templates put tenant `slug`, as `tenants add --existing` has it.
    fn placement_of(&self, row: &TenantRow, slug: &Slug) -> Result<Placement> {
        let layout = self.config.tenancy.layout;
        let tenancy = &self.config.tenancy;
        let wrong = |field: &str, why: &str| {
            Err(Error::refused(
                format!("{field} does not apply: {why}"),
                "leave that column empty for this project's tenancy layout",
            ))
        };
        let missing = |field: &str| {
            Err(Error::refused(
                format!("{field} is missing"),
                format!("give each row its {field}"),
            ))
        };
        match layout {
            Layout::Sqlite => {
                for (field, given) in [
                    ("server", &row.server),
                    ("database", &row.database),
                    ("schema", &row.schema),
                ] {
                    if given.is_some() {
                        return wrong(field, "this project keeps tenants in SQLite files");
                    }
                }
                let full = match &row.path {
                    Some(path) => self.config.root.join(path),
                    None => tenancy.path_for(slug.as_str()),
                };
                let location = full
                    .strip_prefix(&self.config.root)
                    .unwrap_or(&full)
                    .to_string_lossy()
                    .into_owned();
                Ok(Placement {
                    engine: Engine::Sqlite,
                    server: None,
                    location,
                    schema: None,
                })
            }
            Layout::Database | Layout::Schema => {
                if row.path.is_some() {
                    return wrong("path", "this project keeps tenants on PostgreSQL servers");
                }
                let server = match (&row.server, self.config.servers.as_slice()) {
                    (Some(name), _) => name.clone(),
                    (None, [only]) => only.name.clone(),
                    (None, _) => return missing("server"),
                };
                if self.config.server(&server).is_none() {
                    return Err(Error::refused(
                        format!("no server is named {server:?}"),
                        "name one of the config's [[servers]]",
                    ));
                }
                let database = match (&row.database, layout) {
                    (Some(d), _) => d.clone(),
                    (None, Layout::Schema) => tenancy.database_template.clone(),
                    (None, _) => tenancy.database_for(slug.as_str()),
                };
                let schema = match (&row.schema, layout) {
                    (Some(_), Layout::Database) => {
                        return wrong("schema", "this project keeps a database per tenant");
                    }
                    (None, Layout::Schema) => Some(tenancy.schema_for(slug.as_str())),
                    (schema, _) => schema.clone(),
                };
                Ok(Placement {
                    engine: Engine::Postgres,
                    server: Some(server),
                    location: database,
                    schema,
                })
            }
        }
    }
}

/// What is wrong, without the fix (a row's reason is one line of a list).
/// A row's tags, checked as `tenants tag` checks them.
fn row_tags(row: &TenantRow) -> Result<Tags> {
    row.tags
        .as_deref()
        .map(parse_tag_list)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn problem_of(e: &Error) -> String {
    match e {
        Error::Refused { problem, .. } => problem.clone(),
        other => other.to_string(),
    }
}

/// The refusal of a whole import: each refused row by its line.
fn refusal(refused: &[RefusedRow]) -> Error {
    let lines: Vec<String> = refused
        .iter()
        .take(50)
        .map(|r| format!("line {} ({}): {}", r.line, r.slug, r.reason))
        .collect();
    let more = refused.len().saturating_sub(50);
    Error::refused(
        format!(
            "{} row(s) refused, so nothing was registered:\n  {}{}",
            refused.len(),
            lines.join("\n  "),
            if more > 0 {
                format!("\n  … and {more} more")
            } else {
                String::new()
            }
        ),
        "correct those rows, or pass --skip-invalid to register the others",
    )
}
