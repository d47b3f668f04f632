//! Migration folders made by other tools, used as contexts as they are, on every setup: a set
//! in diesel's layout (`2024-01-15-093000_create_posts/up.sql` + `down.sql`, one folder with a
//! `metadata.toml` saying `run_in_transaction = false`) and a set as `sqlx migrate add -r` writes
//! it (`20240115093000_create_tags.up.sql` / `.down.sql`, each opening with sqlx's comment).
//! Each has several migrations, ALTERs among them; both are installed for tenants, checked
//! through the engine's catalog and the ledgers, and rolled back to nothing.
//!
//! The folders are tests/fixtures/diesel_context and tests/fixtures/sqlx_context, copied into a
//! scratch project's contexts folder.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const DIESEL: &str = "diesel_context";
const SQLX: &str = "sqlx_context";

/// diesel's folders: the version estate records (the folder's timestamp without its dashes),
/// the folder, and the description.
const DIESEL_MIGRATIONS: [(i64, &str, &str); 5] = [
    (
        20240115093000,
        "2024-01-15-093000_create_posts",
        "create posts",
    ),
    (
        20240116101500,
        "2024-01-16-101500_add_author_to_posts",
        "add author to posts",
    ),
    (
        20240117120000,
        "2024-01-17-120000_create_comments",
        "create comments",
    ),
    (
        20240118080000,
        "2024-01-18-080000_index_posts_title",
        "index posts title",
    ),
    (
        20240119170500,
        "2024-01-19-170500_rename_body_to_content",
        "rename body to content",
    ),
];

/// sqlx-cli's files: the version, the name before `.up.sql`, and the description.
const SQLX_MIGRATIONS: [(i64, &str, &str); 4] = [
    (20240115093000, "20240115093000_create_tags", "create tags"),
    (
        20240116101500,
        "20240116101500_add_color_to_tags",
        "add color to tags",
    ),
    (
        20240117120000,
        "20240117120000_create_taggings",
        "create taggings",
    ),
    (
        20240118080000,
        "20240118080000_rename_name_to_label",
        "rename name to label",
    ),
];

/// The diesel folder that runs outside a transaction (its metadata.toml says so).
const NO_TRANSACTION_FOLDER: &str =
    "contexts/diesel_context/migrations/tenant/2024-01-18-080000_index_posts_title";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A project on `setup` whose only contexts are the fixtures `contexts`, with `tenants`.
fn project(setup: Setup, contexts: &[&str], tenants: &[&str]) -> Scratch {
    let s = Scratch::empty_with(setup);
    for c in contexts {
        copy_dir(&fixture(c), &s.path(&format!("contexts/{c}")));
    }
    s.add_tenants(tenants);
    s
}

/// SHA-256 of a file, in hex: what estate records as the checksum of an up file used as is.
fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// (version, description, checksum) of `context`'s rows in a database's ledger, by version.
fn ledger_rows(db: &DbRef, context: &str) -> Vec<(i64, String, String)> {
    if !has_table(db, "estate_ledger") {
        return Vec::new();
    }
    query(
        db,
        &format!(
            "SELECT version, description, checksum FROM estate_ledger WHERE context = {} ORDER BY version",
            literal(context)
        ),
    )
    .into_iter()
    .map(|r| (r[0].parse().unwrap(), r[1].clone(), r[2].clone()))
    .collect()
}

fn versions_of(db: &DbRef, context: &str) -> Vec<i64> {
    ledger_rows(db, context).into_iter().map(|r| r.0).collect()
}

/// The ledger rows the migrations of a fixture leave: each version, its description, and the
/// checksum of its up file.
fn expected_ledger(
    migrations: &[(i64, &str, &str)],
    up_file: impl Fn(&str) -> PathBuf,
) -> Vec<(i64, String, String)> {
    migrations
        .iter()
        .map(|(v, name, description)| (*v, description.to_string(), sha256(&up_file(name))))
        .collect()
}

