//! Blueprint migrations (`<version>_<description>.toml`) on every setup: the tables they declare
//! are the tables each engine's catalog shows (column by column, key by key, index by index,
//! foreign key by foreign key), the database refuses what the declaration forbids, and the
//! derived down migrations leave nothing behind.
//!
//! The expectations are read from the blueprint files themselves with the `toml` crate, and each
//! portable type is mapped to what each engine's catalog calls it by a table written here
//! ([`catalog_type`]), not by estate's renderer: a rendering that drifts from the declaration
//! fails here.

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use toml::Value as Toml;

// --- what the blueprint says ----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

fn engine(db: &DbRef) -> Engine {
    if db.is_postgres() {
        Engine::Postgres
    } else {
        Engine::Sqlite
    }
}

/// What each engine's catalog calls a portable type: SQLite's declared type as
/// `pragma_table_info` gives it; PostgreSQL's `information_schema.columns.data_type`, with the
/// length of a `character varying` and the precision and scale of a `numeric`.
fn catalog_type(portable: &str, engine: Engine) -> String {
    const TYPES: [(&str, &str, &str); 10] = [
        // portable     SQLite          PostgreSQL
        ("id", "INTEGER", "bigint"),
        ("integer", "INTEGER", "integer"),
        ("bigint", "BIGINT", "bigint"),
        ("text", "TEXT", "text"),
        ("string", "VARCHAR({})", "character varying({})"),
        ("boolean", "BOOLEAN", "boolean"),
        ("timestamp", "TIMESTAMP", "timestamp with time zone"),
        ("json", "TEXT", "jsonb"),
        ("uuid", "BLOB", "uuid"),
        ("decimal", "NUMERIC({})", "numeric({})"),
    ];
    let (head, args) = match portable.split_once('(') {
        Some((head, rest)) => {
            let args: Vec<&str> = rest
                .trim_end_matches(')')
                .split(',')
                .map(str::trim)
                .collect();
            (head.trim(), args.join(","))
        }
        None => (portable.trim(), String::new()),
    };
    let (_, sqlite, postgres) = TYPES
        .iter()
        .find(|t| t.0 == head)
        .unwrap_or_else(|| panic!("the test knows no catalog type for {portable:?}"));
    match engine {
        Engine::Sqlite => sqlite,
        Engine::Postgres => postgres,
    }
    .replace("{}", &args)
}

/// A column as a catalog describes it, in terms both engines share.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ColumnShape {
    name: String,
    /// As the catalog spells it (see [`catalog_type`]).
    ty: String,
    not_null: bool,
    has_default: bool,
    /// The database assigns it: a rowid alias on SQLite, an identity column on PostgreSQL.
    assigned: bool,
}

/// An index other than the primary key's. `name` is `None` for the index of a `unique`
/// column, which each engine names after its own fashion.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct IndexShape {
    name: Option<String>,
    unique: bool,
    columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    column: String,
    table: String,
    target: String,
    on_delete: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TableShape {
    columns: Vec<ColumnShape>,
    primary_key: Vec<String>,
    indexes: BTreeSet<IndexShape>,
    foreign_keys: BTreeSet<ForeignKey>,
}

/// A table as the blueprints of a set leave it: `created` when a blueprint created it (its
/// shape is then the whole table), else only what blueprints added to it.
#[derive(Debug, Default)]
struct ExpectedTable {
    created: bool,
    shape: TableShape,
}

/// Every blueprint of `context`'s `scope` set in the project, by version: (version, file, text).
fn blueprints(s: &Scratch, context: &str, scope: &str) -> Vec<(i64, String, Toml)> {
    let dir = s.path(&format!("contexts/{context}/migrations/{scope}"));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<(i64, String, Toml)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            let version = file.split('_').next().unwrap().parse().unwrap();
            let text = std::fs::read_to_string(&p).unwrap();
            let value: Toml = toml::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not TOML: {e}", p.display()));
            (version, file, value)
        })
        .collect();
    found.sort_by_key(|b| b.0);
    found
}

fn string(v: &Toml, key: &str) -> String {
    v.get(key)
        .and_then(Toml::as_str)
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
        .to_string()
}

fn flag(v: &Toml, key: &str) -> bool {
    v.get(key).and_then(Toml::as_bool).unwrap_or(false)
}

