//! A job's registry rows on a PostgreSQL landlord: each column of a run of rows bound as one
//! array and inserted through `unnest`.
//!
//! A multi-row `VALUES` is a statement of its own at each number of rows: the landlord parsed,
//! described and planned a new one for every batch the recorder wrote (a statement of 3,000
//! parameters for 500 log lines), and this process encoded and cached each. With arrays, each
//! table has one statement whatever the batch, prepared once a connection. On 300 schema
//! tenants, an install that recorded nothing took 15% less time than one that recorded its
//! rows that way (`benches/fleet.rs`, B, on a tmpfs server). SQLite, in process, keeps the
//! `VALUES` of `write.rs`.

use sqlx::PgConnection;

use super::write::RegistryWrite;
use super::{InstallState, LogLine};

type Done = Result<(), sqlx::Error>;

/// [`super::Registry::upsert_installations`]'s statement, rows as arrays.
pub(super) async fn upsert_installations(
    conn: &mut PgConnection,
    run: &[&RegistryWrite],
    at: &str,
) -> Done {
    let n = run.len();
    let (mut tenants, mut modules, mut states, mut versions) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut installed_at, mut errors, mut applied_versions, mut applied_digests) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for w in run {
        let RegistryWrite::Installation {
            tenant,
            module,
            state,
            version,
            applied,
            error,
        } = w
        else {
            unreachable!("a run holds writes of one kind")
        };
        tenants.push(tenant.as_str());
        modules.push(module.as_str());
        states.push(state.as_str());
        versions.push(version.as_str());
        installed_at.push((*state == InstallState::Installed).then_some(at));
        errors.push(error.as_deref());
        applied_versions.push(applied.as_ref().map(|a| a.version));
        applied_digests.push(applied.as_ref().map(|a| a.digest.as_str()));
    }
    sqlx::query(
        "INSERT INTO estate_tenant_modules
           (tenant, module, state, module_version, installed_at, updated_at, error,
            applied_version, applied_digest)
         SELECT u.tenant, u.module, u.state, u.module_version, u.installed_at, $5, u.error,
                u.applied_version, u.applied_digest
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::text[], $7::text[],
                     $8::bigint[], $9::text[])
              AS u(tenant, module, state, module_version, installed_at, error,
                   applied_version, applied_digest)
         ON CONFLICT (tenant, module) DO UPDATE SET state = excluded.state,
           module_version = excluded.module_version,
           installed_at = COALESCE(estate_tenant_modules.installed_at, excluded.installed_at),
           updated_at = excluded.updated_at, error = excluded.error,
           applied_version = COALESCE(excluded.applied_version, estate_tenant_modules.applied_version),
           applied_digest = COALESCE(excluded.applied_digest, estate_tenant_modules.applied_digest)",
    )
    .bind(&tenants)
    .bind(&modules)
    .bind(&states)
    .bind(&versions)
    .bind(at)
    .bind(&installed_at)
    .bind(&errors)
    .bind(&applied_versions)
    .bind(&applied_digests)
    .execute(conn)
    .await
    .map(drop)
}

/// [`super::Registry::insert_history`]'s statement, rows as arrays.
pub(super) async fn insert_history(conn: &mut PgConnection, run: &[&RegistryWrite]) -> Done {
    let entries: Vec<&super::HistoryEntry> = run
        .iter()
        .map(|w| match w {
            RegistryWrite::History(entry) => entry,
            _ => unreachable!("a run holds writes of one kind"),
        })
        .collect();
    let text = |f: fn(&super::HistoryEntry) -> &str| -> Vec<&str> {
        entries.iter().map(|e| f(e)).collect()
    };
    let maybe = |f: fn(&super::HistoryEntry) -> Option<&str>| -> Vec<Option<&str>> {
        entries.iter().map(|e| f(e)).collect()
    };
    sqlx::query(
        "INSERT INTO estate_history (job_id, tenant, module, scope, action, operator, ssh_client,
           started_at, finished_at, duration_ms, migrations, outcome, error)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[],
                              $11::text[], $12::text[], $13::text[])",
    )
    .bind(text(|e| &e.job_id))
    .bind(maybe(|e| e.tenant.as_deref()))
    .bind(maybe(|e| e.module.as_deref()))
    .bind(text(|e| &e.scope))
    .bind(text(|e| &e.action))
    .bind(text(|e| &e.operator))
    .bind(maybe(|e| e.ssh_client.as_deref()))
    .bind(text(|e| &e.started_at))
    .bind(text(|e| &e.finished_at))
    .bind(entries.iter().map(|e| e.duration_ms).collect::<Vec<i64>>())
    .bind(text(|e| &e.migrations))
    .bind(text(|e| &e.outcome))
    .bind(maybe(|e| e.error.as_deref()))
    .execute(conn)
    .await
    .map(drop)
}

/// [`super::Registry::append_log`]'s statement: `lines` numbered from `first_seq`.
pub(super) async fn append_log(
    conn: &mut PgConnection,
    job_id: &str,
    first_seq: i64,
    lines: &[LogLine],
) -> Done {
    sqlx::query(
        "INSERT INTO estate_job_events (job_id, seq, at, tenant, kind, text)
         SELECT $1, $2 + u.n - 1, u.at, u.tenant, u.kind, u.text
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[])
              WITH ORDINALITY AS u(at, tenant, kind, text, n)",
    )
    .bind(job_id)
    .bind(first_seq)
    .bind(lines.iter().map(|l| l.at.as_str()).collect::<Vec<_>>())
    .bind(
        lines
            .iter()
            .map(|l| l.tenant.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(lines.iter().map(|l| l.kind.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>())
    .execute(conn)
    .await
    .map(drop)
}
