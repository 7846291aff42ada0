//! `tagscape import-tags`: tag tables written by other tools, attached to the
//! project's images. Formats (FORMATS.md (b), (c)) are recognised from the
//! header; each is streamed as `TagRecord`s, the images are matched, and the
//! tags are written (in batches, within one transaction) replacing what the
//! same source said before about the same images, so importing a file twice
//! changes nothing.
//! A source names its file (`import:dmi:tags.csv`), so another file adds its
//! tags instead of replacing the first one's.
//!
//! - `long`: the DMI tagging tool and long tables (`image,tag,confidence`)
//! - `memespector`: Memespector-GUI and memespector-python
//! - `wide`: one row per image, tags in a cell
//! - `matching`: which project image a row means
//! - `record`: the shared row type and value parsing

mod long;
mod matching;
mod memespector;
mod record;
mod wide;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::collect::plural;
use crate::collect::table::{RaggedRows, Table};
use crate::project::Project;
pub use record::TagRecord;

/// The tag table formats; `Auto` recognises them from the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TagFormat {
    #[default]
    Auto,
    /// The DMI / DensityDesign image tagging tool: `url,concept,confidence`.
    Dmi,
    /// Memespector-GUI (`Image_Location`, `GV_Label_Descriptions`, ...) or memespector-python (`gv_labels`).
    Memespector,
    /// One row per image and tag: `image,tag,confidence` (also `Source,Target,Weight`).
    Long,
    /// One row per image: `image,tags` with the tags joined by a separator.
    Wide,
}

/// Options of `import_tags` beyond the file and format.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The list separator of wide tables (detected when `None`).
    pub separator: Option<String>,
    /// The tag source name stored with each tag (default `import:FORMAT:FILE`;
    /// Memespector-GUI files get `NAME:GV`, `NAME:CL`, ... per API). A name
    /// given here is taken as is: every file imported under it shares it.
    pub source: Option<String>,
    /// `Quotes::Ignore` reads `"` as an ordinary character (`--no-quotes`).
    pub quotes: crate::collect::Quotes,
    /// The wide table's image and tags columns (`--image-column`,
    /// `--tags-column`), for tags in a metadata column such as `hashtags`.
    pub image_column: Option<String>,
    pub tags_column: Option<String>,
    /// Rows matched and written at a time (0: `BATCH_ROWS`).
    pub batch_rows: usize,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportReport {
    pub file: PathBuf,
    /// The format read: `dmi`, `memespector`, `memespector-python`, `long`, `wide`.
    pub format: &'static str,
    /// The tag sources written, e.g. `import:dmi:tags.csv` or `memespector:GV:cv.csv`.
    pub sources: Vec<String>,
    /// Tags stored (after merging duplicates of one image, tag and source).
    pub tags: u64,
    /// Images that got at least one tag.
    pub images_tagged: u64,
    /// Images the file lists without any tag (e.g. `No elements present`).
    pub images_without_tags: u64,
    /// Tags of the same sources removed from these images first (a re-import).
    pub replaced: u64,
    /// Rows whose image is not in the project, and how many images they name.
    pub unmatched_rows: u64,
    pub unmatched_images: u64,
    /// Up to five of those images, as the file names them.
    pub unmatched_examples: Vec<String>,
    /// Rows naming only a file name that several project images share, how
    /// many such names, and up to five of them.
    pub ambiguous_rows: u64,
    pub ambiguous_names: u64,
    pub ambiguous_examples: Vec<String>,
    /// Where every unmatched or ambiguous row was written
    /// (`DIR/unmatched-tags-NAME.csv`, with the reason).
    pub unmatched_file: Option<PathBuf>,
    /// Memespector rows skipped because that API call had failed (`*_Success` False).
    pub failed_calls: u64,
    /// Images the file names by a Windows path (`C:\Users\...`, Memespector
    /// run on Windows), matched by their file name; one example.
    pub windows_paths: u64,
    pub windows_example: Option<String>,
    /// Tags stored by a tagscape whose sources did not name their file
    /// (`import:dmi`), under the source this file would have had then: kept,
    /// since nothing says they came from this file.
    pub legacy_kept: u64,
    /// The `--source` that gives those tags' source back, when `legacy_kept > 0`.
    pub legacy_source: Option<String>,
    /// The encoding the file was read in, when not UTF-8 ("Windows-1252").
    pub encoding: Option<&'static str>,
    /// Posts skipped for having no image (`--image-column`: a tweet without media).
    pub posts_without_image: u64,
}

