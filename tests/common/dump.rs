//! The whole content of a database, to compare before and after: a SQLite file's bytes, or the
//! logical state of a PostgreSQL database or schema (its relations, and each table's columns,
//! indexes, constraints and rows, sorted).

use std::collections::BTreeMap;

use sqlx::postgres::PgConnection;

use super::db::{DbRef, block_on, literal, quote};
use super::postgres::{checkin, checkout};
use super::scratch::Snapshot;

/// The user schemas of a database (or only `only`), as a SQL condition on `column`.
fn schema_filter(column: &str, only: Option<&str>) -> String {
    match only {
        Some(s) => format!("{column} = {}", literal(s)),
        None => format!("{column} <> 'information_schema' AND {column} NOT LIKE 'pg\\_%'"),
    }
}

/// Adds to `out` the state of one PostgreSQL database (only schema `only`, when given): per
/// schema the list of its relations (`KEY.schema`), and per table its columns, defaults,
/// indexes, constraints and rows, sorted (`KEY.schema.table`).
pub(super) async fn pg_dump(
    conn: &mut PgConnection,
    key: &str,
    only: Option<&str>,
    out: &mut Snapshot,
) {
    let sql = format!(
        "SELECT n.nspname::text, coalesce(c.relname::text, ''), coalesce(c.relkind::text, '')
         FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
         WHERE {} ORDER BY 1, 2",
        schema_filter("n.nspname", only)
    );
    let relations: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let mut tables: Vec<(String, String)> = Vec::new();
    for (schema, name, kind) in &relations {
        let listing = out.entry(format!("{key}.{schema}")).or_default();
        if !name.is_empty() {
            listing.extend_from_slice(format!("{kind} {name}\n").as_bytes());
        }
        if kind == "r" || kind == "p" {
            tables.push((schema.clone(), name.clone()));
        }
    }
    if tables.is_empty() {
        return;
    }
    // Columns (with type, nullability, default), indexes and constraints, in one query.
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, 1 AS part, lpad(a.attnum::text, 5, '0'),
                'column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {schemas}
         UNION ALL
         SELECT schemaname::text, tablename::text, 2, indexname::text, 'index ' || indexdef
         FROM pg_indexes WHERE {indexes}
         UNION ALL
         SELECT n.nspname::text, c.relname::text, 3, con.conname::text,
                'constraint ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE {schemas}
         ORDER BY 1, 2, 3, 4",
        schemas = schema_filter("n.nspname", only),
        indexes = schema_filter("schemaname", only),
    );
    let shape: Vec<(String, String, i32, String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let mut texts: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (schema, table, _, _, line) in shape {
        texts.entry((schema, table)).or_default().push(line);
    }
    // Every row of every table, in one query.
    let sql = tables
        .iter()
        .map(|(schema, table)| {
            format!(
                "SELECT {}, {}, to_jsonb(t)::text FROM {}.{} t",
                literal(schema),
                literal(table),
                quote(schema),
                quote(table)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let mut by_table: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (schema, table, row) in rows {
        by_table
            .entry((schema, table))
            .or_default()
            .push(format!("row {row}"));
    }
    for (schema, table) in tables {
        let mut rows = by_table
            .remove(&(schema.clone(), table.clone()))
            .unwrap_or_default();
        rows.sort();
        let mut lines = texts
            .remove(&(schema.clone(), table.clone()))
            .unwrap_or_default();
        lines.extend(rows);
        let mut text = lines.join("\n");
        text.push('\n');
        out.insert(format!("{key}.{schema}.{table}"), text.into_bytes());
    }
}

/// The whole content of one database, to compare before and after: a SQLite file's bytes, or
/// the logical state (see `Scratch::snapshot`) of a PostgreSQL database or schema.
pub fn content(db: &DbRef) -> Vec<u8> {
    match db {
        DbRef::Sqlite(path) => {
            std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        }
        DbRef::Postgres {
            server,
            database,
            schema,
            ..
        } => block_on(async {
            let mut out = BTreeMap::new();
            let mut conn = checkout(db).await;
            let key = format!("{server}:{database}");
            pg_dump(&mut conn, &key, schema.as_deref(), &mut out).await;
            checkin(db, conn);
            let mut bytes = Vec::new();
            for (k, v) in out {
                bytes.extend_from_slice(k.as_bytes());
                bytes.push(b'\n');
                bytes.extend_from_slice(&v);
            }
            bytes
        }),
    }
}
