//! The console end to end: the real binary in a real terminal (tmux), driven by keys as an
//! operator would: open on a scratch project, go to the Matrix, mark two cells, install,
//! confirm, wait for the job, read the screen, and check that the tenant databases and
//! `estate status --json` agree with it. Needs tmux (CI installs it; with CI=true a missing
//! tmux fails the test instead of skipping it).

mod common;
use common::*;

use std::time::{Duration, Instant};

#[test]
fn mark_two_cells_install_and_the_databases_agree_with_the_screen() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; the console's end-to-end test is skipped");
        return;
    }
    let s = Scratch::new();
    s.add_tenants(&["acme", "globex"]);
    let tmux = Tmux::start(&s, 100, 30);
    tmux.wait_for("the Modules view", |sc| {
        sc.contains("Modules (4)") && sc.contains("user_management")
    });
    // The map: the dependency tree and the tables, the blueprint's among them; m again leaves.
    tmux.keys(&["m"]);
    let map = tmux.wait_for("the map", |sc| {
        sc.contains("Graph") && sc.contains("card_shares")
    });
    assert!(map.contains("└─ digital_card"), "{map}");
    assert!(map.contains("0004 blueprint"), "{map}");
    tmux.keys(&["m"]);
    tmux.wait_for("the list again", |sc| sc.contains("Modules (4)"));

    // Matrix, calendar column; space marks acme's cell and moves to globex; space marks it.
    tmux.keys(&["3", "l", "Space", "Space"]);
    let marked = tmux.wait_for("two marks", |sc| sc.contains("2 marked"));
    assert_eq!(marked.matches("*·").count(), 2, "{marked}");

    tmux.keys(&["i"]);
    let plan = tmux.wait_for("the plan", |sc| sc.contains("Confirm"));
    assert!(
        plan.contains("install calendar"),
        "the plan names the module:\n{plan}"
    );
    assert!(
        plan.contains("user_management added"),
        "the plan adds the dependency:\n{plan}"
    );
    tmux.keys(&["y"]);

    tmux.keys(&["4"]);
    let jobs = tmux.wait_for("the job to finish", |sc| {
        sc.contains("succeeded: 2/2 tenants")
    });
    assert!(
        jobs.contains("job finished: 6 succeeded, 0 failed, 0 skipped"),
        "{jobs}"
    );

    // The Matrix turned green for both tenants.
    tmux.keys(&["3"]);
    let matrix = tmux.wait_for("the reloaded matrix", |sc| {
        sc.lines()
            .filter(|l| l.contains("acme") || l.contains("globex"))
            .all(|l| l.matches("✓ installed").count() == 2)
    });
    assert!(!matrix.contains("*"), "the marks were cleared:\n{matrix}");
    // A cell's history, asked of the registry: the window fills in when the rows arrive.
    tmux.keys(&["Enter"]);
    tmux.wait_for("the cell's history", |sc| {
        sc.contains("for globex") && sc.contains("install calendar (tenant)")
    });
    tmux.keys(&["Escape"]);
    // History, asked of the registry when shown: the job's six steps.
    tmux.keys(&["5"]);
    tmux.wait_for("the history", |sc| sc.contains("History (rows 1-6 of 6)"));

    tmux.keys(&["q"]);
    let after = tmux.wait_for("estate to exit", |sc| sc.contains("estate exited"));
    assert!(after.contains("estate exited 0"), "{after}");

    for t in ["acme", "globex"] {
        assert!(has_table(&s.tenant_db(t), "events"), "{t}");
        assert!(has_table(&s.tenant_db(t), "user_profiles"), "{t}");
    }
    let status = s.estate_json(&["status", "--json"]);
    for r in status.as_array().unwrap() {
        let want = if ["calendar", "user_management"].contains(&r["module"].as_str().unwrap()) {
            "installed"
        } else {
            "not_installed"
        };
        assert_eq!(r["state"], want, "{r}");
    }
}

