//! Which tables a migration set owns: the responsibility matrix the Modules view and
//! `estate modules --json` show. Read from the generic up files, in order: a table created by
//! one migration and dropped by a later one is not owned any more.

use super::MigrationSet;

/// The tables a set's up migrations leave behind, in the order they were created.
pub fn owned_tables(set: &MigrationSet) -> Vec<String> {
    let mut tables: Vec<String> = Vec::new();
    for m in &set.migrations {
        let Some(file) = m.ups.get(&None).or_else(|| m.ups.values().next()) else {
            continue;
        };
        for statement in file.sql.split(';') {
            let words = words(statement);
            let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
            let at = |i: usize| lower.get(i).map(String::as_str);
            let name_after = |i: usize| {
                // Skip IF [NOT] EXISTS.
                let i = if at(i) == Some("if") {
                    i + if at(i + 1) == Some("not") { 3 } else { 2 }
                } else {
                    i
                };
                words.get(i).map(|w| unquote(w))
            };
            match (at(0), at(1)) {
                (Some("create"), Some("table")) => {
                    if let Some(name) = name_after(2)
                        && !tables.contains(&name)
                    {
                        tables.push(name);
                    }
                }
                (Some("drop"), Some("table")) => {
                    if let Some(name) = name_after(2) {
                        tables.retain(|t| *t != name);
                    }
                }
                (Some("alter"), Some("table"))
                    if at(3) == Some("rename") && at(4) == Some("to") =>
                {
                    if let (Some(from), Some(to)) = (name_after(2), words.get(5)) {
                        let to = unquote(to);
                        for t in tables.iter_mut().filter(|t| **t == from) {
                            *t = to.clone();
                        }
                    }
                }
                _ => {}
            }
        }
    }
    tables
}

/// The words of a statement with `--` comments removed; `(` ends a word, so `users(` reads
/// as `users`.
fn words(statement: &str) -> Vec<String> {
    statement
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '('))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn unquote(word: &str) -> String {
    word.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']')
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::catalog::{Migration, Scope, SqlFile};

    fn set(ups: &[&str]) -> MigrationSet {
        MigrationSet {
            context: "x".into(),
            scope: Scope::Tenant,
            dir: "x".into(),
            migrations: ups
                .iter()
                .enumerate()
                .map(|(i, sql)| Migration {
                    version: i as i64 + 1,
                    description: "m".into(),
                    ups: BTreeMap::from([(
                        None,
                        SqlFile::new(format!("{i}.up.sql").into(), sql.to_string()),
                    )]),
                    downs: BTreeMap::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn created_renamed_and_dropped_tables() {
        let s = set(&[
            "-- CREATE TABLE not_this (x INT);\nCREATE TABLE users(id INT);\nCREATE TABLE IF NOT EXISTS \"teams\" (id INT);\nCREATE INDEX i ON users (id);",
            "create table scratch (x int); ALTER TABLE teams RENAME TO groups;",
            "DROP TABLE IF EXISTS scratch;",
        ]);
        assert_eq!(owned_tables(&s), ["users", "groups"]);
    }
}
