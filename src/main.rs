//! The `tagscape` binary: parse the command line, run it, turn errors into
//! one line on stderr and exit code 1. The work lives in the library.

use std::process::ExitCode;

use clap::Parser;
use tagscape::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tagscape::ui::init_logging(cli.verbose, cli.quiet);
    tagscape::ui::install_panic_hook();
    match tagscape::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` joins the context chain on one line: "what failed: why".
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
