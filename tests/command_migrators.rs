//! Contexts whose migrator is a program (docs/MIGRATOR-PROTOCOL.md): the protocol's shell
//! example over sqlite3, a Laravel module run by Laravel's own Migrator beside SQL contexts on
//! every setup, a program killed at its timeout, and a password that never leaves the
//! environment.

mod common;
use common::*;

use std::path::Path;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies a fixture context into the project's contexts/ as `module`.
fn add_context(s: &Scratch, fixture_name: &str, module: &str) {
    copy_dir(
        &fixture(fixture_name),
        &s.path(&format!("contexts/{module}")),
    );
}

/// Whether PHP with Laravel's database component is here: CI installs it (.ci/run), so there
/// its absence fails; elsewhere the Laravel tests say why they did not run.
fn laravel_here() -> bool {
    let found = std::process::Command::new("php")
        .args(["-r", "require_once 'Illuminate/Database/autoload.php';"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && in_ci() {
        panic!("php and php-laravel-framework are required in CI (.ci/run installs them)");
    }
    if !found {
        eprintln!("skipped: php with php-laravel-framework is not installed");
    }
    found
}

/// A context `name` whose migrator is `script`, written executable in its folder.
fn program_context(s: &Scratch, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    manifest(s, name, name, "[migrator]\ncommand = [\"./migrator.sh\"]\n");
    let path = s.path(&format!("contexts/{name}/migrator.sh"));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn both_streams(run: &Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

#[test]
fn a_shell_migrator_installs_upgrades_fails_on_one_tenant_recovers_and_rolls_back() {
    let s = with_tenants(Setup::Sqlite, &["acme", "carol", "globex"]);
    add_context(&s, "shell_context", "notes");
    // carol already has a note_tags table: migration 2 fails there, after 1 committed.
    exec(&s.tenant_db("carol"), "CREATE TABLE note_tags (x INTEGER);");

    let run = s.estate(&["install", "notes", "--all"]).expect(1);
    let said = both_streams(&run);
    assert_has(&said, "│ applying 0001_create_notes on acme");
    assert_has(&said, "what it wrote on stderr:");
    assert_has(&said, "table note_tags already exists");
    let status = s.estate_json(&["status", "--json"]);
    for t in ["acme", "globex"] {
        assert_eq!(state(&status, t, "notes").0, "installed", "{t}");
        assert_eq!(state(&status, t, "notes").1, 2, "{t}");
        assert!(has_table(&s.tenant_db(t), "note_tags"), "{t}");
    }
    assert_eq!(state(&status, "carol", "notes").0, "failed");
    assert_eq!(state(&status, "carol", "notes").1, 1, "carol stopped at 1");
    let carol = s.tenant_db("carol");
    assert_eq!(
        first_column(&carol, "SELECT version FROM notes_migrations"),
        names(&["1"])
    );
    assert_eq!(
        ledger(&carol),
        vec![("notes".to_string(), "tenant".to_string(), 1)],
        "estate's ledger mirrors the program's"
    );

    // Fixed, the next run goes on from version 1.
    exec(&carol, "DROP TABLE note_tags;");
    s.estate(&["migrate", "notes", "--all"]).expect(0);
    assert_state_on(
        &s,
        &["acme", "carol", "globex"],
        "notes",
        st("installed", 2, 0),
    );

    // A new migration upgrades every tenant.
    s.write(
        "contexts/notes/sql/0003_add_pinned.up.sql",
        "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n",
    );
    s.write(
        "contexts/notes/sql/0003_add_pinned.down.sql",
        "ALTER TABLE notes DROP COLUMN pinned;\n",
    );
    let dry = s
        .estate(&["migrate", "notes", "--all", "--dry-run"])
        .expect(0);
    assert_has(&dry.stdout, "add_pinned");
    assert!(!has_column(&s.tenant_db("acme"), "notes", "pinned"));
    s.estate(&["migrate", "notes", "--all"]).expect(0);
    for t in ["acme", "carol", "globex"] {
        assert!(has_column(&s.tenant_db(t), "notes", "pinned"), "{t}");
    }
    assert_state_on(
        &s,
        &["acme", "carol", "globex"],
        "notes",
        st("installed", 3, 0),
    );
    s.estate(&["verify", "--all"]).expect(0);

    s.estate(&["rollback", "notes", "--all", "--yes"]).expect(0);
    for t in ["acme", "carol", "globex"] {
        let db = s.tenant_db(t);
        assert!(
            !has_table(&db, "notes") && !has_table(&db, "note_tags"),
            "{t}"
        );
        assert!(ledger(&db).is_empty(), "{t}");
    }
    s.estate(&["test", "notes", "--engine", "sqlite"]).expect(0);
}

on_every_setup!(a_laravel_module_beside_sql_contexts);
fn a_laravel_module_beside_sql_contexts(setup: Setup) {
    if !laravel_here() {
        return;
    }
    let s = with_tenants(setup, &["acme", "globex"]);
    add_context(&s, "laravel_context", "bookings");
    let globex = s.tenant_db("globex");
    // globex already has a bookings table: Laravel's second migration fails there.
    exec(&globex, "CREATE TABLE bookings (id INTEGER);");

    let run = s
        .estate(&["install", "calendar", "bookings", "--all"])
        .expect(1);
    assert_has(
        &both_streams(&run),
        "2024_01_10_000002_create_bookings_table",
    );
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "bookings").0, "installed");
    assert_eq!(state(&status, "acme", "bookings").1, 2);
    assert_eq!(state(&status, "globex", "bookings").0, "failed");
    assert_eq!(state(&status, "globex", "bookings").1, 1);
    for t in ["acme", "globex"] {
        assert_eq!(state(&status, t, "calendar").0, "installed", "{t}");
    }
    assert!(
        has_table(&globex, "rooms"),
        "the first migration stays applied"
    );

    exec(&globex, "DROP TABLE bookings;");
    s.estate(&["migrate", "--all"]).expect(0);
    assert!(has_table(&globex, "bookings"));
    assert_state_on(&s, &["acme", "globex"], "bookings", st("installed", 2, 0));

    // An upgrade: one more Laravel migration.
    std::fs::copy(
        fixture("laravel_later/2024_02_01_000001_index_bookings_by_end.php"),
        s.path("contexts/bookings/database/migrations/2024_02_01_000001_index_bookings_by_end.php"),
    )
    .unwrap();
    s.estate(&["migrate", "bookings", "--all"]).expect(0);
    assert_state_on(&s, &["acme", "globex"], "bookings", st("installed", 3, 0));
    s.estate(&["verify", "--all"]).expect(0);

    s.estate(&["rollback", "bookings", "--all", "--yes"])
        .expect(0);
    for t in ["acme", "globex"] {
        let db = s.tenant_db(t);
        assert!(
            !has_table(&db, "rooms") && !has_table(&db, "bookings"),
            "{t}"
        );
        assert!(has_table(&db, "calendars"), "{t}: calendar stays");
    }
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "calendar").0, "installed");

    let engine = if setup.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    let report = s.estate_json(&["test", "bookings", "--engine", engine, "--json"]);
    assert_eq!(report["passed"], true, "{report}");

    // A planted migration whose down forgets the index its up made.
    s.write(
        "contexts/bookings/database/migrations/2024_03_01_000001_index_rooms_by_seats.php",
        r#"<?php
use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;
return new class extends Migration
{
    public function up()
    {
        Schema::table('rooms', function (Blueprint $table) {
            $table->index('seats');
        });
    }
    public function down()
    {
    }
};
"#,
    );
    let run = s
        .estate(&["test", "bookings", "--engine", engine])
        .expect(1);
    assert_has(&run.stdout, "index_rooms_by_seats");
    assert_has(&run.stdout, "left behind: index rooms_seats_index");
}