/// The file an import of `tag_file` writes its unmatched rows to, in the
/// project directory: `unmatched-tags-STEM.csv`, one per tag file, so a
/// later import of another file never replaces or deletes it.
pub fn unmatched_file_name(tag_file: &Path) -> String {
    let stem = tag_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    format!("unmatched-tags-{safe}.csv")
}

enum Reader {
    Dmi(long::Columns),
    Long(long::Columns),
    Wide(wide::Columns),
    Gui(memespector::GuiColumns),
    Python(memespector::PythonColumns),
}

fn choose_reader(table: &Table, format: TagFormat, opts: &ImportOptions) -> Result<Reader> {
    if opts.image_column.is_some() || opts.tags_column.is_some() {
        if !matches!(format, TagFormat::Auto | TagFormat::Wide) {
            bail!(
                "--image-column and --tags-column name the columns of a wide table: use them with --format wide"
            );
        }
        return wide::named_columns(
            table,
            opts.image_column.as_deref(),
            opts.tags_column.as_deref(),
        )
        .map(Reader::Wide);
    }
    let gui = || memespector::gui_columns(table).map(Reader::Gui);
    let python = || memespector::python_columns(table).map(Reader::Python);
    let dmi = || long::dmi_columns(table).map(Reader::Dmi);
    let long = || long::long_columns(table).map(Reader::Long);
    let wide = || wide::columns(table).map(Reader::Wide);
    let (found, expected) = match format {
        TagFormat::Auto => (
            gui()
                .or_else(python)
                .or_else(dmi)
                .or_else(wide)
                .or_else(long),
            "a known tag table (url,concept,confidence; Image_Location + GV_Label_Descriptions; gv_labels; image,tag,confidence; image,tags)",
        ),
        TagFormat::Dmi => (dmi(), "`url` and `concept` (and `confidence`)"),
        TagFormat::Memespector => (
            gui().or_else(python),
            "`Image_Location` with `GV_Label_Descriptions`/`CL_Concepts`/`MA_Tags`/`OS_Labels`, or `gv_labels`",
        ),
        TagFormat::Long => (
            long(),
            "an image column (image, url, source, ...) and a tag column (tag, concept, label, target, ...)",
        ),
        TagFormat::Wide => (
            wide(),
            "an image column (image, url, ...) and a tags column (tags, labels, concepts)",
        ),
    };
    match found {
        Some(reader) => Ok(reader),
        None => bail!(
            "{}: not {expected} (columns seen: {}): check the file, or pass --format auto|dmi|memespector|long|wide",
            table.path().display(),
            table.describe_columns()
        ),
    }
}

/// Rows matched and written at a time when `ImportOptions::batch_rows` is 0.
pub const BATCH_ROWS: usize = 20_000;

