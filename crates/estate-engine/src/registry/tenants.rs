//! `estate_tenants`: the tenants and where each one's database (or schema) is placed.
//!
//! A row read back is checked again before it is used (its slug valid, no two rows placing
//! tenants at one database): rows can be edited by hand, and a placement becomes a file name,
//! a database name or a schema name. A tenant's tags live beside it in `estate_tenant_tags`,
//! one row a tag.

use std::collections::HashMap;

use super::Registry;
use crate::clock::now;
use crate::database::Engine;
use crate::error::{Error, Result};
use crate::tenancy::{Placement, Slug, Tags};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantRecord {
    pub slug: String,
    pub name: String,
    pub placement: Placement,
    pub created_at: String,
    pub tags: Tags,
}

/// A tenant to register: its slug, display name, placement and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    pub slug: Slug,
    pub name: String,
    pub placement: Placement,
    pub tags: Tags,
}

impl Registry {
    /// Every tenant, in slug order (bytewise, the same on both engines), with its tags.
    pub async fn tenants(&self) -> Result<Vec<TenantRecord>> {
        // The tags first, the tenants last: where both handle connections are busy (the
        // matrix reads the installations beside this), a read waiting for one runs while the
        // tenants are unpacked.
        let tags: Vec<(String, String, String)> = self
            .packed_rows("tenant, key, value", "estate_tenant_tags")
            .await?;
        let rows: Vec<TenantColumns> = self
            .packed_rows(
                "slug, name, engine, server, location, schema_name, created_at",
                "estate_tenants",
            )
            .await?;
        let mut tenants = Vec::with_capacity(rows.len());
        for (slug, name, engine, server, location, schema_name, created_at) in rows {
            tenants.push(tenant_record(TenantRow {
                slug,
                name,
                engine,
                server,
                location,
                schema_name,
                created_at,
            })?);
        }
        tenants.sort_unstable_by(|a, b| a.slug.cmp(&b.slug));
        let mut by_tenant: HashMap<String, Tags> = HashMap::new();
        for (tenant, key, value) in tags {
            by_tenant.entry(tenant).or_default().insert(key, value);
        }
        if !by_tenant.is_empty() {
            for t in &mut tenants {
                t.tags = by_tenant.remove(&t.slug).unwrap_or_default();
            }
        }
        // Keyed by the placement's parts, borrowed: no string made per tenant.
        let mut owners: HashMap<(Option<&str>, &str, Option<&str>), &str> =
            HashMap::with_capacity(tenants.len());
        for t in &tenants {
            let p = &t.placement;
            let at = (
                p.server.as_deref(),
                p.location.as_str(),
                p.schema.as_deref(),
            );
            if let Some(other) = owners.insert(at, &t.slug) {
                return Err(shared_placement(other, &t.slug, &t.placement));
            }
        }
        Ok(tenants)
    }

