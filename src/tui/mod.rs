//! The console: a ratatui face on the same [`Project`] API the CLI uses.
//!
//! `app` routes keys and background results (which view is shown, what is open over it);
//! `views` holds one file per view (its state, keys and drawing) and the tab list; `shared` is
//! what the views share (the snapshot from `data`, marks, the jobs `jobs` follows, `drift`);
//! `history` the questions put to the registry's history (the views ask for a page at a time);
//! `popups` the windows and lines over the views (plans to confirm, refusals, details, help,
//! the quit question, the `/` and `:` lines); `keys` declares every key once, as data;
//! `widgets` are the drawing pieces views and popups share; `worker` runs everything that
//! touches a database in tokio tasks (the UI thread never waits on one); `style` maps the
//! shared theme onto ratatui. The terminal is always restored, on quit, on error and on panic.

mod app;
mod command;
mod data;
mod drift;
mod history;
mod jobs;
mod keys;
mod marks;
mod popups;
mod query;
mod rollout;
mod rows;
mod shared;
mod style;
mod views;
mod widgets;
mod worker;

pub use app::{App, draw};
pub use data::Snapshot;
pub use popups::Popup;
pub use views::Tab;
pub use worker::{Effect, Msg, PlanGroup, PlanRequest};

use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use crate::signals::{Signals, Stop};
use estate_engine::Project;
use estate_engine::{Error, Result};
use jobs::JobState;

/// Carries out `effect` and waits for its results: what the event loop does in the
/// background, done in line (for tests and benchmarks).
pub async fn settle(project: &Project, effect: Effect) -> Vec<Msg> {
    let (tx, rx) = std::sync::mpsc::channel();
    match effect {
        Effect::Reload => drop(tx.send(worker::load(project).await)),
        Effect::Plan(request) => drop(tx.send(worker::plan(project, request).await)),
        Effect::Run(jobs) => worker::run(project, jobs, &tx).await,
        Effect::Recheck { request, shown } => {
            drop(tx.send(worker::recheck(project, request, shown).await))
        }
        Effect::Verify => drop(tx.send(worker::verify(project).await)),
        effect => {
            if let Some(msg) = worker::registry(project, effect).await {
                drop(tx.send(msg));
            }
        }
    }
    drop(tx);
    rx.into_iter().collect()
}

/// Opens the console on `project` and runs it until the operator quits. A SIGHUP (the SSH
/// session dropped), a SIGTERM or a terminal that cannot be read any more stops the jobs under
/// way at their next migration boundary, waits for them, and ends the console.
pub async fn run(mut project: Arc<Project>) -> Result<()> {
    let handle = tokio::runtime::Handle::current();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut app = App::loading(project.config().read_only);
    let stopped: Arc<std::sync::Mutex<Option<Stop>>> = Arc::default();
    let watcher = Signals::install().map(|mut signals| {
        let stopped = stopped.clone();
        handle.spawn(async move {
            loop {
                let signal = signals.next().await;
                // Ctrl-C is a key in the console (raw mode); as a signal it came from
                // outside, like the others.
                tracing::warn!(signal = signal.name(), "the console was told to stop");
                *estate_engine::sync::lock(&stopped) = Some(signal);
            }
        })
    });
    // ratatui::init installs a panic hook that restores the terminal before the report.
    let servers = project.config().servers.clone();
    let mut terminal = ratatui::init();
    let result = tokio::task::block_in_place(|| {
        let mut ticked = std::time::Instant::now();
        loop {
            if ticked.elapsed() >= TICK {
                ticked = std::time::Instant::now();
                app.tick();
            }
            if let Some(signal) = *estate_engine::sync::lock(&stopped) {
                wind_down(&mut app, &rx, signal.name(), &handle, &servers);
                return Ok(());
            }
            for effect in app.take_effects() {
                worker::spawn(&handle, project.clone(), effect, tx.clone());
            }
            if let Err(e) = terminal.draw(|frame| draw(frame, &app)) {
                wind_down(&mut app, &rx, "the terminal went away", &handle, &servers);
                return Err(Error::io("drawing the console", e));
            }
            if app.quit {
                return Ok(());
            }
            // Short, so background results show promptly; a resize redraws on the next turn.
            if let Err(e) = read_keys(&mut app) {
                wind_down(&mut app, &rx, "the terminal went away", &handle, &servers);
                return Err(e);
            }
            while let Ok(msg) = rx.try_recv() {
                match msg {
                    Msg::Reopened(fresh) => project = fresh,
                    msg => app.on_msg(msg),
                }
            }
        }
    });
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    ratatui::restore();
    result
}

