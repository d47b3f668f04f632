//! estate's faces: the headless CLI ([`cli`]) and the console ([`tui`]), over the engine
//! ([`engine`], the `estate-engine` crate), which knows no UI.
//!
//! The faces reach the engine through [`engine::Project`] and the data types it hands out;
//! neither face imports the other: [`App`] (`main`, or an embedding binary) picks one.

mod app;
pub mod cli;
mod logging;
pub mod signals;
pub mod theme;
pub mod tui;

pub use app::App;
pub use estate_engine as engine;
pub use estate_engine::{Error, Project, Result};