fn strings(v: &Toml, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Toml::as_array)
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn array<'a>(v: &'a Toml, key: &str) -> &'a [Toml] {
    v.get(key)
        .and_then(Toml::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A declared column as the catalog should show it.
fn declared_column(c: &Toml, engine: Engine) -> ColumnShape {
    let ty = string(c, "type");
    let id = ty == "id";
    ColumnShape {
        name: string(c, "name"),
        ty: catalog_type(&ty, engine),
        not_null: !flag(c, "nullable"),
        has_default: c.get("default").is_some(),
        assigned: id,
    }
}

/// A declared column's foreign key, if it has one.
fn declared_foreign_key(c: &Toml) -> Option<ForeignKey> {
    let target = c.get("references")?.as_str().unwrap();
    let (table, column) = target.split_once('.').unwrap();
    let on_delete = c
        .get("on_delete")
        .and_then(Toml::as_str)
        .unwrap_or("no action")
        .replace('_', " ")
        .to_ascii_uppercase();
    Some(ForeignKey {
        column: string(c, "name"),
        table: table.to_string(),
        target: column.to_string(),
        on_delete,
    })
}

/// A declared index: its name is the one given, else `{table}_{columns}_idx`.
fn declared_index(table: &str, i: &Toml) -> IndexShape {
    let columns = strings(i, "columns");
    let name = i
        .get("name")
        .and_then(Toml::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{table}_{}_idx", columns.join("_")));
    IndexShape {
        name: Some(name),
        unique: flag(i, "unique"),
        columns,
    }
}

/// The tables the blueprints (in version order) leave behind, as the catalog should show them.
fn expected_schema(
    blueprints: &[(i64, String, Toml)],
    engine: Engine,
) -> BTreeMap<String, ExpectedTable> {
    let mut tables: BTreeMap<String, ExpectedTable> = BTreeMap::new();
    for (_, _, b) in blueprints {
        for t in array(b, "create_table") {
            let name = string(t, "name");
            let columns = array(t, "columns");
            let mut shape = TableShape {
                columns: columns.iter().map(|c| declared_column(c, engine)).collect(),
                ..TableShape::default()
            };
            shape.primary_key = if t.get("primary_key").is_some() {
                strings(t, "primary_key")
            } else {
                columns
                    .iter()
                    .filter(|c| flag(c, "primary_key") || string(c, "type") == "id")
                    .map(|c| string(c, "name"))
                    .collect()
            };
            for c in columns {
                let column = string(c, "name");
                if flag(c, "unique") && shape.primary_key != [column.clone()] {
                    shape.indexes.insert(IndexShape {
                        name: None,
                        unique: true,
                        columns: vec![column],
                    });
                }
                shape.foreign_keys.extend(declared_foreign_key(c));
            }
            for i in array(t, "indexes") {
                shape.indexes.insert(declared_index(&name, i));
            }
            let previous = tables.insert(
                name.clone(),
                ExpectedTable {
                    created: true,
                    shape,
                },
            );
            assert!(previous.is_none(), "{name} is created twice");
        }
        for a in array(b, "add_column") {
            let table = string(a, "table");
            let c = a.get("column").unwrap();
            let column = string(c, "name");
            let t = tables.entry(table.clone()).or_default();
            t.shape.columns.push(declared_column(c, engine));
            if flag(c, "unique") {
                // Made unique by an index of its own name.
                t.shape.indexes.insert(IndexShape {
                    name: Some(format!("{table}_{column}_key")),
                    unique: true,
                    columns: vec![column],
                });
            }
            t.shape.foreign_keys.extend(declared_foreign_key(c));
        }
        for a in array(b, "add_index") {
            let table = string(a, "table");
            let index = declared_index(&table, a);
            tables.entry(table).or_default().shape.indexes.insert(index);
        }
    }
    tables
}

/// The names of the indexes the blueprints name (or whose names they make).
fn declared_index_names(expected: &BTreeMap<String, ExpectedTable>) -> BTreeSet<String> {
    expected
        .values()
        .flat_map(|t| t.shape.indexes.iter().filter_map(|i| i.name.clone()))
        .collect()
}

// --- what the catalog says ------------------------------------------------------------------

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The oid of `table` in the current schema (the tenant's own, in the schema layout).
fn pg_table(table: &str) -> String {
    format!(
        "(SELECT c.oid FROM pg_class c WHERE c.relname = {} AND c.relnamespace = current_schema()::regnamespace)",
        literal(table)
    )
}

/// `table` as the engine's catalog describes it.
fn catalog_shape(db: &DbRef, table: &str) -> TableShape {
    let shape = match engine(db) {
        Engine::Sqlite => sqlite_shape(db, table),
        Engine::Postgres => pg_shape(db, table),
    };
    assert!(!shape.columns.is_empty(), "{db} has no table {table}");
    shape
}

fn sqlite_shape(db: &DbRef, table: &str) -> TableShape {
    let t = literal(table);
    let rows = query(
        db,
        &format!(
            "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk FROM pragma_table_info({t}) ORDER BY cid"
        ),
    );
    let mut keyed: Vec<(i64, String)> = rows
        .iter()
        .filter(|r| r[4] != "0")
        .map(|r| (r[4].parse().unwrap(), r[0].clone()))
        .collect();
    keyed.sort();
    let primary_key: Vec<String> = keyed.into_iter().map(|k| k.1).collect();
    // A key that is one column declared INTEGER is the rowid: SQLite assigns it and it is
    // never null, though its notnull flag says 0.
    let rowid = match primary_key.as_slice() {
        [only] => rows
            .iter()
            .find(|r| &r[0] == only && r[1].eq_ignore_ascii_case("INTEGER"))
            .map(|r| r[0].clone()),
        _ => None,
    };
    let columns = rows
        .iter()
        .map(|r| {
            let is_rowid = rowid.as_deref() == Some(r[0].as_str());
            ColumnShape {
                name: r[0].clone(),
                ty: r[1].clone(),
                not_null: r[2] == "1" || is_rowid,
                has_default: r[3] == "1",
                assigned: is_rowid,
            }
        })
        .collect();
    let mut indexes = BTreeSet::new();
    for r in query(
        db,
        &format!("SELECT name, \"unique\", origin FROM pragma_index_list({t})"),
    ) {
        let (name, unique, origin) = (&r[0], r[1] == "1", r[2].as_str());
        if origin == "pk" {
            continue;
        }
        let columns = first_column(
            db,
            &format!(
                "SELECT name FROM pragma_index_info({}) ORDER BY seqno",
                literal(name)
            ),
        );
        indexes.insert(IndexShape {
            // A UNIQUE column's index is named sqlite_autoindex_*.
            name: (origin != "u").then(|| name.clone()),
            unique,
            columns,
        });
    }
    let mut foreign_keys = BTreeSet::new();
    for r in query(
        db,
        &format!(
            "SELECT \"from\", \"table\", \"to\", on_delete, seq FROM pragma_foreign_key_list({t})"
        ),
    ) {
        assert_eq!(
            r[4], "0",
            "a foreign key of several columns on {table}: {r:?}"
        );
        foreign_keys.insert(ForeignKey {
            column: r[0].clone(),
            table: r[1].clone(),
            target: r[2].clone(),
            on_delete: r[3].clone(),
        });
    }
    TableShape {
        columns,
        primary_key,
        indexes,
        foreign_keys,
    }
}

fn pg_shape(db: &DbRef, table: &str) -> TableShape {
    let rows = query(
        db,
        &format!(
            "SELECT column_name::text, data_type::text,
                    coalesce(character_maximum_length::text, ''),
                    coalesce(numeric_precision::text, ''), coalesce(numeric_scale::text, ''),
                    is_nullable::text, column_default IS NOT NULL,
                    is_identity::text, coalesce(identity_generation::text, '')
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = {}
             ORDER BY ordinal_position",
            literal(table)
        ),
    );
    let columns = rows
        .iter()
        .map(|r| ColumnShape {
            name: r[0].clone(),
            ty: match r[1].as_str() {
                "character varying" => format!("character varying({})", r[2]),
                "numeric" => format!("numeric({},{})", r[3], r[4]),
                other => other.to_string(),
            },
            not_null: r[5] == "NO",
            has_default: r[6] == "1",
            // BY DEFAULT: an explicit id is taken, as SQLite takes one.
            assigned: r[7] == "YES" && r[8] == "BY DEFAULT",
        })
        .collect();
    let oid = pg_table(table);
    let mut primary_key = Vec::new();
    let mut indexes = BTreeSet::new();
    for r in query(
        db,
        &format!(
            "SELECT ic.relname::text, i.indisunique, i.indisprimary,
                    EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype = 'u'),
                    array_to_string(ARRAY(
                        SELECT a.attname::text
                        FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                        ORDER BY k.n), ',')
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = {oid}"
        ),
    ) {
        let columns: Vec<String> = r[4].split(',').map(str::to_string).collect();
        if r[2] == "1" {
            primary_key = columns;
            continue;
        }
        indexes.insert(IndexShape {
            // A UNIQUE column's index is its constraint's, named by PostgreSQL.
            name: (r[3] != "1").then(|| r[0].clone()),
            unique: r[1] == "1",
            columns,
        });
    }
    let mut foreign_keys = BTreeSet::new();
    for r in query(
        db,
        &format!(
            "SELECT a.attname::text, rc.relname::text, ra.attname::text, c.confdeltype::text,
                    array_length(c.conkey, 1), rc.relnamespace = c.connamespace
             FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             JOIN pg_class rc ON rc.oid = c.confrelid
             JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
             WHERE c.contype = 'f' AND c.conrelid = {oid}"
        ),
    ) {
        assert_eq!(
            r[4], "1",
            "a foreign key of several columns on {table}: {r:?}"
        );
        assert_eq!(
            r[5], "1",
            "a foreign key of {table} leaves its schema: {r:?}"
        );
        let on_delete = match r[3].as_str() {
            "a" => "NO ACTION",
            "r" => "RESTRICT",
            "c" => "CASCADE",
            "n" => "SET NULL",
            "d" => "SET DEFAULT",
            other => panic!("confdeltype {other:?}"),
        };
        foreign_keys.insert(ForeignKey {
            column: r[0].clone(),
            table: r[1].clone(),
            target: r[2].clone(),
            on_delete: on_delete.to_string(),
        });
    }
    TableShape {
        columns,
        primary_key,
        indexes,
        foreign_keys,
    }
}

/// The names of every index in the database (the tenant's schema, on PostgreSQL).
fn index_names(db: &DbRef) -> BTreeSet<String> {
    let sql = match engine(db) {
        Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index'",
        Engine::Postgres => {
            "SELECT c.relname::text FROM pg_class c
             WHERE c.relkind = 'i' AND c.relnamespace = current_schema()::regnamespace"
        }
    };
    first_column(db, sql).into_iter().collect()
}

/// Asserts that the catalog shows each table as the blueprints declare it: a table a blueprint
/// created exactly (columns in order, types, nullability, defaults, key, indexes, foreign
/// keys); a table it altered with the added columns (in order, as declared), indexes and
/// foreign keys.
fn assert_schema_matches(db: &DbRef, expected: &BTreeMap<String, ExpectedTable>) {
    for (table, want) in expected {
        let got = catalog_shape(db, table);
        if want.created {
            assert_eq!(got, want.shape, "{table} on {db}");
            continue;
        }
        let added: Vec<&ColumnShape> = got
            .columns
            .iter()
            .filter(|c| want.shape.columns.iter().any(|w| w.name == c.name))
            .collect();
        assert_eq!(
            added,
            want.shape.columns.iter().collect::<Vec<_>>(),
            "columns added to {table} on {db}"
        );
        assert!(
            want.shape.indexes.is_subset(&got.indexes),
            "indexes added to {table} on {db}: want {:#?} in {:#?}",
            want.shape.indexes,
            got.indexes
        );
        assert!(
            want.shape.foreign_keys.is_subset(&got.foreign_keys),
            "foreign keys added to {table} on {db}: want {:#?} in {:#?}",
            want.shape.foreign_keys,
            got.foreign_keys
        );
    }
}

/// Asserts that nothing the blueprints made is left: no table they created, no column or index
/// they added to a table that is still there.
fn assert_schema_gone(db: &DbRef, expected: &BTreeMap<String, ExpectedTable>) {
    for (table, want) in expected {
        if want.created || !has_table(db, table) {
            assert!(!has_table(db, table), "{table} is still in {db}");
            continue;
        }
        let got = catalog_shape(db, table);
        for c in &want.shape.columns {
            assert!(
                !got.columns.iter().any(|g| g.name == c.name),
                "{table}.{} is still in {db}",
                c.name
            );
        }
        assert!(
            got.foreign_keys.is_disjoint(&want.shape.foreign_keys),
            "a foreign key added to {table} is still in {db}"
        );
    }
    let left: Vec<String> = declared_index_names(expected)
        .intersection(&index_names(db))
        .cloned()
        .collect();
    assert!(left.is_empty(), "indexes still in {db}: {left:?}");
}

/// SQLite's AUTOINCREMENT bookkeeping table, which would outlive every table it counts.
fn assert_no_sqlite_sequence(db: &DbRef) {
    if !db.is_postgres() {
        let found = first_column(
            db,
            "SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'",
        );
        assert!(found.is_empty(), "{db} has a sqlite_sequence");
    }
}

/// Every table of the database but estate's own.
fn user_tables(db: &DbRef) -> Vec<String> {
    tables(db)
        .into_iter()
        .filter(|t| !t.starts_with("estate_"))
        .collect()
}

/// The versions of `context` in a database's ledger, in order.
fn versions_of(db: &DbRef, context: &str) -> Vec<i64> {
    if !has_table(db, "estate_ledger") {
        return Vec::new();
    }
    let mut v: Vec<i64> = ledger(db)
        .into_iter()
        .filter(|(c, _, _)| c == context)
        .map(|(_, _, v)| v)
        .collect();
    v.sort();
    v
}

// --- writing to the tables ------------------------------------------------------------------

/// Runs `sql` on a connection of its own and returns the engine's error, if any. SQLite
/// enforces foreign keys per connection: this one does, as an application's must.
fn try_exec(db: &DbRef, sql: &str) -> Result<(), String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match db {
            DbRef::Sqlite(path) => {
                let mut conn = SqliteConnectOptions::new()
                    .filename(path)
                    .foreign_keys(true)
                    .connect()
                    .await
                    .unwrap();
                let done = sqlx::raw_sql(sql).execute(&mut conn).await;
                conn.close().await.unwrap();
                done.map(drop).map_err(|e| e.to_string())
            }
            DbRef::Postgres {
                url,
                password,
                database,
                schema,
                ..
            } => {
                let mut conn = PgConnectOptions::from_str(url)
                    .unwrap()
                    .password(password)
                    .database(database)
                    .connect()
                    .await
                    .unwrap();
                if let Some(schema) = schema {
                    let set = format!("SET search_path TO \"{schema}\"");
                    sqlx::raw_sql(sqlx::AssertSqlSafe(set))
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
                let done = sqlx::raw_sql(sql).execute(&mut conn).await;
                conn.close().await.unwrap();
                done.map(drop).map_err(|e| e.to_string())
            }
        }
    })
}

