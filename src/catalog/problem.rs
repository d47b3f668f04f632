//! A problem found in a context on disk: where it is, what is wrong, and how to fix it.

use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// `path` or `path:line:column`.
    pub location: String,
    pub message: String,
    pub fix: String,
}

impl Problem {
    pub fn new(path: &Path, message: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem::at(path.display().to_string(), message, fix)
    }

    pub fn at(location: String, message: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem {
            location,
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} (fix: {})", self.location, self.message, self.fix)
    }
}
