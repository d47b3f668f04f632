//! estate's own files and folders (SQLite databases, lock files, logs): made for their owner
//! alone (folders 0700, files 0600) whatever the process's umask, so a library user gets the
//! same as the binary; and never reached through a symbolic link, so a link planted in a
//! tenant folder cannot point a tenant's database or lock at a file elsewhere.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Reads a file a project hands estate (a migration, a manifest): a regular file only. It is
/// never reached through a symbolic link (a link to `/etc/shadow` is not a migration), and
/// opening it never blocks: a FIFO or a device in its place is refused by name, not waited
/// on. The refusal's kind is `InvalidInput`.
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a symbolic link, and estate reads only regular files",
            ),
            _ => e,
        })?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_dir() {
            "a folder"
        } else {
            "something other than a file"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file"),
        ));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Creates `dir` and its missing parents, owner-only.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Opens (creating when missing) a file for reading and writing, owner-only, refusing a
/// symbolic link in its place.
pub fn open_rw(path: &Path, create: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Creates `path` empty and owner-only unless something is already there, so the engine that
/// opens it next (SQLite) keeps those permissions.
pub fn create_file(path: &Path) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Refuses a database path that is a symbolic link: estate opens only the file the config and
/// the registry name.
pub fn refuse_symlink(what: &str, path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::refused(
            format!(
                "the {what} database {} is a symbolic link; estate opens no database through one",
                path.display()
            ),
            "put the database file itself there (or point the config's path at where it is)",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn owner_only_whatever_the_umask_and_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_dir(&nested).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&nested), 0o700);
        let file = nested.join("x.db");
        create_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        let target = dir.path().join("target");
        std::fs::write(&target, "precious").unwrap();
        let link = nested.join("y.db.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(open_rw(&link, true).is_err());
        assert!(refuse_symlink("tenant", &link).is_err());
        assert!(refuse_symlink("tenant", &file).is_ok());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }
}
