//! The portable column types a blueprint may use, their defaults and foreign-key actions,
//! parsed from the words people write (`string(200)`, `decimal(10,2)`, `set null`).

/// A column type every engine can render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ColumnType {
    /// The table's surrogate key: a 64-bit integer the database assigns.
    Id,
    Integer,
    Bigint,
    Text,
    /// Text of at most this many characters.
    String(u32),
    Boolean,
    Timestamp,
    Json,
    Uuid,
    /// Exact number: precision, scale.
    Decimal(u16, u16),
}

/// The names listed in messages about a type nobody knows.
pub const TYPE_NAMES: &str =
    "id, integer, bigint, text, string(n), boolean, timestamp, json, uuid, decimal(p,s)";

/// PostgreSQL's upper bound for `varchar(n)`.
const MAX_STRING_LENGTH: u32 = 10_485_760;
/// PostgreSQL's upper bound for `numeric(p, s)` precision.
const MAX_PRECISION: u16 = 1000;

impl ColumnType {
    /// Parses a type as written in a blueprint; `Err` says what is wrong with it.
    pub fn parse(text: &str) -> Result<ColumnType, String> {
        let t = text.trim();
        let (head, args) = match t.split_once('(') {
            Some((head, rest)) => {
                let Some(args) = rest.strip_suffix(')') else {
                    return Err(format!("type {text:?} has an unclosed ("));
                };
                (head.trim(), Some(args))
            }
            None => (t, None),
        };
        let numbers = |args: &str| -> Result<Vec<u64>, String> {
            args.split(',')
                .map(|a| {
                    a.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("type {text:?}: {:?} is not a whole number", a.trim()))
                })
                .collect()
        };
        let simple = |ty: ColumnType| match args {
            None => Ok(ty),
            Some(_) => Err(format!("type {head} takes no arguments")),
        };
        match head {
            "id" => simple(ColumnType::Id),
            "integer" => simple(ColumnType::Integer),
            "bigint" => simple(ColumnType::Bigint),
            "text" => simple(ColumnType::Text),
            "boolean" => simple(ColumnType::Boolean),
            "timestamp" => simple(ColumnType::Timestamp),
            "json" => simple(ColumnType::Json),
            "uuid" => simple(ColumnType::Uuid),
            "string" => {
                let Some(args) = args else {
                    return Err("type string needs its length, e.g. string(200); use text for unbounded text".into());
                };
                match numbers(args)?.as_slice() {
                    [n] if (1..=u64::from(MAX_STRING_LENGTH)).contains(n) => {
                        Ok(ColumnType::String(*n as u32))
                    }
                    [_] => Err(format!(
                        "type {text:?}: the length must be 1 to {MAX_STRING_LENGTH}"
                    )),
                    _ => Err(format!(
                        "type {text:?}: string takes one length, e.g. string(200)"
                    )),
                }
            }
            "decimal" => {
                let Some(args) = args else {
                    return Err(
                        "type decimal needs its precision and scale, e.g. decimal(10,2)".into(),
                    );
                };
                match numbers(args)?.as_slice() {
                    [p, s] if (1..=u64::from(MAX_PRECISION)).contains(p) && s <= p => {
                        Ok(ColumnType::Decimal(*p as u16, *s as u16))
                    }
                    [_, _] => Err(format!(
                        "type {text:?}: precision must be 1 to {MAX_PRECISION} and scale at most the precision"
                    )),
                    _ => Err(format!(
                        "type {text:?}: decimal takes a precision and a scale, e.g. decimal(10,2)"
                    )),
                }
            }
            _ => Err(match synonym(head, args) {
                Some(portable) => format!("unknown type {text:?}: the portable type is {portable}"),
                None => format!("unknown type {text:?}"),
            }),
        }
    }
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnType::Id => f.write_str("id"),
            ColumnType::Integer => f.write_str("integer"),
            ColumnType::Bigint => f.write_str("bigint"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::String(n) => write!(f, "string({n})"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Decimal(p, s) => write!(f, "decimal({p},{s})"),
        }
    }
}

/// The portable spelling of a type people write from habit.
fn synonym(head: &str, args: Option<&str>) -> Option<String> {
    let args = args.map(|a| format!("({})", a.trim()));
    Some(match head.to_ascii_lowercase().as_str() {
        "varchar" | "character varying" | "char" | "character" | "nvarchar" => {
            format!("string{}", args.unwrap_or_else(|| "(n)".into()))
        }
        "int" | "int4" | "smallint" | "int2" | "mediumint" | "tinyint" => "integer".into(),
        "int8" | "long" => "bigint".into(),
        "bool" => "boolean".into(),
        "datetime" | "timestamptz" | "date" | "time" => "timestamp".into(),
        "jsonb" => "json".into(),
        "numeric" | "money" | "number" => {
            format!("decimal{}", args.unwrap_or_else(|| "(p,s)".into()))
        }
        "serial" | "bigserial" | "autoincrement" => "id".into(),
        _ => return None,
    })
}

/// "a" or "an" before a word, as it is said.
pub fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o']) {
        "an"
    } else {
        "a"
    }
}

/// A column's default, checked against its type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultValue {
    /// The time of the insert (`default = "now"` on a timestamp).
    Now,
    Text(String),
    Integer(i64),
    /// A decimal literal, digits only, kept as written so nothing is lost to a float.
    Number(String),
    Boolean(bool),
}

