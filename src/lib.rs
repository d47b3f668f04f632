//! estate's faces: the headless CLI ([`cli`]) and the console ([`tui`]), over the engine
//! ([`engine`], the `estate-engine` crate), which knows no UI.
//!
//! The faces reach the engine through [`engine::Project`] and the data types it hands out;
//! neither face imports the other: `main` (or an embedding binary) picks one.

pub mod cli;
pub mod signals;
pub mod theme;
pub mod tui;

pub use estate_engine as engine;
pub use estate_engine::{Error, Project, Result};
