//! Where something is wrong and what to do about it: a [`Problem`] in a file (a context, the
//! config), and the `file:line:column` locations problems and refusals name, so an editor can
//! jump to them. The ground floor: every layer above reports through these.

use std::path::Path;

/// A problem found in a file on disk: where it is, what is wrong, and how to fix it.
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

/// `file:line:column` for a byte span of `text`, so an editor can jump to the problem.
pub fn located(file: &Path, text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("{}:{line}:{column}", file.display())
        }
        None => file.display().to_string(),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