impl DefaultValue {
    /// Reads a TOML value as the default of a column of type `ty`.
    pub fn parse(value: &toml::Value, ty: ColumnType) -> Result<DefaultValue, String> {
        use toml::Value;
        if let Value::String(s) = value
            && s.contains('\0')
        {
            return Err(
                "the default contains a NUL character, which no engine stores in text".into(),
            );
        }
        match (ty, value) {
            (ColumnType::Id, _) => Err("an id column takes no default: the database assigns it".into()),
            (ColumnType::Uuid, _) => Err(
                "a uuid column takes no default: engines generate uuids differently; let the application set it".into(),
            ),
            (ColumnType::Timestamp, Value::String(s)) if s == "now" => Ok(DefaultValue::Now),
            (ColumnType::Timestamp, _) => {
                Err("a timestamp's default can only be \"now\" (the time of the insert)".into())
            }
            (ColumnType::Integer, Value::Integer(n)) => i32::try_from(*n)
                .map(|n| DefaultValue::Integer(n.into()))
                .map_err(|_| format!("{n} does not fit an integer column (32 bits); use bigint")),
            (ColumnType::Bigint, Value::Integer(n)) => Ok(DefaultValue::Integer(*n)),
            (ColumnType::Decimal(p, s), Value::Integer(n)) => {
                decimal_literal(&n.to_string(), p, s).map(DefaultValue::Number)
            }
            (ColumnType::Decimal(p, s), Value::String(text)) => {
                decimal_literal(text, p, s).map(DefaultValue::Number)
            }
            (ColumnType::Decimal(..), Value::Float(_)) => Err(
                "write a decimal's default as a string (\"9.99\") so no digit is lost to a float".into(),
            ),
            (ColumnType::Text | ColumnType::String(_), Value::String(s)) => {
                if let ColumnType::String(n) = ty
                    && s.chars().count() > n as usize
                {
                    return Err(format!("the default is longer than string({n})"));
                }
                Ok(DefaultValue::Text(s.clone()))
            }
            // PostgreSQL's jsonb refuses the escape of NUL that JSON itself allows.
            (ColumnType::Json, Value::String(s)) if s.to_ascii_lowercase().contains("\\u0000") => {
                Err("the default holds \\u0000, which PostgreSQL's jsonb refuses".into())
            }
            (ColumnType::Json, Value::String(s)) => serde_json::from_str::<serde_json::Value>(s)
                .map(|_| DefaultValue::Text(s.clone()))
                .map_err(|e| format!("the default is not valid JSON: {e}")),
            (ColumnType::Boolean, Value::Boolean(b)) => Ok(DefaultValue::Boolean(*b)),
            (ty, v) => Err(format!(
                "{} {} default does not fit {} {ty} column",
                article(v.type_str()),
                v.type_str(),
                article(&ty.to_string())
            )),
        }
    }
}

/// `text` if it is a decimal literal that fits `decimal(p, s)`.
fn decimal_literal(text: &str, precision: u16, scale: u16) -> Result<String, String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(format!("{text:?} is not a decimal number, e.g. \"9.99\""));
    }
    let whole_digits = whole.trim_start_matches('0').len();
    if fraction.len() > usize::from(scale) || whole_digits > usize::from(precision - scale) {
        return Err(format!(
            "{text:?} does not fit decimal({precision},{scale})"
        ));
    }
    Ok(text.to_string())
}

/// What happens to a row when the row its foreign key points at is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    Cascade,
    Restrict,
    SetNull,
    NoAction,
}

impl OnDelete {
    pub fn parse(text: &str) -> Option<OnDelete> {
        match text.trim().to_ascii_lowercase().replace('_', " ").as_str() {
            "cascade" => Some(OnDelete::Cascade),
            "restrict" => Some(OnDelete::Restrict),
            "set null" => Some(OnDelete::SetNull),
            "no action" => Some(OnDelete::NoAction),
            _ => None,
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            OnDelete::Cascade => "CASCADE",
            OnDelete::Restrict => "RESTRICT",
            OnDelete::SetNull => "SET NULL",
            OnDelete::NoAction => "NO ACTION",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_and_print_back() {
        for text in [
            "id",
            "integer",
            "bigint",
            "text",
            "string(200)",
            "boolean",
            "timestamp",
            "json",
            "uuid",
            "decimal(10,2)",
        ] {
            assert_eq!(ColumnType::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            ColumnType::parse(" decimal( 10 , 2 ) ").unwrap(),
            ColumnType::Decimal(10, 2)
        );
        for bad in [
            "varchar(20)",
            "string",
            "string(0)",
            "string(x)",
            "string(10",
            "decimal(2,3)",
            "decimal(10)",
            "integer(4)",
            "",
        ] {
            assert!(ColumnType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_must_fit_their_column() {
        use toml::Value;
        let dec = ColumnType::Decimal(5, 2);
        assert_eq!(
            DefaultValue::parse(&Value::String("123.45".into()), dec),
            Ok(DefaultValue::Number("123.45".into()))
        );
        assert!(DefaultValue::parse(&Value::String("1234.5".into()), dec).is_err());
        assert!(DefaultValue::parse(&Value::String("1.234".into()), dec).is_err());
        assert!(DefaultValue::parse(&Value::String("1e3".into()), dec).is_err());
        assert!(DefaultValue::parse(&Value::Float(1.5), dec).is_err());
        assert!(DefaultValue::parse(&Value::Integer(1 << 40), ColumnType::Integer).is_err());
        assert!(DefaultValue::parse(&Value::String("{".into()), ColumnType::Json).is_err());
        assert!(DefaultValue::parse(&Value::String("abc".into()), ColumnType::String(2)).is_err());
        assert!(DefaultValue::parse(&Value::Boolean(true), ColumnType::Text).is_err());
        assert_eq!(
            DefaultValue::parse(&Value::String("now".into()), ColumnType::Timestamp),
            Ok(DefaultValue::Now)
        );
    }
}
