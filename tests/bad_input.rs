//! Bad input is refused before anything runs: exit status 2, a message that names the problem
//! and the fix, and every database as it was (SQLite: byte for byte; PostgreSQL: every
//! database, schema, table, column, index and row of the project).
//!
//! Each test sets up the same project (tenants acme and globex, digital_card installed for
//! acme), takes a snapshot of every file under var/ and every PostgreSQL database of the
//! project, breaks one thing, and compares. Each runs on SQLite and on both PostgreSQL layouts.

mod common;
use common::*;

/// tenants acme and globex; digital_card (and so user_management) installed for acme.
fn project(setup: Setup) -> Scratch {
    let s = digital_card_for_acme(setup);
    assert!(has_table(&s.tenant_db("acme"), "digital_cards"));
    s
}

/// Compares two snapshots file by file (and PostgreSQL table by table), naming what differs.
fn assert_unchanged(s: &Scratch, before: &Snapshot, what: &str) {
    let after = s.snapshot();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{what}: files under var/ or database objects appeared or vanished"
    );
    for (place, bytes) in before {
        assert!(
            after[place] == *bytes,
            "{what}: {place} changed:\n--- before\n{}\n--- after\n{}",
            String::from_utf8_lossy(bytes)
                .chars()
                .take(4000)
                .collect::<String>(),
            String::from_utf8_lossy(&after[place])
                .chars()
                .take(4000)
                .collect::<String>()
        );
    }
}

/// Runs `args`, expects exit 2 with `error: ...` and `fix: ...` on stderr, nothing changed,
/// and returns stderr.
fn refused(s: &Scratch, args: &[&str]) -> String {
    let before = s.snapshot();
    assert!(!before.is_empty());
    let run = s.estate(args).expect(2);
    let what = format!("estate {args:?}");
    assert!(
        run.stderr.starts_with("error: ") || run.stderr.contains("\nerror: "),
        "{what}: no `error:` line in:\n{}",
        run.stderr
    );
    assert_has(&run.stderr, "\n  fix: ");
    assert_unchanged(s, &before, &what);
    run.stderr
}

/// 64 lowercase hex digits.
fn is_checksum(word: &str) -> bool {
    word.len() == 64
        && word
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn checksums_in(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| is_checksum(w))
        .map(str::to_string)
        .collect()
}

on_every_setup!(unknown_module);
fn unknown_module(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["install", "nope", "--tenant", "acme"]);
    assert_has(&err, "unknown module \"nope\"");
    assert_has(&err, "calendar");
    let err = refused(&s, &["rollback", "nope", "--tenant", "acme"]);
    assert_has(&err, "unknown module \"nope\"");
}

on_every_setup!(unknown_tenant);
fn unknown_tenant(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["install", "calendar", "--tenant", "nobody"]);
    assert_has(&err, "unknown tenant \"nobody\"");
    assert_has(&err, "tenants add nobody");
    // One unknown tenant among known ones refuses the whole plan.
    let err = refused(
        &s,
        &[
            "install", "calendar", "--tenant", "acme", "--tenant", "nobody",
        ],
    );
    assert_has(&err, "\"nobody\"");
    assert!(!has_table(&s.tenant_db("acme"), "calendars"));
}

const BAD_SLUGS: [&str; 4] = ["Acme", "../x", "a;drop table t", ""];

fn assert_slug_message(err: &str, slug: &str) {
    if slug.is_empty() {
        assert_has(err, "the tenant slug is empty");
    } else {
        assert_has(err, &format!("tenant slug {slug:?} is not valid"));
    }
    assert_has(err, "lowercase letters, digits");
}

