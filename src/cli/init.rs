use std::path::PathBuf;

use crate::project::Project;

/// Create a project directory (safe to repeat on an existing project).
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  tagscape init study")]
pub struct Args {
    /// The project directory to create.
    pub dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    Project::init(&args.dir)?;
    crate::ui::summary(format_args!(
        "project ready in {}; next: tagscape add {} LIST.csv",
        args.dir.display(),
        args.dir.display()
    ));
    Ok(())
}
