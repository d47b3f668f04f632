//! The commands for people who write contexts, driven through the real binary: `estate new`
//! (scaffolding that passes `check` and installs), `estate graph` (text, JSON, and dot that
//! Graphviz renders), `estate tables` (the responsibility matrix and its warnings), and the
//! catalog checks that keep blueprints' foreign keys honest.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// Every file under `dir` with its content, to show that a refusal wrote nothing.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push((p.display().to_string(), Vec::new()));
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Renders `dot` source with Graphviz; `None` when Graphviz is not installed here (CI installs
/// it, and there a missing `dot` fails the test).
fn render_dot(source: &str) -> Option<String> {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            assert!(!in_ci(), "CI=true and Graphviz's dot cannot run: {e}");
            eprintln!("note: Graphviz is not installed; the dot output was not rendered");
            return None;
        }
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot -Tsvg refused the output:\n{}\n--- source\n{source}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn graph_dot_renders_with_graphviz() {
    let s = Scratch::new();
    let dot = s.estate(&["graph", "--format", "dot"]).expect(0).stdout;
    assert!(dot.starts_with("digraph estate {"), "{dot}");
    assert!(
        dot.contains("\"digital_card\" -> \"user_management\";"),
        "{dot}"
    );
    if let Some(svg) = render_dot(&dot) {
        assert!(svg.contains("<svg"), "{svg}");
        for name in ["user_management", "digital_card", "calendar", "billing"] {
            assert!(svg.contains(name), "{name} is drawn:\n{svg}");
        }
    }
}

#[test]
fn graph_flags_cycles_and_requirements_that_name_no_context() {
    let s = Scratch::new();
    // A title with quotes and a backslash must not break the dot syntax.
    manifest(&s, "ping", "ping", "requires = [\"pong\", \"ghost\"]");
    s.write(
        "contexts/pong/context.toml",
        "name = \"pong\"\ntitle = 'Pong \"the\" \\ one'\nversion = \"1\"\nrequires = [\"ping\"]\n",
    );
    let text = s.estate(&["graph"]).expect(0);
    assert_has(&text.stdout, "dependency cycle: ping -> pong -> ping");
    assert_has(&text.stdout, "ghost (no such context)");
    assert_has(&text.stdout, "pong (cycle)");
    assert_has(&text.stdout, "install order: none while there is a cycle");
    assert_has(&text.stderr, "problem(s) in the contexts");

    let json = s.estate(&["graph", "--format", "json"]).expect(0).json();
    assert_eq!(
        json["cycles"],
        serde_json::json!([["ping", "pong", "ping"]])
    );
    assert!(json["install_order"].is_null());
    let ping = json["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ping")
        .unwrap();
    assert_eq!(ping["missing"], serde_json::json!(["ghost"]));

    let dot = s.estate(&["graph", "--format", "dot"]).expect(0).stdout;
    assert!(dot.contains("\"ping\" -> \"pong\" [color=red"), "{dot}");
    assert!(dot.contains("\"ping\" -> \"ghost\" [style=dashed"), "{dot}");
    assert!(dot.contains("Pong \\\"the\\\" \\\\ one"), "{dot}");
    render_dot(&dot);
}

#[test]
fn graph_text_gives_the_install_order_and_the_tree() {
    let s = Scratch::new();
    let out = s.estate(&["graph"]).expect(0).stdout;
    assert_has(
        &out,
        "install order: user_management, billing, calendar, digital_card",
    );
    assert_has(
        &out,
        "  user_management\n  ├─ billing\n  ├─ calendar\n  └─ digital_card\n",
    );
}

#[test]
fn tables_map_who_owns_what_and_warn_of_tables_claimed_twice() {
    let s = Scratch::new();
    let map = s.estate(&["tables", "--json"]).expect(0).json();
    let owned = |context: &str, scope: &str| -> Vec<(String, i64, bool)> {
        map["ownership"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["context"] == context && o["scope"] == scope)
            .flat_map(|o| o["tables"].as_array().unwrap().clone())
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_string(),
                    t["version"].as_i64().unwrap(),
                    t["blueprint"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        owned("digital_card", "tenant"),
        [
            ("card_templates".to_string(), 1, false),
            ("digital_cards".to_string(), 2, false),
            ("card_shares".to_string(), 4, true),
        ]
    );
    assert_eq!(
        owned("user_management", "landlord"),
        [("users".to_string(), 1, false)]
    );
    assert_eq!(map["conflicts"], serde_json::json!([]));

    let text = s.estate(&["tables"]).expect(0);
    assert_has(
        &text.stdout,
        "card_shares                 0004_create_card_shares.toml (blueprint)",
    );
    assert!(text.stderr.is_empty(), "{}", text.stderr);

    // A second context creating invoices in the tenant scope: both own it, both are named.
    manifest(&s, "ledger", "ledger", "");
    migration_pair(
        &s,
        "ledger",
        "tenant",
        "0001_create_invoices",
        "CREATE TABLE invoices (id INTEGER);\n",
        "DROP TABLE invoices;\n",
    );
    let text = s.estate(&["tables"]).expect(0);
    assert_has(
        &text.stderr,
        "warning: tenant table invoices is created by billing and ledger",
    );
    assert_has(&text.stdout, "invoices ⚠");
    // check warns of it too, without refusing.
    let check = s.estate(&["check"]).expect(0);
    assert_has(
        &check.stderr,
        "warning: tenant table invoices is created by billing and ledger",
    );
    let check = s.estate(&["check", "--json"]).expect(0).json();
    assert_eq!(check["tables_claimed_twice"][0]["table"], "invoices");
    let map = s.estate(&["tables", "--json"]).expect(0).json();
    assert_eq!(
        map["conflicts"],
        serde_json::json!([{ "scope": "tenant", "table": "invoices", "contexts": ["billing", "ledger"] }])
    );
}

/// A new context, a blueprint and a SQL migration as scaffolded, untouched: `check` passes,
/// they install and roll back on every setup.
fn scaffolded_context_and_migrations_pass_check_and_install(setup: Setup) {
    let s = with_tenants(setup, &["acme"]);
    let created = s
        .estate(&["new", "context", "loyalty", "--requires", "digital_card"])
        .expect(0)
        .stdout;
    assert_has(&created, "created contexts/loyalty/context.toml");
    s.estate(&[
        "new",
        "migration",
        "loyalty",
        "tenant",
        "create_points",
        "--blueprint",
    ])
    .expect(0);
    s.estate(&["new", "migration", "loyalty", "tenant", "add expiry"])
        .expect(0);
    s.estate(&["new", "migration", "loyalty", "landlord", "create_rules"])
        .expect(0);
    for file in [
        "contexts/loyalty/migrations/tenant/0001_create_points.toml",
        "contexts/loyalty/migrations/tenant/0002_add_expiry.up.sql",
        "contexts/loyalty/migrations/tenant/0002_add_expiry.down.sql",
        "contexts/loyalty/migrations/landlord/0001_create_rules.up.sql",
        "contexts/loyalty/migrations/landlord/0001_create_rules.down.sql",
    ] {
        assert!(s.path(file).is_file(), "{file}");
    }
    s.estate(&["check"]).expect(0);
    let modules = s.estate_json(&["modules", "--json"]);
    let loyalty = modules
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "loyalty")
        .unwrap()
        .clone();
    assert_eq!(loyalty["requires"], serde_json::json!(["digital_card"]));

    s.estate(&["install", "loyalty", "--tenant", "acme"])
        .expect(0);
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "loyalty"), st("installed", 3, 0));
    assert_eq!(state(&status, "acme", "digital_card").0, "installed");
    let loyalty_rows: Vec<_> = ledger(&s.tenant_db("acme"))
        .into_iter()
        .filter(|(c, _, _)| c == "loyalty")
        .map(|(_, _, v)| v)
        .collect();
    assert_eq!(loyalty_rows, [1, 2]);

    // The next one is numbered after them; the project is still valid and it installs.
    s.estate(&[
        "new",
        "migration",
        "loyalty",
        "tenant",
        "create_badges",
        "--blueprint",
    ])
    .expect(0);
    s.write(
        "contexts/loyalty/migrations/tenant/0003_create_badges.toml",
        "[[create_table]]\nname = \"badges\"\ncolumns = [\n  { name = \"id\", type = \"id\" },\n  { name = \"card_id\", type = \"string(36)\", references = \"digital_cards.id\", on_delete = \"cascade\" },\n]\n",
    );
    s.estate(&["check"]).expect(0);
    s.estate(&["migrate", "loyalty"]).expect(0);
    assert!(has_table(&s.tenant_db("acme"), "badges"));

    s.estate(&["rollback", "loyalty", "--tenant", "acme", "--yes"])
        .expect(0);
    assert!(!has_table(&s.tenant_db("acme"), "badges"));
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "loyalty"), st("not_installed", 0, 0));
}
on_every_setup!(scaffolded_context_and_migrations_pass_check_and_install);