    pub async fn tenant(&self, slug: &str) -> Result<Option<TenantRecord>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let row: Option<TenantRow> = sqlx::query_as(
                "SELECT slug, name, engine, server, location, schema_name, created_at FROM estate_tenants WHERE slug = $1",
            )
            .bind(slug)
            .fetch_optional(pool)
            .await
            .map_err(|e| self.err(e))?;
            let Some(mut record) = row.map(tenant_record).transpose()? else {
                return Ok(None);
            };
            let tags: Vec<(String, String)> =
                sqlx::query_as("SELECT key, value FROM estate_tenant_tags WHERE tenant = $1")
                    .bind(slug)
                    .fetch_all(pool)
                    .await
                    .map_err(|e| self.err(e))?;
            record.tags = tags.into_iter().collect();
            let other: Option<(String,)> = sqlx::query_as(
                "SELECT slug FROM estate_tenants WHERE slug <> $1 AND engine = $2 AND location = $3
                 AND COALESCE(server, '') = COALESCE($4, '') AND COALESCE(schema_name, '') = COALESCE($5, '')",
            )
            .bind(slug)
            .bind(record.placement.engine.as_str())
            .bind(&record.placement.location)
            .bind(&record.placement.server)
            .bind(&record.placement.schema)
            .fetch_optional(pool)
            .await
            .map_err(|e| self.err(e))?;
            match other {
                Some((other,)) => Err(shared_placement(&other, slug, &record.placement)),
                None => Ok(Some(record)),
            }
        })
    }

    pub async fn add_tenant(&self, tenant: NewTenant) -> Result<TenantRecord> {
        let created_at = self.add_tenants(std::slice::from_ref(&tenant)).await?;
        Ok(TenantRecord {
            slug: tenant.slug.to_string(),
            name: tenant.name,
            placement: tenant.placement,
            created_at,
            tags: tenant.tags,
        })
    }

    /// Registers `tenants` in one transaction: all of them or none. Returns the time they were
    /// registered at.
    pub async fn add_tenants(&self, tenants: &[NewTenant]) -> Result<String> {
        let created_at = now();
        let mut tx = self.db.begin().await?;
        crate::on_tx!(tx, conn => {
            for t in tenants {
                let placement = &t.placement;
                sqlx::query(
                    "INSERT INTO estate_tenants (slug, name, engine, server, location, schema_name, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(t.slug.as_str())
                .bind(&t.name)
                .bind(placement.engine.as_str())
                .bind(&placement.server)
                .bind(&placement.location)
                .bind(&placement.schema)
                .bind(&created_at)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.err(e))?;
                for (key, value) in &t.tags {
                    sqlx::query("INSERT INTO estate_tenant_tags (tenant, key, value) VALUES ($1, $2, $3)")
                        .bind(t.slug.as_str())
                        .bind(key)
                        .bind(value)
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| self.err(e))?;
                }
            }
        });
        tx.commit().await?;
        Ok(created_at)
    }

    /// Sets `tags` on a registered tenant (a key it has already takes the new value) and
    /// removes the keys in `untag`, in one transaction.
    pub async fn retag(&self, slug: &str, tags: &Tags, untag: &[String]) -> Result<()> {
        let mut tx = self.db.begin().await?;
        crate::on_tx!(tx, conn => {
            for key in untag.iter().chain(tags.keys()) {
                sqlx::query("DELETE FROM estate_tenant_tags WHERE tenant = $1 AND key = $2")
                    .bind(slug)
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| self.err(e))?;
            }
            for (key, value) in tags {
                sqlx::query("INSERT INTO estate_tenant_tags (tenant, key, value) VALUES ($1, $2, $3)")
                    .bind(slug)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| self.err(e))?;
            }
        });
        tx.commit().await?;
        Ok(())
    }
}

/// A tenant row as [`Registry::packed_rows`] reads it, in `TenantRow`'s order.
type TenantColumns = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
);

#[derive(sqlx::FromRow)]
struct TenantRow {
    slug: String,
    name: String,
    engine: String,
    server: Option<String>,
    location: String,
    schema_name: Option<String>,
    created_at: String,
}

/// Two tenant rows name one database: a hand edit, and either would migrate the other's.
fn shared_placement(a: &str, b: &str, placement: &Placement) -> Error {
    Error::refused(
        format!(
            "the registry places tenants {a} and {b} both at {}",
            placement.describe()
        ),
        "correct the location of the wrong one in the landlord's estate_tenants table",
    )
}

/// A tenant row as estate uses it, its slug checked again: a row edited by hand must not turn
/// into a file name, a database name or a schema name unchecked.
fn tenant_record(r: TenantRow) -> Result<TenantRecord> {
    if let Err(e) = Slug::parse(&r.slug) {
        // The slug's own fix (choose another) is for a slug being typed, not one on file.
        let why = match e {
            Error::Refused { problem, .. } => problem,
            other => other.to_string(),
        };
        return Err(Error::refused(
            format!(
                "the registry holds a tenant whose slug {:?} is not valid: {why}",
                r.slug
            ),
            "correct or remove that row of the landlord's estate_tenants table",
        ));
    }
    // A placement written by a newer estate with an engine this one lacks still lists; opening
    // it fails with the engine named.
    let engine = Engine::parse(&r.engine).unwrap_or_default();
    Ok(TenantRecord {
        slug: r.slug,
        name: r.name,
        placement: Placement {
            engine,
            server: r.server,
            location: r.location,
            schema: r.schema_name,
        },
        created_at: r.created_at,
        tags: Tags::new(),
    })
}