on_every_setup!(bad_slugs_for_tenants_add);
fn bad_slugs_for_tenants_add(setup: Setup) {
    let s = project(setup);
    for slug in BAD_SLUGS {
        let err = refused(&s, &["tenants", "add", slug]);
        assert_slug_message(&err, slug);
    }
    assert!(!s.path("var/x.db").exists());
    assert!(!s.path("x.db").exists());
    assert_eq!(
        query(
            &s.landlord(),
            "SELECT slug FROM estate_tenants ORDER BY slug"
        ),
        vec![names(&["acme"]), names(&["globex"])]
    );
}

on_every_setup!(bad_slugs_for_install_tenant);
fn bad_slugs_for_install_tenant(setup: Setup) {
    let s = project(setup);
    for slug in BAD_SLUGS {
        let err = refused(&s, &["install", "calendar", "--tenant", slug]);
        assert_slug_message(&err, slug);
        let err = refused(&s, &["rollback", "digital_card", "--tenant", slug]);
        assert_slug_message(&err, slug);
    }
}

on_every_setup!(suggested_slug_is_valid);
fn suggested_slug_is_valid(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["tenants", "add", "a;drop table t"]);
    assert_has(&err, "e.g. a-drop-table-t");
}

on_every_setup!(adding_an_existing_tenant);
fn adding_an_existing_tenant(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["tenants", "add", "acme"]);
    assert_has(&err, "tenant acme already exists");
    let err = refused(&s, &["tenants", "add", "acme", "--name", "Acme Two"]);
    assert_has(&err, "already exists");
}

on_every_setup!(rolling_back_a_module_another_installed_module_requires);
fn rolling_back_a_module_another_installed_module_requires(setup: Setup) {
    let s = project(setup);
    let err = refused(&s, &["rollback", "user_management", "--tenant", "acme"]);
    assert_has(&err, "digital_card requires user_management");
    assert_has(&err, "--cascade");
}

on_every_setup!(install_without_tenant_or_all);
fn install_without_tenant_or_all(setup: Setup) {
    let s = project(setup);
    let before = s.snapshot();
    let run = s.estate(&["install", "calendar"]).expect(2);
    assert_has(&run.stderr, "--tenant");
    assert_has(&run.stderr, "--all");
    assert_unchanged(&s, &before, "install without --tenant/--all");
    let run = s.estate(&["rollback", "digital_card"]).expect(2);
    assert_has(&run.stderr, "--tenant");
    assert_unchanged(&s, &before, "rollback without --tenant/--all");
}

on_every_setup!(read_only_refuses_changes);
fn read_only_refuses_changes(setup: Setup) {
    let s = project(setup);
    let err = refused(
        &s,
        &["--read-only", "install", "calendar", "--tenant", "acme"],
    );
    assert_has(&err, "read-only");
    let err = refused(
        &s,
        &[
            "--read-only",
            "rollback",
            "digital_card",
            "--tenant",
            "acme",
        ],
    );
    assert_has(&err, "read-only");
    let err = refused(&s, &["--read-only", "tenants", "add", "initech"]);
    assert_has(&err, "read-only");
    assert!(!s.tenant_provisioned("initech"));
}

// --- catalog problems introduced after setup ------------------------------------------------
//
// Catalog problems are found before any database is opened, the same way on every engine, so
// each has its own test on SQLite, and one test per PostgreSQL layout walks through all of them
// on a single project (putting the sample contexts back between two), which spares a project
// per problem on PostgreSQL.

/// Breaks the catalog of `s` with `break_it`, then expects install, rollback and migrate to be
/// refused naming `needle`, with nothing changed.
fn refused_with_broken_catalog(s: &Scratch, break_it: fn(&Scratch), needle: &str) {
    break_it(s);
    let err = refused(s, &["install", "calendar", "--tenant", "acme"]);
    assert_has(&err, needle);
    let err = refused(s, &["rollback", "digital_card", "--tenant", "acme"]);
    assert_has(&err, needle);
    let err = refused(s, &["migrate", "--all"]);
    assert_has(&err, needle);
    assert!(!has_table(&s.tenant_db("acme"), "calendars"));
}

const CAL_TENANT: &str = "contexts/calendar/migrations/tenant";