on_every_setup!(a_program_past_its_timeout_is_killed_and_the_next_run_recovers);
fn a_program_past_its_timeout_is_killed_and_the_next_run_recovers(setup: Setup) {
    if !laravel_here() {
        return;
    }
    let s = with_tenants(setup, &["acme"]);
    add_context(&s, "laravel_context", "bookings");
    let manifest = s.path("contexts/bookings/context.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("timeout_seconds = 120", "timeout_seconds = 2"),
    )
    .unwrap();
    let pid_file = s.path("contexts/bookings/waiting.pid");
    s.write(
        "contexts/bookings/database/migrations/2024_01_10_000003_wait_forever.php",
        r#"<?php
use Illuminate\Database\Migrations\Migration;
return new class extends Migration
{
    public function up()
    {
        file_put_contents(__DIR__ . '/../../waiting.pid', (string) getmypid());
        fwrite(STDERR, "waiting for a lock that never comes\n");
        sleep(120);
    }
    public function down()
    {
    }
};
"#,
    );

    let run = s
        .estate(&["install", "bookings", "--tenant", "acme"])
        .expect(1);
    let said = both_streams(&run);
    assert_has(&said, "killed after 2 s");
    assert_has(&said, "waiting for a lock that never comes");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the program's process {pid} is gone"
    );
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(
        (
            state(&status, "acme", "bookings").0,
            state(&status, "acme", "bookings").1
        ),
        ("failed".to_string(), 2),
        "recorded at the version its status gave"
    );
    assert!(has_table(&s.tenant_db("acme"), "bookings"));

    std::fs::remove_file(
        s.path("contexts/bookings/database/migrations/2024_01_10_000003_wait_forever.php"),
    )
    .unwrap();
    s.estate(&["migrate", "bookings", "--all"]).expect(0);
    assert_state_on(&s, &["acme"], "bookings", st("installed", 2, 0));
}

