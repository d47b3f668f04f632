//! A list's rows through its filter, and a cursor over them. The rows are indexes into the
//! snapshot's data, so a filter never copies a tenant; a cursor is a position among the rows
//! shown, and stays on its row when a filter or a reload changes what is shown.

use std::cell::Cell;

use super::command::Command;

/// The rows a filter lets through, as indexes into the data, in order.
#[derive(Debug, Default)]
pub struct Filtered {
    /// What was typed after `/`; empty shows every row.
    pub filter: String,
    visible: Vec<usize>,
}

impl Filtered {
    /// The data indexes shown, in order.
    pub fn visible(&self) -> &[usize] {
        &self.visible
    }

    pub fn len(&self) -> usize {
        self.visible.len()
    }

    pub fn is_empty(&self) -> bool {
        self.visible.is_empty()
    }

    /// The data index shown at position `row`.
    pub fn at(&self, row: usize) -> Option<usize> {
        self.visible.get(row).copied()
    }

    /// The position data row `index` is shown at.
    pub fn position(&self, index: usize) -> Option<usize> {
        self.visible.iter().position(|v| *v == index)
    }

    /// Reads the rows again through the filter (`filter` when one is given, else the one
    /// set): `n` of them, `text(i)` what the filter matches in row `i`. Each cursor stays on
    /// its data row when that is still shown.
    pub fn refilter(
        &mut self,
        filter: Option<String>,
        n: usize,
        text: impl Fn(usize) -> String,
        cursors: &mut [&mut Cursor],
    ) {
        if let Some(filter) = filter {
            self.filter = filter;
        }
        let needle = self.filter.to_lowercase();
        let before: Vec<Option<usize>> = cursors.iter().map(|c| self.at(c.row)).collect();
        let visible: Vec<usize> = if needle.is_empty() {
            (0..n).collect()
        } else {
            (0..n)
                .filter(|i| text(*i).to_lowercase().contains(&needle))
                .collect()
        };
        for (cursor, before) in cursors.iter_mut().zip(before) {
            cursor.row = before
                .and_then(|b| visible.iter().position(|v| *v == b))
                .unwrap_or_else(|| cursor.row.min(visible.len().saturating_sub(1)));
        }
        self.visible = visible;
    }
}

/// The selected row of a list, and where its table last started.
#[derive(Debug, Default)]
pub struct Cursor {
    /// The selected position among the rows shown.
    pub row: usize,
    /// The first row drawn, as last drawn (kept so scrolling is smooth).
    pub offset: Cell<usize>,
}

impl Cursor {
    /// Moves as `command` asks (down, up, a page, an end) within `len` rows, `page` rows a
    /// page; false when `command` does not move a cursor.
    pub fn moves(&mut self, command: Command, len: usize, page: usize) -> bool {
        let last = len.saturating_sub(1);
        let page = page.max(1);
        self.row = match command {
            Command::Down => (self.row + 1).min(last),
            Command::Up => self.row.saturating_sub(1),
            Command::PageDown => (self.row + page).min(last),
            Command::PageUp => self.row.saturating_sub(page),
            Command::Top => 0,
            Command::Bottom => last,
            _ => return false,
        };
        true
    }

    /// The first row to draw so the selection shows in `height` rows of `len`, moving as
    /// little as possible since the last frame.
    pub fn window(&self, len: usize, height: usize) -> usize {
        let prev = self.offset.get();
        let offset = if self.row < prev {
            self.row
        } else if self.row >= prev + height {
            self.row + 1 - height
        } else {
            prev
        };
        let offset = offset.min(len.saturating_sub(height));
        self.offset.set(offset);
        offset
    }
}