/// Whether process `pid` is still running (gone, or a zombie waiting to be reaped, is not).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

#[test]
fn the_console_ends_when_its_terminal_hangs_up() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; the console's end-to-end test is skipped");
        return;
    }
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    let tmux = Tmux::start(&s, 80, 24);
    tmux.wait_for("the Modules view", |sc| sc.contains("Modules (4)"));
    let shell = tmux.cmd(&["display-message", "-p", "-t", "estate", "#{pane_pid}"]);
    let shell = shell.trim();
    let children =
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap_or_default();
    let estate = children
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("no estate under the pane's shell {shell}"))
        .to_string();
    assert!(running(&estate));

    // The terminal goes away as an SSH session's does: the console must end, not spin on a
    // terminal nobody reads (as it did, at full CPU, until this test).
    drop(tmux);
    let deadline = Instant::now() + Duration::from_secs(15);
    while running(&estate) {
        assert!(
            Instant::now() < deadline,
            "the console (pid {estate}) still runs 15 s after its terminal hung up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The text inside a window over the view on a `width`-column screen (the console centres it,
/// 4 columns narrower than the screen), its wrapped lines joined again.
fn window_text(screen: &str, width: usize) -> String {
    let inner: Vec<String> = screen
        .lines()
        .map(|l| l.chars().skip(3).take(width - 6).collect::<String>())
        .collect();
    inner
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_deleted_landlord_is_refused_by_the_console_on_reload_and_at_start() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; the console's end-to-end test is skipped");
        return;
    }
    let s = Scratch::new();
    s.add_tenants(&["acme", "globex"]);
    s.estate(&["install", "calendar", "--tenant", "acme"])
        .expect(0);
    let tmux = Tmux::start(&s, 100, 30);
    tmux.wait_for("the Modules view", |sc| sc.contains("Modules (4)"));

    // Deleted under the running console: a reload says so, with the fix, and recreates nothing.
    s.remove_landlord();
    tmux.keys(&["3", "C-r"]);
    let refused = tmux.wait_for("the refusal", |sc| sc.contains(" Refused "));
    let text = window_text(&refused, 100);
    for said in [
        "does not exist, but an earlier registry existed: 2 tenant databases",
        "restore the landlord database from a backup",
        "`estate init --force`",
    ] {
        assert!(text.contains(said), "{said:?} is not in:\n{refused}");
    }
    assert!(!refused.contains("no tenants yet"), "{refused}");
    assert!(!s.path("var/landlord.db").exists());
    // Verify (`v`) says it failed too, rather than "no drift".
    tmux.keys(&["Escape", "v"]);
    let verify = tmux.wait_for("verify refused", |sc| sc.contains("verify failed"));
    assert!(!verify.contains("no drift"), "{verify}");
    tmux.keys(&["q"]);
    tmux.wait_for("estate to exit", |sc| sc.contains("estate exited 0"));
    assert!(!s.path("var/landlord.db").exists());
    drop(tmux);

    // Started on it: refused before the screen is taken, exit 2, nothing created.
    let before = s.var_files();
    let tmux = Tmux::start(&s, 100, 30);
    let screen = tmux.wait_for("estate to exit", |sc| sc.contains("estate exited"));
    assert!(screen.contains("estate exited 2"), "{screen}");
    // The terminal wraps the message at its width, mid-word.
    let said: String = screen.lines().collect();
    assert!(said.contains("but an earlier registry existed"), "{screen}");
    assert!(said.contains("`estate init --force`"), "{screen}");
    assert!(s.var_files() == before, "the refused console changed var/");
}

/// `r` then `enter` on a module, as keys pressed out of habit: the confirm window defaults to
/// no, so nothing runs. A fleet rollback needs y and the module's name typed; a wrong name
/// runs nothing either. The databases (ledgers, registry, jobs) are byte for byte as before.
#[test]
fn r_then_enter_on_a_module_rolls_back_nothing() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; the console's end-to-end test is skipped");
        return;
    }
    let s = Scratch::new();
    s.estate(&["demo"]).expect(0);
    let before = s.snapshot();
    let jobs = || first_column(&s.landlord(), "SELECT count(*) FROM estate_jobs");
    let jobs_before = jobs();
    let tmux = Tmux::start(&s, 80, 24);
    tmux.wait_for("the Modules view", |sc| sc.contains("Modules (4)"));
    // calendar: installed for acme and initech, and its landlord scope.
    tmux.keys(&["j", "r", "Enter"]);
    let answered = tmux.wait_for("the plan, or its cancellation", |sc| {
        sc.contains("cancelled: nothing ran") || sc.contains("drops calendars, events")
    });
    // The enter may have come while the registry was still planning (the planning window
    // ignores it): then it is the plan's, now.
    if !answered.contains("cancelled: nothing ran") {
        assert!(answered.contains("n/esc/enter cancel"), "{answered}");
        tmux.keys(&["Enter"]);
    }
    let cancelled = tmux.wait_for("the cancellation", |sc| {
        sc.contains("cancelled: nothing ran")
    });
    assert!(!cancelled.contains("Confirm"), "{cancelled}");

    // y asks for the name; a wrong one runs nothing, esc leaves.
    tmux.keys(&["r"]);
    tmux.wait_for("the plan", |sc| sc.contains("y confirm by name"));
    tmux.keys(&["y"]);
    tmux.wait_for("the name asked for", |sc| {
        sc.contains("type calendar to confirm:")
    });
    tmux.keys(&["b", "i", "l", "l", "i", "n", "g", "Enter"]);
    tmux.wait_for("the wrong name said", |sc| {
        sc.contains("\"billing\" is not \"calendar\": nothing ran")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the window closed", |sc| !sc.contains("Confirm"));

    // The Jobs view has nothing new to show.
    tmux.keys(&["4"]);
    let shown = tmux.wait_for("the Jobs view", |sc| sc.contains("Jobs ("));
    assert!(!shown.contains("rollback"), "{shown}");
    tmux.keys(&["q"]);
    let after = tmux.wait_for("estate to exit", |sc| sc.contains("estate exited"));
    assert!(after.contains("estate exited 0"), "{after}");
    assert_eq!(jobs(), jobs_before, "no job was recorded");
    assert_eq!(
        s.snapshot(),
        before,
        "r then enter changed the databases (ledgers or registry)"
    );
}

/// A job the CLI runs in another terminal shows in the console's Jobs view within a second and
/// moves with no key pressed, its log follows, and `c` stops it at a migration boundary: the
/// CLI ends with exit 1, the registry says who cancelled, and each tenant has a whole prefix of
/// the module's migrations.
#[test]
fn a_cli_job_in_another_window_shows_live_and_c_in_the_console_stops_it() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; the console's end-to-end test is skipped");
        return;
    }
    let s = Scratch::new();
    // Enough tenants, one at a time, that the job is still running when `c` comes.
    let tenants: Vec<String> = (1..=24).map(|i| format!("t{i:02}")).collect();
    s.add_tenants(&tenants.iter().map(String::as_str).collect::<Vec<_>>());
    slow_context(&s);
    let tmux = Tmux::start(&s, 120, 30);
    tmux.wait_for("the Modules view", |sc| sc.contains("Modules ("));
    tmux.keys(&["4"]);
    tmux.wait_for("the Jobs view", |sc| sc.contains("no jobs yet"));

    // The other window.
    let mut child = spawn_slow_install(&s);
    let progress = |sc: &str| {
        sc.lines()
            .find(|l| l.contains("running: "))
            .map(str::to_string)
    };
    let seen = tmux.wait_for("the CLI's job, running", |sc| {
        sc.contains("install  slow") && progress(sc).is_some()
    });
    // It moves, and its log follows, with no key pressed.
    let first = progress(&seen);
    tmux.wait_for("the job to advance", |sc| {
        progress(sc).is_some() && progress(sc) != first
    });
    tmux.wait_for("its log, followed", |sc| {
        sc.contains("✓ install slow on tenant t")
    });

    tmux.keys(&["c"]);
    tmux.wait_for("the cancel asked", |sc| {
        sc.contains("asked to stop by tester")
    });
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the CLI's install ended {status:?}");
    let stopped = tmux.wait_for("the job interrupted", |sc| {
        sc.contains("interrupted: ") && sc.contains("cancel asked by tester")
    });
    assert!(stopped.contains("not started"), "{stopped}");
    assert!(
        stopped.contains("cancel requested by tester: stopping at the next migration boundary"),
        "the log says who: {stopped}"
    );
    let whole = tenants
        .iter()
        .filter(|t| {
            // Stopped at a boundary: a whole prefix of the migrations, each whole.
            let v = slow_versions(&s.tenant_db(t));
            assert!([1, 2, 3].starts_with(&v), "{t}: {v:?}");
            v == [1, 2, 3]
        })
        .count();
    assert!(whole >= 1 && whole < tenants.len(), "{whole} whole");
    tmux.keys(&["q"]);
    tmux.wait_for("estate to exit", |sc| sc.contains("estate exited 0"));
}

