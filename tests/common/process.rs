//! Running the real `estate` binary on a scratch project: from its root, with no ESTATE_*
//! variable from the outside, and what it left ([`Run`]: exit status, stdout, stderr).

use std::process::Output;

use serde_json::Value;

use super::output::assert_has;
use super::postgres::PG_PASSWORD_ENV;
use super::scratch::Scratch;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
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

impl Scratch {
    /// Runs `estate ARGS` from the project root, with no ESTATE_* from the outside.
    pub fn estate(&self, args: &[&str]) -> Run {
        self.estate_with_env(args, &[])
    }

    /// Runs `estate ARGS`, expects exit status 0, and parses stdout as JSON.
    pub fn estate_json(&self, args: &[&str]) -> Value {
        self.estate(args).expect(0).json()
    }

    /// Runs `estate ARGS`, expects exit status `code` and the summary line `summary` on stdout.
    pub fn estate_summary(&self, args: &[&str], code: i32, summary: &str) -> Run {
        let run = self.estate(args).expect(code);
        assert_has(&run.stdout, summary);
        run
    }

    /// Runs `estate ARGS` as `estate` does, with the variables `env` set as well (and, on
    /// PostgreSQL, the servers' password variable).
    pub fn estate_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.estate_command(args);
        cmd.envs(env.iter().copied());
        Run::from(cmd.output().unwrap())
    }

    /// The command `estate ARGS` as [`Scratch::estate`] runs it, to start it and act on the
    /// process (signals) before it ends.
    pub fn estate_command(&self, args: &[&str]) -> std::process::Command {
        self.command_of(self.program(), args)
    }

    /// `program ARGS` run as [`Scratch::estate`] runs this project's binary: another estate
    /// binary on the same project (the plain `estate` on the embedded example's).
    pub fn command_of(&self, program: &std::path::Path, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.current_dir(self.root())
            .args(args)
            .env("USER", "tester");
        for (k, _) in std::env::vars() {
            if k.starts_with("ESTATE_") {
                cmd.env_remove(k);
            }
        }
        if let Some(pg) = &self.pg {
            cmd.env(PG_PASSWORD_ENV, &pg.env.password);
        }
        cmd
    }

    /// Runs `estate tenants add SLUG` for each slug in turn, expecting success.
    pub fn add_tenants(&self, slugs: &[&str]) {
        for t in slugs {
            self.estate(&["tenants", "add", t]).expect(0);
        }
    }
}
