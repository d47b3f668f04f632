//! One call of a command migrator's program: started in its context's folder in a process
//! group of its own, with a cleared environment but for the protocol's variables and the few
//! passed on, its stdout kept (the `status` answer), each stderr line handed on as it comes
//! (a log line), and past its timeout its whole group killed.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::error::{Error, Result};

/// What estate keeps of a program's stderr for an error message: its first and last lines,
/// this many in all.
const TAIL_LINES: usize = 12;
const HEAD_LINES: usize = 3;

/// The most of a `status` answer read; a program that writes more is broken, not trusted.
const MAX_STDOUT: u64 = 16 * 1024 * 1024;

/// How long a program has between SIGTERM and SIGKILL once its time is up.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// The variables kept from estate's own environment, besides those the config names.
const KEPT: [&str; 3] = ["PATH", "HOME", "LANG"];

/// A program to run: what the manifest says, where, and with what.
pub(super) struct Call<'a> {
    /// The program, resolved (`catalog::resolve_program`), and its arguments.
    pub program: PathBuf,
    pub args: &'a [String],
    pub dir: &'a Path,
    pub action: &'static str,
    pub env: Vec<(String, String)>,
    pub pass_env: &'a [String],
    pub timeout: Duration,
}

/// How a call ended.
pub(super) struct Ended {
    /// `None`: killed at its timeout (or stopped by a signal to estate).
    pub status: Option<ExitStatus>,
    pub stdout: String,
    /// The first and last lines of stderr.
    pub tail: Vec<String>,
    pub took: Duration,
}

impl Ended {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// How it ended, for an error message: `exited with status 3`, `was killed after 600 s`.
    pub fn how(&self, timeout: Duration) -> String {
        match self.status {
            Some(s) => match s.code() {
                Some(code) => format!("exited with status {code}"),
                None => "was stopped by a signal".to_string(),
            },
            None if crate::database::interrupted() => {
                "was stopped: estate was interrupted".to_string()
            }
            None => format!("was killed after {} s, its timeout", timeout.as_secs()),
        }
    }

    /// The last stderr lines, indented for an error's body; empty when it wrote none.
    pub fn tail_text(&self) -> String {
        if self.tail.is_empty() {
            return String::new();
        }
        let lines: Vec<String> = self.tail.iter().map(|l| format!("  | {l}")).collect();
        format!("\nwhat it wrote on stderr:\n{}", lines.join("\n"))
    }
}

/// Runs `call`, handing each stderr line to `on_line` as it comes.
pub(super) async fn run(call: Call<'_>, on_line: &(dyn Fn(&str) + Send + Sync)) -> Result<Ended> {
    let mut command = tokio::process::Command::new(&call.program);
    command
        .args(call.args)
        .arg(call.action)
        .current_dir(call.dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for name in KEPT
        .iter()
        .copied()
        .chain(call.pass_env.iter().map(String::as_str))
    {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(call.env.iter().map(|(k, v)| (k, v)));
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| {
        Error::Migrator(format!(
            "could not start {} in {}: {e}",
            call.program.display(),
            call.dir.display()
        ))
    })?;
    let group = child.id().map(|id| id as i32);
    let _registered = group.map(Registered::new);
    let (Some(mut stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Error::Migrator(format!(
            "{} started without its output pipes",
            call.program.display()
        )));
    };
    let read_stdout = async move {
        let mut text = Vec::new();
        (&mut stdout)
            .take(MAX_STDOUT)
            .read_to_end(&mut text)
            .await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&text).into_owned())
    };
    // Shared with the timeout's branch, so a killed program's error still shows its last lines.
    let said = std::sync::Mutex::new(Said::default());
    let read_stderr = async {
        // Bytes, not text: a line in another encoding must not end the reading (the program
        // would die of SIGPIPE at its next write).
        let mut reader = BufReader::new(stderr);
        let mut bytes = Vec::new();
        while let Ok(n) = reader.read_until(b'\n', &mut bytes).await {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&bytes);
            let line = printable(text.trim_end_matches(['\n', '\r']));
            bytes.clear();
            on_line(&line);
            said.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    };
    let waited = async {
        let (out, (), status) = tokio::join!(read_stdout, read_stderr, child.wait());
        (out, status)
    };
    match tokio::time::timeout(call.timeout, waited).await {
        Ok((out, status)) => {
            let status = status.map_err(|e| {
                Error::Migrator(format!("waiting for {}: {e}", call.program.display()))
            })?;
            // Stopped by estate's own stop (a signal's grace over): it did not end by itself.
            let status =
                (!(status.code().is_none() && crate::database::interrupted())).then_some(status);
            Ok(Ended {
                status,
                stdout: out.unwrap_or_default(),
                tail: said.into_inner().unwrap_or_else(|e| e.into_inner()).lines(),
                took: started.elapsed(),
            })
        }
        Err(_) => {
            if let Some(group) = group {
                kill_group(group, &mut child).await;
            }
            tracing::warn!(program = %call.program.display(), "migrator program killed at its timeout");
            Ok(Ended {
                status: None,
                stdout: String::new(),
                tail: {
                    let mut lines = said.into_inner().unwrap_or_else(|e| e.into_inner()).lines();
                    lines.push(format!(
                        "(killed after {} s: its timeout; raise [migrator] timeout_seconds if it needs longer)",
                        call.timeout.as_secs()
                    ));
                    lines
                },
                took: started.elapsed(),
            })
        }
    }
}

/// What a program wrote on stderr, kept for an error: the first lines name the failure (an
/// uncaught exception), the last where it ended.
#[derive(Default)]
struct Said {
    head: Vec<String>,
    tail: VecDeque<String>,
    total: usize,
}

impl Said {
    fn push(&mut self, line: String) {
        self.total += 1;
        if self.head.len() < HEAD_LINES {
            self.head.push(line);
            return;
        }
        if self.tail.len() == TAIL_LINES - HEAD_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }

    fn lines(self) -> Vec<String> {
        let mut lines = self.head;
        let left_out = self.total - lines.len() - self.tail.len();
        if left_out > 0 {
            lines.push(format!("… ({left_out} lines; the log file has them all)"));
        }
        lines.extend(self.tail);
        lines
    }
}

/// A program's line as a terminal may show it: colour and cursor sequences (artisan's, npm's)
/// dropped, any other control character shown as `?`, so a line cannot drive the operator's
/// terminal.
fn printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ parameters… final byte in @..~; any other escape: its next char.
                if chars.next_if_eq(&'[').is_some() {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\t' => out.push(' '),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// SIGTERM to the whole group, SIGKILL after a grace: what the program started goes with it.
async fn kill_group(group: i32, child: &mut tokio::process::Child) {
    // SAFETY: killpg only sends a signal, to a group this process started.
    unsafe { libc::killpg(group, libc::SIGTERM) };
    // Waiting on the program itself reaps it: a zombie would still count as in the group.
    let _ = tokio::time::timeout(TERM_GRACE, child.wait()).await;
    // What it started may still be there: the whole group goes.
    // SAFETY: as above.
    unsafe { libc::killpg(group, libc::SIGKILL) };
    let _ = child.wait().await;
}

/// A running program's group, known to the interrupt (a stopping signal's grace over) while
/// it runs.
struct Registered(i32);

impl Registered {
    fn new(group: i32) -> Registered {
        crate::database::program_started(group);
        Registered(group)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        crate::database::program_ended(self.0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_lose_their_escapes() {
        assert_eq!(
            super::printable("\u{1b}[32mINFO\u{1b}[0m done\u{7}\tok"),
            "INFO done? ok"
        );
    }
}
