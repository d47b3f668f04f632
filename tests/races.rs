//! Several estate processes at once, as two or three operators would run them, can never
//! break the dependency graph: each round starts installs, rollbacks (`--cascade` too) and
//! migrates of dependent modules over overlapping tenants together, in a seeded random mix;
//! after each round, read from the ledgers, every module a tenant has has its requirements
//! there, each module's landlord scope is applied exactly when some tenant keeps the module
//! (its ledger has it, or the registry records an install `migrate` finishes), and `estate
//! verify` is clean.

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;

const ROUNDS: usize = 20;
const TENANTS: [&str; 4] = ["t1", "t2", "t3", "t4"];

/// The repository's contexts used here: each requires user_management; each has both scopes.
const REQUIRES: [(&str, &str); 2] = [
    ("digital_card", "user_management"),
    ("calendar", "user_management"),
];
const MODULES: [&str; 3] = ["user_management", "digital_card", "calendar"];

/// A splitmix sequence: the same mixes on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    }

    /// A tenant selection: `--all`, or `--tenant` with one to three tenants.
    fn tenants(&mut self) -> Vec<String> {
        if self.next(3) == 0 {
            return vec!["--all".to_string()];
        }
        let first = self.next(TENANTS.len());
        let count = 1 + self.next(3);
        let picked: Vec<&str> = (0..count)
            .map(|i| TENANTS[(first + i) % TENANTS.len()])
            .collect();
        vec!["--tenant".to_string(), picked.join(",")]
    }

    /// One command of the mix.
    fn command(&mut self) -> Vec<String> {
        let module = MODULES[self.next(MODULES.len())].to_string();
        let mut args = match self.next(5) {
            0 | 1 => vec!["install".to_string(), module],
            2 => vec!["rollback".to_string(), module, "--yes".to_string()],
            3 => vec![
                "rollback".to_string(),
                module,
                "--yes".to_string(),
                "--cascade".to_string(),
            ],
            _ => return vec!["migrate".to_string(), "--all".to_string()],
        };
        args.extend(self.tenants());
        args
    }
}

/// The modules whose rows a ledger has in `scope`.
fn modules_in(db: &DbRef, scope: &str) -> BTreeSet<String> {
    ledger(db)
        .into_iter()
        .filter(|(context, s, _)| s == scope && MODULES.contains(&context.as_str()))
        .map(|(context, _, _)| context)
        .collect()
}

fn graph_holds(s: &Scratch, round: usize, ran: &[Vec<String>]) {
    let context = || format!("round {round}, after {ran:?}");
    let mut kept: BTreeSet<String> = BTreeSet::new();
    for t in TENANTS {
        let has = modules_in(&s.tenant_db(t), "tenant");
        for (module, required) in REQUIRES {
            assert!(
                !has.contains(module) || has.contains(required),
                "{t} has {module} without {required}: {has:?} ({})",
                context()
            );
        }
        kept.extend(has);
    }
    let landlord = s.landlord();
    // A race is refused or skipped, never failed: a failed row would also keep a landlord
    // scope below and hide a broken graph.
    let failed = query(
        &landlord,
        "SELECT tenant, module, error FROM estate_tenant_modules WHERE state = 'failed'",
    );
    assert!(
        failed.is_empty(),
        "failed installs: {failed:?} ({})",
        context()
    );
    let registry: BTreeMap<String, Vec<String>> = query(
        &landlord,
        "SELECT module, tenant FROM estate_tenant_modules ORDER BY module, tenant",
    )
    .into_iter()
    .fold(BTreeMap::new(), |mut by, row| {
        by.entry(row[0].clone()).or_default().push(row[1].clone());
        by
    });
    let applied = modules_in(&landlord, "landlord");
    for module in MODULES {
        let keeps = kept.contains(module) || registry.contains_key(module);
        assert_eq!(
            applied.contains(module),
            keeps,
            "{module}'s landlord scope applied: {}, kept by a tenant: {} (ledgers {kept:?}, registry {registry:?}; {})",
            applied.contains(module),
            keeps,
            context()
        );
    }
    let verify = s.estate(&["verify"]);
    assert_eq!(
        verify.code,
        0,
        "verify is not clean ({}):\n{}{}",
        context(),
        verify.stdout,
        verify.stderr
    );
}

