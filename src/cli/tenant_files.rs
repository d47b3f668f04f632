//! Files of tenants, as `tenants import` reads them and `tenants export` writes them: CSV
//! with a header row (`slug,name,server,path,database,schema,tags`; an empty field is no
//! value; tags as `plan=enterprise;region=eu`),
//! or JSON lines (one object a line, the same keys). A row numbers by its line in the file,
//! so a refusal names the line to fix.

use std::io::Read;

use super::args::TenantsFormat;
use estate_engine::{Error, Result, TenantRecord, TenantRow};

/// The columns, in the order export writes them.
const COLUMNS: [&str; 7] = [
    "slug", "name", "server", "path", "database", "schema", "tags",
];

/// The rows of `file` (`-`: standard input), each with its line; the format from `format`,
/// else the file's name (`.jsonl`), else CSV. A file that cannot be read as rows at all (an
/// unknown column, a broken line) is refused naming the line and the fix.
pub fn read(file: &str, format: Option<TenantsFormat>) -> Result<Vec<(usize, TenantRow)>> {
    let format = format.unwrap_or(if file.ends_with(".jsonl") {
        TenantsFormat::Jsonl
    } else {
        TenantsFormat::Csv
    });
    let mut text = String::new();
    let read = if file == "-" {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| {
        Error::refused(
            format!("cannot read the tenants file {file}: {e}"),
            "name a readable file of tenants (CSV with a header row, or JSON lines), or - for standard input",
        )
    })?;
    match format {
        TenantsFormat::Csv => csv_rows(file, &text),
        TenantsFormat::Jsonl => jsonl_rows(file, &text),
    }
}

fn unreadable(file: &str, line: usize, why: impl std::fmt::Display) -> Error {
    Error::refused(
        format!("{file}, line {line}: {why}"),
        format!(
            "columns are {} (slug required; the placement's as the tenancy layout wants), one tenant a row",
            COLUMNS.join(", ")
        ),
    )
}

fn csv_rows(file: &str, text: &str) -> Result<Vec<(usize, TenantRow)>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| unreadable(file, 1, e))?
        .clone();
    if let Some(unknown) = headers.iter().find(|h| !COLUMNS.contains(h)) {
        return Err(unreadable(file, 1, format!("unknown column {unknown:?}")));
    }
    if !headers.iter().any(|h| h == "slug") {
        return Err(unreadable(file, 1, "no slug column"));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            unreadable(file, line, e)
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let field = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        rows.push((
            line,
            TenantRow {
                slug: field("slug").unwrap_or_default(),
                name: field("name"),
                server: field("server"),
                path: field("path"),
                database: field("database"),
                schema: field("schema"),
                tags: field("tags"),
            },
        ));
    }
    Ok(rows)
}

fn jsonl_rows(file: &str, text: &str) -> Result<Vec<(usize, TenantRow)>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: TenantRow = serde_json::from_str(line).map_err(|e| unreadable(file, i + 1, e))?;
        rows.push((i + 1, row));
    }
    Ok(rows)
}

/// `tenants` in `format`, as `read` takes them back.
pub fn write(tenants: &[TenantRecord], format: TenantsFormat) -> Result<String> {
    let rows: Vec<TenantRow> = tenants.iter().map(row_of).collect();
    match format {
        TenantsFormat::Jsonl => Ok(rows
            .iter()
            .map(|r| serde_json::to_string(r).unwrap_or_default() + "\n")
            .collect()),
        TenantsFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let failed = |e: csv::Error| Error::Migrator(format!("writing CSV: {e}"));
            writer.write_record(COLUMNS).map_err(failed)?;
            for r in &rows {
                let fields = [
                    Some(r.slug.as_str()),
                    r.name.as_deref(),
                    r.server.as_deref(),
                    r.path.as_deref(),
                    r.database.as_deref(),
                    r.schema.as_deref(),
                    r.tags.as_deref(),
                ];
                writer
                    .write_record(fields.map(|f| f.unwrap_or_default()))
                    .map_err(failed)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|e| Error::Migrator(format!("writing CSV: {e}")))?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

/// A registered tenant as a row of the file.
fn row_of(t: &TenantRecord) -> TenantRow {
    let sqlite = t.placement.server.is_none();
    TenantRow {
        slug: t.slug.clone(),
        name: (t.name != t.slug).then(|| t.name.clone()),
        server: t.placement.server.clone(),
        path: sqlite.then(|| t.placement.location.clone()),
        database: (!sqlite).then(|| t.placement.location.clone()),
        schema: t.placement.schema.clone(),
        tags: (!t.tags.is_empty()).then(|| estate_engine::format_tag_list(&t.tags)),
    }
}
