use std::path::PathBuf;

use crate::collect;
use crate::project::{Access, Project};

/// Add image URLs, paths or folders to a project (CSV/TSV/TXT lists, TCAT exports, folders).
///
/// The URL column is found by its name (media_urls, "media url", image_url,
/// from_user_profile_image_url, url, ...) or by its content; --column picks it.
/// URLs are normalised and deduplicated. Every row (a tweet, a post, a
/// spreadsheet row, a list line) is kept as a post with all its columns, and
/// an image's frequency is its number of posts. A post already in the project
/// is not counted again: it is known by its `id` column (TCAT, 4CAT) or else
/// by the file's name and the row's content, so re-adding a grown export adds
/// only its new posts. Adding the same file again changes nothing, unless
/// --column names another column: then that column is read too (take the
/// wrong reading out with `tagscape remove DIR FILE --column OLD`).
///
/// A file whose quoting went wrong (a stray `"` that turns the rest of the
/// file into one value) is refused, naming the line where the quote opened;
/// fix that line, or read the file with --no-quotes.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape add study tweets.csv\n  tagscape add study more-urls.txt photos/\n  tagscape add study posts.csv --column picture\n  tagscape add study broken-quotes.csv --no-quotes\n  tagscape add study telegram-4cat.csv --images telegram-images/"
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
    /// The folder holding the images that a list names by bare file name
    /// (4CAT Telegram `attachment_filename`, PixPlot `filename`). Without it,
    /// a folder beside the list is used when the list's own folder lacks a
    /// file: images/, NAME_files/, NAME-images/, NAME_images/ or NAME/ (NAME:
    /// the list's name without extension). A 4CAT `.metadata.json` there
    /// gives the files' source URLs and the posts that showed them.
    #[arg(long, value_name = "FOLDER")]
    pub images: Option<PathBuf>,
    /// Read tables with `"` as an ordinary character (no quoted fields): for
    /// files with stray quotes and no delimiters or line breaks inside values.
    #[arg(long)]
    pub no_quotes: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut project = Project::open(&args.dir, Access::Write)?;
    let options = collect::AddOptions {
        column: args.column,
        quotes: if args.no_quotes {
            collect::Quotes::Ignore
        } else {
            collect::Quotes::Standard
        },
        local: if args.no_local {
            collect::LocalFiles::Refused
        } else {
            collect::LocalFiles::Allowed
        },
        images: args.images,
    };
    let report = collect::add_inputs_with(&mut project, &args.inputs, &options)?;
    crate::ui::summary(report);
    Ok(())
}