/// Asserts that `sql` fails, with an error naming each of `sqlite` or `postgres` as the engine
/// is, and changes nothing of `table`.
fn assert_refused(
    db: &DbRef,
    what: &str,
    table: &str,
    sql: &str,
    sqlite: &[&str],
    postgres: &[&str],
) {
    let count = format!("SELECT count(*) FROM {table}");
    let before = first_column(db, &count);
    let error = match try_exec(db, sql) {
        Ok(()) => panic!("{what}: {sql} was accepted on {db}"),
        Err(e) => e,
    };
    let want = if db.is_postgres() { postgres } else { sqlite };
    for w in want {
        assert!(
            error.contains(w),
            "{what}: expected {w:?} in the error of {sql} on {db}: {error}"
        );
    }
    assert_eq!(first_column(db, &count), before, "{what}: {table} changed");
}

/// A uuid literal for the engine: 16 bytes on SQLite (as sqlx and diesel store it), a uuid on
/// PostgreSQL.
fn uuid(db: &DbRef, n: u8) -> String {
    let hex = format!("{n:02x}").repeat(16);
    if db.is_postgres() {
        format!(
            "'{}-{}-{}-{}-{}'",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    } else {
        format!("X'{hex}'")
    }
}

fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} is not a number: {e}"))
}

