//! SQL as text, below every layer that writes it: the engines estate knows by name, identifier
//! quoting by their rules, and a script split into statements as each engine reads it. Nothing
//! here opens a database, so the catalog (which renders blueprints and reads the DDL of SQL
//! files) and the database layer share one reading of SQL.

mod engine;
mod ident;
pub mod statements;

pub use engine::Engine;
pub use ident::{quote_ident, quote_pg_literal};
