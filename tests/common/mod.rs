//! Shared test fixture: a scratch estate project in a temporary folder, with its own config
//! and a copy of the sample contexts, driven through the real `estate` binary.
//!
//! A scenario runs on three setups ([`Setup`]): the embedded default (SQLite files), PostgreSQL
//! with a database per tenant, and PostgreSQL with a schema per tenant. The PostgreSQL setups
//! use the two local clusters of `.ci/pg` (`ESTATE_TEST_PG1_URL`, `ESTATE_TEST_PG2_URL`,
//! `ESTATE_TEST_PG_PASSWORD`), with the landlord on `pg1` and the tenants spread over both
//! servers. Every PostgreSQL database a scratch project makes is named with a prefix of its
//! own, so tests running side by side never share one, and is dropped with the project.
//!
//! Tests look at databases through a [`DbRef`] (a SQLite file, or a PostgreSQL database and
//! maybe schema), so one assertion reads the same on every engine.
//!
//! One file per concern: `setups` (the setups and the one-test-per-setup macros), `postgres`
//! (the servers, CI's must-have, idle connections, dropping databases), `scratch` (the
//! project), `process` (running the binary), `db` (rows, tables, ledgers), `dump` (a
//! database's whole content), `output` (JSON and text printed), `fixtures` (common starting
//! points), `console` (the console driven in-process, its screen read back), `tmux` (the console
//! in a real terminal). Test files say `mod common; use common::*;` and get every helper.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

mod console;
mod db;
mod dump;
mod fixtures;
mod output;
mod postgres;
mod process;
mod scratch;
mod setups;
mod tmux;

// A test binary uses only some of the helpers: the rest would warn as unused re-exports.
#[allow(unused_imports)]
pub use {
    console::*, db::*, dump::*, fixtures::*, output::*, postgres::*, process::*, scratch::*,
    setups::*, tmux::*,
};
