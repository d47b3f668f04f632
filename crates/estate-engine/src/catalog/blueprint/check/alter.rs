//! The checks of the alterations of an existing table: an added column, an added index. The
//! table itself may be another migration's, so only its name is checked here; whether this
//! context may alter it is a question for [`crate::catalog::blueprint::check_references`].

use super::Checker;
use crate::catalog::blueprint::parse::{RawAddColumn, RawAddIndex};
use crate::catalog::blueprint::{AddColumn, AddIndex};

impl Checker<'_> {
    /// `[[add_column]]` number `key`: its table's name, then its column.
    pub(in crate::catalog::blueprint) fn add_column(
        &mut self,
        raw: &RawAddColumn,
        key: &str,
    ) -> Option<AddColumn> {
        let table_ok = self.identifier(&raw.table, &format!("{key}.table"), false);
        let column = self.column(raw.column.get_ref(), &format!("{key}.column"), true);
        if let (true, Some(column)) = (table_ok, column) {
            Some(AddColumn {
                table: raw.table.get_ref().clone(),
                column,
                at: self.at(raw.table.span()),
                key: format!("{key}.table"),
            })
        } else {
            None
        }
    }

    /// `[[add_index]]` number `key`: its table's name, then the index.
    pub(in crate::catalog::blueprint) fn add_index(
        &mut self,
        raw: &RawAddIndex,
        key: &str,
    ) -> Option<AddIndex> {
        if !self.identifier(&raw.table, &format!("{key}.table"), false) {
            return None;
        }
        let table = raw.table.get_ref().clone();
        let index = self.index(&table, &raw.columns, raw.name.as_ref(), raw.unique, key)?;
        Some(AddIndex {
            table,
            index,
            at: self.at(raw.table.span()),
            key: format!("{key}.table"),
        })
    }
}