/// Writes `file` (text or bytes) into calendar's tenant migrations.
fn calendar_file(s: &Scratch, file: &str, sql: impl AsRef<[u8]>) {
    migration(s, "calendar", "tenant", file, sql);
}

/// Writes `NAME.up.sql` and `NAME.down.sql`, both `SELECT 1;`, into calendar's tenant migrations.
fn calendar_pair(s: &Scratch, name: &str) {
    migration_pair(s, "calendar", "tenant", name, "SELECT 1;\n", "SELECT 1;\n");
}

/// A way to break the catalog, and what the refusal must name.
struct Breakage {
    name: &'static str,
    break_it: fn(&Scratch),
    needle: &'static str,
}

/// Every catalog breakage these tests try.
fn breakages() -> Vec<Breakage> {
    vec![
        Breakage {
            name: "up_without_down",
            break_it: |s| {
                calendar_file(
                    s,
                    "0004_add_color.up.sql",
                    "ALTER TABLE events ADD COLUMN color TEXT;\n",
                )
            },
            needle: "0004_add_color.up.sql: has no .down.sql",
        },
        Breakage {
            name: "down_without_up",
            break_it: |s| calendar_file(s, "0004_add_color.down.sql", "SELECT 1;\n"),
            needle: "0004_add_color.down.sql: has no .up.sql",
        },
        Breakage {
            name: "name_differs_from_folder",
            break_it: |s| manifest(s, "notes", "note", ""),
            needle: "contexts/notes/context.toml:1:8",
        },
        Breakage {
            name: "bad_name",
            break_it: |s| manifest(s, "Notes", "Notes", ""),
            needle: "context name \"Notes\" is not valid",
        },
        Breakage {
            name: "unknown_key",
            break_it: |s| {
                manifest(
                    s,
                    "calendar",
                    "calendar",
                    "require = [\"user_management\"]\n",
                )
            },
            needle: "contexts/calendar/context.toml:4:1",
        },
        Breakage {
            name: "duplicate_version",
            break_it: |s| calendar_pair(s, "3_dup"),
            needle: "version 3 is used more than once",
        },
        Breakage {
            name: "non_numeric_version",
            break_it: |s| calendar_pair(s, "abc_x"),
            needle: "abc_x.up.sql: version \"abc\" is not a number",
        },
        Breakage {
            name: "requires_no_context",
            break_it: |s| manifest(s, "notes", "notes", "requires = [\"ghost\"]\n"),
            needle: "\"ghost\", which is no context",
        },
        Breakage {
            name: "cycle",
            break_it: |s| {
                manifest(s, "a", "a", "requires = [\"b\"]\n");
                manifest(s, "b", "b", "requires = [\"c\"]\n");
                manifest(s, "c", "c", "requires = [\"a\"]\n");
            },
            needle: "a -> b -> c -> a",
        },
        Breakage {
            name: "file_not_utf8",
            break_it: |s| {
                calendar_file(s, "0004_add_color.down.sql", "SELECT 1;\n");
                calendar_file(s, "0004_add_color.up.sql", b"SELECT '\xff';\n");
            },
            needle: "0004_add_color.up.sql: is not valid UTF-8",
        },
        Breakage {
            name: "unreadable_file",
            break_it: |s| {
                make_unreadable(&s.path(&format!("{CAL_TENANT}/0001_create_calendars.up.sql")))
            },
            needle: "0001_create_calendars.up.sql: cannot be read",
        },
    ]
}

/// On a fresh SQLite project, the breakage called `name`.
fn catalog_problem_on_sqlite(name: &str) {
    let b = breakages()
        .into_iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no breakage {name}"));
    refused_with_broken_catalog(&project(Setup::Sqlite), b.break_it, b.needle);
}

#[test]
fn catalog_up_without_down() {
    catalog_problem_on_sqlite("up_without_down");
}