// --- the sample contexts --------------------------------------------------------------------

/// The contexts whose blueprints the sample tests read: those installed for acme.
const SAMPLE_CONTEXTS: [&str; 3] = ["user_management", "digital_card", "calendar"];

/// Every blueprint of the sample contexts' `scope` sets, each context's in version order.
fn sample_blueprints(s: &Scratch, scope: &str) -> Vec<(i64, String, Toml)> {
    SAMPLE_CONTEXTS
        .iter()
        .flat_map(|c| blueprints(s, c, scope))
        .collect()
}

on_every_setup!(sample_blueprints_build_the_declared_schema_and_roll_back_to_nothing);
fn sample_blueprints_build_the_declared_schema_and_roll_back_to_nothing(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "digital_card", "calendar", "--tenant", "acme"])
        .expect(0);
    let acme = s.tenant_db("acme");
    let engine = engine(&acme);

    let tenant = sample_blueprints(&s, "tenant");
    let expected = expected_schema(&tenant, engine);
    // The samples hold a created table and an alteration: the test compares both kinds.
    assert!(
        expected.get("card_shares").is_some_and(|t| t.created),
        "card_shares is not created by a sample blueprint: {tenant:?}"
    );
    assert!(
        expected
            .values()
            .any(|t| !t.created && !t.shape.columns.is_empty()),
        "no sample blueprint alters a table: {tenant:?}"
    );
    assert_schema_matches(&acme, &expected);
    // A landlord blueprint, should a sample have one, is checked on the landlord.
    let landlord = expected_schema(&sample_blueprints(&s, "landlord"), engine);
    assert_schema_matches(&s.landlord(), &landlord);
    s.assert_public_schemas_empty();
    // The ledgers, the registry and the files agree: the checksum of a blueprint is stable.
    s.estate(&["verify"]).expect(0);
    // globex was not asked for.
    assert!(!has_table(&s.tenant_db("globex"), "card_shares"));

    s.estate(&[
        "rollback",
        "digital_card",
        "calendar",
        "--tenant",
        "acme",
        "--yes",
    ])
    .expect(0);
    assert_schema_gone(&acme, &expected);
    assert_eq!(versions_of(&acme, "digital_card"), Vec::<i64>::new());
    assert_eq!(versions_of(&acme, "calendar"), Vec::<i64>::new());
    assert_no_sqlite_sequence(&acme);
    // Then user_management: nothing of any module is left, only estate's ledger.
    s.estate(&["rollback", "user_management", "--tenant", "acme", "--yes"])
        .expect(0);
    assert_eq!(user_tables(&acme), Vec::<String>::new());
    assert!(ledger(&acme).is_empty(), "{:?}", ledger(&acme));
    assert_no_sqlite_sequence(&acme);
    s.estate(&["verify"]).expect(0);
}