/// Imports `file` into the project; see the module documentation.
///
/// The file is streamed: rows are matched and written `batch_rows` at a
/// time, so memory holds one batch plus a few bytes per image, not the
/// file. Every batch goes into one transaction, committed at the end: a
/// row that cannot be read (a bad confidence, a stray quote) anywhere in
/// the file rolls back what earlier batches wrote, so nothing of such a
/// file is added, as before. (A validation pass first would read the file
/// twice; SQLite keeps the uncommitted pages in its write-ahead log, on
/// disk, so one long transaction costs no memory.)
pub fn import_tags(
    project: &mut Project,
    file: &Path,
    format: TagFormat,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    let mut table = Table::open_with(file, RaggedRows::Reject, opts.quotes)?;
    let reader = choose_reader(&table, format, opts)?;
    // The default source, and the flag that gives it back (see `legacy_kept`).
    let base = match &reader {
        Reader::Dmi(_) => "import:dmi",
        Reader::Long(_) => "import:long",
        Reader::Wide(_) => "import:wide",
        Reader::Gui(_) => "memespector",
        Reader::Python(_) => "memespector:gv_labels",
    };
    let source = opts.source.clone().unwrap_or_else(|| base.to_string());
    let separator = match (&reader, opts.separator.as_deref()) {
        (Reader::Wide(_), Some(sep)) if !sep.is_empty() => sep.to_string(),
        (Reader::Wide(c), _) => {
            let reading = crate::ui::spinner("import");
            reading.set_message(format!("finding the tag separator of {}", file.display()));
            let sep = wide::detect_separator(&table, c, opts.quotes)?;
            reading.finish_and_clear();
            sep
        }
        _ => String::new(),
    };
    let tag_dir = std::path::absolute(file)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let matcher = matching::Matcher::new(project, &tag_dir)?;
    if matcher.is_empty() {
        bail!(
            "project {} has no images yet: add them first with `tagscape add {} LIST.csv`, then import the tags",
            project.dir().display(),
            project.dir().display()
        );
    }
    let file_name = opts.source.is_none().then(|| {
        file.file_name()
            .map(|n| crate::text::clean(&n.to_string_lossy()).into_owned())
            .unwrap_or_else(|| file.display().to_string())
    });
    let unmatched_path = project.dir().join(unmatched_file_name(file));
    let mut report = ImportReport {
        file: file.to_path_buf(),
        format: match &reader {
            Reader::Dmi(_) => "dmi",
            Reader::Long(_) => "long",
            Reader::Wide(_) => "wide",
            Reader::Gui(_) => "memespector",
            Reader::Python(_) => "memespector-python",
        },
        sources: Vec::new(),
        tags: 0,
        images_tagged: 0,
        images_without_tags: 0,
        replaced: 0,
        unmatched_rows: 0,
        unmatched_images: 0,
        unmatched_examples: Vec::new(),
        ambiguous_rows: 0,
        ambiguous_names: 0,
        ambiguous_examples: Vec::new(),
        unmatched_file: None,
        failed_calls: 0,
        windows_paths: 0,
        windows_example: None,
        legacy_kept: 0,
        legacy_source: None,
        encoding: table.encoding(),
        posts_without_image: 0,
    };
    let bar = crate::ui::bytes_progress(table.data_len(), "import");
    let batch_rows = if opts.batch_rows == 0 {
        BATCH_ROWS
    } else {
        opts.batch_rows
    };
    let project_dir = project.dir().to_path_buf();
    let tx = project.conn_mut().transaction()?;
    let mut writer = Writer::new(&tx, &matcher, &project_dir, &unmatched_path)?;
    let mut batch: Vec<TagRecord> = Vec::with_capacity(batch_rows.min(BATCH_ROWS));
    let mut legacy_sources = BTreeSet::new();
    let (mut without_image, mut failed_calls) = (0, 0);
    {
        let mut emit = |mut record: TagRecord, read: u64| -> Result<()> {
            // The source a file's tags had before sources named their file.
            if !legacy_sources.contains(&record.source) {
                legacy_sources.insert(record.source.clone());
            }
            if let Some(name) = &file_name {
                record.source = format!("{}:{name}", record.source);
            }
            batch.push(record);
            if batch.len() >= batch_rows {
                writer.write(&mut batch, &mut report)?;
                bar.set_position(read);
            }
            Ok(())
        };
        match &reader {
            Reader::Dmi(c) => long::read(&mut table, c, true, &source, &mut emit)?,
            Reader::Long(c) => long::read(&mut table, c, false, &source, &mut emit)?,
            Reader::Wide(c) => {
                without_image = wide::read(&mut table, c, &separator, &source, &mut emit)?;
            }
            Reader::Gui(c) => {
                failed_calls = memespector::read_gui(&mut table, c, &source, &mut emit)?;
            }
            Reader::Python(c) => memespector::read_python(&mut table, c, &source, &mut emit)?,
        }
    }
    writer.write(&mut batch, &mut report)?;
    report.posts_without_image = without_image;
    report.failed_calls = failed_calls;
    bar.finish_and_clear();
    let unmatched = writer.finish(&mut report)?;
    tx.commit()?;
    if opts.source.is_none() {
        for legacy in legacy_sources {
            let n: i64 = project.conn().query_row(
                "SELECT count(*) FROM tags WHERE source = ?1",
                [&legacy],
                |r| r.get(0),
            )?;
            if n > 0 {
                report.legacy_kept += n as u64;
                report.legacy_source = Some(base.to_string());
            }
        }
    }
    finish_unmatched(&unmatched_path, unmatched, &mut report)?;
    Ok(report)
}

/// Rows of images not in the project (or ambiguous): counted, a few kept
/// as examples, every one written to a temporary file that replaces
/// `unmatched-tags-NAME.csv` once the import has committed.
#[derive(Default)]
struct Unmatched {
    rows: u64,
    /// Distinct images named, as 64-bit digests of the name (a few bytes
    /// each, where 1M names would take 100 MB).
    images: HashSet<u64>,
    examples: Vec<String>,
}

impl Unmatched {
    fn add(&mut self, image: &str) {
        use std::hash::{Hash, Hasher};
        self.rows += 1;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        image.hash(&mut h);
        if self.images.insert(h.finish()) && self.examples.len() < 5 {
            self.examples.push(image.to_string());
        }
    }
}