#[test]
fn catalog_down_without_up() {
    catalog_problem_on_sqlite("down_without_up");
}

#[test]
fn catalog_name_differs_from_folder() {
    catalog_problem_on_sqlite("name_differs_from_folder");
}

#[test]
fn catalog_bad_name() {
    catalog_problem_on_sqlite("bad_name");
}

#[test]
fn catalog_unknown_key() {
    catalog_problem_on_sqlite("unknown_key");
}

#[test]
fn catalog_duplicate_version() {
    catalog_problem_on_sqlite("duplicate_version");
}

#[test]
fn catalog_non_numeric_version() {
    catalog_problem_on_sqlite("non_numeric_version");
}

#[test]
fn catalog_requires_no_context() {
    catalog_problem_on_sqlite("requires_no_context");
}

#[test]
fn catalog_cycle() {
    catalog_problem_on_sqlite("cycle");
}

#[test]
fn catalog_file_not_utf8() {
    catalog_problem_on_sqlite("file_not_utf8");
}

#[test]
fn catalog_unreadable_file() {
    catalog_problem_on_sqlite("unreadable_file");
}

on_postgres_setups!(every_catalog_problem);
/// Every breakage in turn on one project, the sample contexts put back between two.
fn every_catalog_problem(setup: Setup) {
    let s = project(setup);
    for b in breakages() {
        // Shown with the failure, naming the breakage.
        eprintln!("catalog breakage: {}", b.name);
        s.reset_contexts();
        refused_with_broken_catalog(&s, b.break_it, b.needle);
    }
}

// --- drift ---------------------------------------------------------------------------------

/// The first tenant up file of a context, relative to the project.
fn first_tenant_up(s: &Scratch, context: &str) -> String {
    let dir = format!("contexts/{context}/migrations/tenant");
    let mut ups: Vec<String> = std::fs::read_dir(s.path(&dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".up.sql"))
        .collect();
    ups.sort();
    format!("{dir}/{}", ups[0])
}

/// Appends a comment line to an applied migration; returns (file, recorded, actual checksums).
fn drift(s: &Scratch, context: &str) -> (String, String, String) {
    let file = first_tenant_up(s, context);
    let version: i64 = file.rsplit('/').next().unwrap()[..4].parse().unwrap();
    let recorded = query(
        &s.tenant_db("acme"),
        &format!(
            "SELECT checksum FROM estate_ledger WHERE context = '{context}' AND scope = 'tenant' AND version = {version}"
        ),
    );
    assert_eq!(recorded.len(), 1, "{file} is applied to acme");
    let mut text = std::fs::read(s.path(&file)).unwrap();
    text.extend_from_slice(b"-- edited after it was applied\n");
    std::fs::write(s.path(&file), &text).unwrap();
    let actual = estate::catalog::checksum(&text);
    (file, recorded[0][0].clone(), actual)
}

fn assert_names_drift(err: &str, file: &str, recorded: &str, actual: &str) {
    assert_has(err, file);
    assert_has(err, recorded);
    assert_has(err, actual);
    assert_ne!(recorded, actual);
    let sums = checksums_in(err);
    assert!(sums.len() >= 2, "two 64-hex checksums in:\n{err}");
    assert!(sums.contains(&recorded.to_string()) && sums.contains(&actual.to_string()));
}

/// On the `setup` project, drifts `context`'s first tenant migration, expects `args` to be
/// refused naming the file and both checksums, and returns the project.
fn refused_after_drift(setup: Setup, context: &str, args: &[&str]) -> Scratch {
    let s = project(setup);
    let (file, recorded, actual) = drift(&s, context);
    let err = refused(&s, args);
    assert_names_drift(&err, &file, &recorded, &actual);
    s
}

on_every_setup!(drift_refuses_rolling_back_the_changed_module);
fn drift_refuses_rolling_back_the_changed_module(setup: Setup) {
    let s = refused_after_drift(
        setup,
        "digital_card",
        &["rollback", "digital_card", "--tenant", "acme"],
    );
    assert!(has_table(&s.tenant_db("acme"), "digital_cards"));
}

