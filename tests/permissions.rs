//! What estate creates holds customers' data and who did what: the SQLite landlord and tenant
//! files, their journals and lock files, the job locks and the log files are readable and
//! writable by their owner alone, and the folders it makes are closed to others.

mod common;
use common::*;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn files_and_folders_estate_creates_are_its_owners_alone() {
    let s = Scratch::new();
    s.add_tenants(&["acme"]);
    s.estate(&["install", "calendar", "--tenant", "acme"])
        .expect(0);
    let mut seen = 0;
    for dir in ["var", "var/tenants", "var/log"] {
        let dir = s.path(dir);
        assert_eq!(mode(&dir) & 0o077, 0, "{} is open to others", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                assert_eq!(
                    mode(&path) & 0o077,
                    0,
                    "{} is readable by others: {:o}",
                    path.display(),
                    mode(&path)
                );
                seen += 1;
            }
        }
    }
    // The landlord, the tenant, their lock files and a log file at least.
    assert!(seen >= 5, "only {seen} files looked at");
}
