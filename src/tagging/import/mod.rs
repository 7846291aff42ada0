//! `tagscape import-tags`: tag tables written by other tools, attached to the
//! project's images. Formats (FORMATS.md (b), (c)) are recognised from the
//! header; each is read into `TagRecord`s, the images are matched, and the
//! tags are written in one transaction that replaces what the same source
//! said before about the same images, so importing a file twice changes nothing.
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

/// Imports `file` into the project; see the module documentation.
pub fn import_tags(
    project: &mut Project,
    file: &Path,
    format: TagFormat,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    let mut table = Table::open_with(file, RaggedRows::Reject, opts.quotes)?;
    let reader = choose_reader(&table, format, opts)?;
    let reading = crate::ui::spinner("import");
    reading.set_message(format!("reading {}", file.display()));
    // The default source, and the flag that gives it back (see `legacy_kept`).
    let base = match &reader {
        Reader::Dmi(_) => "import:dmi",
        Reader::Long(_) => "import:long",
        Reader::Wide(_) => "import:wide",
        Reader::Gui(_) => "memespector",
        Reader::Python(_) => "memespector:gv_labels",
    };
    let source = opts.source.clone().unwrap_or_else(|| base.to_string());
    let mut records = Vec::new();
    let mut failed_calls = 0;
    let format_name = match &reader {
        Reader::Dmi(c) => {
            long::read(&mut table, c, true, &source, &mut records)?;
            "dmi"
        }
        Reader::Long(c) => {
            long::read(&mut table, c, false, &source, &mut records)?;
            "long"
        }
        Reader::Wide(c) => {
            let sep = opts.separator.as_deref();
            wide::read(&mut table, c, sep, &source, &mut records)?;
            "wide"
        }
        Reader::Gui(c) => {
            failed_calls = memespector::read_gui(&mut table, c, &source, &mut records)?;
            "memespector"
        }
        Reader::Python(c) => {
            memespector::read_python(&mut table, c, &source, &mut records)?;
            "memespector-python"
        }
    };
    reading.finish_and_clear();
    // The source a file's tags had before sources named their file.
    let legacy_sources: BTreeSet<String> = records.iter().map(|r| r.source.clone()).collect();
    if opts.source.is_none() {
        let name = file
            .file_name()
            .map(|n| crate::text::clean(&n.to_string_lossy()).into_owned())
            .unwrap_or_else(|| file.display().to_string());
        for record in &mut records {
            record.source = format!("{}:{name}", record.source);
        }
    }
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
    let mut report = ImportReport {
        file: file.to_path_buf(),
        format: format_name,
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
        failed_calls,
        windows_paths: 0,
        windows_example: None,
        legacy_kept: 0,
        legacy_source: None,
        encoding: table.encoding(),
    };
    let mut by_image: TagsByImage = HashMap::new();
    let mut unmatched = Vec::new();
    let mut sources = BTreeSet::new();
    let bar = crate::ui::progress(records.len() as u64, "matching");
    let mut windows = HashSet::new();
    for record in records {
        bar.inc(1);
        sources.insert(record.source.clone());
        let image_id = match matcher.find(&record.image) {
            matching::Match::Image(id) => {
                // Such a path never exists here: only its file name matched.
                if matching::is_windows_path(&record.image) && windows.insert(id) {
                    report
                        .windows_example
                        .get_or_insert_with(|| record.image.trim().to_string());
                }
                id
            }
            matching::Match::Ambiguous => {
                unmatched.push((record, true));
                continue;
            }
            matching::Match::Missing => {
                unmatched.push((record, false));
                continue;
            }
        };
        let tags = by_image.entry((image_id, record.source)).or_default();
        // Control characters out and trimmed, as every tag is stored, so a
        // node has one id in every export.
        if let Some(tag) = record.tag.as_deref().map(crate::text::clean)
            && !tag.is_empty()
        {
            let tag = tag.into_owned();
            let key = tag.to_lowercase();
            let slot = tags.entry(key).or_insert((tag, record.confidence));
            if record.confidence > slot.1 {
                slot.1 = record.confidence;
            }
        }
    }
    bar.finish_and_clear();
    report.windows_paths = windows.len() as u64;
    report.sources = sources.into_iter().collect();
    write_tags(project, &by_image, &mut report)?;
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
    report_unmatched(project, file, &unmatched, &mut report)?;
    Ok(report)
}

