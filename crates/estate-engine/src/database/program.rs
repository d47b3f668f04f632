//! A database named to a program estate starts: the `ESTATE_*` variables of the migrator
//! protocol that say where it is, and for PostgreSQL libpq's own (see `postgres/libpq.rs`).

use super::Address;
use crate::error::Result;

impl Address {
    /// `ESTATE_ENGINE`, `ESTATE_DATABASE` (a SQLite file's absolute path, or a PostgreSQL URL
    /// without its password), `ESTATE_SCHEMA` (empty outside the schema layout) and, for
    /// PostgreSQL, the `PG*` variables libpq reads, the password among them.
    pub fn program_env(&self) -> Result<Vec<(&'static str, String)>> {
        Ok(match self {
            Address::Sqlite { path } => {
                let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                vec![
                    ("ESTATE_ENGINE", "sqlite".to_string()),
                    ("ESTATE_DATABASE", path.display().to_string()),
                    ("ESTATE_SCHEMA", String::new()),
                ]
            }
            Address::Postgres {
                server,
                database,
                schema,
            } => {
                let env = server.program_env(database, schema.as_deref())?;
                let mut vars = vec![
                    ("ESTATE_ENGINE", "postgres".to_string()),
                    ("ESTATE_DATABASE", env.url),
                    ("ESTATE_SCHEMA", schema.clone().unwrap_or_default()),
                ];
                vars.extend(env.vars);
                vars
            }
        })
    }
}
