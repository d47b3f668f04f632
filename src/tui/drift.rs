//! Drift in the console: the findings of the last `verify` the operator asked for (`v`,
//! `:verify`), indexed by tenant and by matrix cell so a frame looks them up without a scan.
//! Verifying reads every tenant's ledger, so it runs only when asked, in the background, and
//! the Matrix says when it last ran.

use std::collections::HashMap;

use ratatui::text::Line;

use super::widgets::text::heading;
use estate_engine::{Finding, FindingKind, VerifyReport};

/// Where verification stands.
#[derive(Debug, Clone, Default)]
pub enum Drift {
    /// Never asked for in this console.
    #[default]
    Unchecked,
    Verifying,
    /// The last verify's findings, and when it ended (`HH:MM:SS`).
    Checked {
        at: String,
        findings: Findings,
    },
    Failed(String),
}

/// Findings by tenant (`landlord` for the landlord) and by (tenant, module).
#[derive(Debug, Clone, Default)]
pub struct Findings {
    all: Vec<Finding>,
    by_database: HashMap<String, Vec<usize>>,
    by_cell: HashMap<(String, String), usize>,
}

impl Findings {
    pub fn new(report: VerifyReport) -> Findings {
        let mut f = Findings {
            all: report.findings,
            ..Findings::default()
        };
        for (i, finding) in f.all.iter().enumerate() {
            f.by_database
                .entry(finding.database.clone())
                .or_default()
                .push(i);
            if let Some(module) = &finding.module {
                // The first finding of a cell is the one it shows; the detail lists them all.
                f.by_cell
                    .entry((finding.database.clone(), module.clone()))
                    .or_insert(i);
            }
        }
        f
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn of_database(&self, database: &str) -> impl Iterator<Item = &Finding> {
        self.by_database
            .get(database)
            .into_iter()
            .flatten()
            .map(|i| &self.all[*i])
    }

    /// A finding about the tenant as a whole (its database, a table no module owns).
    pub fn of_tenant_itself(&self, tenant: &str) -> Option<&Finding> {
        self.of_database(tenant).find(|f| f.module.is_none())
    }

    pub fn of_cell(&self, tenant: &str, module: &str) -> Option<&Finding> {
        self.by_cell
            .get(&(tenant.to_string(), module.to_string()))
            .map(|i| &self.all[*i])
    }
}

impl Drift {
    pub fn findings(&self) -> Option<&Findings> {
        match self {
            Drift::Checked { findings, .. } => Some(findings),
            _ => None,
        }
    }

    /// What the Matrix title says of it.
    pub fn summary(&self) -> String {
        match self {
            Drift::Unchecked => "drift unchecked (v)".to_string(),
            Drift::Verifying => "verifying…".to_string(),
            Drift::Checked { at, findings } if findings.len() == 0 => {
                format!("no drift at {at}")
            }
            Drift::Checked { at, findings } => format!("⚠ {} finding(s) at {at}", findings.len()),
            Drift::Failed(_) => "verify failed (v retries)".to_string(),
        }
    }
}

/// The few words a matrix cell has room for.
pub fn short(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::MissingDatabase => "⚠ no database",
        FindingKind::Unreachable => "⚠ unreachable",
        FindingKind::ChangedFile => "⚠ file changed",
        FindingKind::VanishedFile => "⚠ file gone",
        FindingKind::UnrecordedTable => "⚠ hand table",
        FindingKind::RegistryDisagrees => "⚠ registry",
        FindingKind::UnfinishedMigration => "⚠ unfinished",
        FindingKind::UnregisteredDatabase => "⚠ unregistered",
        FindingKind::MissingRequirement => "⚠ requirement",
        FindingKind::OrphanLandlordScope => "⚠ orphan",
    }
}

/// A finding's lines in a detail window: what is wrong, then the fix.
pub fn lines(f: &Finding) -> Vec<Line<'static>> {
    let what = match &f.module {
        Some(m) => format!("⚠ {m}: {}", f.detail),
        None => format!("⚠ {}", f.detail),
    };
    vec![Line::from(what), Line::from(format!("  fix: {}", f.fix))]
}

/// What the last verify found about `tenant`: everything, or with `module`, what concerns the
/// tenant itself or that module. Empty when nothing was found (or nothing verified).
pub fn about(drift: &Drift, tenant: &str, module: Option<&str>) -> Vec<Line<'static>> {
    let Some(findings) = drift.findings() else {
        return Vec::new();
    };
    let mine: Vec<&Finding> = findings
        .of_database(tenant)
        .filter(|f| module.is_none() || f.module.is_none() || f.module.as_deref() == module)
        .collect();
    if mine.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![heading("drift (last verify)")];
    for f in mine {
        lines.extend(self::lines(f));
    }
    lines
}

/// A detail window's lines with the drift `found` first: it puts what follows (the
/// registry's state) in doubt.
pub fn first(mut found: Vec<Line<'static>>, lines: Vec<Line<'static>>) -> Vec<Line<'static>> {
    if found.is_empty() {
        return lines;
    }
    found.push(Line::default());
    found.extend(lines);
    found
}
