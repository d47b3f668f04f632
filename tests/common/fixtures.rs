//! Projects and contexts that many tests start from: tenants added, modules installed,
//! manifests and migrations written, an unreadable file, a slow context; and the project opened
//! through the library, as the console opens it.

use std::path::Path;

use super::db::{DbRef, exec, has_table, ledger};
use super::scratch::Scratch;
use super::setups::Setup;

/// A project on `setup` with the sample contexts and the tenants `slugs`, nothing installed.
pub fn with_tenants(setup: Setup, slugs: &[&str]) -> Scratch {
    let s = Scratch::with(setup);
    s.add_tenants(slugs);
    s
}

/// Adds acme (enterprise, eu), globex (free) and initech (free, us).
pub fn tagged_fleet(s: &Scratch) {
    s.estate(&[
        "tenants",
        "add",
        "acme",
        "--tag",
        "plan=enterprise",
        "--tag",
        "region=eu",
    ])
    .expect(0);
    s.estate(&["tenants", "add", "globex", "--tag", "plan=free"])
        .expect(0);
    s.estate(&[
        "tenants",
        "add",
        "initech",
        "--tag",
        "plan=free",
        "--tag",
        "region=us",
    ])
    .expect(0);
}

/// Two tenants, acme and globex (on pg1 and pg2), and nothing installed yet.
pub fn two_tenants(setup: Setup) -> Scratch {
    with_tenants(setup, &["acme", "globex"])
}

/// acme and globex, with digital_card (and so user_management) installed for acme.
pub fn digital_card_for_acme(setup: Setup) -> Scratch {
    let s = two_tenants(setup);
    s.estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(0);
    s
}

/// Writes `contexts/FOLDER/context.toml` with `name`, a title, a version, then `extra` lines.
pub fn manifest(s: &Scratch, folder: &str, name: &str, extra: &str) {
    s.write(
        &format!("contexts/{folder}/context.toml"),
        format!("name = \"{name}\"\ntitle = \"T\"\nversion = \"1.0.0\"\n{extra}"),
    );
}

/// Writes a migration file (text or bytes) of `context`'s `scope` set.
pub fn migration(s: &Scratch, context: &str, scope: &str, file: &str, sql: impl AsRef<[u8]>) {
    s.write(
        &format!("contexts/{context}/migrations/{scope}/{file}"),
        sql,
    );
}

/// Writes `NAME.up.sql`, then `NAME.down.sql`, of `context`'s `scope` set.
pub fn migration_pair(s: &Scratch, context: &str, scope: &str, name: &str, up: &str, down: &str) {
    migration(s, context, scope, &format!("{name}.up.sql"), up);
    migration(s, context, scope, &format!("{name}.down.sql"), down);
}

/// The up SQL of calendar's tenant migration 0004, which adds `events.color`.
pub const ADD_COLOR: &str = "ALTER TABLE events ADD COLUMN color VARCHAR(7);\n";

/// Writes calendar's tenant migration 0004 (`events.color`) with `up` as its up SQL.
pub fn color_migration(s: &Scratch, up: &str) {
    migration_pair(
        s,
        "calendar",
        "tenant",
        "0004_add_color_to_events",
        up,
        "ALTER TABLE events DROP COLUMN color;\n",
    );
}

/// Adds calendar's tenant migration 0004, which adds `events.color`.
pub fn add_color_migration(s: &Scratch) {
    color_migration(s, ADD_COLOR);
}

/// Makes `file` unreadable to estate: mode 000, or, for root (who reads mode-000 files), a
/// symlink to nowhere in its place, which fails to read the same way for every user.
pub fn make_unreadable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(file).is_ok() {
        std::fs::remove_file(file).unwrap();
        std::os::unix::fs::symlink(file.with_extension("gone"), file).unwrap();
    }
    assert!(
        std::fs::read(file).is_err(),
        "{} is still readable",
        file.display()
    );
}

// --- the library, as the console uses it ----------------------------------------------------

/// Opens the scratch project through the library, as the console does (the servers' password
/// variable is this process's own).
pub async fn open_project(s: &Scratch) -> estate_engine::Project {
    let config = estate_engine::config::Config::load(Some(&s.path("config/estate.toml"))).unwrap();
    estate_engine::Project::open(config).await.unwrap()
}

/// Asserts that the matrix the console reads from the registry alone (no tenant database
/// opened) says what `estate status` says from every tenant's ledger.
pub fn assert_matrix_matches_status(s: &Scratch) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let project = open_project(s).await;
        let matrix = project.matrix().await.unwrap().rows();
        let status = project.status(None).await.unwrap();
        project.close().await;
        assert_eq!(
            matrix, status,
            "the registry's matrix and the ledgers disagree"
        );
    });
}

/// A context `slow` whose tenant scope has three migrations; the second takes a while, so a
/// cancel sent when the step starts lands before the third.
pub fn slow_context(s: &Scratch) {
    s.write(
        "contexts/slow/context.toml",
        "name = \"slow\"\ntitle = \"Slow\"\nversion = \"1.0.0\"\ndescription = \"Three steps.\"\n",
    );
    let slow = "CREATE TABLE slow_two (x INTEGER);\n\
                INSERT INTO slow_two SELECT count(*) FROM (WITH RECURSIVE c(x) AS \
                (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT x FROM c) AS n;\n";
    for (name, up) in [
        ("0001_one", "CREATE TABLE slow_one (x INTEGER);\n"),
        ("0002_two", slow),
        ("0003_three", "CREATE TABLE slow_three (x INTEGER);\n"),
    ] {
        let table = format!("slow_{}", &name[5..]);
        migration_pair(
            s,
            "slow",
            "tenant",
            name,
            up,
            &format!("DROP TABLE {table};\n"),
        );
    }
}

pub fn slow_versions(db: &DbRef) -> Vec<i64> {
    if !has_table(db, "estate_ledger") {
        return Vec::new();
    }
    ledger(db)
        .into_iter()
        .filter(|(c, _, _)| c == "slow")
        .map(|(_, _, v)| v)
        .collect()
}

/// `estate install slow --all`, one tenant at a time, started in the background: a job that
/// runs for seconds, for another process (the CLI, the console) to watch and cancel.
pub fn spawn_slow_install(s: &Scratch) -> std::process::Child {
    let mut install = s.estate_command(&["install", "slow", "--all"]);
    install.env("ESTATE_CONCURRENCY", "1");
    install
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Adds `older` history rows of acme's calendar dated 2026-01-02 and `recent` from an hour
/// ago, in one statement, to a SQLite landlord that has run a job already.
pub fn add_acme_history(s: &Scratch, older: usize, recent: usize) {
    exec(
        &s.landlord(),
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {all}),
                  at(i, t) AS (SELECT i, CASE WHEN i > {older}
                                 THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hours')
                                 ELSE '2026-01-02T00:00:00.000Z' END FROM n)
             INSERT INTO estate_history (job_id, tenant, module, scope, action, operator,
                 ssh_client, started_at, finished_at, duration_ms, migrations, outcome, error)
             SELECT (SELECT MIN(job_id) FROM estate_history), 'acme', 'calendar', 'tenant',
                    'upgrade', 'tester', NULL, t, t, 1, '3', 'succeeded', NULL
             FROM at",
            all = older + recent
        ),
    );
}
