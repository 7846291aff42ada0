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
mod run;
mod tag;
mod tour;
mod view;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "tagscape",
    version,
    about = "Turn a large image collection into an annotated, zoomable map of its thematic clusters",
    long_about = None,
    after_help = "Example:\n  tagscape run tweets.csv --project study --tags tags.csv\n  tagscape demo --out demo-out --headless"
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

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Run(a) => run::run(a),
        Command::Init(a) => init::run(a),
        Command::Add(a) => add::run(a),
        Command::Fetch(a) => fetch::run(a),
        Command::Tag(a) => tag::run(a),
        Command::ImportTags(a) => import_tags::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Layout(a) => layout::run(a),
        Command::Cluster(a) => cluster::run(a),
        Command::View(a) => view::run(a),
        Command::Export(a) => export::run(a),
        Command::Tour(a) => tour::run(a),
        Command::Models(a) => models::run(a),
        Command::Bench(a) => bench::run(a),
    }
}
