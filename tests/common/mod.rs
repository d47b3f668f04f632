//! Shared test fixture: a scratch estate project in a temporary folder, with its own config
//! and a copy of the sample contexts, driven through the real `estate` binary.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit status is `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit status {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

pub fn repo_contexts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contexts")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl Scratch {
    /// A project with the sample contexts and the embedded-default config.
    pub fn new() -> Scratch {
        let s = Scratch::empty();
        copy_dir(&repo_contexts(), &s.path("contexts"));
        s
    }

    /// A project with an empty contexts folder.
    pub fn empty() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("contexts")).unwrap();
        std::fs::write(
            dir.path().join("config/estate.toml"),
            "contexts = \"contexts\"\n[landlord]\npath = \"var/landlord.db\"\n[tenants]\npath = \"var/tenants/{slug}.db\"\n",
        )
        .unwrap();
        Scratch { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Runs `estate ARGS` from the project root, with no ESTATE_* from the outside.
    pub fn estate(&self, args: &[&str]) -> Run {
        let mut cmd = Command::cargo_bin("estate").unwrap();
        cmd.current_dir(self.root())
            .args(args)
            .env("USER", "tester");
        for (k, _) in std::env::vars() {
            if k.starts_with("ESTATE_") {
                cmd.env_remove(k);
            }
        }
        Run::from(cmd.output().unwrap())
    }

    pub fn landlord(&self) -> PathBuf {
        self.path("var/landlord.db")
    }

    pub fn tenant_db(&self, slug: &str) -> PathBuf {
        self.path(&format!("var/tenants/{slug}.db"))
    }

    /// Every file under var/ (but the logs and lock files) with its bytes, to compare states.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    if name != "log" {
                        walk(&p, out);
                    }
                } else if !name.ends_with(".lock") {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.path("var"), &mut out);
        out
    }
}

/// Runs one query on a SQLite file and returns the rows, every column as text.
pub fn query(db: &Path, sql: &str) -> Vec<Vec<String>> {
    use sqlx::{Connection, Row};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}?mode=ro", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let out = rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<Option<String>, _>(i)
                            .ok()
                            .flatten()
                            .or_else(|| {
                                r.try_get::<Option<i64>, _>(i)
                                    .ok()
                                    .flatten()
                                    .map(|v| v.to_string())
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        conn.close().await.unwrap();
        out
    })
}

/// The user tables of a SQLite file, sorted.
pub fn tables(db: &Path) -> Vec<String> {
    query(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect()
}

/// Makes `file` unreadable to estate: mode 000, or, for root (who reads mode-000 files), a
/// symlink to nowhere in its place, which fails to read the same way for every user.
pub fn make_unreadable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(file).is_ok() {
        std::fs::remove_file(file).unwrap();
        std::os::unix::fs::symlink(file.with_extension("gone"), file).unwrap();
    }
    assert!(
        std::fs::read(file).is_err(),
        "{} is still readable",
        file.display()
    );
}