on_every_setup!(sample_card_shares_refuse_what_the_blueprint_forbids);
fn sample_card_shares_refuse_what_the_blueprint_forbids(setup: Setup) {
    let s = two_tenants(setup);
    s.estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(0);
    let db = s.tenant_db("acme");
    exec(
        &db,
        "INSERT INTO card_templates (id, name, layout) VALUES ('t1', 'Classic', '{}');
         INSERT INTO digital_cards (id, owner_user_id, template_id, slug, full_name)
             VALUES ('c1', 'u1', 't1', 'ada', 'Ada'), ('c2', 'u2', 't1', 'bob', 'Bob');
         INSERT INTO user_profiles (id, user_id) VALUES ('p1', 'u1');",
    );

    // A valid insert, the rest of the row from the defaults and the id from the database.
    try_exec(
        &db,
        &format!(
            "INSERT INTO card_shares (card_id, profile_id, token) VALUES ('c1', 'p1', {})",
            uuid(&db, 1)
        ),
    )
    .unwrap();
    let row = query(
        &db,
        "SELECT id, card_id, profile_id, CAST(permissions AS TEXT), can_reshare, view_count,
                CAST(price AS TEXT), expires_at IS NULL, created_at IS NOT NULL
         FROM card_shares",
    );
    assert_eq!(row.len(), 1, "{row:?}");
    let r = &row[0];
    assert_eq!(&r[..3], ["1", "c1", "p1"], "{r:?}");
    let permissions: serde_json::Value = serde_json::from_str(&r[3]).unwrap();
    assert_eq!(permissions, json!({"view": true}), "{r:?}");
    assert_eq!((r[4].as_str(), r[5].as_str()), ("0", "0"), "{r:?}");
    assert_eq!(number(&r[6]), 0.0, "{r:?}");
    assert_eq!((r[7].as_str(), r[8].as_str()), ("1", "1"), "{r:?}");
    // Every column given, a boolean as TRUE: both engines take it.
    try_exec(
        &db,
        &format!(
            "INSERT INTO card_shares (card_id, token, permissions, can_reshare, view_count, price, expires_at)
             VALUES ('c2', {}, '{{\"edit\": false}}', TRUE, 5000000000, 12.5, CURRENT_TIMESTAMP)",
            uuid(&db, 2)
        ),
    )
    .unwrap();
    let r = &query(
        &db,
        "SELECT id, can_reshare, view_count, CAST(price AS TEXT) FROM card_shares WHERE card_id = 'c2'",
    )[0];
    assert_eq!(&r[..3], ["2", "1", "5000000000"], "{r:?}");
    assert_eq!(number(&r[3]), 12.5, "{r:?}");

    // What the declaration forbids, each refused on both engines, for its own reason.
    let insert = |columns: &str, values: &str| {
        format!("INSERT INTO card_shares ({columns}) VALUES ({values})")
    };
    let u3 = uuid(&db, 3);
    let long = "x".repeat(37);
    let cases: [(&str, String, &[&str], &[&str]); 8] = [
        (
            "string(36) too long",
            insert("card_id, token", &format!("'{long}', {u3}")),
            &["CHECK constraint failed", "card_id"],
            &["value too long for type character varying(36)"],
        ),
        (
            "boolean",
            insert("card_id, token, can_reshare", &format!("'c1', {u3}, 2")),
            &["CHECK constraint failed", "can_reshare"],
            &["can_reshare", "boolean"],
        ),
        (
            "json",
            insert(
                "card_id, token, permissions",
                &format!("'c1', {u3}, '{{\"view\": tru'"),
            ),
            &["CHECK constraint failed", "permissions"],
            &["invalid input syntax for type json"],
        ),
        (
            "foreign key to digital_cards",
            insert("card_id, token", &format!("'no-such-card', {u3}")),
            &["FOREIGN KEY constraint failed"],
            &["violates foreign key constraint"],
        ),
        (
            "foreign key to user_profiles (another context's table)",
            insert(
                "card_id, profile_id, token",
                &format!("'c1', 'nobody', {u3}"),
            ),
            &["FOREIGN KEY constraint failed"],
            &["violates foreign key constraint"],
        ),
        (
            "unique token",
            insert("card_id, token", &format!("'c2', {}", uuid(&db, 1))),
            &["UNIQUE constraint failed: card_shares.token"],
            &["duplicate key value violates unique constraint"],
        ),
        (
            "not null card_id",
            insert("card_id, token", &format!("NULL, {u3}")),
            &["NOT NULL constraint failed: card_shares.card_id"],
            &["null value in column \"card_id\""],
        ),
        (
            "not null view_count",
            insert("card_id, token, view_count", &format!("'c1', {u3}, NULL")),
            &["NOT NULL constraint failed: card_shares.view_count"],
            &["null value in column \"view_count\""],
        ),
    ];
    for (what, sql, sqlite, postgres) in &cases {
        assert_refused(&db, what, "card_shares", sql, sqlite, postgres);
    }

    // The on_delete actions: set null, then cascade.
    exec(&db, "DELETE FROM user_profiles WHERE id = 'p1'");
    assert_eq!(
        first_column(
            &db,
            "SELECT coalesce(profile_id, '-') FROM card_shares WHERE id = 1"
        ),
        ["-"]
    );
    exec(&db, "DELETE FROM digital_cards WHERE id = 'c1'");
    assert_eq!(first_column(&db, "SELECT id FROM card_shares"), ["2"]);

    // Rows and all, the rollback takes the table away.
    s.estate(&["rollback", "digital_card", "--tenant", "acme", "--yes"])
        .expect(0);
    assert!(!has_table(&db, "card_shares"));
    assert_no_sqlite_sequence(&db);
}

