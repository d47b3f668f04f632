//! How a grid of named columns (the Matrix's modules) fits a width: each column as wide as its
//! own name, and the cells in words when that fits (`✓ installed`), in a symbol and a count
//! when only the names fit, else a compact grid of one symbol per cell, two columns wide,
//! scrolled to keep the selected column in view (the header then names only that one).

/// A cell's text in words, with the mark: `*⚠ file changed` (drift) is the longest.
const WORDS: u16 = 15;
/// A cell's text as a symbol and a count: `*↑12`.
const SHORT: u16 = 4;
/// A compact cell: the mark and a symbol.
const COMPACT: u16 = 2;
/// Between two columns (the table's spacing).
const GAP: u16 = 1;

/// How much a cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// `✓ installed`, `↑ 3 pending`.
    Words,
    /// `✓`, `↑3`, under each name.
    Short,
    /// One symbol per cell; the header names the selected column only.
    Compact,
}

/// The columns drawn: from `first`, `widths.len()` of them, each so wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub fit: Fit,
    pub first: usize,
    pub widths: Vec<u16>,
}

impl Columns {
    /// The indexes of the columns drawn.
    pub fn shown(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.widths.len()
    }

    /// Where column `index` (one drawn) starts, from the first drawn column's start.
    pub fn offset(&self, index: usize) -> u16 {
        self.widths[..index - self.first]
            .iter()
            .map(|w| w + GAP)
            .sum()
    }
}

/// The columns of `names` that fit in `width`, keeping `selected` in view.
pub fn fit(names: &[String], width: u16, selected: usize) -> Columns {
    let len = |n: &String| n.chars().count() as u16;
    for (fit, least) in [(Fit::Words, WORDS), (Fit::Short, SHORT)] {
        let widths: Vec<u16> = names.iter().map(|n| len(n).max(least)).collect();
        if widths.iter().map(|w| w + GAP).sum::<u16>() <= width {
            return Columns {
                fit,
                first: 0,
                widths,
            };
        }
    }
    let fits = ((width / (COMPACT + GAP)) as usize).max(1);
    let first = selected
        .min(names.len().saturating_sub(1))
        .saturating_sub(fits - 1);
    Columns {
        fit: Fit::Compact,
        first,
        widths: vec![COMPACT; fits.min(names.len() - first.min(names.len()))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("module_number_{i:02}")).collect()
    }

    #[test]
    fn words_then_names_then_a_compact_grid() {
        let four: Vec<String> = ["billing", "calendar", "digital_card", "user_management"]
            .map(String::from)
            .to_vec();
        assert_eq!(fit(&four, 64, 0).fit, Fit::Words);
        assert_eq!(fit(&four, 63, 0).fit, Fit::Short);
        let short = fit(&four, 50, 0);
        assert_eq!(short.fit, Fit::Short);
        assert_eq!(short.widths, [7, 8, 12, 15]);
        assert_eq!(short.offset(2), 17);
        // 21 modules at 80 columns (the tenant column and borders leave 63): all of them.
        let compact = fit(&names(21), 63, 20);
        assert_eq!(compact.fit, Fit::Compact);
        assert_eq!(compact.shown(), 0..21);
        // Narrower, the selected column stays in view.
        let scrolled = fit(&names(21), 30, 20);
        assert_eq!(scrolled.shown(), 11..21);
        assert_eq!(fit(&names(21), 30, 3).shown(), 0..10);
        assert_eq!(fit(&[], 30, 0).shown(), 0..0);
    }
}
