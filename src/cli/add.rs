use std::path::PathBuf;

use crate::collect;
use crate::project::{Access, Project};

/// Add image URLs, paths or folders to a project (CSV/TSV/TXT lists, TCAT exports, folders).
///
/// The URL column is found by its name (media_urls, "media url", image_url,
/// from_user_profile_image_url, url, ...) or by its content; --column picks it.
/// URLs are normalised and deduplicated, and the number of times each occurs
/// becomes its frequency. Adding the same file again changes nothing.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape add study tweets.csv\n  tagscape add study more-urls.txt photos/\n  tagscape add study posts.csv --column picture"
)]
pub struct Args {
    /// The project directory (created by `tagscape init`).
    pub dir: PathBuf,
    /// CSV/TSV tables, plain lists (one URL or path per line) or folders of images.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The column holding the image URLs (case-insensitive), when not detected.
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
    /// Take only http(s) URLs: refuse every local path and file:// URL in the
    /// lists (for lists from someone else). Without it, local files outside
    /// the list's folder are read but counted in the summary, and relative
    /// paths may never climb out of it (../).
    #[arg(long)]
    pub no_local: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut project = Project::open(&args.dir, Access::Write)?;
    let local = if args.no_local {
        collect::LocalFiles::Refused
    } else {
        collect::LocalFiles::Allowed
    };
    let report =
        collect::add_inputs_with(&mut project, &args.inputs, args.column.as_deref(), local)?;
    crate::ui::summary(report);
    Ok(())
}