on_every_setup!(drift_in_an_installed_module_refuses_installing_another_on_that_tenant);
fn drift_in_an_installed_module_refuses_installing_another_on_that_tenant(setup: Setup) {
    // digital_card's applied tenant migration changed; installing calendar on the same tenant
    // database must be refused until the file is restored.
    refused_after_drift(
        setup,
        "digital_card",
        &["install", "calendar", "--tenant", "acme"],
    );
}

on_every_setup!(drift_in_a_required_module_refuses_the_install);
fn drift_in_a_required_module_refuses_the_install(setup: Setup) {
    refused_after_drift(
        setup,
        "user_management",
        &["install", "calendar", "--tenant", "acme"],
    );
}

on_every_setup!(crlf_line_endings_are_not_drift);
fn crlf_line_endings_are_not_drift(setup: Setup) {
    let s = project(setup);
    let file = first_tenant_up(&s, "digital_card");
    let text = std::fs::read_to_string(s.path(&file)).unwrap();
    assert!(!text.contains('\r'));
    std::fs::write(s.path(&file), text.replace('\n', "\r\n")).unwrap();

    let run = s
        .estate(&["status", "--tenant", "acme", "--json"])
        .expect(0);
    let rows = run.json();
    let dc = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == "digital_card")
        .expect("a digital_card row");
    assert_eq!(dc["state"], "installed", "{rows}");
    assert_eq!(dc["pending"], 0, "{rows}");

    s.estate(&["rollback", "digital_card", "--tenant", "acme"])
        .expect(0);
    let t = tables(&s.tenant_db("acme"));
    assert!(!t.contains(&"digital_cards".to_string()), "{t:?}");
    assert!(!t.contains(&"card_templates".to_string()), "{t:?}");
    assert!(t.contains(&"user_profiles".to_string()), "{t:?}");
    assert!(
        query(
            &s.tenant_db("acme"),
            "SELECT 1 FROM estate_ledger WHERE context = 'digital_card'"
        )
        .is_empty()
    );
}

// --- the fixture itself ----------------------------------------------------------------------

on_every_setup!(the_snapshot_sees_every_kind_of_change);
/// `refused` trusts `Scratch::snapshot` to see any change: a row, a column, an index, a table,
/// and (PostgreSQL) a new schema or database of the project.
fn the_snapshot_sees_every_kind_of_change(setup: Setup) {
    let s = project(setup);
    let acme = s.tenant_db("acme");
    let changes: [(&DbRef, &str); 5] = [
        (
            &acme,
            "UPDATE user_profiles SET job_title = job_title WHERE 1 = 0",
        ),
        (
            &acme,
            "INSERT INTO card_templates (id, name, layout) VALUES ('t1', 'n', 'l')",
        ),
        (&acme, "ALTER TABLE card_templates ADD COLUMN extra TEXT"),
        (
            &acme,
            "CREATE INDEX card_templates_extra ON card_templates (extra)",
        ),
        (&acme, "CREATE TABLE scratch_table (x INTEGER)"),
    ];
    for (i, (db, sql)) in changes.iter().enumerate() {
        let before = s.snapshot();
        exec(db, sql);
        let changed = s.snapshot() != before;
        // The first statement changes no row: the snapshot must not see a change either.
        assert_eq!(changed, i > 0, "{sql} on {db}");
    }
    let before = s.snapshot();
    exec(
        &s.landlord(),
        "UPDATE estate_tenants SET name = 'Acme Two' WHERE slug = 'acme'",
    );
    assert!(s.snapshot() != before, "a landlord row");
    if setup.is_postgres() {
        let before = s.snapshot();
        s.add_tenants(&["initech"]);
        assert!(s.snapshot() != before, "a new tenant database or schema");
    }
}