#[test]
fn new_migration_follows_the_layout_of_its_set() {
    let s = Scratch::new();
    // A set numbered by timestamps, as `sqlx migrate add -r` does.
    manifest(&s, "stamps", "stamps", "");
    migration_pair(
        &s,
        "stamps",
        "tenant",
        "20240115093000_create_a",
        "SELECT 1;",
        "SELECT 1;",
    );
    // A set in diesel's layout.
    manifest(&s, "dieselish", "dieselish", "");
    s.write(
        "contexts/dieselish/migrations/tenant/2024-01-15-093000_create_b/up.sql",
        "SELECT 1;",
    );
    s.write(
        "contexts/dieselish/migrations/tenant/2024-01-15-093000_create_b/down.sql",
        "SELECT 1;",
    );
    s.estate(&["check"]).expect(0);

    let created = s
        .estate(&["new", "migration", "stamps", "tenant", "add_x", "--json"])
        .expect(0)
        .json();
    let files: Vec<String> = created["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let version: i64 = files[0].split('_').next().unwrap().parse().unwrap();
    assert!(version > 20240115093000 && files[0].len() > 14, "{files:?}");
    assert!(files[0].ends_with("_add_x.up.sql") && files[1].ends_with("_add_x.down.sql"));

    let out = s
        .estate(&["new", "migration", "dieselish", "tenant", "add_y"])
        .expect(0)
        .stdout;
    let folder = out
        .lines()
        .find(|l| l.ends_with("_add_y/"))
        .unwrap_or_else(|| panic!("{out}"));
    // `2026-12-01-150000_add_y/`: diesel's dashes.
    let name = folder.rsplit('/').nth(1).unwrap();
    assert_eq!(&name[4..5], "-", "{name}");
    assert_has(&out, "_add_y/up.sql");
    assert_has(&out, "_add_y/down.sql");

    s.estate(&["new", "migration", "calendar", "landlord", "add_z"])
        .expect(0);
    assert!(
        s.path("contexts/calendar/migrations/landlord/0002_add_z.up.sql")
            .is_file()
    );
    s.estate(&["check"]).expect(0);
}

#[test]
fn new_refuses_bad_input_and_writes_nothing() {
    let s = Scratch::new();
    let before = tree(&s.path("contexts"));
    for (args, needle) in [
        (
            vec!["new", "context", "Bad-Name"],
            "is not a valid context name",
        ),
        (vec!["new", "context", "calendar"], "already exists"),
        (vec!["new", "context", "module_registry"], "reserved"),
        (
            vec!["new", "context", "x", "--requires", "ghost"],
            "unknown module \"ghost\"",
        ),
        (
            vec!["new", "context", "x", "--requires", "x"],
            "cannot require itself",
        ),
        (
            vec!["new", "migration", "ghost", "tenant", "a"],
            "unknown module \"ghost\"",
        ),
        (
            vec!["new", "migration", "calendar", "tenant", "a/../../b"],
            "is not a migration name",
        ),
        (
            vec!["new", "migration", "calendar", "tenant", ""],
            "is not a migration name",
        ),
    ] {
        let run = s.estate(&args).expect(2);
        assert_has(&run.stderr, needle);
        assert_has(&run.stderr, "fix:");
    }
    let run = s.estate(&["new", "migration", "calendar", "everywhere", "a"]);
    assert_eq!(run.code, 2, "clap refuses an unknown scope: {}", run.stderr);
    // A half-written migration (its up file not there yet) keeps its number: the next is 0004.
    s.write(
        "contexts/billing/migrations/tenant/0003_add_x.down.sql",
        "SELECT 1;",
    );
    s.estate(&["new", "migration", "billing", "tenant", "add_y"])
        .expect(0);
    for file in [
        "0003_add_x.down.sql",
        "0004_add_y.up.sql",
        "0004_add_y.down.sql",
    ] {
        std::fs::remove_file(s.path(&format!("contexts/billing/migrations/tenant/{file}")))
            .unwrap();
    }
    assert_eq!(tree(&s.path("contexts")), before);
}

#[test]
fn a_foreign_key_may_point_only_at_a_context_it_requires() {
    let s = Scratch::new();
    // billing requires user_management only: digital_cards is digital_card's.
    migration(
        &s,
        "billing",
        "tenant",
        "0003_create_card_invoices.toml",
        "[[create_table]]\nname = \"card_invoices\"\ncolumns = [\n  { name = \"id\", type = \"id\" },\n  { name = \"card_id\", type = \"string(36)\", references = \"digital_cards.id\" },\n]\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(&err, "0003_create_card_invoices.toml:5:");
    assert_has(
        &err,
        "create_table[0].columns[1].references: digital_cards belongs to context digital_card, which billing does not require",
    );
    assert_has(
        &err,
        "add \"digital_card\" to requires in billing/context.toml",
    );
    // Refused before anything runs.
    s.estate(&["install", "billing", "--tenant", "acme"])
        .expect(2);

    // Once required, it is fine; a table of the other scope never is.
    s.write(
        "contexts/billing/context.toml",
        "name = \"billing\"\ntitle = \"Billing\"\nversion = \"1.0.0\"\nrequires = [\"user_management\", \"digital_card\"]\n",
    );
    s.estate(&["check"]).expect(0);
    migration(
        &s,
        "billing",
        "tenant",
        "0004_create_user_invoices.toml",
        "[[create_table]]\nname = \"user_invoices\"\ncolumns = [\n  { name = \"id\", type = \"id\" },\n  { name = \"user_id\", type = \"string(36)\", references = \"users.id\" },\n]\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(&err, "no context creates a table users in the tenant scope");
}

#[test]
fn a_blueprint_alters_only_its_own_tables() {
    let s = Scratch::new();
    migration(
        &s,
        "billing",
        "tenant",
        "0003_add_x_to_profiles.toml",
        "[[add_column]]\ntable = \"user_profiles\"\ncolumn = { name = \"x\", type = \"text\", nullable = true }\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(
        &err,
        "add_column[0].table: user_profiles belongs to context user_management; a context alters only its own tables",
    );
    // invoices is billing's own (made by its SQL 0001): altering it is fine.
    s.write(
        "contexts/billing/migrations/tenant/0003_add_x_to_profiles.toml",
        "[[add_column]]\ntable = \"invoices\"\ncolumn = { name = \"note\", type = \"text\", nullable = true }\n",
    );
    s.estate(&["check"]).expect(0);
}

#[test]
fn index_names_and_foreign_key_types_are_checked_across_migrations() {
    let s = Scratch::new();
    // digital_card's SQL 0002 made digital_cards_slug_idx; the name made here is the same.
    migration(
        &s,
        "digital_card",
        "tenant",
        "0006_index_slug.toml",
        "[[add_index]]\ntable = \"digital_cards\"\ncolumns = [\"slug\"]\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(
        &err,
        "add_index[0].table: the name \"digital_cards_slug_idx\" is already taken in the tenant scope (a table or an index), by digital_card (0002_create_digital_cards.up.sql)",
    );
    s.write(
        "contexts/digital_card/migrations/tenant/0006_index_slug.toml",
        "[[add_index]]\ntable = \"digital_cards\"\ncolumns = [\"slug\"]\nname = \"digital_cards_slug_2_idx\"\n",
    );
    s.estate(&["check"]).expect(0);

    // card_shares.id is an id (an integer): a string column cannot point at it.
    migration(
        &s,
        "digital_card",
        "tenant",
        "0007_create_share_visits.toml",
        "[[create_table]]\nname = \"share_visits\"\ncolumns = [\n  { name = \"id\", type = \"id\" },\n  { name = \"share_id\", type = \"string(36)\", references = \"card_shares.id\" },\n]\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(
        &err,
        "create_table[0].columns[1].references: a string(36) column cannot point at card_shares.id, an id column",
    );
    s.write(
        "contexts/digital_card/migrations/tenant/0007_create_share_visits.toml",
        "[[create_table]]\nname = \"share_visits\"\ncolumns = [\n  { name = \"id\", type = \"id\" },\n  { name = \"share_id\", type = \"bigint\", references = \"card_shares.id\" },\n  { name = \"token\", type = \"uuid\", references = \"card_shares.token\" },\n]\n",
    );
    s.estate(&["check"]).expect(0);
    // A column that is neither key nor unique is no target.
    s.write(
        "contexts/digital_card/migrations/tenant/0007_create_share_visits.toml",
        "[[create_table]]\nname = \"share_visits\"\ncolumns = [\n  { name = \"id\", type = \"id\" },\n  { name = \"p\", type = \"decimal(10,2)\", references = \"card_shares.price\" },\n]\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(&err, "card_shares.price is neither a key nor unique");
    // Created twice in one context.
    s.write(
        "contexts/digital_card/migrations/tenant/0007_create_share_visits.toml",
        "[[create_table]]\nname = \"card_shares\"\ncolumns = [{ name = \"id\", type = \"id\" }]\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(
        &err,
        "0007_create_share_visits.toml:2:8: create_table[0].name: card_shares is already created by 0004_create_card_shares.toml of digital_card",
    );
}

/// A foreign key into a table made by SQL (whose columns check cannot see) to a column that is
/// not there: PostgreSQL refuses the CREATE, and SQLite, which would accept it and fail at the
/// first insert, is made to refuse it too; either way the migration fails whole.
fn a_foreign_key_to_a_column_that_is_not_there_fails_the_migration_whole(setup: Setup) {
    let s = with_tenants(setup, &["acme"]);
    migration(
        &s,
        "digital_card",
        "tenant",
        "0006_create_share_notes.toml",
        "[[create_table]]\nname = \"share_notes\"\ncolumns = [\n  { name = \"id\", type = \"id\" },\n  { name = \"profile_id\", type = \"string(36)\", references = \"user_profiles.nope\" },\n]\n",
    );
    s.estate(&["check"]).expect(0);
    let run = s
        .estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(1);
    assert_has(&run.stdout, "0006_create_share_notes.toml");
    let db = s.tenant_db("acme");
    assert!(
        !has_table(&db, "share_notes"),
        "the failed migration left its table"
    );
    let versions: Vec<i64> = ledger(&db)
        .into_iter()
        .filter(|(c, _, _)| c == "digital_card")
        .map(|(_, _, v)| v)
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5]);
}
on_every_setup!(a_foreign_key_to_a_column_that_is_not_there_fails_the_migration_whole);

#[test]
fn messages_suggest_the_portable_type_and_refuse_altering_a_strict_table() {
    let s = Scratch::new();
    migration(
        &s,
        "billing",
        "tenant",
        "0003_create_notes.toml",
        "[[create_table]]\nname = \"notes\"\ncolumns = [{ name = \"body\", type = \"varchar(20)\" }]\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(
        &err,
        "unknown type \"varchar(20)\": the portable type is string(20)",
    );
    // A STRICT table made by SQL (with a comment holding a `;` before it) takes no VARCHAR.
    migration_pair(
        &s,
        "billing",
        "tenant",
        "0003_create_notes",
        "-- Notes; strict.\n/* 0003; */ CREATE TABLE Notes (id INTEGER PRIMARY KEY) STRICT;",
        "DROP TABLE notes;",
    );
    std::fs::remove_file(s.path("contexts/billing/migrations/tenant/0003_create_notes.toml"))
        .unwrap();
    migration(
        &s,
        "billing",
        "tenant",
        "0004_add_body.toml",
        "[[add_column]]\ntable = \"notes\"\ncolumn = { name = \"body\", type = \"string(20)\", nullable = true }\n",
    );
    let err = s.estate(&["check"]).expect(2).stderr;
    assert_has(&err, "notes is a SQLite STRICT table");
}

/// Read-only writes nothing, in the contexts folder either: `estate new` is refused with exit
/// 2 and the fix, and no file appears.
#[test]
fn estate_new_is_refused_in_read_only_mode() {
    let s = Scratch::new();
    let before = std::fs::read_dir(s.path("contexts")).unwrap().count();
    for args in [
        &["new", "context", "loyalty", "--read-only"][..],
        &[
            "new",
            "migration",
            "calendar",
            "tenant",
            "add_x",
            "--read-only",
        ],
    ] {
        let run = s.estate(args).expect(2);
        assert_has(
            &run.stderr,
            "read-only mode: `estate new` would write files",
        );
        assert_has(&run.stderr, "fix: run without --read-only");
    }
    let run = s
        .estate_with_env(&["new", "context", "loyalty"], &[("ESTATE_READ_ONLY", "1")])
        .expect(2);
    assert_has(&run.stderr, "read-only mode");
    assert!(!s.path("contexts/loyalty").exists());
    assert_eq!(
        std::fs::read_dir(s.path("contexts")).unwrap().count(),
        before
    );
    assert!(
        std::fs::read_dir(s.path("contexts/calendar/migrations/tenant"))
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().contains("add_x"))
    );
}