on_every_setup!(a_dry_run_prints_the_rendered_sql_and_changes_nothing);
fn a_dry_run_prints_the_rendered_sql_and_changes_nothing(setup: Setup) {
    let s = two_tenants(setup);
    let before = s.snapshot();
    let run = s
        .estate(&["install", "digital_card", "--tenant", "acme", "--dry-run"])
        .expect(0);
    let out = &run.stdout;
    assert_has(out, "0004_create_card_shares.toml");
    assert_has(out, "CREATE TABLE \"card_shares\" (");
    assert_has(
        out,
        "CREATE INDEX \"card_shares_card_id_created_at_idx\" ON \"card_shares\" (\"card_id\", \"created_at\");",
    );
    // The SQL of this engine, not the other's.
    let (mine, theirs) = if setup.is_postgres() {
        (
            [
                "\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                "\"permissions\" JSONB",
            ],
            "json_valid",
        )
    } else {
        (
            [
                "\"id\" INTEGER PRIMARY KEY",
                "CHECK (json_valid(\"permissions\"))",
            ],
            "JSONB",
        )
    };
    for m in mine {
        assert_has(out, m);
    }
    assert!(!out.contains(theirs), "{theirs} in:\n{out}");
    assert_has(out, "dry run: nothing was changed");
    assert!(s.snapshot() == before, "the dry run changed something");

    // The JSON plan carries the rendered up and the derived down.
    let plan = s.estate_json(&[
        "install",
        "digital_card",
        "--tenant",
        "acme",
        "--dry-run",
        "--json",
    ]);
    let share = plan["plan"]["tenant_steps"]["acme"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|step| step["migrations"].as_array().unwrap())
        .find(|m| {
            m["source"]
                .as_str()
                .unwrap()
                .ends_with("0004_create_card_shares.toml")
        })
        .unwrap_or_else(|| panic!("no card_shares migration in {plan:#}"))
        .clone();
    assert_has(
        share["up_sql"].as_str().unwrap(),
        "CREATE TABLE \"card_shares\" (",
    );
    assert_has(
        share["down_sql"].as_str().unwrap(),
        "DROP TABLE \"card_shares\";",
    );
    assert!(s.snapshot() == before, "the JSON dry run changed something");

    // The rollback's dry run shows the derived down, and changes nothing either.
    s.estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(0);
    let installed = s.snapshot();
    let run = s
        .estate(&["rollback", "digital_card", "--tenant", "acme", "--dry-run"])
        .expect(0);
    assert_has(&run.stdout, "DROP TABLE \"card_shares\";");
    assert_has(&run.stdout, "dry run: nothing was changed");
    assert!(
        s.snapshot() == installed,
        "the rollback's dry run changed something"
    );
    assert!(has_table(&s.tenant_db("acme"), "card_shares"));
}

// --- every type and key kind: tests/fixtures/blueprint_context ------------------------------

const FIXTURE: &str = "blueprint_context";
const ALTERATION: &str = "contexts/blueprint_context/migrations/tenant/0003_extend_catalog.toml";
const SQL_DOWN: &str =
    "contexts/blueprint_context/migrations/tenant/0002_create_audit_log.down.sql";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(FIXTURE)
}

/// A project on `setup` with the sample contexts, the fixture context and tenant acme.
fn fixture_project(setup: Setup) -> Scratch {
    let s = with_tenants(setup, &["acme"]);
    copy_dir(&fixture_dir(), &s.path(&format!("contexts/{FIXTURE}")));
    s
}

