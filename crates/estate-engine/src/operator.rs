//! The operator: who runs estate, recorded in the ledger and in the history.
//!
//! The OS user, plus the SSH client's address when the session came in over SSH, so that at
//! 3 a.m. the history says who ran what from where.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub user: String,
    /// The client address from `SSH_CONNECTION`, when there is one.
    pub ssh_client: Option<String>,
}

impl Operator {
    /// The operator of this process, from the environment.
    pub fn current() -> Operator {
        let user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            // Cron, systemd and `docker exec` often set no USER: ask the system for the uid's name.
            .or_else(|| whoami::username().ok())
            .unwrap_or_else(|| "unknown".to_string());
        let ssh_client = std::env::var("SSH_CONNECTION")
            .ok()
            .and_then(|c| c.split_whitespace().next().map(str::to_string));
        Operator { user, ssh_client }
    }
}

impl std::fmt::Display for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.ssh_client {
            Some(client) => write!(f, "{} (ssh {client})", self.user),
            None => f.write_str(&self.user),
        }
    }
}