/// More than 2,000 history rows (the console once loaded the newest 2,000 and said nothing of
/// the rest): a tenant's history in the real console counts what `estate history --tenant`
/// lists, pages to its oldest row, and takes a time filter.
#[test]
fn a_tenants_history_past_2000_rows_counts_what_the_cli_lists() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; the console's end-to-end test is skipped");
        return;
    }
    let s = Scratch::new();
    s.add_tenants(&["acme", "globex"]);
    s.estate(&["install", "calendar", "--all"]).expect(0);
    add_acme_history(&s, 2500, 10);
    let cli = s.estate_json(&["history", "--tenant", "acme", "--json"]);
    let rows = cli.as_array().unwrap().len();
    assert!(rows > 2500, "{rows}");
    let with_commas = |n: usize| {
        let d = n.to_string();
        format!("{},{}", &d[..d.len() - 3], &d[d.len() - 3..])
    };
    let total = with_commas(rows);

    let tmux = Tmux::start(&s, 100, 30);
    tmux.wait_for("the Modules view", |sc| sc.contains("Modules (4)"));
    tmux.keys(&[":", "history acme", "Enter"]);
    tmux.wait_for("acme's history, counted", |sc| {
        sc.contains(&format!("rows 1-500 of {total} matching \"acme\""))
    });
    // The last page holds the oldest rows: the CLI's first.
    tmux.keys(&["G"]);
    let from = rows / 500 * 500 + 1;
    tmux.wait_for("the last page", |sc| {
        sc.contains(&format!("rows {}-{total} of {total}", with_commas(from)))
    });
    // The last hour: the 10 rows inserted an hour ago and the install's steps.
    tmux.keys(&[":", "history acme --since 2h", "Enter"]);
    let recent = tmux.wait_for("the last two hours", |sc| sc.contains("since:2h"));
    let recent_cli = s
        .estate_json(&["history", "--tenant", "acme", "--since", "2h", "--json"])
        .as_array()
        .unwrap()
        .len();
    assert!(
        recent.contains(&format!("rows 1-{recent_cli} of {recent_cli}")),
        "{recent_cli} rows:\n{recent}"
    );
    tmux.keys(&[":", "history acme --since 2x", "Enter"]);
    tmux.wait_for("the bad time answered", |sc| {
        sc.contains("is neither a span of time nor a date")
    });
    tmux.keys(&["q"]);
    tmux.wait_for("estate to exit", |sc| sc.contains("estate exited 0"));
}