/// The table, uniqueness and columns (in order) of index `name`, if the database has it.
fn index(db: &DbRef, name: &str) -> Option<(String, bool, Vec<String>)> {
    let row = if db.is_postgres() {
        query(
            db,
            &format!(
                "SELECT t.relname::text, i.indisunique,
                        array_to_string(ARRAY(
                            SELECT a.attname::text
                            FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                            ORDER BY k.n), ',')
                 FROM pg_index i
                 JOIN pg_class ic ON ic.oid = i.indexrelid
                 JOIN pg_class t ON t.oid = i.indrelid
                 WHERE ic.relname = {} AND ic.relnamespace = current_schema()::regnamespace",
                literal(name)
            ),
        )
        .pop()?
    } else {
        let table = first_column(
            db,
            &format!(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = {}",
                literal(name)
            ),
        )
        .pop()?;
        let unique = first_column(
            db,
            &format!(
                "SELECT \"unique\" FROM pragma_index_list({}) WHERE name = {}",
                literal(&table),
                literal(name)
            ),
        );
        let columns = first_column(
            db,
            &format!(
                "SELECT name FROM pragma_index_info({}) ORDER BY seqno",
                literal(name)
            ),
        );
        vec![table, unique[0].clone(), columns.join(",")]
    };
    Some((
        row[0].clone(),
        row[1] == "1",
        row[2].split(',').map(str::to_string).collect(),
    ))
}

fn idx(table: &str, unique: bool, columns: &[&str]) -> Option<(String, bool, Vec<String>)> {
    Some((table.to_string(), unique, names(columns)))
}

/// (column, table, column, on delete) of each foreign key of `table`, sorted.
fn foreign_keys(db: &DbRef, table: &str) -> Vec<Vec<String>> {
    let sql = if db.is_postgres() {
        format!(
            "SELECT a.attname::text, rc.relname::text, ra.attname::text,
                    CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                         WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END
             FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             JOIN pg_class rc ON rc.oid = c.confrelid
             JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
             WHERE c.contype = 'f' AND c.conrelid = (
                 SELECT oid FROM pg_class
                 WHERE relname = {} AND relnamespace = current_schema()::regnamespace)",
            literal(table)
        )
    } else {
        format!(
            "SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list({})",
            literal(table)
        )
    };
    let mut fks = query(db, &sql);
    fks.sort();
    fks
}

/// The primary key's columns of `table`, in key order.
fn primary_key(db: &DbRef, table: &str) -> Vec<String> {
    let sql = if db.is_postgres() {
        format!(
            "SELECT a.attname::text
             FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n), pg_attribute a
             WHERE i.indisprimary AND a.attrelid = i.indrelid AND a.attnum = k.attnum
               AND i.indrelid = (SELECT oid FROM pg_class
                                 WHERE relname = {} AND relnamespace = current_schema()::regnamespace)
             ORDER BY k.n",
            literal(table)
        )
    } else {
        format!(
            "SELECT name FROM pragma_table_info({}) WHERE pk > 0 ORDER BY pk",
            literal(table)
        )
    };
    first_column(db, &sql)
}

/// The columns of `table` outside its primary key declared NOT NULL, in order (a key is never
/// null, whatever each engine's catalog says of it).
fn not_null(db: &DbRef, table: &str) -> Vec<String> {
    let key = primary_key(db, table);
    not_null_columns(db, table)
        .into_iter()
        .filter(|c| !key.contains(c))
        .collect()
}

fn not_null_columns(db: &DbRef, table: &str) -> Vec<String> {
    let sql = if db.is_postgres() {
        format!(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = {} AND is_nullable = 'NO'
             ORDER BY ordinal_position",
            literal(table)
        )
    } else {
        format!(
            "SELECT name FROM pragma_table_info({}) WHERE \"notnull\" = 1 ORDER BY cid",
            literal(table)
        )
    };
    first_column(db, &sql)
}

/// Every table of the database but estate's own.
fn user_tables(db: &DbRef) -> Vec<String> {
    tables(db)
        .into_iter()
        .filter(|t| !t.starts_with("estate_"))
        .collect()
}

/// Asserts that a tenant holds nothing of a fixture: no table, no index, no ledger row.
fn assert_nothing_left(db: &DbRef, index_names: &[&str]) {
    assert_eq!(user_tables(db), Vec::<String>::new(), "{db}");
    for name in index_names {
        assert_eq!(index(db, name), None, "{name} is still in {db}");
    }
    assert!(
        !has_table(db, "estate_ledger") || ledger(db).is_empty(),
        "{db}: {:?}",
        ledger(db)
    );
}

