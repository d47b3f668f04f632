//! Adding a tenant: its slug and name checked, its placement chosen, and never a database that
//! is already the landlord's or another tenant's (compared as files, not paths).

use std::collections::BTreeMap;

use super::Project;
use crate::database::Address;
use crate::error::{Error, Result};
use crate::registry::{LOGGED_TENANT, NewTenant, TenantRecord};
use crate::tenancy::{Placement, Slug, Tags, check_name, check_tag_key, file_identity};

impl Project {
    /// The landlord's file, by device and inode, when it is a SQLite file that is there.
    pub(super) fn landlord_file(&self) -> Option<(u64, u64)> {
        match &self.config.landlord {
            Address::Sqlite { path } => file_identity(path),
            Address::Postgres { .. } => None,
        }
    }

    /// Registers a tenant and provisions its database.
    pub async fn add_tenant(
        &self,
        slug: &str,
        name: Option<&str>,
        server: Option<&str>,
    ) -> Result<TenantRecord> {
        self.add_tagged_tenant(slug, name, server, &Tags::new())
            .await
    }

    /// Registers a tenant with its tags and provisions its database.
    pub async fn add_tagged_tenant(
        &self,
        slug: &str,
        name: Option<&str>,
        server: Option<&str>,
        tags: &Tags,
    ) -> Result<TenantRecord> {
        let slug = Slug::parse(slug)?;
        if let Some(name) = name {
            check_name(name)?;
        }
        self.ensure_writable("adding a tenant")?;
        if self.registry.tenant(slug.as_str()).await?.is_some() {
            return Err(Error::refused(
                format!("tenant {slug} already exists"),
                "choose another slug; `estate tenants list` shows the tenants",
            ));
        }
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let tenants = self.registry.tenants().await?;
        for t in &tenants {
            if let Some(server) = &t.placement.server {
                *counts.entry(server.clone()).or_default() += 1;
            }
        }
        let placement = Placement::for_new_tenant(&self.config, &slug, server, &counts)?;
        // Never adopt another tenant's database (a tenants path changed under the fleet).
        if let Some(owner) = tenants
            .iter()
            .find(|t| t.placement.describe() == placement.describe())
        {
            return Err(Error::refused(
                format!(
                    "tenant {slug} would be placed at {}, which is tenant {}'s database",
                    placement.describe(),
                    owner.slug
                ),
                "check the tenancy path or templates in the config: each tenant needs its own",
            ));
        }
        // Nor the landlord's or another tenant's file under another name (a hard link).
        if placement.server.is_none() {
            let path = self.config.root.join(&placement.location);
            if let Some(file) = file_identity(&path) {
                let landlord = self.landlord_file();
                let link = |owner: String| {
                    Error::refused(
                        format!(
                            "tenant {slug} would be placed at {}, which is the same file as {owner}",
                            placement.describe()
                        ),
                        format!(
                            "remove {} (a link to that database), then add the tenant again",
                            path.display()
                        ),
                    )
                };
                if landlord == Some(file) {
                    // The landlord's own path (not a link to it) is the confinement's to
                    // refuse, in its words.
                    if let Address::Sqlite { path: theirs } = &self.config.landlord
                        && path.canonicalize().ok() == theirs.canonicalize().ok()
                    {
                        placement.address(&self.config)?;
                    }
                    return Err(link("the landlord's database".to_string()));
                }
                if let Some(t) = tenants
                    .iter()
                    .filter(|t| t.placement.server.is_none())
                    .find(|t| {
                        let theirs = self.config.root.join(&t.placement.location);
                        file_identity(&theirs) == Some(file)
                    })
                {
                    return Err(link(format!(
                        "tenant {}'s database ({})",
                        t.slug,
                        t.placement.describe()
                    )));
                }
            }
        }
        if placement.exists(&self.config).await? {
            // A file at this tenant's own path is its database (say, from an add that was
            // interrupted before it was registered): adopt it rather than refuse forever.
            tracing::warn!(tenant = %slug, location = %placement.describe(), "adopting an existing tenant database");
        }
        placement.provision(&self.config, &slug).await?;
        let name = name.map(str::to_string).unwrap_or_else(|| slug.to_string());
        let record = self
            .registry
            .add_tenant(NewTenant {
                slug: slug.clone(),
                name,
                placement: placement.clone(),
                tags: tags.clone(),
            })
            .await?;
        tracing::info!(tenant = %slug, location = %placement.describe(), "{LOGGED_TENANT}");
        Ok(record)
    }
}

impl Project {
    /// Sets `tags` on a registered tenant and removes the keys in `untag`. A key to remove
    /// that the tenant does not have is refused (a typo would otherwise pass for done).
    pub async fn retag(&self, slug: &str, tags: &Tags, untag: &[String]) -> Result<TenantRecord> {
        let slug = Slug::parse(slug)?;
        for key in untag {
            check_tag_key(key)?;
        }
        self.ensure_writable("tagging a tenant")?;
        let tenant = self.known_tenant(&slug).await?;
        if let Some(missing) = untag.iter().find(|k| !tenant.tags.contains_key(*k)) {
            let has = if tenant.tags.is_empty() {
                "it has no tags".to_string()
            } else {
                format!(
                    "its keys are {}",
                    tenant.tags.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            return Err(Error::refused(
                format!("tenant {slug} has no tag {missing}"),
                format!("name a key it has: {has}"),
            ));
        }
        self.registry.retag(slug.as_str(), tags, untag).await?;
        tracing::info!(tenant = %slug, set = tags.len(), removed = untag.len(), "tenant retagged");
        self.known_tenant(&slug).await
    }

    /// A registered tenant, or a refusal that says how to find the right slug.
    pub(super) async fn known_tenant(&self, slug: &Slug) -> Result<TenantRecord> {
        self.registry.tenant(slug.as_str()).await?.ok_or_else(|| {
            Error::refused(
                format!("unknown tenant {:?}", slug.as_str()),
                "`estate tenants list` shows the tenants",
            )
        })
    }
}

impl Project {
    /// Refuses a `[tenancy] default_modules` that names a module the catalog lacks, before
    /// any tenant is added: a new tenant must not be registered only to fail its defaults.
    pub fn check_default_modules(&self) -> Result<()> {
        for module in &self.config.tenancy.default_modules {
            if self.catalog.require(module).is_err() {
                return Err(Error::refused(
                    format!(
                        "{}: [tenancy] default_modules names {module:?}, which no context provides",
                        self.config.file.display()
                    ),
                    "correct default_modules to modules `estate modules` lists, or add --no-defaults",
                ));
            }
        }
        Ok(())
    }

    /// The install of the config's default modules (with what they require) on `tenants`,
    /// run as any job; `None` when the config names none, or they are all there already.
    pub async fn plan_defaults(&self, tenants: &[Slug]) -> Result<Option<crate::plan::Plan>> {
        let defaults = &self.config.tenancy.default_modules;
        if defaults.is_empty() || tenants.is_empty() {
            return Ok(None);
        }
        let selection = crate::plan::TenantSelection::Only(tenants.to_vec());
        let plan = self.plan_install(defaults, &selection).await?;
        Ok((!plan.is_empty()).then_some(plan))
    }
}