/// A command migrator over psql that spies on what it was given: every process's argument
/// list while it runs, whether PGPASSWORD was set, and ESTATE_DATABASE.
const SPY: &str = r#"#!/bin/bash
set -euo pipefail
mkdir -p spy
ps -eo args >> spy/ps.txt
echo "$ESTATE_DATABASE" >> spy/database.txt
[ -n "${PGPASSWORD:-}" ] && echo set > spy/pgpassword
p() { psql -X -q -v ON_ERROR_STOP=1 -tA "$@"; }
applied=$(p -c "SELECT count(*) FROM spy_migrations" 2>/dev/null || echo 0)
case "${!#}" in
status)
  a=false; [ "$applied" = 1 ] && a=true
  echo "{\"migrations\":[{\"version\":1,\"description\":\"create spied\",\"applied\":$a}]}" ;;
up)
  echo "connecting as $PGUSER to $PGDATABASE" >&2
  [ "$applied" = 1 ] || p -c "BEGIN; CREATE TABLE spied (id int); CREATE TABLE spy_migrations (version int PRIMARY KEY); INSERT INTO spy_migrations VALUES (1); COMMIT;" ;;
down)
  [ "$applied" = 0 ] || p -c "BEGIN; DROP TABLE spied; DROP TABLE spy_migrations; COMMIT;" ;;
esac
"#;

