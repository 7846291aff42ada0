use std::path::PathBuf;

use crate::project::{Access, Project};
use crate::tagging::{ImportOptions, TagFormat, import_tags};

/// Import a tag table written by another tool (the DMI tagging tool, Memespector, a long or wide table).
///
/// Images are matched by URL, path or file name; rows for images not in the
/// project are listed in DIR/unmatched-tags-NAME.csv (NAME: the tag file's;
/// other imports never replace it). Importing the same file
/// again replaces the tags it gave before; another file adds its own.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape import-tags study tweets_concepts_general.csv\n  tagscape import-tags study labels.csv --format wide --separator '|' --source my-coding\n  tagscape import-tags study tweets.csv --format wide --image-column media_urls --tags-column hashtags"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// The tag table (CSV or TSV).
    pub file: PathBuf,
    /// The table's format; `auto` recognises it from the header.
    #[arg(long, value_enum, default_value_t = TagFormat::Auto)]
    pub format: TagFormat,
    /// The separator between tags in a wide table's cell (default: `;`, `|` or `,`, detected).
    #[arg(long, value_name = "SEP")]
    pub separator: Option<String>,
    /// The source name stored with the tags (default: import:FORMAT:FILE, memespector:API:FILE);
    /// files imported under one name replace each other's tags.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// The wide table's image column, e.g. a TCAT export's `media_urls` (a
    /// cell may hold several URLs; posts without one are skipped, and counted in the summary).
    #[arg(long, value_name = "NAME")]
    pub image_column: Option<String>,
    /// The wide table's tags column, e.g. `hashtags` of a TCAT or 4CAT export.
    #[arg(long, value_name = "NAME")]
    pub tags_column: Option<String>,
    /// Read the table with `"` as an ordinary character (no quoted fields):
    /// for files with stray quotes and no delimiters or line breaks inside values.
    #[arg(long)]
    pub no_quotes: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut project = Project::open(&args.dir, Access::Write)?;
    let opts = ImportOptions {
        separator: args.separator,
        source: args.source,
        image_column: args.image_column,
        tags_column: args.tags_column,
        batch_rows: 0,
        quotes: if args.no_quotes {
            crate::collect::Quotes::Ignore
        } else {
            crate::collect::Quotes::Standard
        },
    };
    let report = import_tags(&mut project, &args.file, args.format, &opts)?;
    crate::ui::summary(report);
    Ok(())
}
