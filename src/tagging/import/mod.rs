//! `tagscape import-tags`: tag tables written by other tools, attached to the
//! project's images. Formats (FORMATS.md (b), (c)) are recognised from the
//! header; each is read into `TagRecord`s, the images are matched, and the
//! tags are written in one transaction that replaces what the same source
//! said before about the same images, so importing a file twice changes nothing.
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
    /// The tag source name stored with each tag (default `import:FORMAT`;
    /// Memespector-GUI files get `NAME:GV`, `NAME:CL`, ... per API).
    pub source: Option<String>,
    /// `Quotes::Ignore` reads `"` as an ordinary character (`--no-quotes`).
    pub quotes: crate::collect::Quotes,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportReport {
    pub file: PathBuf,
    /// The format read: `dmi`, `memespector`, `memespector-python`, `long`, `wide`.
    pub format: &'static str,
    /// The tag sources written, e.g. `import:dmi` or `memespector:GV`.
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
    /// Where every unmatched row was written (`DIR/unmatched-tags-NAME.csv`).
    pub unmatched_file: Option<PathBuf>,
    /// Memespector rows skipped because that API call had failed (`*_Success` False).
    pub failed_calls: u64,
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

fn choose_reader(table: &Table, format: TagFormat) -> Result<Reader> {
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
    let reader = choose_reader(&table, format)?;
    let reading = crate::ui::spinner("import");
    reading.set_message(format!("reading {}", file.display()));
    let named = |default: &str| opts.source.clone().unwrap_or_else(|| default.to_string());
    let mut records = Vec::new();
    let mut failed_calls = 0;
    let format_name = match &reader {
        Reader::Dmi(c) => {
            long::read(&mut table, c, true, &named("import:dmi"), &mut records)?;
            "dmi"
        }
        Reader::Long(c) => {
            long::read(&mut table, c, false, &named("import:long"), &mut records)?;
            "long"
        }
        Reader::Wide(c) => {
            let sep = opts.separator.as_deref();
            wide::read(&mut table, c, sep, &named("import:wide"), &mut records)?;
            "wide"
        }
        Reader::Gui(c) => {
            failed_calls =
                memespector::read_gui(&mut table, c, &named("memespector"), &mut records)?;
            "memespector"
        }
        Reader::Python(c) => {
            let source = named("memespector:gv_labels");
            memespector::read_python(&mut table, c, &source, &mut records)?;
            "memespector-python"
        }
    };
    reading.finish_and_clear();
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
        unmatched_file: None,
        failed_calls,
        encoding: table.encoding(),
    };
    let mut by_image: TagsByImage = HashMap::new();
    let mut unmatched = Vec::new();
    let mut sources = BTreeSet::new();
    let bar = crate::ui::progress(records.len() as u64, "matching");
    for record in records {
        bar.inc(1);
        sources.insert(record.source.clone());
        let Some(image_id) = matcher.find(&record.image) else {
            unmatched.push(record);
            continue;
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
    report.sources = sources.into_iter().collect();
    write_tags(project, &by_image, &mut report)?;
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

/// Writes every unmatched row to `DIR/unmatched-tags-STEM.csv` (removing
/// this tag file's own earlier one when everything matched now, so the file
/// describes the last import of that tag file; other tag files' are kept).
fn report_unmatched(
    project: &Project,
    tag_file: &Path,
    unmatched: &[TagRecord],
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
    let mut images = Vec::new();
    let mut seen = HashSet::new();
    for record in unmatched {
        if seen.insert(record.image.as_str()) {
            images.push(record.image.clone());
        }
    }
    report.unmatched_rows = unmatched.len() as u64;
    report.unmatched_images = images.len() as u64;
    report.unmatched_examples = images.into_iter().take(5).collect();
    let write = || -> Result<()> {
        let mut out = csv::Writer::from_path(&path)?;
        out.write_record(["line", "image", "tag", "confidence", "source"])?;
        for r in unmatched {
            out.write_record([
                r.line.to_string(),
                r.image.clone(),
                r.tag.clone().unwrap_or_default(),
                r.confidence.map(|c| c.to_string()).unwrap_or_default(),
                r.source.clone(),
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
        if let Some(path) = &self.unmatched_file {
            write!(
                f,
                "; {} for {} not in the project (see {}), e.g. {}",
                plural(self.unmatched_rows, "row", "rows"),
                plural(self.unmatched_images, "image", "images"),
                path.display(),
                self.unmatched_examples.join(", ")
            )?;
        }
        if let Some(encoding) = self.encoding {
            write!(f, "; read as {encoding} (not UTF-8)")?;
        }
        Ok(())
    }
}