on_every_setup!(
    every_type_key_and_action_builds_as_declared_alters_tables_with_rows_and_rolls_back
);
fn every_type_key_and_action_builds_as_declared_alters_tables_with_rows_and_rolls_back(
    setup: Setup,
) {
    let s = fixture_project(setup);
    s.estate(&["check"]).expect(0);
    // 0003 comes once the tables hold rows.
    let alteration = std::fs::read_to_string(s.path(ALTERATION)).unwrap();
    std::fs::remove_file(s.path(ALTERATION)).unwrap();
    s.estate(&["install", FIXTURE, "--tenant", "acme"])
        .expect(0);
    let db = s.tenant_db("acme");
    let engine = engine(&db);
    let created = expected_schema(&blueprints(&s, FIXTURE, "tenant"), engine);
    assert_eq!(
        created.keys().collect::<Vec<_>>(),
        ["categories", "item_notes", "items"]
    );
    assert_schema_matches(&db, &created);
    assert_eq!(versions_of(&db, FIXTURE), [1, 2]);

    exec(
        &db,
        "INSERT INTO categories (slug) VALUES ('tools');
         INSERT INTO categories (slug, title, parent_id) VALUES ('saws', 'Saws', 1);
         INSERT INTO items (category_id, code) VALUES (1, 'a1'), (2, 'b2');
         INSERT INTO item_notes (code) VALUES ('a1');",
    );
    let r = &query(
        &db,
        "SELECT c.id, c.title, i.quantity, CAST(i.price AS TEXT), i.in_stock, i.serial,
                i.noted_at IS NOT NULL, i.weight IS NULL, i.attributes IS NULL
         FROM items i JOIN categories c ON c.id = i.category_id WHERE i.code = 'a1'",
    )[0];
    assert_eq!(&r[..3], ["1", "untitled", "1"], "{r:?}");
    assert_eq!(number(&r[3]), 5.0, "{r:?}");
    assert_eq!(&r[4..], ["1", "9007199254740993", "1", "1", "1"], "{r:?}");
    assert_refused(
        &db,
        "the two-column key",
        "items",
        "INSERT INTO items (category_id, code, quantity) VALUES (1, 'a1', 7)",
        &["UNIQUE constraint failed: items.category_id, items.code"],
        &["duplicate key value violates unique constraint"],
    );
    assert_refused(
        &db,
        "the named unique index",
        "items",
        "INSERT INTO items (category_id, code) VALUES (2, 'a1')",
        &["UNIQUE constraint failed: items.code, items.quantity"],
        &["items_code_quantity_uniq"],
    );
    assert_refused(
        &db,
        "on_delete restrict",
        "categories",
        "DELETE FROM categories WHERE id = 1",
        &["FOREIGN KEY constraint failed"],
        &["violates foreign key constraint"],
    );
    // SQLite's catalog calls json and text alike, and says nothing of a boolean's values:
    // the engine must still refuse what they forbid.
    assert_refused(
        &db,
        "json",
        "items",
        "INSERT INTO items (category_id, code, attributes) VALUES (1, 'c3', '[1,')",
        &["CHECK constraint failed", "attributes"],
        &["invalid input syntax for type json"],
    );
    assert_refused(
        &db,
        "boolean",
        "items",
        "INSERT INTO items (category_id, code, in_stock) VALUES (1, 'c3', 7)",
        &["CHECK constraint failed", "in_stock"],
        &["in_stock", "boolean"],
    );
    assert_refused(
        &db,
        "string(12) too long",
        "item_notes",
        "INSERT INTO item_notes (code) VALUES ('thirteen-long')",
        &["CHECK constraint failed", "code"],
        &["value too long for type character varying(12)"],
    );

    // The alteration, on tables with rows.
    s.write(ALTERATION, &alteration);
    s.estate(&["migrate", FIXTURE, "--tenant", "acme"])
        .expect(0);
    let altered = expected_schema(&blueprints(&s, FIXTURE, "tenant"), engine);
    assert_schema_matches(&db, &altered);
    assert_eq!(versions_of(&db, FIXTURE), [1, 2, 3]);
    // The rows there before took the defaults; the nullable columns are NULL.
    let rows = query(
        &db,
        "SELECT slug, archived, CAST(settings AS TEXT) FROM categories ORDER BY id",
    );
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r[1], "0", "{r:?}");
        let settings: serde_json::Value = serde_json::from_str(&r[2]).unwrap();
        assert_eq!(settings, json!({"tabs": []}), "{r:?}");
    }
    assert_eq!(
        first_column(
            &db,
            "SELECT count(*) FROM items WHERE sku IS NULL AND replacement_id IS NULL"
        ),
        ["2"]
    );
    // The added unique column, its foreign key and its set null.
    exec(
        &db,
        "UPDATE items SET sku = 'S-1', replacement_id = 2 WHERE code = 'a1'",
    );
    assert_refused(
        &db,
        "the added unique column",
        "items",
        "INSERT INTO items (category_id, code, quantity, sku) VALUES (1, 'c3', 3, 'S-1')",
        &["UNIQUE constraint failed: items.sku"],
        &["items_sku_key"],
    );
    assert_refused(
        &db,
        "the added foreign key",
        "items",
        "INSERT INTO items (category_id, code, quantity, replacement_id) VALUES (1, 'c3', 3, 99)",
        &["FOREIGN KEY constraint failed"],
        &["violates foreign key constraint"],
    );
    assert_refused(
        &db,
        "the added json column",
        "categories",
        "INSERT INTO categories (slug, settings) VALUES ('x', 'not json')",
        &["CHECK constraint failed", "settings"],
        &["invalid input syntax for type json"],
    );
    exec(&db, "DELETE FROM categories WHERE id = 2");
    assert_eq!(
        query(
            &db,
            "SELECT code, coalesce(CAST(replacement_id AS TEXT), '-') FROM items"
        ),
        [names(&["a1", "-"])],
        "b2 went with its category (cascade); a1 lost its replacement (set null)"
    );
    s.estate(&["verify"]).expect(0);

    // The derived down of 0003 alone: 0002's down fails on purpose, so the rollback stops
    // there, 0003's revert committed. The tables are again exactly what 0001 declares.
    let sql_down = std::fs::read_to_string(s.path(SQL_DOWN)).unwrap();
    s.write(SQL_DOWN, "DROP TABLE no_such_table;\n");
    let run = s.estate(&["rollback", FIXTURE, "--tenant", "acme", "--yes"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(versions_of(&db, FIXTURE), [1, 2]);
    assert_schema_matches(&db, &created);
    let added_indexes: BTreeSet<String> = declared_index_names(&altered)
        .difference(&declared_index_names(&created))
        .cloned()
        .collect();
    assert_eq!(added_indexes.len(), 3, "{added_indexes:?}");
    assert!(
        added_indexes.is_disjoint(&index_names(&db)),
        "{added_indexes:?} in {:?}",
        index_names(&db)
    );
    assert_eq!(first_column(&db, "SELECT code FROM items"), ["a1"]);

    // The rest.
    s.write(SQL_DOWN, sql_down);
    s.estate(&["rollback", FIXTURE, "--tenant", "acme", "--yes"])
        .expect(0);
    assert_schema_gone(&db, &altered);
    assert!(!has_table(&db, "audit_log"));
    assert_eq!(versions_of(&db, FIXTURE), Vec::<i64>::new());
    assert_eq!(user_tables(&db), Vec::<String>::new());
    assert_no_sqlite_sequence(&db);
}

// --- what SQLite cannot add to a table with rows ------------------------------------------

/// SQLite refuses `ALTER TABLE ... ADD COLUMN` with a non-constant default (CURRENT_TIMESTAMP)
/// once the table has a row, so `estate check` refuses such a blueprint on every engine, naming
/// the key, and nothing runs.
fn an_added_timestamp_defaulting_to_now_is_refused_before_anything_runs(setup: Setup) {
    let s = fixture_project(setup);
    s.estate(&["install", FIXTURE, "--tenant", "acme"])
        .expect(0);
    let db = s.tenant_db("acme");
    exec(&db, "INSERT INTO categories (slug) VALUES ('tools')");
    s.write(
        "contexts/blueprint_context/migrations/tenant/0004_add_seen_at.toml",
        "[[add_column]]\ntable = \"categories\"\ncolumn = { name = \"seen_at\", type = \"timestamp\", default = \"now\" }\n",
    );
    let check = s.estate(&["check"]).expect(2);
    assert_has(&check.stderr, "0004_add_seen_at.toml:3:");
    assert_has(&check.stderr, "add_column[0].column.default");
    let before = s.snapshot();
    s.estate(&["migrate", FIXTURE, "--tenant", "acme"])
        .expect(2);
    assert!(
        s.snapshot() == before,
        "a refused migrate changed something"
    );
    assert_eq!(versions_of(&db, FIXTURE), [1, 2, 3]);
}
on_every_setup!(an_added_timestamp_defaulting_to_now_is_refused_before_anything_runs);

/// A text default that would break out of its literal where backslashes are escapes:
/// rendered so that it means itself on a server with `standard_conforming_strings = off`.
const HOSTILE_DEFAULT: &str = r"\'); DROP TABLE invoices; CREATE TABLE pwned (q text --";

on_postgres_setups!(a_text_default_means_itself_with_standard_conforming_strings_off);
fn a_text_default_means_itself_with_standard_conforming_strings_off(setup: Setup) {
    let s = Scratch::with(setup);
    s.add_tenants(&["acme"]);
    let acme = s.tenant_db("acme");
    let DbRef::Postgres { database, .. } = &acme else {
        unreachable!("a PostgreSQL setup")
    };
    // Every new session on the tenant's database, estate's included, gets the old setting.
    exec(
        &acme,
        &format!("ALTER DATABASE \"{database}\" SET standard_conforming_strings = off"),
    );
    manifest(&s, "notes", "notes", "");
    migration_pair(
        &s,
        "notes",
        "tenant",
        "0001_create_invoices",
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY);\n",
        "DROP TABLE invoices;\n",
    );
    let literal = toml::Value::String(HOSTILE_DEFAULT.to_string());
    s.write(
        "contexts/notes/migrations/tenant/0002_create_notes.toml",
        format!(
            "[[create_table]]\nname = \"notes\"\ncolumns = [\n  {{ name = \"id\", type = \"id\" }},\n  {{ name = \"label\", type = \"text\", default = {literal} }},\n]\n"
        ),
    );
    let dry = s
        .estate(&["install", "notes", "--tenant", "acme", "--dry-run"])
        .expect(0);
    assert_has(&dry.stdout, r"DEFAULT E'\\''); DROP TABLE invoices;");
    s.estate(&["install", "notes", "--tenant", "acme"])
        .expect(0);
    assert!(has_table(&acme, "invoices"), "the default dropped a table");
    assert!(!has_table(&acme, "pwned"), "the default created a table");
    exec(&acme, "INSERT INTO notes DEFAULT VALUES");
    assert_eq!(
        first_column(&acme, "SELECT label FROM notes"),
        vec![HOSTILE_DEFAULT.to_string()]
    );
    exec(
        &acme,
        &format!("ALTER DATABASE \"{database}\" RESET standard_conforming_strings"),
    );
}
