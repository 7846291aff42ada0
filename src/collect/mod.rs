//! Reading inputs (`tagscape add`): CSV/TSV tables of image URLs (TCAT exports
//! included), plain lists of URLs or paths, and folders of images, into the
//! project's `images` table, deduplicated by normalised URL with a frequency
//! per image.
//!
//! - `table`: delimited files (BOM, delimiter, positions in errors); shared with the tag importer
//! - `columns`: which column holds the URLs
//! - `tcat`: multi-URL cells, `media_type`, `frequency`, video/GIF stills
//! - `normalize`: one spelling per URL or path
//! - `local`: which local files a list may name (`--no-local`, no climbing out)
//! - `read`, `folder`: feeding tables, lists and folders into `store::Sink`
//! - `store`: the inserts, counts and skip reasons of one input

mod columns;
mod folder;
mod fourcat;
pub mod local;
pub mod normalize;
mod read;
pub mod remove;
mod store;
pub mod table;
pub mod tcat;

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::OptionalExtension;

use crate::project::Project;
pub use columns::URL_COLUMN_NAMES;
pub use local::LocalFiles;
pub use store::Counts;
pub use table::Quotes;

/// How `add` reads its inputs.
#[derive(Clone, Debug, Default)]
pub struct AddOptions {
    /// The column holding the URLs (detected when `None`).
    pub column: Option<String>,
    /// `Quotes::Ignore` reads tables with `"` as an ordinary character.
    pub quotes: Quotes,
    /// Whether lists may name local files (`--no-local` refuses them).
    pub local: LocalFiles,
    /// The folder holding the images a list names by bare file name
    /// (`--images`); without it, a folder beside the list is looked for.
    pub images: Option<PathBuf>,
}

/// What kind of input a path was read as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A table; the column the URLs came from and how it was found.
    Table {
        column: String,
        by_content: bool,
    },
    /// One URL or path per line.
    List,
    Folder,
}

/// What happened to one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Added(Counts),
    /// The same content was added before (as `path`, at `added_at`): nothing changed.
    AlreadyAdded {
        path: String,
        added_at: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceReport {
    pub input: PathBuf,
    pub kind: InputKind,
    pub outcome: Outcome,
    /// Table rows whose field count differed from the header's (read leniently).
    pub ragged_rows: u64,
    pub first_ragged_line: Option<u64>,
    /// Where bare file names were also looked for (see `AddOptions::images`).
    pub image_folder: Option<PathBuf>,
    /// Source URLs of local files taken from a 4CAT `.metadata.json`.
    pub source_urls: u64,
    /// The encoding the file was read in, when not UTF-8 ("UTF-16LE").
    pub encoding: Option<&'static str>,
}

/// The result of `add_inputs`: one report per input and the project's new total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddReport {
    pub sources: Vec<SourceReport>,
    pub images_in_project: u64,
}

impl AddReport {
    /// Images new to the project, over all inputs.
    pub fn new_images(&self) -> u64 {
        self.sources
            .iter()
            .map(|s| match &s.outcome {
                Outcome::Added(c) => c.new,
                Outcome::AlreadyAdded { .. } => 0,
            })
            .sum()
    }
}

/// Adds every input (file or folder) to the project, one transaction each.
pub fn add_inputs(
    project: &mut Project,
    inputs: &[PathBuf],
    column: Option<&str>,
) -> Result<AddReport> {
    let options = AddOptions {
        column: column.map(str::to_string),
        ..AddOptions::default()
    };
    add_inputs_with(project, inputs, &options)
}

/// `add_inputs` with every option.
pub fn add_inputs_with(
    project: &mut Project,
    inputs: &[PathBuf],
    options: &AddOptions,
) -> Result<AddReport> {
    if inputs.is_empty() {
        bail!("no input given: name a CSV/TSV/TXT list of image URLs or a folder of images");
    }
    let mut sources = Vec::with_capacity(inputs.len());
    for input in inputs {
        sources.push(add_one(project, input, options)?);
    }
    let images_in_project: i64 =
        project
            .conn()
            .query_row("SELECT count(*) FROM images", [], |r| r.get(0))?;
    Ok(AddReport {
        sources,
        images_in_project: images_in_project as u64,
    })
}

