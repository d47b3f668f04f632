//! `estate_tenants`: the tenants and where each one's database (or schema) is placed.
//!
//! A row read back is checked again before it is used (its slug valid, no two rows placing
//! tenants at one database): rows can be edited by hand, and a placement becomes a file name,
//! a database name or a schema name.

use std::collections::HashMap;

use super::Registry;
use crate::clock::now;
use crate::database::Engine;
use crate::error::{Error, Result};
use crate::tenancy::{Placement, Slug};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantRecord {
    pub slug: String,
    pub name: String,
    pub placement: Placement,
    pub created_at: String,
}

impl Registry {
    pub async fn tenants(&self) -> Result<Vec<TenantRecord>> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<TenantRow> = sqlx::query_as(
                "SELECT slug, name, engine, server, location, schema_name, created_at FROM estate_tenants ORDER BY slug",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            let tenants: Vec<TenantRecord> =
                rows.into_iter().map(tenant_record).collect::<Result<_>>()?;
            let mut owners: HashMap<String, &str> = HashMap::with_capacity(tenants.len());
            for t in &tenants {
                if let Some(other) = owners.insert(t.placement.describe(), &t.slug) {
                    return Err(shared_placement(other, &t.slug, &t.placement));
                }
            }
            Ok(tenants)
        })
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
            let Some(record) = row.map(tenant_record).transpose()? else {
                return Ok(None);
            };
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

    pub async fn add_tenant(
        &self,
        slug: &Slug,
        name: &str,
        placement: &Placement,
    ) -> Result<TenantRecord> {
        let created_at = self
            .add_tenants(&[(slug.clone(), name.to_string(), placement.clone())])
            .await?;
        Ok(TenantRecord {
            slug: slug.to_string(),
            name: name.to_string(),
            placement: placement.clone(),
            created_at,
        })
    }

    /// Registers `tenants` (slug, name, placement) in one transaction: all of them or none.
    /// Returns the time they were registered at.
    pub async fn add_tenants(&self, tenants: &[(Slug, String, Placement)]) -> Result<String> {
        let created_at = now();
        let mut tx = self.db.begin().await?;
        crate::on_tx!(tx, conn => {
            for (slug, name, placement) in tenants {
                sqlx::query(
                    "INSERT INTO estate_tenants (slug, name, engine, server, location, schema_name, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(slug.as_str())
                .bind(name)
                .bind(placement.engine.as_str())
                .bind(&placement.server)
                .bind(&placement.location)
                .bind(&placement.schema)
                .bind(&created_at)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.err(e))?;
            }
        });
        tx.commit().await?;
        Ok(created_at)
    }
}

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
    })
}