// --- diesel ---------------------------------------------------------------------------------

fn diesel_up(s: &Scratch, folder: &str) -> PathBuf {
    s.path(&format!(
        "contexts/{DIESEL}/migrations/tenant/{folder}/up.sql"
    ))
}

/// Asserts the schema the diesel fixture leaves, through the engine's catalog.
fn assert_diesel_schema(db: &DbRef) {
    // 0002 added two columns; 0005 renamed body, in place.
    assert_eq!(
        columns(db, "posts"),
        ["id", "title", "content", "author", "published"],
        "{db}"
    );
    assert_eq!(not_null(db, "posts"), ["title", "published"], "{db}");
    assert_eq!(primary_key(db, "posts"), ["id"], "{db}");
    assert_eq!(columns(db, "comments"), ["id", "post_id", "body"], "{db}");
    assert_eq!(primary_key(db, "comments"), ["id"], "{db}");
    assert_eq!(not_null(db, "comments"), ["post_id", "body"], "{db}");
    assert_eq!(
        foreign_keys(db, "comments"),
        [names(&["post_id", "posts", "id", "CASCADE"])],
        "{db}"
    );
    assert_eq!(
        index(db, "comments_post_id_idx"),
        idx("comments", false, &["post_id"]),
        "{db}"
    );
    assert_eq!(
        index(db, "posts_title_idx"),
        idx("posts", false, &["title"]),
        "{db}"
    );
}

const DIESEL_INDEXES: [&str; 2] = ["comments_post_id_idx", "posts_title_idx"];

on_every_setup!(a_diesel_folder_installs_and_rolls_back_as_a_context);
fn a_diesel_folder_installs_and_rolls_back_as_a_context(setup: Setup) {
    let s = project(setup, &[DIESEL], &["acme", "globex"]);
    let plan = s
        .estate(&["install", DIESEL, "--all", "--dry-run"])
        .expect(0);
    assert_has(
        &plan.stdout,
        "5 migrations: 20240115093000 create posts, 20240116101500 add author to posts, \
         20240117120000 create comments, 20240118080000 index posts title (outside a transaction), \
         20240119170500 rename body to content",
    );
    // The SQL shown is the folder's, as written.
    assert_has(
        &plan.stdout,
        "ALTER TABLE posts ADD COLUMN published BOOLEAN NOT NULL DEFAULT FALSE;",
    );
    s.estate(&["install", DIESEL, "--all"]).expect(0);

    let want = expected_ledger(&DIESEL_MIGRATIONS, |folder| diesel_up(&s, folder));
    for t in ["acme", "globex"] {
        let db = s.tenant_db(t);
        assert_eq!(ledger_rows(&db, DIESEL), want, "{t}");
        assert_diesel_schema(&db);
    }
    s.assert_public_schemas_empty();
    assert_state_on(&s, &["acme", "globex"], DIESEL, st("installed", 5, 0));
    s.estate(&["verify"]).expect(0);

    // The tables work as their SQL says: a default, a cascade.
    let acme = s.tenant_db("acme");
    exec(
        &acme,
        "INSERT INTO posts (id, title, content) VALUES (1, 'Hello', 'World');
         INSERT INTO comments (id, post_id, body) VALUES (1, 1, 'Nice');",
    );
    assert_eq!(
        query(&acme, "SELECT author IS NULL, published FROM posts"),
        [names(&["1", "0"])]
    );
    exec(&acme, "DELETE FROM posts WHERE id = 1");
    assert_eq!(first_column(&acme, "SELECT count(*) FROM comments"), ["0"]);

    // Back down, every folder's down.sql in reverse: acme first, globex untouched.
    s.estate(&["rollback", DIESEL, "--tenant", "acme", "--yes"])
        .expect(0);
    assert_nothing_left(&acme, &DIESEL_INDEXES);
    let globex = s.tenant_db("globex");
    assert_eq!(versions_of(&globex, DIESEL).len(), 5);
    assert_diesel_schema(&globex);
    assert_state_on(&s, &["acme"], DIESEL, st("not_installed", 0, 0));
    s.estate(&["rollback", DIESEL, "--tenant", "globex", "--yes"])
        .expect(0);
    assert_nothing_left(&globex, &DIESEL_INDEXES);
    s.estate(&["verify"]).expect(0);
}

