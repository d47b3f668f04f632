//! A command migrator's program found on disk: a path (relative to the context's folder) or a
//! name looked up on `PATH`, as estate will start it. `estate check` and every plan refuse a
//! context whose program is missing or not executable, before any tenant is touched.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::Problem;
use super::manifest::MigratorCommand;

/// The file `program` names, for a context in `dir`: with a `/`, a path from `dir`; else the
/// first executable of that name on `PATH`. `None` when there is none.
pub fn resolve(dir: &Path, program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(dir.join(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|p| p.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Pushes a problem, at the manifest's `command`, when its program cannot be started.
pub(super) fn check(dir: &Path, command: &MigratorCommand, problems: &mut Vec<Problem>) {
    let Some(program) = command.argv.first() else {
        return;
    };
    let problem = match resolve(dir, program) {
        None => Some((
            format!("the migrator's program {program:?} is not on PATH"),
            format!(
                "install {program}, or name it by its path from the context's folder (./{program})"
            ),
        )),
        Some(path) if !path.is_file() => Some((
            format!("the migrator's program {} is not a file", path.display()),
            "add the program to the context's folder, or correct [migrator] command".to_string(),
        )),
        Some(path) if !is_executable(&path) => Some((
            format!(
                "the migrator's program {} is not executable",
                path.display()
            ),
            format!("chmod +x {}", path.display()),
        )),
        Some(_) => None,
    };
    if let Some((message, fix)) = problem {
        problems.push(Problem::at(command.at.clone(), message, fix));
    }
}
