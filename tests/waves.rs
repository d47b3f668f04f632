//! Rollouts in waves, on every setup: a wave with a failed tenant halts the rollout (the
//! rest reported not started, exit 1), the same command again goes on with what is left, a
//! seeded random order is the same order twice, and bad wave sizes change nothing.

mod common;
use common::*;

use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

const TENANTS: [&str; 6] = ["t1", "t2", "t3", "t4", "t5", "t6"];

fn a_failed_wave_halts_and_a_rerun_goes_on(setup: Setup) {
    let s = Scratch::with(setup);
    s.add_tenants(&TENANTS);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    // calendar 0004 creates `boom`, which t3 already has: t3 fails.
    migration_pair(
        &s,
        "calendar",
        "tenant",
        "0004_add_boom",
        "CREATE TABLE boom (id INTEGER);\n",
        "DROP TABLE boom;\n",
    );
    exec(&s.tenant_db("t3"), "CREATE TABLE boom (x INTEGER)");
    let waves = ["--wave", "1", "--wave", "50%", "--wave", "rest"];

    let dry = s.estate_json(&[&["migrate", "--dry-run", "--json"][..], &waves].concat());
    let groups: Vec<Vec<String>> = dry["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(strings)
        .collect();
    assert_eq!(
        groups,
        [vec!["t1"], vec!["t2", "t3", "t4"], vec!["t5", "t6"]]
    );

    let run = s
        .estate(&[&["migrate", "--json"][..], &waves].concat())
        .expect(1);
    let rollout = &run.json()["rollout"];
    assert_eq!(rollout["waves"].as_array().unwrap().len(), 2, "{rollout:#}");
    assert_eq!(strings(&rollout["failed"]), ["t3"]);
    assert_eq!(strings(&rollout["not_started"]), ["t5", "t6"]);
    assert_has(
        rollout["halted"].as_str().unwrap(),
        "1 tenant(s) failed in wave 2 (t3)",
    );
    let status = s.estate_json(&["status", "--json"]);
    for t in ["t1", "t2", "t4"] {
        assert_eq!(state(&status, t, "calendar"), st("installed", 5, 0), "{t}");
    }
    assert_eq!(state(&status, "t3", "calendar").0, "failed");
    for t in ["t5", "t6"] {
        assert_eq!(
            state(&status, t, "calendar"),
            st("outdated", 4, 1),
            "{t} was not started"
        );
    }

    // The cause fixed, the same command goes on with what is left.
    exec(&s.tenant_db("t3"), "DROP TABLE boom");
    let run = s.estate(&[&["migrate"][..], &waves].concat()).expect(0);
    assert_has(&run.stdout, "rollout done: 2 wave(s)");
    assert_state_on(&s, &TENANTS, "calendar", st("installed", 5, 0));
}

fn orders_and_bad_sizes(setup: Setup) {
    let s = Scratch::with(setup);
    s.add_tenants(&TENANTS);
    let plan = |extra: &[&str]| {
        let args = [
            &[
                "install",
                "calendar",
                "--all",
                "--dry-run",
                "--json",
                "--wave",
                "2",
            ][..],
            extra,
        ]
        .concat();
        let out = s.estate_json(&args);
        (out["waves"].clone(), out["seed"].clone())
    };
    let (slug_order, seed) = plan(&[]);
    assert_eq!(seed, Value::Null);
    assert_eq!(strings(&slug_order[0]), ["t1", "t2"]);
    let (a, seed) = plan(&["--order", "random", "--seed", "42"]);
    assert_eq!(seed, 42);
    assert_eq!(
        a,
        plan(&["--order", "random", "--seed", "42"]).0,
        "a seed gives one order"
    );
    let (_, printed) = plan(&["--order", "random"]);
    assert!(printed.as_u64().is_some(), "a random order says its seed");
    let run = s
        .estate(&[
            "install",
            "calendar",
            "--all",
            "--order",
            "random",
            "--wave",
            "3",
            "--dry-run",
        ])
        .expect(0);
    assert_has(&run.stdout, "random order, seed ");
    assert_has(&run.stdout, "repeats it");

    let before = s.snapshot();
    let refused: &[(&[&str], &str)] = &[
        (&["--wave", "0"], "--wave 0 would run no tenant"),
        (
            &["--wave", "150%"],
            "--wave 150% is not a share from 1% to 100%",
        ),
        (&["--wave", "0%"], "is not a share"),
        (&["--wave", "some"], "--wave some is not a size"),
        (
            &["--wave", "rest", "--wave", "2"],
            "make --wave rest the last wave",
        ),
        (&["--order", "random"], "no --wave was given"),
        (
            &["--wave", "2", "--seed", "4"],
            "add --order random, or leave out --seed",
        ),
    ];
    for (extra, problem) in refused {
        let run = s
            .estate(&[&["install", "calendar", "--all"][..], extra].concat())
            .expect(2);
        assert_has(&run.stderr, problem);
    }
    assert_eq!(s.snapshot(), before, "a refusal changed something");
}

on_every_setup!(
    a_failed_wave_halts_and_a_rerun_goes_on,
    orders_and_bad_sizes
);

#[test]
fn a_pause_between_waves_is_waited_and_said() {
    let s = Scratch::new();
    s.add_tenants(&["t1", "t2"]);
    let run = s
        .estate(&[
            "install",
            "calendar",
            "--all",
            "--wave",
            "1",
            "--wave-pause",
            "1",
        ])
        .expect(0);
    assert_has(&run.stderr, "pausing 1 s before the next wave");
    assert_has(&run.stdout, "rollout done: 2 wave(s)");
}

#[test]
fn a_signal_during_the_pause_stops_the_rollout_before_the_next_wave() {
    use std::io::{BufRead, BufReader};
    let s = Scratch::new();
    s.add_tenants(&["t1", "t2", "t3"]);
    let mut child = s
        .estate_command(&[
            "install",
            "calendar",
            "--all",
            "--wave",
            "1",
            "--wave-pause",
            "60",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 && !line.contains("pausing 60 s") {
        line.clear();
    }
    assert_has(&line, "pausing 60 s before the next wave");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rollout = &report["rollout"];
    assert_has(
        rollout["halted"].as_str().unwrap(),
        "SIGINT during the pause before wave 2",
    );
    assert_eq!(strings(&rollout["not_started"]), ["t2", "t3"]);
    let status = s.estate_json(&["status", "--json"]);
    assert_eq!(state(&status, "t1", "calendar").0, "installed");
    assert_eq!(state(&status, "t2", "calendar").0, "not_installed");
}

#[test]
fn a_fleet_s_plan_shows_each_kind_of_tenant_once_and_its_json_every_tenant() {
    let s = Scratch::new();
    let tenants: Vec<String> = (1..=12).map(|i| format!("t{i:02}")).collect();
    s.add_tenants(&tenants.iter().map(String::as_str).collect::<Vec<_>>());
    s.estate(&["install", "user_management", "--tenant", "t03"])
        .expect(0);
    let plan = s
        .estate(&["install", "calendar", "--all", "--dry-run"])
        .expect(0)
        .stdout;
    assert_has(
        &plan,
        "11 tenants (t01, t02, t04, t05, t06, and 6 more), each",
    );
    assert_has(&plan, "tenant t03\n");
    assert_eq!(
        plan.matches("install calendar [tenant]").count(),
        2,
        "{plan}"
    );
    let json = s.estate_json(&["install", "calendar", "--all", "--dry-run", "--json"]);
    assert_eq!(json["plan"]["tenant_steps"].as_object().unwrap().len(), 12);
}
