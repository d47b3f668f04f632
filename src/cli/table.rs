//! Aligned tables for people: a header, rows, and styles that vanish when the output is not a
//! terminal (or `NO_COLOR` is set), because the writer strips them.

use anstyle::Style;

use crate::theme::theme;

/// The theme's styles, by role.
pub fn header() -> Style {
    theme().header
}
/// `text` in `style`.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

pub struct Cell {
    text: String,
    style: Style,
}

impl<T: Into<String>> From<T> for Cell {
    fn from(text: T) -> Cell {
        Cell {
            text: text.into(),
            style: Style::new(),
        }
    }
}

pub fn styled(style: Style, text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        style,
    }
}

pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new<const N: usize>(headers: [&str; N]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn with_headers(headers: Vec<String>) -> Table {
        Table {
            headers,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, columns separated by two spaces, trailing blanks trimmed.
    pub fn render(&self) -> String {
        let width = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i >= widths.len() {
                    widths.push(0);
                }
                widths[i] = widths[i].max(width(&cell.text));
            }
        }
        let mut out = String::new();
        let line = |cells: Vec<(String, Style)>, out: &mut String| {
            let last = cells.len().saturating_sub(1);
            for (i, (text, style)) in cells.into_iter().enumerate() {
                let pad = if i == last {
                    0
                } else {
                    widths[i] - width(&text) + 2
                };
                out.push_str(&paint(style, &text));
                out.push_str(&" ".repeat(pad));
            }
            out.push('\n');
        };
        line(
            self.headers.iter().map(|h| (h.clone(), header())).collect(),
            &mut out,
        );
        for row in &self.rows {
            line(
                row.iter().map(|c| (c.text.clone(), c.style)).collect(),
                &mut out,
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align() {
        let mut t = Table::new(["A", "LONGER"]);
        t.row(vec!["wide value".into(), "x".into()]);
        let plain = anstream::adapter::strip_str(&t.render()).to_string();
        assert_eq!(plain, "A           LONGER\nwide value  x\n");
    }
}
