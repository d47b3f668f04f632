//! A server's credentials as estate hands them on: to its own connections, and to the programs
//! it starts (a context's command migrator), which get libpq's `PG*` variables, so psql, artisan
//! or Django connect with no glue, and a URL without the password. The password travels in
//! `PGPASSWORD` only, never on a command line and never in a message.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sqlx::postgres::PgSslMode;

use super::Server;
use crate::error::{Error, Result};
use crate::sql::quote_ident;

/// The variables a program needs to reach one database (or schema) of a server, with the URL
/// that names it without a password.
pub(crate) struct ProgramEnv {
    /// `ESTATE_DATABASE`: `postgres://USER@HOST:PORT/DATABASE`, no password.
    pub url: String,
    /// `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGSSLMODE`, and `PGPASSWORD` and
    /// `PGOPTIONS` when there is one.
    pub vars: Vec<(&'static str, String)>,
}

impl Server {
    /// The password the config names by environment variable, `None` when it names none; an
    /// error naming the variable when it is not set.
    pub(crate) fn password_from_env(&self) -> Result<Option<String>> {
        let Some(var) = &self.password_env else {
            return Ok(None);
        };
        std::env::var(var).map(Some).map_err(|_| {
            Error::refused(
                format!(
                    "server {} takes its password from ${var}, which is not set",
                    self.name
                ),
                format!("export {var}=..., or remove password_env from the server's config"),
            )
        })
    }

    /// What a program needs to reach `database` (with `schema`, that schema first on its
    /// search_path) as estate does.
    pub(crate) fn program_env(&self, database: &str, schema: Option<&str>) -> Result<ProgramEnv> {
        let options = &*self.options;
        let user = options.get_username().to_string();
        let port = options.get_port();
        let (host, url_host) = match options.get_socket() {
            // libpq takes a socket's folder as its host; a URL says it as a parameter.
            Some(socket) => {
                let dir = socket.display().to_string();
                let query = format!("?host={}", utf8_percent_encode(&dir, NON_ALPHANUMERIC));
                (dir, (String::new(), query))
            }
            None => {
                let host = options.get_host().to_string();
                let shown = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                (host, (shown, String::new()))
            }
        };
        let url = format!(
            "postgres://{}@{}:{port}/{}{}",
            utf8_percent_encode(&user, NON_ALPHANUMERIC),
            url_host.0,
            utf8_percent_encode(database, NON_ALPHANUMERIC),
            url_host.1
        );
        let mut vars = vec![
            ("PGHOST", host),
            ("PGPORT", port.to_string()),
            ("PGUSER", user),
            ("PGDATABASE", database.to_string()),
            ("PGSSLMODE", ssl_mode(options.get_ssl_mode()).to_string()),
        ];
        if let Some(password) = self
            .password_from_env()?
            .or_else(|| self.url_password.clone())
        {
            vars.push(("PGPASSWORD", password));
        }
        if let Some(schema) = schema {
            // libpq splits PGOPTIONS at spaces, a backslash escaping the next character.
            let value = format!("search_path={}", quote_ident(schema));
            let escaped: String = value
                .chars()
                .flat_map(|c| match c {
                    ' ' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            vars.push(("PGOPTIONS", format!("-c {escaped}")));
        }
        Ok(ProgramEnv { url, vars })
    }
}

fn ssl_mode(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}
