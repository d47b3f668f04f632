//! The arguments of `estate tenants`: listing, adding, importing and exporting tenants, their
//! tags, and removing one.

use clap::{Args, Subcommand};

use super::args::JsonFlag;

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// List the tenants, with their tags and modules
    List(JsonFlag),
    /// Register a tenant and provision its database (and install the config's default modules)
    Add {
        /// lowercase letters, digits, _ and -, starting with a letter or digit
        slug: String,
        /// A display name [default: the slug]
        #[arg(long)]
        name: Option<String>,
        /// The PostgreSQL server to place it on [default: the one with the fewest tenants]
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
        /// Register the database that is already where the tenancy places it; create nothing
        #[arg(long)]
        existing: bool,
        /// A tag, KEY=VALUE (repeat for more), e.g. --tag plan=enterprise
        #[arg(long = "tag", value_name = "KEY=VALUE")]
        tags: Vec<String>,
        /// Do not install the config's [tenancy] default_modules
        #[arg(long)]
        no_defaults: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set tags on a tenant (a key it has takes the new value)
    Tag {
        slug: String,
        /// KEY=VALUE, one or more
        #[arg(required = true, value_name = "KEY=VALUE")]
        tags: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove tags from a tenant
    Untag {
        slug: String,
        /// The keys to remove, one or more
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Unregister a tenant (refused while modules are installed); its database is kept
    /// unless --drop-database
    Remove(RemoveArgs),
    /// Register tenants whose databases exist already, from a CSV file (header row: slug,
    /// name, server, path, database, schema, tags; an empty path, database or schema is where
    /// the tenancy puts the tenant) or JSON lines; nothing is created
    Import {
        /// The file (`-` for standard input)
        file: String,
        /// csv or jsonl [default: by the file's name, else csv]
        #[arg(long, value_enum)]
        format: Option<TenantsFormat>,
        /// Register the good rows and list the others (by default one bad row refuses all)
        #[arg(long)]
        skip_invalid: bool,
        /// Install the config's [tenancy] default_modules on the tenants imported
        #[arg(long)]
        install_defaults: bool,
        #[arg(long)]
        json: bool,
    },
    /// Write the tenants in the format `tenants import` reads (to standard output)
    Export {
        /// csv or jsonl
        #[arg(long, value_enum, default_value = "csv")]
        format: TenantsFormat,
    },
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    pub slug: String,
    /// Roll back every installed module first (dependants first)
    #[arg(long)]
    pub rollback: bool,
    /// Then drop the tenant's database (SQLite file, schema or database); it cannot be undone
    #[arg(long)]
    pub drop_database: bool,
    /// Do not ask to type the slug on a terminal
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

/// How a file of tenants is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TenantsFormat {
    Csv,
    Jsonl,
}
