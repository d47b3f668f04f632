//! The console in a real terminal: a tmux server of a test's own, the console started in it
//! on a scratch project, keys sent as typed, the screen read back.

use std::process::Command;
use std::time::{Duration, Instant};

use super::postgres::in_ci;
use super::scratch::Scratch;

/// A tmux server of this test's own, killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn available() -> bool {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok && in_ci() {
            panic!("tmux is needed for the console's end-to-end test: apt-get install tmux");
        }
        ok
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts the console of `s`'s binary in a `width`×`height` terminal in `s`'s project.
    pub fn start(s: &Scratch, width: u16, height: u16) -> Tmux {
        Tmux::start_with(s, width, height, &[])
    }

    /// Starts `s`'s binary with `args` (plain words, no quoting needed) in a terminal.
    pub fn start_with(s: &Scratch, width: u16, height: u16, args: &[&str]) -> Tmux {
        // A server per test: the tests of this file run side by side.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmux = Tmux {
            socket: format!("estate-test-{}-{n}", std::process::id()),
        };
        let bin = s.program();
        let out = Command::new("tmux")
            .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d"])
            .args([
                "-s",
                "estate",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg("-c")
            .arg(s.root())
            .arg("-e")
            .arg("USER=tester")
            .arg("-e")
            .arg("TERM=tmux-256color")
            // The pane stays after estate exits, so its last screen can be read.
            .arg(format!(
                "{} {} ; echo estate exited $?; sleep 30",
                bin.display(),
                args.join(" ")
            ))
            .output()
            .expect("tmux starts");
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", "estate"])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "estate", k]);
            // One key at a time, as typed: the console takes each before the next.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Waits until the screen satisfies `ok`, and returns it.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.cmd(&["kill-server"]);
    }
}