/// How often the console reads the registry's jobs without a key press: a job started by any
/// process shows within a second.
const TICK: Duration = Duration::from_secs(1);

/// Events one turn of the loop takes at most before it draws and looks at signals again.
const EVENTS_PER_TURN: usize = 256;

/// Hands the keys typed so far to `app`, waiting a moment for the first. Returns an error when
/// the terminal is gone (an SSH session dropped, a tmux session killed).
fn read_keys(app: &mut App) -> Result<()> {
    let err = |e| Error::io("reading the terminal", e);
    // crossterm's own wait never returns on a terminal whose other end has hung up (it spins
    // on the endless end-of-file), so the wait is a poll(2) of ours, which reports the hangup.
    match terminal_input(Duration::from_millis(50)).map_err(err)? {
        Pending::HungUp => return Err(err(hung_up())),
        // crossterm may still hold events read with an earlier batch.
        Pending::None if !event::poll(Duration::ZERO).map_err(err)? => return Ok(()),
        Pending::None | Pending::Waiting => {}
    }
    // The keys already typed, before drawing again, so a held key never lags; a bounded
    // number, so the loop still draws and sees a signal.
    for _ in 0..EVENTS_PER_TURN {
        if let Event::Key(key) = event::read().map_err(err)?
            && key.kind == KeyEventKind::Press
        {
            app.on_key(key);
        }
        if terminal_input(Duration::ZERO).map_err(err)? == Pending::HungUp {
            return Err(err(hung_up()));
        }
        if !event::poll(Duration::ZERO).map_err(err)? {
            break;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Waiting,
    None,
    HungUp,
}

fn hung_up() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the terminal hung up")
}

/// Whether the terminal (standard input) has input within `timeout`, or has hung up. When
/// standard input is no terminal (crossterm then reads /dev/tty), it says `Waiting` and leaves
/// the answer to crossterm.
fn terminal_input(timeout: Duration) -> std::io::Result<Pending> {
    // SAFETY: isatty and poll only read the descriptor and the one pollfd passed.
    if unsafe { libc::isatty(libc::STDIN_FILENO) } != 1 {
        return Ok(Pending::Waiting);
    }
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd, count 1.
    let n = unsafe { libc::poll(&mut fd, 1, millis) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return match e.kind() {
            // A signal (a resize, a hangup being handled): the loop looks again.
            std::io::ErrorKind::Interrupted => Ok(Pending::None),
            _ => Err(e),
        };
    }
    Ok(
        if fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            Pending::HungUp
        } else if fd.revents & libc::POLLIN != 0 {
            Pending::Waiting
        } else {
            Pending::None
        },
    )
}

/// Stops every job under way at its next migration boundary and waits until each has ended
/// and been recorded, without the terminal (after a hangup there is none to draw on). A
/// statement still running after the grace is interrupted, as the CLI does.
fn wind_down(
    app: &mut App,
    rx: &std::sync::mpsc::Receiver<Msg>,
    why: &str,
    handle: &tokio::runtime::Handle,
    servers: &[estate_engine::Server],
) {
    let active = |app: &App| {
        app.shared
            .live
            .iter()
            .any(|j| matches!(j.state, JobState::Queued | JobState::Running))
    };
    if !active(app) {
        return;
    }
    tracing::warn!(
        why,
        "stopping the console's jobs at their next migration boundary"
    );
    for job in &app.shared.live {
        job.control.cancel();
    }
    let since = std::time::Instant::now();
    let mut interrupted = false;
    while active(app) {
        if !interrupted && since.elapsed() >= crate::signals::GRACE {
            interrupted = true;
            handle.block_on(estate_engine::interrupt_statements(servers));
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(msg) => app.on_msg(msg),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    tracing::info!("the console's jobs stopped");
}