/// (image, source) → tag_key → (tag as given, confidence); duplicates of one
/// key keep the highest confidence.
type TagsByImage = HashMap<(i64, String), HashMap<String, (String, Option<f64>)>>;

fn write_tags(
    project: &mut Project,
    by_image: &TagsByImage,
    report: &mut ImportReport,
) -> Result<()> {
    let tx = project.conn_mut().transaction()?;
    let mut tagged = HashSet::new();
    let mut listed = HashSet::new();
    {
        let mut delete = tx.prepare("DELETE FROM tags WHERE image_id = ?1 AND source = ?2")?;
        let mut insert = tx.prepare(
            "INSERT INTO tags(image_id, tag, tag_key, confidence, source) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for ((image_id, source), tags) in by_image {
            report.replaced += delete.execute((image_id, source))? as u64;
            listed.insert(*image_id);
            for (key, (tag, confidence)) in tags {
                insert.execute((image_id, tag, key, confidence, source))?;
                report.tags += 1;
                tagged.insert(*image_id);
            }
        }
    }
    tx.commit()?;
    report.images_tagged = tagged.len() as u64;
    report.images_without_tags = listed.difference(&tagged).count() as u64;
    Ok(())
}

/// Writes every unmatched row (with `true`: ambiguous) to
/// `DIR/unmatched-tags-STEM.csv` (removing this tag file's own earlier one
/// when everything matched now, so the file describes the last import of
/// that tag file; other tag files' are kept).
fn report_unmatched(
    project: &Project,
    tag_file: &Path,
    unmatched: &[(TagRecord, bool)],
    report: &mut ImportReport,
) -> Result<()> {
    let path = project.dir().join(unmatched_file_name(tag_file));
    if unmatched.is_empty() {
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
        return Ok(());
    }
    // (rows, distinct images named, first five) for missing / ambiguous.
    let tally = |ambiguous: bool| {
        let mut images = Vec::new();
        let mut seen = HashSet::new();
        let mut rows = 0;
        for (record, _) in unmatched.iter().filter(|(_, a)| *a == ambiguous) {
            rows += 1;
            if seen.insert(record.image.trim()) {
                images.push(record.image.trim().to_string());
            }
        }
        let n = images.len() as u64;
        (rows, n, images.into_iter().take(5).collect::<Vec<_>>())
    };
    (
        report.unmatched_rows,
        report.unmatched_images,
        report.unmatched_examples,
    ) = tally(false);
    (
        report.ambiguous_rows,
        report.ambiguous_names,
        report.ambiguous_examples,
    ) = tally(true);
    let write = || -> Result<()> {
        let mut out = csv::Writer::from_path(&path)?;
        out.write_record(["line", "image", "tag", "confidence", "source", "reason"])?;
        for (r, ambiguous) in unmatched {
            out.write_record([
                r.line.to_string(),
                r.image.clone(),
                r.tag.clone().unwrap_or_default(),
                r.confidence.map(|c| c.to_string()).unwrap_or_default(),
                r.source.clone(),
                if *ambiguous {
                    "ambiguous: several images have this file name".to_string()
                } else {
                    "not in the project".to_string()
                },
            ])?;
        }
        out.flush()?;
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))?;
    report.unmatched_file = Some(path);
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
        if let Some(encoding) = self.encoding {
            write!(f, "; read as {encoding} (not UTF-8)")?;
        }
        Ok(())
    }
}
