//! The `[[servers]]` of a config: the PostgreSQL servers tenants are placed on, by name. Each
//! is checked here (a valid, unique name; a URL that parses; a concurrency of at least one),
//! and never named in a message by its URL, which may hold a password.

use std::path::Path;
use std::time::Duration;

use super::parse::RawServer;
use super::{Config, Layout, refused_in};
use crate::database::Server;
use crate::error::Result;

/// The servers of the file at `file`, in config order, for tenants laid out as `layout`.
pub(super) fn read(file: &Path, raw: &[RawServer], layout: Layout) -> Result<Vec<Server>> {
    let application_name = crate::database::holder_id();
    let mut servers: Vec<Server> = Vec::new();
    for s in raw {
        if !is_valid_server_name(&s.name) {
            return Err(refused_in(
                file,
                format!("server name {:?} is not valid", s.name),
                "use lowercase letters, digits, _ and -, e.g. pg1",
            ));
        }
        if servers.iter().any(|o| o.name == s.name) {
            return Err(refused_in(
                file,
                format!("server {} is named twice", s.name),
                "give each [[servers]] its own name",
            ));
        }
        let server = Server::parse(
            &s.name,
            &s.url,
            s.password_env.as_deref(),
            &application_name,
        )
        .map_err(|problem| {
            refused_in(
                file,
                problem,
                "write the URL as postgres://USER@HOST:PORT/DATABASE",
            )
        })?;
        let server = match s.concurrency {
            Some(0) => {
                return Err(refused_in(
                    file,
                    format!("server {}: concurrency must be at least 1", s.name),
                    "set it to how many of the server's tenants to migrate at once, e.g. 8",
                ));
            }
            Some(n) => server.with_concurrency(n),
            None if layout == Layout::Schema => {
                server.with_concurrency(crate::database::DEFAULT_SCHEMA_SERVER_CONCURRENCY)
            }
            None => server,
        };
        let whole = |key: &str| {
            refused_in(
                file,
                format!("server {}: {key} must be at least 1", s.name),
                format!("set {key} to a number of seconds, or leave it out"),
            )
        };
        let connect = match s.connect_timeout_seconds {
            Some(0) => return Err(whole("connect_timeout_seconds")),
            Some(n) => Duration::from_secs(n),
            None => crate::database::DEFAULT_CONNECT_TIMEOUT,
        };
        let statement = match s.statement_timeout_seconds {
            Some(0) => return Err(whole("statement_timeout_seconds")),
            n => n.map(Duration::from_secs),
        };
        servers.push(server.with_timeouts(connect, statement));
    }
    Ok(servers)
}

/// The server a section names, or the refusal that names the missing one.
pub(super) fn named(file: &Path, servers: &[Server], name: &str) -> Result<Server> {
    servers
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .ok_or_else(|| {
            refused_in(
                file,
                format!("no server is named {name:?}"),
                "name one of the [[servers]], or add it",
            )
        })
}

impl Config {
    /// The server named `name`.
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }
}

fn is_valid_server_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::config::Config;

    #[test]
    fn server_urls_never_appear_in_errors() {
        let text = "[landlord]\nserver = \"pg1\"\n[tenancy]\nlayout = \"database\"\n[[servers]]\nname = \"pg1\"\nurl = \"postgres://u:hunter2@h:notaport/db\"\n";
        let err = Config::parse(Path::new("/p/config/estate.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("server pg1"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_server_url_that_is_not_postgresql_is_refused() {
        for url in [
            "mysql://u:hunter2@h:3306/db",
            "sqlite://var/x.db",
            "u:hunter2@h/db",
        ] {
            let text = format!(
                "[landlord]\nserver = \"pg1\"\n[tenancy]\nlayout = \"database\"\n[[servers]]\nname = \"pg1\"\nurl = \"{url}\"\n"
            );
            let err = Config::parse(Path::new("/p/config/estate.toml"), &text)
                .unwrap_err()
                .to_string();
            assert!(err.contains("server pg1 is not a PostgreSQL URL"), "{err}");
            assert!(err.contains("postgres://USER@HOST:PORT/DATABASE"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        for url in ["postgres://u@h:5432/db", "postgresql://u@h/db"] {
            let text = format!(
                "[landlord]\nserver = \"pg1\"\n[tenancy]\nlayout = \"database\"\n[[servers]]\nname = \"pg1\"\nurl = \"{url}\"\n"
            );
            assert!(
                Config::parse(Path::new("/p/config/estate.toml"), &text).is_ok(),
                "{url}"
            );
        }
    }

    #[test]
    fn timeouts_are_read_per_server_and_zero_is_refused() {
        let with = |extra: &str| {
            format!(
                "[landlord]\nserver = \"pg1\"\n[tenancy]\nlayout = \"database\"\n[[servers]]\nname = \"pg1\"\nurl = \"postgres://u@h/db\"\n{extra}"
            )
        };
        let file = Path::new("/p/config/estate.toml");
        let config = Config::parse(file, &with("")).unwrap();
        let pg1 = config.server("pg1").unwrap();
        assert_eq!(pg1.connect_timeout, Duration::from_secs(5));
        assert_eq!(pg1.statement_timeout, None);
        let config = Config::parse(
            file,
            &with("connect_timeout_seconds = 2\nstatement_timeout_seconds = 600\n"),
        )
        .unwrap();
        let pg1 = config.server("pg1").unwrap();
        assert_eq!(pg1.connect_timeout, Duration::from_secs(2));
        assert_eq!(pg1.statement_timeout, Some(Duration::from_secs(600)));
        let err = Config::parse(file, &with("connect_timeout_seconds = 0\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("connect_timeout_seconds must be at least 1"),
            "{err}"
        );
    }
}
