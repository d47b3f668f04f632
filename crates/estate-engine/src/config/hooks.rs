//! `[[hooks]]`: commands run after a job's events are recorded (`on = "module_installed"`,
//! `command = ["bin/notify", "--channel", "ops"]`), each given the event as one JSON object on
//! its standard input. A hook whose program cannot be found is refused with the config, not
//! discovered failing on every event of a rollout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::refused_in;
use crate::error::Result;

/// How long a hook may run unless its `timeout_seconds` says.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);

/// The events a hook can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookOn {
    ModuleInstalled,
    ModuleUpgraded,
    ModuleRolledBack,
    TenantFailed,
    JobFinished,
}

impl HookOn {
    pub fn as_str(self) -> &'static str {
        match self {
            HookOn::ModuleInstalled => "module_installed",
            HookOn::ModuleUpgraded => "module_upgraded",
            HookOn::ModuleRolledBack => "module_rolled_back",
            HookOn::TenantFailed => "tenant_failed",
            HookOn::JobFinished => "job_finished",
        }
    }
}

/// One hook, its program resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub on: HookOn,
    /// The program (a path, resolved against the project root, or found on PATH) and its
    /// arguments.
    pub command: Vec<String>,
    pub program: PathBuf,
    pub timeout: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHook {
    on: HookOn,
    command: Vec<String>,
    timeout_seconds: Option<u64>,
}

/// The hooks as written, each program found.
pub(super) fn read(file: &Path, root: &Path, raw: &[RawHook]) -> Result<Vec<Hook>> {
    raw.iter()
        .map(|h| {
            let on = h.on.as_str();
            let Some(first) = h.command.first().filter(|c| !c.trim().is_empty()) else {
                return Err(refused_in(
                    file,
                    format!("the hook on {on} has an empty command"),
                    "give the program and its arguments, e.g. command = [\"bin/notify\", \"--channel\", \"ops\"]",
                ));
            };
            let program = find(root, first).ok_or_else(|| {
                refused_in(
                    file,
                    format!("the hook on {on} runs {first:?}, which is not an executable file here or on PATH"),
                    "correct the command's first word: a path from the project root, or a program on PATH",
                )
            })?;
            if h.timeout_seconds == Some(0) {
                return Err(refused_in(
                    file,
                    format!("the hook on {on} has timeout_seconds = 0"),
                    "give it at least 1 second, or leave timeout_seconds out for 30",
                ));
            }
            Ok(Hook {
                on: h.on,
                command: h.command.clone(),
                program,
                timeout: h
                    .timeout_seconds
                    .map_or(DEFAULT_HOOK_TIMEOUT, Duration::from_secs),
            })
        })
        .collect()
}

/// `program` as a path (with a `/`: from the project root) or a name on PATH, if it is an
/// executable file.
fn find(root: &Path, program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = root.join(program);
        return executable(&path).then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}