fn operators_racing(setup: Setup) {
    let s = Scratch::with(setup);
    s.add_tenants(&TENANTS);
    s.estate(&["install", "digital_card", "--all"]).expect(0);
    let mut mix = Seeded(0x7ace_5eed ^ setup.name().len() as u64);
    for round in 1..=ROUNDS {
        let commands: Vec<Vec<String>> = (0..3).map(|_| mix.command()).collect();
        let children: Vec<_> = commands
            .iter()
            .map(|args| {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                s.estate_command(&args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (args, child) in commands.iter().zip(children) {
            let out = child.wait_with_output().unwrap();
            // 0: done; 1: a step skipped or failed (another job changed the tenant first);
            // 2: refused when planned. Never a crash, never a signal.
            assert!(
                matches!(out.status.code(), Some(0..=2)),
                "round {round}: {args:?} ended {:?}:\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        graph_holds(&s, round, &commands);
    }
}

on_every_setup!(operators_racing);

/// A rollback whose landlord phase cannot take the landlord's lock (another job holds it)
/// leaves the module's landlord scope applied with no tenant keeping it: it says so and how to
/// finish; `verify` reports it from the ledgers; `rollback MODULE --all` then reverts it, where
/// it used to say "nothing to do".
#[test]
fn a_landlord_scope_left_by_a_lock_timeout_is_reported_and_finished_by_rollback_all() {
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    s.estate(&["install", "calendar", "--tenant", "acme"])
        .expect(0);
    let DbRef::Sqlite(landlord) = s.landlord() else {
        unreachable!("the default setup is SQLite")
    };
    // Another job holds the landlord's lock.
    let lock_path = format!("{}.lock", landlord.display());
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    let run = s.estate_with_env(
        &["rollback", "calendar", "--tenant", "acme", "--yes"],
        &[("ESTATE_LOCK_WAIT", "1")],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_has(&run.stdout, "`estate rollback calendar --all` finishes it");
    drop(held);
    assert!(
        !modules_in(&s.tenant_db("acme"), "tenant").contains("calendar"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(modules_in(&landlord_ref(&s), "landlord").contains("calendar"));

    let verify = s.estate(&["verify", "--json"]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    let report = verify.json();
    let orphan = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "orphan_landlord_scope")
        .unwrap_or_else(|| panic!("no orphan finding: {report}"));
    assert_eq!(orphan["module"], "calendar");
    assert_has(
        orphan["fix"].as_str().unwrap(),
        "`estate rollback calendar --all`",
    );

    let finish = s.estate(&["rollback", "calendar", "--all", "--yes"]);
    assert_eq!(finish.code, 0, "{}{}", finish.stdout, finish.stderr);
    assert_has(&finish.stdout, "rollback calendar [landlord]");
    assert!(!modules_in(&landlord_ref(&s), "landlord").contains("calendar"));
    s.estate(&["verify"]).expect(0);
}

on_every_setup!(verify_reads_a_broken_graph_from_the_ledgers);
/// A dependant applied on a tenant whose requirement is gone (a hand edit, or what a race
/// would leave) is a `verify` finding read from the ledgers, whatever the registry says.
fn verify_reads_a_broken_graph_from_the_ledgers(setup: Setup) {
    let s = Scratch::with(setup);
    s.add_tenants(&["acme"]);
    s.estate(&["install", "digital_card", "--tenant", "acme"])
        .expect(0);
    s.estate(&["verify"]).expect(0);
    let acme = s.tenant_db("acme");
    let cascade = if setup.is_postgres() { " CASCADE" } else { "" };
    exec(&acme, &format!("DROP TABLE user_profiles{cascade}"));
    exec(
        &acme,
        "DELETE FROM estate_ledger WHERE context = 'user_management'",
    );
    let verify = s.estate(&["verify", "--json"]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    let report = verify.json();
    let broken = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "missing_requirement")
        .unwrap_or_else(|| panic!("no missing_requirement finding: {report}"));
    assert_eq!(broken["database"], "acme");
    assert_eq!(broken["module"], "digital_card");
    assert_has(broken["detail"].as_str().unwrap(), "user_management");
}

fn landlord_ref(s: &Scratch) -> DbRef {
    s.landlord()
}

/// An install whose requirement's landlord scope another job rolled back after it was planned
/// skips that requirement on the tenant, and the module that needs it too: both were raced,
/// neither failed, so no failed row is left for `migrate` to "finish" (it used to record the
/// dependant failed, "blocked", which kept a landlord scope nobody had).
#[test]
fn a_requirement_rolled_back_under_a_planned_install_skips_its_dependant_too() {
    let s = Scratch::new();
    s.add_tenants(&["t1", "t4"]);
    s.estate(&["install", "user_management", "--tenant", "t1"])
        .expect(0);
    let landlord = landlord_ref(&s);
    let DbRef::Sqlite(path) = &landlord else {
        unreachable!("the default setup is SQLite")
    };
    // The landlord's lock, as a job holding it would: the install plans, then waits there.
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{}.lock", path.display()))
        .unwrap();
    held.lock().unwrap();
    let install = s
        .estate_command(&["install", "calendar", "--tenant", "t4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let planned = std::time::Instant::now();
    while query(
        &landlord,
        "SELECT id FROM estate_jobs WHERE state = 'running'",
    )
    .is_empty()
    {
        assert!(
            planned.elapsed() < std::time::Duration::from_secs(20),
            "the install never started its job"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Meanwhile another job rolls user_management's landlord scope back.
    exec(
        &landlord,
        "DELETE FROM estate_ledger WHERE context = 'user_management' AND scope = 'landlord'",
    );
    drop(held);
    let out = install.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_has(
        &stdout,
        "requirement user_management was changed by another job for t4",
    );
    let failed = query(
        &landlord,
        "SELECT tenant, module, error FROM estate_tenant_modules WHERE state = 'failed'",
    );
    assert!(
        failed.is_empty(),
        "failed rows: {failed:?}\n{stdout}{stderr}"
    );
}
