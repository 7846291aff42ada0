use std::path::PathBuf;

use crate::collect::remove::remove_input;
use crate::project::{Access, Project};

/// Take an input's entries out of the project again (the opposite of `add`).
///
/// The input is known by its content, so name the file or folder as it was
/// added. Its posts are removed; images left without any post are removed
/// with their tags; the others keep their other posts, with a lower
/// frequency. With --column, only the reading of a table from that column
/// goes (after re-adding it with a corrected --column).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape remove study wrong-list.csv\n  tagscape remove study tweets.csv --column from_user_profile_image_url"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// The lists, tables or folders to take out, as they were added.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Only the reading of the table from this URL column.
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut project = Project::open(&args.dir, Access::Write)?;
    for input in &args.inputs {
        let report = remove_input(&mut project, input, args.column.as_deref())?;
        crate::ui::summary(report);
    }
    Ok(())
}
