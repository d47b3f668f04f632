//! `estate_modules`: the catalog as the landlord records it, for anyone reading the landlord
//! without the contexts' folders at hand.

use std::collections::BTreeMap;

use super::Registry;
use crate::catalog::Catalog;
use crate::clock::now;
use crate::error::Result;

impl Registry {
    /// Records the catalog in `estate_modules`, writing only rows that changed, so a run with
    /// an unchanged catalog leaves the landlord untouched.
    pub async fn sync_catalog(&self, catalog: &Catalog) -> Result<usize> {
        let db = &self.db;
        crate::on_pool!(db, pool => {
            let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
                "SELECT name, title, version, description, requires FROM estate_modules",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.err(e))?;
            let known: BTreeMap<String, (String, String, String, String)> = rows
                .into_iter()
                .map(|(n, t, v, d, r)| (n, (t, v, d, r)))
                .collect();
            let mut changed = 0;
            for context in catalog.contexts.values() {
                let m = &context.manifest;
                let row = (
                    m.title.clone(),
                    m.version.clone(),
                    m.description.clone(),
                    m.requires.join(","),
                );
                if known.get(&m.name) == Some(&row) {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO estate_modules (name, title, version, description, requires, synced_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (name) DO UPDATE SET title = excluded.title, version = excluded.version,
                       description = excluded.description, requires = excluded.requires, synced_at = excluded.synced_at",
                )
                .bind(&m.name)
                .bind(&row.0)
                .bind(&row.1)
                .bind(&row.2)
                .bind(&row.3)
                .bind(now())
                .execute(pool)
                .await
                .map_err(|e| self.err(e))?;
                changed += 1;
            }
            if changed > 0 {
                tracing::info!(changed, "catalog synced into the registry");
            }
            Ok(changed)
        })
    }
}
