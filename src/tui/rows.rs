//! A list's rows through its filter, and a cursor over them. The rows are indexes into the
//! snapshot's data, so a filter never copies a tenant; a cursor is a position among the rows
//! shown, and stays on its row when a filter or a reload changes what is shown.

use std::cell::Cell;

use super::command::Command;
use super::data::Snapshot;
use super::query::Query;
use estate_engine::ModuleState;

/// The rows a filter lets through, as indexes into the data, in order.
#[derive(Debug, Default)]
pub struct Filtered {
    /// What was typed after `/`; empty shows every row.
    pub filter: String,
    query: Query,
    visible: Vec<usize>,
}

impl Filtered {
    /// The filter, parsed.
    pub fn query(&self) -> &Query {
        &self.query
    }

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
    /// set): `rows` in the order they are shown, `keep(i, query)` whether row `i` passes. A
    /// new filter puts each cursor on its first match; otherwise each cursor (and the start
    /// of its range) stays on its data row when that is still shown.
    pub fn refilter(
        &mut self,
        filter: Option<Query>,
        rows: impl IntoIterator<Item = usize>,
        keep: impl Fn(usize, &Query) -> bool,
        cursors: &mut [&mut Cursor],
    ) {
        let changed = filter.as_ref().is_some_and(|q| *q != self.query);
        if let Some(query) = filter {
            self.filter = query.text().to_string();
            self.query = query;
        }
        let before: Vec<(Option<usize>, Option<usize>)> = cursors
            .iter()
            .map(|c| (self.at(c.row), c.anchor.and_then(|a| self.at(a))))
            .collect();
        let visible: Vec<usize> = rows
            .into_iter()
            .filter(|i| self.query.is_empty() || keep(*i, &self.query))
            .collect();
        let now = |i: usize| visible.iter().position(|v| *v == i);
        for (cursor, (row, anchor)) in cursors.iter_mut().zip(before) {
            if changed {
                cursor.anchor = None;
            } else {
                cursor.anchor = anchor.and_then(now);
            }
            cursor.row = if changed && !self.query.is_empty() {
                0
            } else {
                row.and_then(now)
                    .unwrap_or_else(|| cursor.row.min(visible.len().saturating_sub(1)))
            };
        }
        self.visible = visible;
    }
}

/// The selected row of a list, and where its table last started.
#[derive(Debug, Default)]
pub struct Cursor {
    /// The selected position among the rows shown.
    pub row: usize,
    /// Where a range being marked (shift-v) started, a position like `row`.
    pub anchor: Option<usize>,
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

/// The next position after `start` (before it, going back) among `n` for which `hit` holds,
/// going round the end; with whether it went round. `None` when no position hits.
pub fn next_hit(
    start: usize,
    n: usize,
    forward: bool,
    hit: impl Fn(usize) -> bool,
) -> Option<(usize, bool)> {
    (1..=n).find_map(|step| {
        let (at, wrapped) = if forward {
            let at = start + step;
            (at % n, at >= n)
        } else {
            ((start + n - step % n) % n, step > start)
        };
        hit(at).then_some((at, wrapped))
    })
}

/// The order tenants are listed in: by slug, or trouble first (failed, then outdated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    Slug,
    /// By their state in this module: failed, outdated, installed, not installed.
    Module(String),
    /// By how many of their modules failed, then how many are outdated.
    Trouble,
}

impl Order {
    /// The tenants' data indexes in this order (the snapshot's is by slug).
    pub fn rows(&self, data: &Snapshot) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..data.tenants().len()).collect();
        let rank = |s: ModuleState| match s {
            ModuleState::Failed | ModuleState::Unreachable => 0,
            ModuleState::Outdated => 1,
            ModuleState::Installed => 2,
            ModuleState::NotInstalled => 3,
        };
        match self {
            Order::Slug => {}
            Order::Module(m) => {
                if let Some(m) = data.module_index(m) {
                    rows.sort_by_key(|t| rank(data.matrix.cell(*t, m).state));
                }
            }
            Order::Trouble => rows.sort_by_key(|t| {
                let [_, outdated, failed] = data.counts[*t];
                (std::cmp::Reverse(failed), std::cmp::Reverse(outdated))
            }),
        }
        rows
    }

    /// How a title says it, empty by slug.
    pub fn describe(&self) -> String {
        match self {
            Order::Slug => String::new(),
            Order::Module(m) => format!(" · by {m} state"),
            Order::Trouble => " · by trouble".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hit_goes_round_the_end() {
        let hits = [1, 4];
        let hit = |i: usize| hits.contains(&i);
        assert_eq!(next_hit(1, 6, true, hit), Some((4, false)));
        assert_eq!(next_hit(4, 6, true, hit), Some((1, true)));
        assert_eq!(next_hit(4, 6, false, hit), Some((1, false)));
        assert_eq!(next_hit(1, 6, false, hit), Some((4, true)));
        // The only hit, from itself: once round.
        assert_eq!(next_hit(4, 6, true, |i| i == 4), Some((4, true)));
        assert_eq!(next_hit(0, 6, true, |_| false), None);
        assert_eq!(next_hit(0, 0, true, |_| true), None);
    }
}
