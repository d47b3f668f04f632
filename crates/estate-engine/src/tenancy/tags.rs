//! Tenant tags (`plan=enterprise`, `region=eu`) and the conditions that select tenants by them
//! (`--where plan=enterprise`, `--where region!=eu`).
//!
//! A key is a short identifier so it reads the same in a flag, a CSV column and the console's
//! filter; a value is free text without the characters those forms use as separators (`;`
//! between tags in an import column, `=` between key and value) or that would reach a terminal
//! as an escape sequence.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

pub const TAG_KEY_RULE: &str =
    "lowercase letters, digits, _, . and -, starting with a letter, at most 63 characters";

/// The longest tag value, in characters.
pub const MAX_TAG_VALUE: usize = 200;

/// A tenant's tags, by key.
pub type Tags = BTreeMap<String, String>;

/// Checks a tag key: `[a-z][a-z0-9_.-]{0,62}`.
pub fn check_tag_key(key: &str) -> Result<()> {
    let valid = key.len() <= 63
        && key.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
        });
    if valid {
        return Ok(());
    }
    let problem = if key.is_empty() {
        "a tag has an empty key".to_string()
    } else {
        format!("tag key {key:?} is not valid")
    };
    Err(Error::refused(
        problem,
        format!("use {TAG_KEY_RULE}, e.g. plan=enterprise"),
    ))
}

/// Checks a tag value: 1 to `MAX_TAG_VALUE` characters, none of them `;`, `=` or a control
/// character, no blank at either end.
pub fn check_tag_value(key: &str, value: &str) -> Result<()> {
    let fix = format!(
        "give {key} a value of 1 to {MAX_TAG_VALUE} characters without ;, = or control characters, e.g. {key}=enterprise"
    );
    let problem = if value.is_empty() {
        format!("tag {key} has an empty value")
    } else if value.trim() != value {
        format!("the value of tag {key} starts or ends with a blank")
    } else if let Some(c) = value
        .chars()
        .find(|c| c.is_control() || *c == ';' || *c == '=')
    {
        format!("the value of tag {key} contains {c:?}")
    } else if value.chars().count() > MAX_TAG_VALUE {
        format!("the value of tag {key} is longer than {MAX_TAG_VALUE} characters")
    } else {
        return Ok(());
    };
    Err(Error::refused(problem, fix))
}

/// Parses `KEY=VALUE`, both checked.
pub fn parse_tag(input: &str) -> Result<(String, String)> {
    let Some((key, value)) = input.split_once('=') else {
        return Err(Error::refused(
            format!("tag {input:?} has no value"),
            format!("write a tag as KEY=VALUE, e.g. {}=enterprise", input.trim()),
        ));
    };
    check_tag_key(key)?;
    check_tag_value(key, value)?;
    Ok((key.to_string(), value.to_string()))
}

/// Parses an import column's tags: `plan=enterprise;region=eu` (blank: none). A key given
/// twice is refused rather than one of them silently kept.
pub fn parse_tag_list(input: &str) -> Result<Tags> {
    parse_tags(input.split(';').map(str::trim).filter(|p| !p.is_empty()))
}

/// Parses `KEY=VALUE`s (a `--tag` each), a key given twice refused.
pub fn parse_tags<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Tags> {
    let mut tags = Tags::new();
    for part in items {
        let (key, value) = parse_tag(part)?;
        if tags.insert(key.clone(), value).is_some() {
            return Err(Error::refused(
                format!("tag {key} is given twice"),
                format!("keep one {key}=VALUE"),
            ));
        }
    }
    Ok(tags)
}

/// The tags written back as an import column reads them.
pub fn format_tag_list(tags: &Tags) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// One condition on a tenant's tags: `KEY=VALUE` (the tag is there with that value) or
/// `KEY!=VALUE` (it is not: another value, or no such tag, as a label selector reads it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagCondition {
    pub key: String,
    pub value: String,
    pub equal: bool,
}

impl TagCondition {
    pub fn parse(input: &str) -> Result<TagCondition> {
        let (key, value, equal) = match input.split_once("!=") {
            Some((k, v)) => (k, v, false),
            None => match input.split_once('=') {
                Some((k, v)) => (k, v, true),
                None => {
                    return Err(Error::refused(
                        format!("--where {input:?} names no value"),
                        "write KEY=VALUE or KEY!=VALUE, e.g. --where plan=enterprise",
                    ));
                }
            },
        };
        check_tag_key(key)?;
        check_tag_value(key, value)?;
        Ok(TagCondition {
            key: key.to_string(),
            value: value.to_string(),
            equal,
        })
    }

    pub fn matches(&self, tags: &Tags) -> bool {
        (tags.get(&self.key) == Some(&self.value)) == self.equal
    }
}

impl std::fmt::Display for TagCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = if self.equal { "=" } else { "!=" };
        write!(f, "{}{op}{}", self.key, self.value)
    }
}

/// True when `tags` meet every condition.
pub fn matches_all(conditions: &[TagCondition], tags: &Tags) -> bool {
    conditions.iter().all(|c| c.matches(tags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_conditions_parse_and_match() {
        assert_eq!(
            parse_tag("plan=enterprise").unwrap(),
            ("plan".into(), "enterprise".into())
        );
        for bad in [
            "", "plan", "plan=", "=x", "Plan=x", "plan=a;b", "plan= x", "1x=y",
        ] {
            assert!(parse_tag(bad).is_err(), "{bad:?} accepted");
        }
        let tags = parse_tag_list("plan=enterprise; region=eu").unwrap();
        assert_eq!(format_tag_list(&tags), "plan=enterprise;region=eu");
        assert!(parse_tag_list("plan=a;plan=b").is_err());
        assert!(parse_tag_list("").unwrap().is_empty());
        let is = TagCondition::parse("plan=enterprise").unwrap();
        let not = TagCondition::parse("region!=eu").unwrap();
        assert!(is.matches(&tags) && !not.matches(&tags));
        assert!(not.matches(&Tags::new()) && !is.matches(&Tags::new()));
        assert_eq!(not.to_string(), "region!=eu");
        assert!(TagCondition::parse("plan").is_err());
        assert!(TagCondition::parse("plan!=").is_err());
    }
}