/// Matches batches of records and writes them in the import's transaction;
/// keeps what the import has done so far to the images it met.
struct Writer<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    matcher: &'a matching::Matcher,
    sources: Vec<String>,
    /// (image, source index) whose earlier tags were removed by this import.
    cleared: HashSet<(i64, u32)>,
    /// Every image listed, and whether it got a tag.
    listed: HashMap<i64, bool>,
    windows: HashSet<i64>,
    missing: Unmatched,
    ambiguous: Unmatched,
    /// Every unmatched row, with its reason, until the import commits.
    rows_out: Option<(tempfile::NamedTempFile, csv::Writer<std::fs::File>)>,
    project_dir: &'a Path,
    unmatched_path: &'a Path,
}

impl<'a> Writer<'a> {
    fn new(
        tx: &'a rusqlite::Transaction<'a>,
        matcher: &'a matching::Matcher,
        project_dir: &'a Path,
        unmatched_path: &'a Path,
    ) -> Result<Writer<'a>> {
        Ok(Writer {
            tx,
            matcher,
            sources: Vec::new(),
            cleared: HashSet::new(),
            listed: HashMap::new(),
            windows: HashSet::new(),
            missing: Unmatched::default(),
            ambiguous: Unmatched::default(),
            rows_out: None,
            project_dir,
            unmatched_path,
        })
    }

    fn source_index(&mut self, source: &str) -> u32 {
        match self.sources.iter().position(|s| s == source) {
            Some(i) => i as u32,
            None => {
                self.sources.push(source.to_string());
                (self.sources.len() - 1) as u32
            }
        }
    }

    /// Writes an unmatched row to the temporary list.
    fn unmatched_row(&mut self, r: &TagRecord, ambiguous: bool) -> Result<()> {
        if self.rows_out.is_none() {
            let tmp = tempfile::NamedTempFile::new_in(self.project_dir)
                .with_context(|| format!("cannot write {}", self.unmatched_path.display()))?;
            let mut out = csv::Writer::from_writer(tmp.reopen()?);
            out.write_record(["line", "image", "tag", "confidence", "source", "reason"])?;
            self.rows_out = Some((tmp, out));
        }
        if let Some((_, out)) = &mut self.rows_out {
            out.write_record([
                r.line.to_string(),
                r.image.clone(),
                r.tag.clone().unwrap_or_default(),
                r.confidence.map(|c| c.to_string()).unwrap_or_default(),
                r.source.clone(),
                if ambiguous {
                    "ambiguous: several images have this file name".to_string()
                } else {
                    "not in the project".to_string()
                },
            ])
            .with_context(|| format!("cannot write {}", self.unmatched_path.display()))?;
        }
        Ok(())
    }

    /// Matches and stores `batch` (emptied). A tag met again, in this batch
    /// or an earlier one, keeps its first spelling and its highest confidence.
    fn write(&mut self, batch: &mut Vec<TagRecord>, report: &mut ImportReport) -> Result<()> {
        let mut delete = self
            .tx
            .prepare_cached("DELETE FROM tags WHERE image_id = ?1 AND source = ?2")?;
        let mut insert = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO tags(image_id, tag, tag_key, confidence, source) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut raise = self.tx.prepare_cached(
            "UPDATE tags SET confidence = ?4 WHERE image_id = ?1 AND tag_key = ?2 AND source = ?3
             AND (confidence IS NULL OR confidence < ?4)",
        )?;
        for record in batch.drain(..) {
            // Every source the file names is reported, matched or not.
            let source = self.source_index(&record.source);
            let image_id = match self.matcher.find(&record.image) {
                matching::Match::Image(id) => {
                    // Such a path never exists here: only its file name matched.
                    if matching::is_windows_path(&record.image) && self.windows.insert(id) {
                        report
                            .windows_example
                            .get_or_insert_with(|| record.image.trim().to_string());
                    }
                    id
                }
                matching::Match::Ambiguous => {
                    self.ambiguous.add(record.image.trim());
                    self.unmatched_row(&record, true)?;
                    continue;
                }
                matching::Match::Missing => {
                    self.missing.add(record.image.trim());
                    self.unmatched_row(&record, false)?;
                    continue;
                }
            };
            if self.cleared.insert((image_id, source)) {
                report.replaced += delete.execute((image_id, &record.source))? as u64;
            }
            let tagged = self.listed.entry(image_id).or_insert(false);
            // Control characters out and trimmed, as every tag is stored, so a
            // node has one id in every export.
            if let Some(tag) = record.tag.as_deref().map(crate::text::clean)
                && !tag.is_empty()
            {
                let key = tag.to_lowercase();
                if insert.execute((image_id, &tag, &key, record.confidence, &record.source))? > 0 {
                    report.tags += 1;
                } else if let Some(c) = record.confidence {
                    raise.execute((image_id, &key, &record.source, c))?;
                }
                *tagged = true;
            }
        }
        Ok(())
    }

    /// The figures of the whole import, and the unmatched rows' file.
    fn finish(self, report: &mut ImportReport) -> Result<UnmatchedRows> {
        report.images_tagged = self.listed.values().filter(|&&t| t).count() as u64;
        report.images_without_tags = self.listed.len() as u64 - report.images_tagged;
        report.windows_paths = self.windows.len() as u64;
        let mut sources = self.sources;
        sources.sort();
        report.sources = sources;
        let file = match self.rows_out {
            Some((tmp, mut out)) => {
                out.flush()
                    .with_context(|| format!("cannot write {}", self.unmatched_path.display()))?;
                Some(tmp)
            }
            None => None,
        };
        Ok(UnmatchedRows {
            missing: self.missing,
            ambiguous: self.ambiguous,
            file,
        })
    }
}