on_every_setup!(a_diesel_folder_with_run_in_transaction_false_runs_outside_a_transaction);
fn a_diesel_folder_with_run_in_transaction_false_runs_outside_a_transaction(setup: Setup) {
    let s = project(setup, &[DIESEL], &["acme"]);
    // Statements each engine refuses inside a transaction: diesel folders have no per-engine
    // files, so the scratch copy gets this engine's.
    let (up, down, refusal) = if setup.is_postgres() {
        (
            "CREATE INDEX CONCURRENTLY posts_title_idx ON posts (title);\n",
            "DROP INDEX CONCURRENTLY posts_title_idx;\n",
            "cannot run inside a transaction block",
        )
    } else {
        (
            "CREATE INDEX posts_title_idx ON posts (title);\nVACUUM;\n",
            "DROP INDEX posts_title_idx;\nVACUUM;\n",
            "cannot VACUUM from within a transaction",
        )
    };
    s.write(&format!("{NO_TRANSACTION_FOLDER}/up.sql"), up);
    s.write(&format!("{NO_TRANSACTION_FOLDER}/down.sql"), down);
    let metadata_path = s.path(&format!("{NO_TRANSACTION_FOLDER}/metadata.toml"));
    let metadata = std::fs::read_to_string(&metadata_path).unwrap();
    assert_eq!(metadata.trim(), "run_in_transaction = false");

    // Without metadata.toml the folder runs in the step's transaction, which the engine refuses:
    // the three before it stay, the one after it does not run.
    std::fs::remove_file(&metadata_path).unwrap();
    let run = s.estate(&["install", DIESEL, "--tenant", "acme"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_has(&format!("{}{}", run.stdout, run.stderr), refusal);
    let db = s.tenant_db("acme");
    assert_eq!(
        versions_of(&db, DIESEL),
        [20240115093000, 20240116101500, 20240117120000]
    );

    // With it, the same folder runs outside, and the step finishes.
    std::fs::write(&metadata_path, &metadata).unwrap();
    s.estate(&["migrate", DIESEL, "--tenant", "acme"]).expect(0);
    assert_eq!(
        versions_of(&db, DIESEL),
        DIESEL_MIGRATIONS.iter().map(|m| m.0).collect::<Vec<_>>()
    );
    assert_diesel_schema(&db);
    if has_table(&db, "estate_unfinished") {
        assert_eq!(
            first_column(&db, "SELECT count(*) FROM estate_unfinished"),
            ["0"]
        );
    }
    assert_state_on(&s, &["acme"], DIESEL, st("installed", 5, 0));
    s.estate(&["verify"]).expect(0);

    // Its down.sql runs outside a transaction too.
    s.estate(&["rollback", DIESEL, "--tenant", "acme", "--yes"])
        .expect(0);
    assert_nothing_left(&db, &DIESEL_INDEXES);
}

// --- sqlx-cli -------------------------------------------------------------------------------

fn sqlx_file(s: &Scratch, name: &str, direction: &str) -> PathBuf {
    s.path(&format!(
        "contexts/{SQLX}/migrations/tenant/{name}.{direction}.sql"
    ))
}

fn assert_sqlx_schema(db: &DbRef) {
    // 0002 added two columns; 0004 renamed name, in place (and in its index).
    assert_eq!(
        columns(db, "tags"),
        ["id", "label", "color", "weight"],
        "{db}"
    );
    assert_eq!(primary_key(db, "tags"), ["id"], "{db}");
    assert_eq!(not_null(db, "tags"), ["label", "weight"], "{db}");
    assert_eq!(
        index(db, "tags_name_idx"),
        idx("tags", true, &["label"]),
        "{db}"
    );
    assert_eq!(columns(db, "taggings"), ["tag_id", "subject"], "{db}");
    assert_eq!(primary_key(db, "taggings"), ["tag_id", "subject"], "{db}");
    assert_eq!(
        foreign_keys(db, "taggings"),
        [names(&["tag_id", "tags", "id", "CASCADE"])],
        "{db}"
    );
    assert_eq!(
        index(db, "taggings_subject_idx"),
        idx("taggings", false, &["subject"]),
        "{db}"
    );
}

const SQLX_INDEXES: [&str; 2] = ["tags_name_idx", "taggings_subject_idx"];

on_every_setup!(a_sqlx_cli_folder_installs_and_rolls_back_as_a_context);
fn a_sqlx_cli_folder_installs_and_rolls_back_as_a_context(setup: Setup) {
    let s = project(setup, &[SQLX], &["acme", "globex"]);
    s.estate(&["install", SQLX, "--all"]).expect(0);

    let want = expected_ledger(&SQLX_MIGRATIONS, |name| sqlx_file(&s, name, "up"));
    for t in ["acme", "globex"] {
        let db = s.tenant_db(t);
        assert_eq!(ledger_rows(&db, SQLX), want, "{t}");
        assert_sqlx_schema(&db);
    }
    s.assert_public_schemas_empty();
    assert_state_on(&s, &["acme", "globex"], SQLX, st("installed", 4, 0));
    s.estate(&["verify"]).expect(0);

    let acme = s.tenant_db("acme");
    exec(
        &acme,
        "INSERT INTO tags (id, label) VALUES (1, 'rust');
         INSERT INTO taggings (tag_id, subject) VALUES (1, 'post:1'), (1, 'post:2');",
    );
    assert_eq!(
        query(&acme, "SELECT weight, color IS NULL FROM tags"),
        [names(&["0", "1"])]
    );
    exec(&acme, "DELETE FROM tags WHERE id = 1");
    assert_eq!(first_column(&acme, "SELECT count(*) FROM taggings"), ["0"]);

    s.estate(&["rollback", SQLX, "--all", "--yes"]).expect(0);
    for t in ["acme", "globex"] {
        assert_nothing_left(&s.tenant_db(t), &SQLX_INDEXES);
    }
    assert_state_on(&s, &["acme", "globex"], SQLX, st("not_installed", 0, 0));
    s.estate(&["verify"]).expect(0);
}

// --- both -----------------------------------------------------------------------------------

on_every_setup!(estate_check_accepts_both_folders_as_they_are);
fn estate_check_accepts_both_folders_as_they_are(setup: Setup) {
    let s = project(setup, &[DIESEL, SQLX], &[]);
    // The fixtures are what the tools write: sqlx's first lines, diesel's folders.
    for (_, name, _) in SQLX_MIGRATIONS {
        for direction in ["up", "down"] {
            let text = std::fs::read_to_string(sqlx_file(&s, name, direction)).unwrap();
            assert!(
                text.starts_with(&format!("-- Add {direction} migration script here\n")),
                "{name}.{direction}.sql: {text}"
            );
        }
    }
    for (_, folder, _) in DIESEL_MIGRATIONS {
        assert!(diesel_up(&s, folder).is_file(), "{folder}");
    }
    let run = s.estate(&["check"]).expect(0);
    assert_has(&run.stdout, "ok: 2 contexts, 9 migrations");
    let report = s.estate_json(&["check", "--json"]);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["contexts"], 2, "{report:#}");
    assert_eq!(report["migrations"], 9, "{report:#}");
    assert_eq!(report["problems"], serde_json::json!([]), "{report:#}");
}

/// The plan names a migration that runs outside a transaction, since it can stop partway: a
/// diesel folder whose metadata.toml says `run_in_transaction = false` is one.
fn the_plan_marks_a_diesel_folder_that_runs_outside_a_transaction(setup: Setup) {
    let s = project(setup, &[DIESEL], &["acme"]);
    let plan = s
        .estate(&["install", DIESEL, "--tenant", "acme", "--dry-run"])
        .expect(0);
    assert_has(
        &plan.stdout,
        "20240118080000 index posts title (outside a transaction)",
    );
    let json = s.estate_json(&["install", DIESEL, "--tenant", "acme", "--dry-run", "--json"]);
    let steps = json["plan"]["tenant_steps"]["acme"].as_array().unwrap();
    let outside: Vec<i64> = steps
        .iter()
        .flat_map(|step| step["migrations"].as_array().unwrap())
        .filter(|m| m["up_outside_transaction"] == true)
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(outside, [20240118080000]);
}

on_every_setup!(the_plan_marks_a_diesel_folder_that_runs_outside_a_transaction);