on_postgres_setups!(no_password_in_any_argument_list_output_log_or_history);
fn no_password_in_any_argument_list_output_log_or_history(setup: Setup) {
    let password = std::env::var(PG_PASSWORD_ENV).expect("the servers' password");
    assert!(password.len() >= 6, "a password a search can find");
    let s = with_tenants(setup, &["acme", "globex"]);
    program_context(&s, "spy", SPY);

    let mut printed = String::new();
    for args in [
        &["install", "spy", "--all", "--dry-run"][..],
        &["install", "spy", "--all"],
        &["status", "--json"],
        &["history", "--json"],
        &["rollback", "spy", "--tenant", "globex", "--yes"],
        &["history"],
        &["verify", "--all"],
    ] {
        let run = s.estate(args);
        assert!(run.code == 0, "{args:?}: {}\n{}", run.stdout, run.stderr);
        printed.push_str(&both_streams(&run));
    }
    assert!(has_table(&s.tenant_db("acme"), "spied"), "psql connected");
    assert!(!has_table(&s.tenant_db("globex"), "spied"));
    let spy = s.path("contexts/spy/spy");
    assert_eq!(
        std::fs::read_to_string(spy.join("pgpassword"))
            .unwrap()
            .trim(),
        "set",
        "the program had PGPASSWORD"
    );
    let ps = std::fs::read_to_string(spy.join("ps.txt")).unwrap();
    assert_has(&ps, "migrator.sh");

    let mut places: Vec<(String, String)> = vec![("output".into(), printed)];
    for file in walk(&spy).into_iter().chain(walk(&s.path("var"))) {
        let bytes = std::fs::read(&file).unwrap();
        places.push((
            file.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    let rows = |db: &DbRef, table: &str| -> String {
        first_column(db, &format!("SELECT row_to_json(r)::text FROM {table} r")).join("\n")
    };
    places.push(("history".into(), rows(&s.landlord(), "estate_history")));
    for table in ["estate_tenant_modules", "estate_jobs", "estate_job_events"] {
        places.push((table.into(), rows(&s.landlord(), table)));
    }
    for t in ["acme", "globex"] {
        places.push((
            format!("{t}'s ledger"),
            rows(&s.tenant_db(t), "estate_ledger"),
        ));
    }
    for (place, text) in &places {
        assert!(
            !text.contains(&password),
            "the password is in {place}:\n{text}"
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A program whose ledger is a file beside it, and whose stderr is not all UTF-8.
const LATIN1: &str = r#"#!/bin/bash
set -euo pipefail
a=false; [ -e applied ] && a=true
case "${!#}" in
status) echo "{\"migrations\":[{\"version\":1,\"description\":\"one\",\"applied\":$a}]}" ;;
up) printf 'caf\xe9 au lait\n' >&2
    for i in $(seq 300); do echo "line $i" >&2; done
    touch applied ;;
down) rm -f applied ;;
esac
"#;

#[test]
fn a_line_in_another_encoding_is_logged_and_the_program_goes_on() {
    let s = with_tenants(Setup::Sqlite, &["acme"]);
    program_context(&s, "latin", LATIN1);
    let run = s.estate(&["install", "latin", "--all"]).expect(0);
    let said = both_streams(&run);
    assert_has(&said, "caf\u{fffd} au lait");
    assert_has(&said, "line 300");
    assert_state_on(&s, &["acme"], "latin", st("installed", 1, 0));
}

/// A program that cannot tell its status on carol.
const MUTE_ON_CAROL: &str = r#"#!/bin/bash
set -euo pipefail
[ "$ESTATE_TENANT" != carol ] || { echo "carol's credentials are missing" >&2; exit 3; }
a=false; [ -e "applied-$ESTATE_TENANT" ] && a=true
case "${!#}" in
status) echo "{\"migrations\":[{\"version\":1,\"description\":\"one\",\"applied\":$a}]}" ;;
up) touch "applied-$ESTATE_TENANT" ;;
down) rm -f "applied-$ESTATE_TENANT" ;;
esac
"#;

#[test]
fn a_program_that_cannot_answer_on_one_tenant_fails_that_tenant_only() {
    let s = with_tenants(Setup::Sqlite, &["acme", "carol", "globex"]);
    program_context(&s, "mute", MUTE_ON_CAROL);
    let dry = s
        .estate(&["install", "mute", "--all", "--dry-run"])
        .expect(0);
    assert_has(&dry.stdout, "not known while planning");
    let run = s.estate(&["install", "mute", "--all"]).expect(1);
    assert_has(&both_streams(&run), "carol's credentials are missing");
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "acme", "mute").0, "installed");
    assert_eq!(state(&status, "globex", "mute").0, "installed");
    assert_eq!(state(&status, "carol", "mute").0, "failed");
}
