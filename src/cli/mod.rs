//! The command line: one file per command, each with its clap arguments and a
//! `run` that calls into the library and prints the summary.
//!
//! The commands and flags of DESIGN.md are a contract with users' scripts:
//! add to them, never rename or remove.

mod add;
mod bench;
mod cluster;
mod demo;
mod export;
mod fetch;
mod graph;
mod import_tags;
mod init;
mod layout;
mod models;
pub mod ranges;
mod remove;
mod run;
mod tag;
mod tour;
mod view;

use std::path::Path;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "tagscape",
    version,
    about = "Turn a large image collection into an annotated, zoomable map of its thematic clusters",
    long_about = None,
    after_help = concat!(
        "Example:\n  tagscape run tweets.csv --project study --tags tags.csv\n  tagscape demo --out demo-out --headless\n\n",
        "Exit status:\n",
        "  0  done\n",
        "  1  error (one line on stderr says what and how to fix it)\n",
        "  2  bad command line (a flag or value refused)\n",
        "  3  finished, but some items failed (fetch, tag: the summary counts them; re-run to retry)\n",
        "  4  finished, but nothing succeeded (fetch, tag: every item failed)"
    )
)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors (no progress bars, no warnings); summaries are still printed.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Demo(demo::Args),
    Run(run::Args),
    Init(init::Args),
    Add(add::Args),
    Remove(remove::Args),
    Fetch(fetch::Args),
    Tag(tag::TagArgs),
    ImportTags(import_tags::Args),
    Graph(graph::Args),
    Layout(layout::Args),
    Cluster(cluster::Args),
    View(view::Args),
    Export(export::Args),
    Tour(tour::Args),
    Models(models::Args),
    Bench(bench::Args),
}

/// How a command that works through many items ended, beyond success or
/// error: the process's exit status (documented in `--help` and the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done (also: nothing was left to do).
    Complete,
    /// Finished, but some items failed: exit status 3.
    SomeFailed,
    /// Finished, but every item tried failed: exit status 4.
    NothingSucceeded,
}

impl Outcome {
    /// From the items that succeeded and failed in this run.
    pub fn from_counts(succeeded: u64, failed: u64) -> Outcome {
        match (succeeded, failed) {
            (_, 0) => Outcome::Complete,
            (0, _) => Outcome::NothingSucceeded,
            _ => Outcome::SomeFailed,
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Complete => 0,
            Outcome::SomeFailed => 3,
            Outcome::NothingSucceeded => 4,
        }
    }
}

impl Command {
    /// The command's name, as typed (`fetch`, `import-tags`).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Demo(_) => "demo",
            Command::Run(_) => "run",
            Command::Init(_) => "init",
            Command::Add(_) => "add",
            Command::Remove(_) => "remove",
            Command::Fetch(_) => "fetch",
            Command::Tag(_) => "tag",
            Command::ImportTags(_) => "import-tags",
            Command::Graph(_) => "graph",
            Command::Layout(_) => "layout",
            Command::Cluster(_) => "cluster",
            Command::View(_) => "view",
            Command::Export(_) => "export",
            Command::Tour(_) => "tour",
            Command::Models(_) => "models",
            Command::Bench(_) => "bench",
        }
    }

    /// The project directory the command works on, when it names one.
    pub fn project_dir(&self) -> Option<&Path> {
        Some(match self {
            Command::Run(a) => a.project.as_path(),
            Command::Init(a) => a.dir.as_path(),
            Command::Add(a) => a.dir.as_path(),
            Command::Remove(a) => a.dir.as_path(),
            Command::Fetch(a) => a.dir.as_path(),
            Command::Tag(a) => a.dir.as_path(),
            Command::ImportTags(a) => a.dir.as_path(),
            Command::Graph(a) => a.dir.as_path(),
            Command::Layout(a) => a.dir.as_path(),
            Command::Cluster(a) => a.dir.as_path(),
            Command::View(a) => a.dir.as_path(),
            Command::Export(a) => a.dir.as_path(),
            Command::Tour(a) => a.dir.as_path(),
            Command::Demo(_) | Command::Models(_) | Command::Bench(_) => return None,
        })
    }
}

/// Runs the command; errors are turned into one line by the caller, with
/// [`crate::store_errors::explain`] for the store's own failures.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let done = |r: anyhow::Result<()>| r.map(|()| Outcome::Complete);
    match cli.command {
        Command::Demo(a) => done(demo::run(a)),
        Command::Run(a) => run::run(a),
        Command::Init(a) => done(init::run(a)),
        Command::Add(a) => done(add::run(a)),
        Command::Remove(a) => done(remove::run(a)),
        Command::Fetch(a) => fetch::run(a),
        Command::Tag(a) => tag::run(a),
        Command::ImportTags(a) => done(import_tags::run(a)),
        Command::Graph(a) => done(graph::run(a)),
        Command::Layout(a) => done(layout::run(a)),
        Command::Cluster(a) => done(cluster::run(a)),
        Command::View(a) => done(view::run(a)),
        Command::Export(a) => done(export::run(a)),
        Command::Tour(a) => done(tour::run(a)),
        Command::Models(a) => done(models::run(a)),
        Command::Bench(a) => done(bench::run(a)),
    }
}
