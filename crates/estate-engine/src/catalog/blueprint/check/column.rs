//! The checks of one column, created with its table or added to an existing one: its name and
//! type, whether its default fits, and what an engine refuses to add to a table that may
//! already hold rows.

use toml::Spanned;

use super::Checker;
use crate::catalog::blueprint::names::is_valid_identifier;
use crate::catalog::blueprint::parse::RawColumn;
use crate::catalog::blueprint::{
    Column, ColumnType, DefaultValue, OnDelete, Reference, TYPE_NAMES,
};

impl Checker<'_> {
    /// `added`: the column is added to an existing table rather than created with it.
    pub(super) fn column(&mut self, raw: &RawColumn, key: &str, added: bool) -> Option<Column> {
        let mut ok = self.identifier(&raw.name, &format!("{key}.name"), true);
        let ty = match ColumnType::parse(raw.ty.get_ref()) {
            Ok(ty) => Some(ty),
            Err(message) => {
                self.problem(
                    raw.ty.span(),
                    &format!("{key}.type"),
                    message,
                    format!("use one of: {TYPE_NAMES}"),
                );
                None
            }
        };
        let flag = |f: &Option<Spanned<bool>>| f.as_ref().is_some_and(|f| *f.get_ref());
        let nullable = flag(&raw.nullable);
        let unique = flag(&raw.unique);
        let mut primary_key = flag(&raw.primary_key);
        let ty = ty?;
        if ty == ColumnType::Id {
            primary_key = true;
            if added {
                self.problem(
                    raw.ty.span(),
                    &format!("{key}.type"),
                    "an id column cannot be added to an existing table",
                    "add a bigint column instead, or create the table with its id",
                );
                ok = false;
            }
            if let Some(n) = raw.nullable.as_ref().filter(|n| *n.get_ref()) {
                self.problem(
                    n.span(),
                    &format!("{key}.nullable"),
                    "an id column is never null",
                    "remove nullable",
                );
                ok = false;
            }
        }
        if primary_key && nullable && ty != ColumnType::Id {
            let span = raw.nullable.as_ref().map_or(raw.name.span(), Spanned::span);
            self.problem(
                span,
                &format!("{key}.nullable"),
                "a primary key column is never null",
                "remove nullable or primary_key",
            );
            ok = false;
        }
        if added && let Some(p) = raw.primary_key.as_ref().filter(|p| *p.get_ref()) {
            self.problem(
                p.span(),
                &format!("{key}.primary_key"),
                "a primary key cannot be added to an existing table",
                "create the table with its key",
            );
            ok = false;
        }
        let default = match &raw.default {
            None => None,
            Some(value) => match DefaultValue::parse(value.get_ref(), ty) {
                Ok(d) => Some(d),
                Err(message) => {
                    self.problem(
                        value.span(),
                        &format!("{key}.default"),
                        message,
                        "change the default or remove it",
                    );
                    ok = false;
                    None
                }
            },
        };
        let on_delete = match &raw.on_delete {
            None => None,
            Some(text) => match OnDelete::parse(text.get_ref()) {
                Some(action) => Some(action),
                None => {
                    self.problem(
                        text.span(),
                        &format!("{key}.on_delete"),
                        format!("{:?} is not an action", text.get_ref()),
                        "use one of: cascade, restrict, set null, no action",
                    );
                    ok = false;
                    None
                }
            },
        };
        let references = match &raw.references {
            None => {
                if let Some(text) = &raw.on_delete {
                    self.problem(
                        text.span(),
                        &format!("{key}.on_delete"),
                        "on_delete without references",
                        "add references = \"table.column\" or remove on_delete",
                    );
                    ok = false;
                }
                None
            }
            Some(target) => {
                let rkey = format!("{key}.references");
                match target.get_ref().split_once('.') {
                    Some((table, column))
                        if is_valid_identifier(table) && is_valid_identifier(column) =>
                    {
                        Some(Reference {
                            table: table.to_string(),
                            column: column.to_string(),
                            on_delete,
                            at: self.at(target.span()),
                            key: rkey,
                        })
                    }
                    _ => {
                        self.problem(
                            target.span(),
                            &rkey,
                            format!("{:?} is not table.column", target.get_ref()),
                            "write references = \"table.column\", e.g. \"users.id\"",
                        );
                        ok = false;
                        None
                    }
                }
            }
        };
        if on_delete == Some(OnDelete::SetNull) && !nullable {
            let span = raw.on_delete.as_ref().map_or(0..0, Spanned::span);
            self.problem(
                span,
                &format!("{key}.on_delete"),
                "set null on a column that cannot be null",
                "make the column nullable = true, or choose another action",
            );
            ok = false;
        }
        if added {
            if !nullable && default.is_none() {
                self.problem(
                    raw.name.span(),
                    key,
                    "a column added to a table that may have rows needs a default or nullable = true",
                    "set a default, or nullable = true",
                );
                ok = false;
            }
            if default == Some(DefaultValue::Now) {
                self.problem(
                    raw.default.as_ref().map_or(0..0, Spanned::span),
                    &format!("{key}.default"),
                    "SQLite cannot add a column whose default is the time of the insert to an existing table",
                    "add it nullable = true and fill it in a later migration, or create the table with it",
                );
                ok = false;
            }
            if unique && default.is_some() {
                self.problem(
                    raw.default.as_ref().map_or(0..0, Spanned::span),
                    &format!("{key}.default"),
                    "a unique column added with a default gives every existing row the same value",
                    "add it nullable = true with no default, or drop unique",
                );
                ok = false;
            }
            if references.is_some() && (!nullable || default.is_some()) {
                self.problem(
                    raw.references.as_ref().map_or(0..0, Spanned::span),
                    &format!("{key}.references"),
                    "a foreign key column added to an existing table must be nullable with no default (SQLite refuses any other)",
                    "set nullable = true and remove the default",
                );
                ok = false;
            }
        }
        ok.then(|| Column {
            name: raw.name.get_ref().clone(),
            ty,
            nullable,
            default,
            unique,
            primary_key,
            references,
        })
    }
}