/// Plain lists are named so; a file whose first line is already a URL (no
/// header, no delimiter) is one too.
fn is_plain_list(path: &Path) -> Result<bool> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("txt" | "list" | "lst" | "urls")) {
        return Ok(true);
    }
    let first = table::first_line(path)?;
    let first = first.trim();
    Ok(!first.contains([',', '\t']) && normalize::normalize_url(first).is_some())
}

pub(crate) fn file_hash(path: &Path) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    hasher
        .update_reader(file)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hasher.finalize().to_hex().to_string())
}

fn add_one(project: &mut Project, input: &Path, options: &AddOptions) -> Result<SourceReport> {
    let metadata = std::fs::metadata(input).with_context(|| {
        format!(
            "cannot read the input {}: check the path (a CSV/TSV/TXT list or a folder)",
            input.display()
        )
    })?;
    let is_folder = metadata.is_dir();
    if is_folder && options.local == LocalFiles::Refused {
        bail!(
            "{} is a folder of local files, which --no-local refuses: drop --no-local or the folder",
            input.display()
        );
    }
    if !is_folder {
        // Not a device or FIFO: hashing /dev/zero never ended.
        crate::text_input::require_regular(input)?;
    }
    let folder_files = if is_folder {
        Some(folder::image_files(input)?)
    } else {
        None
    };
    let hash = match &folder_files {
        Some(listing) => folder::listing_hash(input, &listing.files),
        None => file_hash(input)?,
    };
    let plain_list = !is_folder && is_plain_list(input)?;
    let mut kind = if is_folder {
        InputKind::Folder
    } else if plain_list {
        InputKind::List
    } else {
        InputKind::Table {
            column: String::new(),
            by_content: false,
        }
    };
    let tx = project.conn_mut().transaction()?;
    // The same content read the same way adds nothing; a table read from
    // another column (`--column` corrected) is a new input.
    let other_column = match (&kind, &options.column) {
        (InputKind::Table { .. }, Some(column)) => column.trim().to_string(),
        _ => String::new(),
    };
    let before: Option<(String, String)> = tx
        .query_row(
            "SELECT path, added_at FROM sources WHERE content_hash = ?1
             AND (?2 = '' OR lower(trim(coalesce(url_column, ''))) = lower(?2))
             ORDER BY id LIMIT 1",
            (&hash, &other_column),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((path, added_at)) = before {
        return Ok(SourceReport {
            input: input.to_path_buf(),
            kind,
            outcome: Outcome::AlreadyAdded { path, added_at },
            ragged_rows: 0,
            first_ragged_line: None,
            image_folder: None,
            source_urls: 0,
            encoding: None,
        });
    }
    // Relative paths in a list are relative to the list's own folder.
    let base_dir = std::path::absolute(input)
        .with_context(|| format!("cannot resolve the path {}", input.display()))?;
    let base_dir = if is_folder {
        base_dir
    } else {
        base_dir.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let image_folder = if is_folder {
        None
    } else {
        image_folder(input, &base_dir, options.images.as_deref())?
    };
    let fourcat_metadata = if is_folder {
        None
    } else {
        let mut dirs: Vec<&Path> = image_folder.iter().map(|f| f.dir.as_path()).collect();
        dirs.push(&base_dir);
        fourcat::read(&dirs)
    };
    let (counts, ragged_rows, first_ragged_line, encoding) = {
        // A folder's files were judged by its walk.
        let policy = (!is_folder).then(|| {
            let policy = local::LocalPolicy::new(&base_dir, options.local);
            match &image_folder {
                Some(folder) if folder.explicit => policy.with_image_folder(&folder.dir),
                _ => policy,
            }
        });
        let input_name = input.display().to_string();
        let mut sink = store::Sink::new(&tx, &base_dir, !is_folder, policy, &input_name, &hash)?;
        sink.set_image_folder(image_folder.clone());
        let mut ragged = (0, None);
        let mut encoding = None;
        let post_columns: Vec<String>;
        if let Some(listing) = &folder_files {
            folder::read_folder(&mut sink, input, listing)?;
            post_columns = folder::FOLDER_COLUMNS.map(String::from).to_vec();
        } else if plain_list {
            encoding = read::read_list(&mut sink, input)?;
            post_columns = read::LIST_COLUMNS.map(String::from).to_vec();
        } else {
            let bar = crate::ui::progress(metadata.len(), "reading");
            let info = read::read_table(
                &mut sink,
                input,
                &base_dir,
                options.column.as_deref(),
                options.quotes,
                fourcat_metadata.as_ref(),
                &bar,
            )?;
            bar.finish_and_clear();
            ragged = (info.ragged_rows, info.first_ragged_line);
            encoding = info.encoding;
            kind = InputKind::Table {
                column: info.column,
                by_content: info.found == columns::Found::ByContent,
            };
            post_columns = info.headers;
        }
        let url_column = match &kind {
            InputKind::Table { column, .. } => Some(column.as_str()),
            _ => None,
        };
        (
            sink.finish(url_column, &post_columns)?,
            ragged.0,
            ragged.1,
            encoding,
        )
    };
    // Where a 4CAT download came from: its URL finds the local file (an
    // alias, as for images with the same bytes), e.g. from a tag file.
    let mut source_urls = 0;
    if let Some(metadata) = &fourcat_metadata {
        let mut alias = tx.prepare(
            "INSERT OR IGNORE INTO image_aliases(url, image_id)
             SELECT ?1, id FROM images WHERE url = ?2
             AND NOT EXISTS (SELECT 1 FROM images WHERE url = ?1)",
        )?;
        let dirs = image_folder
            .iter()
            .map(|f| f.dir.as_path())
            .chain([base_dir.as_path()]);
        let dirs: Vec<&Path> = dirs.collect();
        for (file, url) in &metadata.source_urls {
            let local = dirs
                .iter()
                .map(|d| d.join(file))
                .find(|p| p.is_file())
                .and_then(|p| normalize::file_url(&p));
            if let Some(local) = local {
                source_urls += alias.execute((url, &local))? as u64;
            }
        }
    }
    tx.commit()?;
    Ok(SourceReport {
        input: input.to_path_buf(),
        kind,
        outcome: Outcome::Added(counts),
        ragged_rows,
        first_ragged_line,
        image_folder: image_folder.map(|f| f.dir),
        source_urls,
        encoding,
    })
}

/// Folders beside a list that hold its images, as tools name them: PixPlot's
/// and 4CAT's extracted zips, a browser's "save page" folder.
fn sibling_image_folders(input: &Path, base_dir: &Path) -> Vec<PathBuf> {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut names = vec!["images".to_string()];
    if !stem.is_empty() {
        names.extend([
            format!("{stem}_files"),
            format!("{stem}-images"),
            format!("{stem}_images"),
            stem,
        ]);
    }
    names.into_iter().map(|n| base_dir.join(n)).collect()
}

/// The image folder of a list: `--images`, else the first folder beside it
/// named as in `sibling_image_folders`.
fn image_folder(
    input: &Path,
    base_dir: &Path,
    explicit: Option<&Path>,
) -> Result<Option<store::ImageFolder>> {
    if let Some(dir) = explicit {
        if !dir.is_dir() {
            bail!(
                "--images {}: not a folder: name the folder holding the images the list names",
                dir.display()
            );
        }
        let dir = std::path::absolute(dir)
            .with_context(|| format!("cannot resolve the path {}", dir.display()))?;
        return Ok(Some(store::ImageFolder {
            dir,
            explicit: true,
        }));
    }
    Ok(sibling_image_folders(input, base_dir)
        .into_iter()
        .find(|d| d.is_dir())
        .map(|dir| store::ImageFolder {
            dir,
            explicit: false,
        }))
}

/// `1 image`, `2 images`.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for SourceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.input.display();
        let counts = match &self.outcome {
            Outcome::AlreadyAdded { path, added_at } => {
                return write!(
                    f,
                    "skipped {name}: the same content was already added (as {path}, {added_at}); nothing changed{}",
                    if matches!(self.kind, InputKind::Table { .. }) {
                        " (to read it from another column, pass --column NAME)"
                    } else {
                        ""
                    }
                );
            }
            Outcome::Added(counts) => counts,
        };
        write!(f, "added {}", plural(counts.distinct, "image", "images"))?;
        if counts.occurrences != counts.distinct {
            write!(f, " ({} occurrences)", counts.occurrences)?;
        }
        match &self.kind {
            InputKind::Table { column, by_content } => write!(
                f,
                " from {name} (column {column}{})",
                if *by_content {
                    ", found by content"
                } else {
                    ""
                }
            )?,
            InputKind::List => write!(f, " from {name} (list)")?,
            InputKind::Folder => write!(f, " from folder {name}")?,
        }
        write!(
            f,
            ": {} new, {} already in the project",
            counts.new, counts.existing
        )?;
        if counts.known_posts > 0 {
            write!(
                f,
                "; {} already in the project (not counted again)",
                plural(counts.known_posts, "post", "posts")
            )?;
        }
        let skipped = counts.skipped_total();
        if skipped > 0 {
            let reasons: Vec<String> = counts
                .skipped
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect();
            write!(f, ", {skipped} skipped ({})", reasons.join(", "))?;
        }
        if counts.in_image_folder > 0
            && let Some(folder) = &self.image_folder
        {
            write!(
                f,
                "; {} found in {}",
                plural(counts.in_image_folder, "file", "files"),
                folder.display()
            )?;
        }
        if counts.missing_files > 0 {
            write!(
                f,
                "; {} not found beside the list{} (fetch will fail them): name their folder with --images FOLDER",
                plural(counts.missing_files, "file", "files"),
                match &self.image_folder {
                    Some(folder) => format!(" or in {}", folder.display()),
                    None => String::new(),
                }
            )?;
        }
        if self.source_urls > 0 {
            write!(
                f,
                "; {} also known by {} source URL (4CAT .metadata.json)",
                plural(self.source_urls, "file", "files"),
                if self.source_urls == 1 {
                    "its"
                } else {
                    "their"
                }
            )?;
        }
        if counts.local_outside > 0 {
            write!(
                f,
                "; {} from outside the list's folder (--no-local refuses local files)",
                plural(counts.local_outside, "local file", "local files")
            )?;
        }
        let stills = counts.video_thumbs + counts.gif_thumbs;
        if stills > 0 {
            write!(
                f,
                "; {} flagged ({} video, {} GIF)",
                plural(stills, "video/GIF thumbnail", "video/GIF thumbnails"),
                counts.video_thumbs,
                counts.gif_thumbs
            )?;
        }
        if self.ragged_rows > 0 {
            write!(
                f,
                "; {} with a different number of fields than the header (first at line {}): missing fields read as empty, extra fields ignored",
                plural(self.ragged_rows, "row", "rows"),
                self.first_ragged_line.unwrap_or(0)
            )?;
        }
        if let Some(encoding) = self.encoding {
            write!(f, "; read as {encoding} (not UTF-8)")?;
        }
        Ok(())
    }
}

impl fmt::Display for AddReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for source in &self.sources {
            writeln!(f, "{source}")?;
        }
        write!(
            f,
            "project has {} ({} new)",
            plural(self.images_in_project, "image", "images"),
            self.new_images()
        )
    }
}