/// What `Writer::finish` leaves for `finish_unmatched`.
struct UnmatchedRows {
    missing: Unmatched,
    ambiguous: Unmatched,
    file: Option<tempfile::NamedTempFile>,
}

/// Puts the unmatched rows in `path` (`DIR/unmatched-tags-STEM.csv`), or
/// removes this tag file's own earlier list when everything matched now,
/// so the file describes the last import of that tag file (other tag
/// files' are kept).
fn finish_unmatched(
    path: &Path,
    unmatched: UnmatchedRows,
    report: &mut ImportReport,
) -> Result<()> {
    let Some(file) = unmatched.file else {
        if path.exists() {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
        return Ok(());
    };
    (
        report.unmatched_rows,
        report.unmatched_images,
        report.unmatched_examples,
    ) = (
        unmatched.missing.rows,
        unmatched.missing.images.len() as u64,
        unmatched.missing.examples,
    );
    (
        report.ambiguous_rows,
        report.ambiguous_names,
        report.ambiguous_examples,
    ) = (
        unmatched.ambiguous.rows,
        unmatched.ambiguous.images.len() as u64,
        unmatched.ambiguous.examples,
    );
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    report.unmatched_file = Some(path.to_path_buf());
    Ok(())
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {} for {} from {} ({})",
            plural(self.tags, "tag", "tags"),
            plural(self.images_tagged, "image", "images"),
            self.file.display(),
            self.format
        )?;
        if self.replaced > 0 {
            write!(
                f,
                ", replacing {} of an earlier import",
                plural(self.replaced, "tag", "tags")
            )?;
        }
        if self.images_without_tags > 0 {
            write!(
                f,
                "; {} had no tags",
                plural(self.images_without_tags, "image", "images")
            )?;
        }
        if self.failed_calls > 0 {
            write!(
                f,
                "; {} API results skipped because the call had failed",
                self.failed_calls
            )?;
        }
        if let (true, Some(example)) = (self.windows_paths > 0, &self.windows_example) {
            write!(
                f,
                "; {} named by a Windows path (e.g. {example}) matched by file name",
                plural(self.windows_paths, "image", "images")
            )?;
        }
        if let (true, Some(source)) = (self.legacy_kept > 0, &self.legacy_source) {
            write!(
                f,
                "; {} of an import by an older tagscape kept (its sources did not name their file: import that file again with --source {source} to replace them)",
                plural(self.legacy_kept, "tag", "tags")
            )?;
        }
        if let Some(path) = &self.unmatched_file {
            if self.unmatched_rows > 0 {
                write!(
                    f,
                    "; {} for {} not in the project (see {}), e.g. {}",
                    plural(self.unmatched_rows, "row", "rows"),
                    plural(self.unmatched_images, "image", "images"),
                    path.display(),
                    self.unmatched_examples.join(", ")
                )?;
            }
            if self.ambiguous_rows > 0 {
                write!(
                    f,
                    "; {} ambiguous, naming only a file name that several images have (see {}), e.g. {}: give the image's URL or path instead",
                    plural(self.ambiguous_rows, "row", "rows"),
                    path.display(),
                    self.ambiguous_examples.join(", ")
                )?;
            }
        }
        if self.posts_without_image > 0 {
            write!(
                f,
                "; {} without an image skipped",
                plural(self.posts_without_image, "post", "posts")
            )?;
        }
        if let Some(encoding) = self.encoding {
            write!(f, "; read as {encoding} (not UTF-8)")?;
        }
        Ok(())
    }
}
