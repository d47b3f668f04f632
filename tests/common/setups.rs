//! The setups a scenario runs on: the embedded default (SQLite files), PostgreSQL with a
//! database per tenant, and PostgreSQL with a schema per tenant; and the macros that make one
//! test per setup, skipping the PostgreSQL ones where the servers are absent (outside CI).

use super::postgres::pg;

/// Where a scratch project keeps its databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// The embedded default: the landlord and each tenant a SQLite file under var/.
    Sqlite,
    /// PostgreSQL, a database per tenant, tenants spread over pg1 and pg2.
    PgDatabase,
    /// PostgreSQL, a schema per tenant in one shared database per server, spread over both.
    PgSchema,
}

impl Setup {
    pub const ALL: [Setup; 3] = [Setup::Sqlite, Setup::PgDatabase, Setup::PgSchema];

    pub fn name(self) -> &'static str {
        match self {
            Setup::Sqlite => "sqlite",
            Setup::PgDatabase => "pg_database",
            Setup::PgSchema => "pg_schema",
        }
    }

    pub fn is_postgres(self) -> bool {
        self != Setup::Sqlite
    }
}

/// The setups this run can test: always SQLite; the PostgreSQL ones when the servers answer.
pub fn setups() -> Vec<Setup> {
    Setup::ALL
        .into_iter()
        .filter(|s| !s.is_postgres() || pg().is_some())
        .collect()
}

/// Runs `scenario` on `setup`, or (outside CI, without PostgreSQL) skips a PostgreSQL setup.
pub fn run_on(setup: Setup, scenario: fn(Setup)) {
    if setup.is_postgres() && pg().is_none() {
        return;
    }
    scenario(setup);
}

/// `on_postgres_setups!(name)` after `fn name(setup: Setup)` makes one test per PostgreSQL
/// setup: `name::pg_database` and `name::pg_schema`.
#[macro_export]
macro_rules! on_postgres_setups {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn pg_database() {
                    $crate::common::run_on($crate::common::Setup::PgDatabase, super::$name);
                }
                #[test]
                fn pg_schema() {
                    $crate::common::run_on($crate::common::Setup::PgSchema, super::$name);
                }
            }
        )+
    };
}

/// `on_every_setup!(name)` after `fn name(setup: Setup)` makes one test per setup:
/// `name::sqlite`, `name::pg_database` and `name::pg_schema`.
#[macro_export]
macro_rules! on_every_setup {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    $crate::common::run_on($crate::common::Setup::Sqlite, super::$name);
                }
                #[test]
                fn pg_database() {
                    $crate::common::run_on($crate::common::Setup::PgDatabase, super::$name);
                }
                #[test]
                fn pg_schema() {
                    $crate::common::run_on($crate::common::Setup::PgSchema, super::$name);
                }
            }
        )+
    };
}
