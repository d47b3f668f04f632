//! A tenant unregistered: its rows gone from `estate_tenants` and `estate_tenant_tags`, and the
//! removal kept where an operator looks for what happened (a finished `remove` job, and a
//! history row that names the tenant and no module).

use super::{JobCounts, Registry};
use crate::clock::now;
use crate::error::{Error, Result};
use crate::operator::Operator;

impl Registry {
    /// Unregisters `slug` in one transaction, refused while any module has a row for it or a
    /// running job is working on it (both read inside the transaction: an install that landed
    /// since the caller's own check still refuses), recorded as job `job_id`.
    pub async fn remove_tenant(&self, slug: &str, job_id: &str, operator: &Operator) -> Result<()> {
        let at = now();
        let mut tx = self.db.begin().await?;
        crate::on_tx!(tx, conn => {
            let modules: Vec<(String,)> = sqlx::query_as(
                "SELECT module FROM estate_tenant_modules WHERE tenant = $1 ORDER BY module",
            )
            .bind(slug)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
            if !modules.is_empty() {
                let names: Vec<String> = modules.into_iter().map(|m| m.0).collect();
                return Err(still_installed(slug, &names));
            }
            let running: Option<(String,)> = sqlx::query_as(
                "SELECT j.id FROM estate_jobs j JOIN estate_job_tenants t ON t.job_id = j.id
                 WHERE t.tenant = $1 AND j.state = 'running'",
            )
            .bind(slug)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
            if let Some((job,)) = running {
                return Err(Error::refused(
                    format!("job {job} is running on tenant {slug}"),
                    format!("wait for it to end (`estate jobs log {job} --follow`), then remove the tenant"),
                ));
            }
            let counts = JobCounts {
                succeeded: 1,
                tenants_done: 1,
                ..JobCounts::default()
            };
            sqlx::query(
                "INSERT INTO estate_jobs (id, action, modules, tenants, steps, operator, ssh_client,
                   started_at, finished_at, state, succeeded, tenants_done)
                 VALUES ($1, 'remove', '', 1, 1, $2, $3, $4, $4, 'succeeded', $5, $6)",
            )
            .bind(job_id)
            .bind(&operator.user)
            .bind(&operator.ssh_client)
            .bind(&at)
            .bind(counts.succeeded)
            .bind(counts.tenants_done)
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
            sqlx::query(
                "INSERT INTO estate_history (job_id, tenant, module, scope, action, operator, ssh_client,
                   started_at, finished_at, duration_ms, migrations, outcome)
                 VALUES ($1, $2, NULL, 'tenant', 'remove', $3, $4, $5, $5, 0, '', 'succeeded')",
            )
            .bind(job_id)
            .bind(slug)
            .bind(&operator.user)
            .bind(&operator.ssh_client)
            .bind(&at)
            .execute(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
            for sql in [
                "DELETE FROM estate_tenant_tags WHERE tenant = $1",
                "DELETE FROM estate_tenants WHERE slug = $1",
            ] {
                sqlx::query(sql)
                    .bind(slug)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| self.err(e))?;
            }
        });
        tx.commit().await
    }
}

/// The refusal of a removal while modules are installed (or failed) for the tenant.
pub fn still_installed(slug: &str, modules: &[String]) -> Error {
    Error::refused(
        format!("tenant {slug} still has modules: {}", modules.join(", ")),
        format!(
            "add --rollback to roll them back first (`estate tenants remove {slug} --rollback`), or roll them back with `estate rollback MODULE --tenant {slug}`"
        ),
    )
}
