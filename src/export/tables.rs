//! The research-data tables, for spreadsheets and reports:
//!
//! - `--format posts`: one row per occurrence of an image (a tweet, a post,
//!   a spreadsheet row): image URL, source file, row, then the row's own
//!   columns (the union over all inputs).
//! - `--format images`: one row per image: URL, fetch status, failure reason
//!   and detail, HTTP status, frequency, the post counts, size, content hash,
//!   local file, cluster, then the first post's source and columns. The same
//!   table of the failed images is `fetch`'s `failures.csv`.
//! - `--format originals`: a folder with a copy of each downloaded original
//!   and `index.csv` naming which URL each file is.
//!
//! Each can be narrowed to one cluster (`--cluster ID|NAME`). Cells that a
//! spreadsheet would run as a formula are escaped unless the user keeps
//! them (`--formulas keep`); `--excel` starts the file with a UTF-8 BOM so
//! Excel reads it as UTF-8 (see `spreadsheet`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::AtomicFile;
use super::spreadsheet::{CsvOptions, Formulas};
use crate::posts::{Post, PostColumns, SummaryBuilder, for_each_post, posts_of};
use crate::project::Project;
use crate::search::{Matches, Query};

/// The file naming each copied original in `--format originals`.
pub const INDEX_FILE: &str = "index.csv";

/// How the tables are written and which images they cover.
#[derive(Clone, Debug)]
pub struct TableOptions {
    /// Formulas escaped (the default for these tables) and the BOM.
    pub csv: CsvOptions,
    /// Only the images of this cluster: its id or its name.
    pub cluster: Option<String>,
    /// Only the images this search finds (`--search`, the viewer's selection).
    pub search: Option<Query>,
}

impl Default for TableOptions {
    fn default() -> TableOptions {
        TableOptions {
            csv: CsvOptions {
                excel: false,
                formulas: Formulas::Escape,
            },
            cluster: None,
            search: None,
        }
    }
}

/// Which images a table lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    /// Every image (or the cluster's, with `TableOptions::cluster`).
    Selected,
    /// The images whose fetch failed (`failures.csv`).
    Failed,
}

/// What a table export wrote; `Display` is the summary line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableReport {
    pub path: PathBuf,
    pub what: &'static str,
    pub rows: u64,
    /// The cluster the rows were narrowed to, as "3 (Protest signs)".
    pub cluster: Option<String>,
    /// The search the rows were narrowed to, and what it found.
    pub search: Option<(String, Matches)>,
    /// Cells written with a leading `'` so they cannot run as formulas.
    pub neutralised: u64,
    /// `originals`: images without a downloaded original (not fetched or failed).
    pub missing: u64,
}

impl std::fmt::Display for TableReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wrote {}: {} {}",
            self.path.display(),
            self.rows,
            self.what
        )?;
        if let Some(c) = &self.cluster {
            write!(f, " of cluster {c}")?;
        }
        if let Some((query, found)) = &self.search {
            // "12 images matching `q`", "30 posts of 12 images matching `q`".
            if self.what == "images" {
                write!(f, " matching `{query}`")?;
            } else {
                write!(
                    f,
                    " of {} matching `{query}`",
                    crate::collect::plural(found.images.len() as u64, "image", "images")
                )?;
            }
            f.write_str(&found.details())?;
        }
        if self.missing > 0 {
            write!(
                f,
                "; {} images have no original yet (run `tagscape fetch`)",
                self.missing
            )?;
        }
        if self.neutralised > 0 {
            write!(
                f,
                "; {} starting with = + - @ prefixed with ' so spreadsheets do not run them as formulas (--formulas keep writes them as they are)",
                crate::collect::plural(self.neutralised, "cell", "cells")
            )?;
        }
        Ok(())
    }
}

/// A CSV writer that neutralises formulas (unless kept) and counts them.
struct SheetWriter {
    csv: csv::Writer<AtomicFile>,
    formulas: Formulas,
    neutralised: u64,
    rows: u64,
}

impl SheetWriter {
    fn create(out: &Path, opts: &TableOptions) -> Result<SheetWriter> {
        let mut file = AtomicFile::create(out)?;
        opts.csv
            .start(&mut file)
            .with_context(|| format!("cannot write {}", out.display()))?;
        Ok(SheetWriter {
            csv: csv::Writer::from_writer(file),
            formulas: opts.csv.formulas,
            neutralised: 0,
            rows: 0,
        })
    }

    fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let mut record = csv::StringRecord::new();
        for cell in cells {
            let safe = self.formulas.cell(cell);
            if matches!(safe, Cow::Owned(_)) {
                self.neutralised += 1;
            }
            record.push_field(&safe);
        }
        self.csv.write_record(&record)?;
        Ok(())
    }

    fn finish(self, out: &Path) -> Result<(u64, u64)> {
        self.csv
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", out.display()))?
            .finish()?;
        Ok((self.rows, self.neutralised))
    }
}

/// The cluster and search a table is narrowed to, and each image's cluster.
struct Clusters {
    /// Image id -> cluster id (image nodes of the graph only).
    of_image: HashMap<i64, i64>,
    names: HashMap<i64, String>,
    /// The chosen cluster, when narrowed: its id and "id (name)".
    chosen: Option<(i64, String)>,
    /// The images found by `TableOptions::search`, with the query's text.
    found: Option<(HashSet<i64>, String, Matches)>,
}

impl Clusters {
    fn load(project: &Project, opts: &TableOptions) -> Result<Clusters> {
        let found = match &opts.search {
            None => None,
            Some(query) => {
                let matches = query.run(project)?;
                let ids = matches.images.iter().copied().collect();
                Some((ids, query.text.clone(), matches))
            }
        };
        let mut clusters = Clusters::load_cluster(project, opts.cluster.as_deref())?;
        clusters.found = found;
        Ok(clusters)
    }

    fn load_cluster(project: &Project, wanted: Option<&str>) -> Result<Clusters> {
        let clusters = crate::cluster::load_clusters(project)?;
        let names: HashMap<i64, String> = clusters.iter().map(|c| (c.id, c.name.clone())).collect();
        let chosen = match wanted {
            None => None,
            Some(_) if clusters.is_empty() => bail!(
                "--cluster: project {} has no clusters yet: run `tagscape cluster {}` first",
                project.dir().display(),
                project.dir().display()
            ),
            Some(w) => {
                let w = w.trim();
                let found = clusters
                    .iter()
                    .find(|c| w.parse::<i64>().ok() == Some(c.id))
                    .or_else(|| clusters.iter().find(|c| c.name.eq_ignore_ascii_case(w)))
                    .or_else(|| {
                        clusters
                            .iter()
                            .find(|c| c.auto_name.eq_ignore_ascii_case(w))
                    });
                match found {
                    Some(c) => Some((c.id, format!("{} ({})", c.id, c.name))),
                    None => {
                        let known: Vec<String> = clusters
                            .iter()
                            .take(30)
                            .map(|c| format!("{} ({})", c.id, c.name))
                            .collect();
                        bail!(
                            "--cluster {w}: no cluster with that id or name (clusters: {}{}): see `tagscape cluster {} list`",
                            known.join(", "),
                            if clusters.len() > 30 { ", ..." } else { "" },
                            project.dir().display()
                        )
                    }
                }
            }
        };
        let mut stmt = project.conn().prepare(
            "SELECT g.image_id, c.cluster_id FROM graph_nodes g
             JOIN node_clusters c ON c.node_id = g.node_id
             WHERE g.kind = 'image' AND g.image_id IS NOT NULL",
        )?;
        let of_image = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<HashMap<_, _>>>()?;
        Ok(Clusters {
            of_image,
            names,
            chosen,
            found: None,
        })
    }

    /// Whether image `id` is in the table.
    fn includes(&self, id: i64) -> bool {
        let in_cluster = match &self.chosen {
            None => true,
            Some((cluster, _)) => self.of_image.get(&id) == Some(cluster),
        };
        in_cluster
            && self
                .found
                .as_ref()
                .is_none_or(|(ids, ..)| ids.contains(&id))
    }

    fn label(&self) -> Option<String> {
        self.chosen.as_ref().map(|(_, l)| l.clone())
    }

    fn search(&self) -> Option<(String, Matches)> {
        self.found
            .as_ref()
            .map(|(_, query, matches)| (query.clone(), matches.clone()))
    }
}

/// The header of the table's fixed columns followed by the posts' own: a
/// post column named like a fixed one is written as `NAME (post)`.
fn header<'a>(fixed: &[&'a str], columns: &'a PostColumns) -> Vec<Cow<'a, str>> {
    let mut out: Vec<Cow<str>> = fixed.iter().map(|f| Cow::Borrowed(*f)).collect();
    for name in &columns.names {
        if fixed.iter().any(|f| f.eq_ignore_ascii_case(name)) {
            out.push(Cow::Owned(format!("{name} (post)")));
        } else {
            out.push(Cow::Borrowed(name));
        }
    }
    out
}

const POSTS_FIXED: [&str; 3] = ["image_url", "source_file", "source_row"];

/// `--format posts`: one row per stored post.
pub fn write_posts(project: &Project, out: &Path, opts: &TableOptions) -> Result<TableReport> {
    let columns = PostColumns::load(project.conn())?;
    let clusters = Clusters::load(project, opts)?;
    let mut sheet = SheetWriter::create(out, opts)?;
    let head = header(&POSTS_FIXED, &columns);
    sheet.row(head.iter().map(|h| h.as_ref()))?;
    let total: i64 = project
        .conn()
        .query_row("SELECT count(*) FROM posts", [], |r| r.get(0))?;
    let bar = crate::ui::progress(total as u64, "posts");
    for_each_post(project.conn(), &columns, |post| {
        bar.inc(1);
        if !clusters.includes(post.image_id) {
            return Ok(());
        }
        let line = post.line.map(|l| l.to_string()).unwrap_or_default();
        let fixed = [post.url.as_str(), post.source.as_str(), line.as_str()];
        sheet.row(
            fixed
                .into_iter()
                .chain(post.values.iter().map(String::as_str)),
        )?;
        sheet.rows += 1;
        Ok(())
    })
    .with_context(|| format!("cannot write {}", out.display()))?;
    bar.finish_and_clear();
    let (rows, neutralised) = sheet.finish(out)?;
    Ok(TableReport {
        path: out.to_path_buf(),
        what: "posts",
        rows,
        cluster: clusters.label(),
        search: clusters.search(),
        neutralised,
        missing: 0,
    })
}

const IMAGES_FIXED: [&str; 20] = [
    "url",
    "status",
    "failure",
    "failure_detail",
    "http_status",
    "frequency",
    "posts",
    "users",
    "first_date",
    "last_date",
    "width",
    "height",
    "content_hash",
    "file",
    "cluster",
    "cluster_label",
    "media_kind",
    "attempts",
    "first_source_file",
    "first_source_row",
];

/// `--format images` (and `failures.csv` with `Only::Failed`): one row per image.
pub fn write_images(
    project: &Project,
    out: &Path,
    opts: &TableOptions,
    only: Only,
) -> Result<TableReport> {
    let conn = project.conn();
    let columns = PostColumns::load(conn)?;
    let clusters = Clusters::load(project, opts)?;
    let mut sheet = SheetWriter::create(out, opts)?;
    let head = header(&IMAGES_FIXED, &columns);
    sheet.row(head.iter().map(|h| h.as_ref()))?;
    let filter = match only {
        Only::Selected => "",
        Only::Failed => "WHERE status = 'failed'",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT id, url, status, failure, failure_detail, http_status, frequency, width, height,
                content_hash, file, media_kind, attempts
         FROM images {filter} ORDER BY id"
    ))?;
    let total: i64 = conn.query_row(&format!("SELECT count(*) FROM images {filter}"), [], |r| {
        r.get(0)
    })?;
    let bar = crate::ui::progress(total as u64, "images");
    let mut rows = stmt.query([])?;
    let text = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let written: Result<()> = (|| {
        while let Some(r) = rows.next()? {
            bar.inc(1);
            let id: i64 = r.get(0)?;
            if !clusters.includes(id) {
                continue;
            }
            let posts = posts_of(conn, &columns, id)?;
            let mut summary = SummaryBuilder::default();
            for post in &posts {
                summary.add(&columns, post);
            }
            let summary = summary.finish();
            let cluster = clusters.of_image.get(&id).copied();
            let first: Option<&Post> = posts.first();
            let fixed: [String; 20] = [
                r.get(1)?,
                r.get(2)?,
                r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                text(r.get(5)?),
                text(r.get(6)?),
                summary.posts.to_string(),
                summary.users.to_string(),
                summary.first_date.unwrap_or_default(),
                summary.last_date.unwrap_or_default(),
                text(r.get(7)?),
                text(r.get(8)?),
                r.get::<_, Option<String>>(9)?.unwrap_or_default(),
                r.get::<_, Option<String>>(10)?.unwrap_or_default(),
                text(cluster),
                cluster
                    .and_then(|c| clusters.names.get(&c).cloned())
                    .unwrap_or_default(),
                r.get(11)?,
                text(r.get(12)?),
                first.map(|p| p.source.clone()).unwrap_or_default(),
                text(first.and_then(|p| p.line).map(|l| l as i64)),
            ];
            let empty = vec![String::new(); columns.names.len()];
            let values = first.map(|p| &p.values).unwrap_or(&empty);
            sheet.row(
                fixed
                    .iter()
                    .map(String::as_str)
                    .chain(values.iter().map(String::as_str)),
            )?;
            sheet.rows += 1;
        }
        Ok(())
    })();
    written.with_context(|| format!("cannot write {}", out.display()))?;
    bar.finish_and_clear();
    let (rows, neutralised) = sheet.finish(out)?;
    Ok(TableReport {
        path: out.to_path_buf(),
        what: match only {
            Only::Selected => "images",
            Only::Failed => "failed images",
        },
        rows,
        cluster: clusters.label(),
        search: clusters.search(),
        neutralised,
        missing: 0,
    })
}

/// The file name `fetch` keeps next to the store, listing every failed image.
pub const FAILURES_FILE: &str = "failures.csv";

/// Writes `PROJECT/failures.csv` when some image failed, and removes a stale
/// one when none did; returns its path when written.
pub fn write_failures(project: &Project) -> Result<Option<PathBuf>> {
    let path = project.dir().join(FAILURES_FILE);
    let failed: i64 = project.conn().query_row(
        "SELECT count(*) FROM images WHERE status = 'failed'",
        [],
        |r| r.get(0),
    )?;
    if failed == 0 {
        if path.is_file() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
        return Ok(None);
    }
    write_images(project, &path, &TableOptions::default(), Only::Failed)?;
    Ok(Some(std::path::absolute(&path).unwrap_or(path)))
}

/// `--format originals`: copies the (cluster's) downloaded originals into
/// the folder `out`, named after their URL's file name (made unique), with
/// `index.csv` (url, file, frequency, cluster).
pub fn write_originals(project: &Project, out: &Path, opts: &TableOptions) -> Result<TableReport> {
    if out.is_file() {
        bail!(
            "{} is a file: --format originals copies the images into a folder, give --out a folder (e.g. originals-cluster-3/)",
            out.display()
        );
    }
    let own = std::path::absolute(project.dir()).unwrap_or_else(|_| project.dir().to_path_buf());
    let target = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    if target.starts_with(&own) {
        bail!(
            "{} is inside the project {}: give --out a folder outside it",
            out.display(),
            project.dir().display()
        );
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the folder {}", out.display()))?;
    let clusters = Clusters::load(project, opts)?;
    let mut stmt = project.conn().prepare(
        "SELECT id, url, status, file, format, content_hash, frequency FROM images ORDER BY id",
    )?;
    let index_path = out.join(INDEX_FILE);
    let mut index = SheetWriter::create(&index_path, opts)?;
    index.row(["url", "file", "frequency", "cluster", "content_hash"])?;
    let mut used: HashSet<String> = HashSet::new();
    let (mut copied, mut missing) = (0u64, 0u64);
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if !clusters.includes(id) {
            continue;
        }
        let url: String = r.get(1)?;
        let status: String = r.get(2)?;
        let file: Option<String> = r.get(3)?;
        let (Some(file), "done") = (file, status.as_str()) else {
            missing += 1;
            continue;
        };
        let format: Option<String> = r.get(4)?;
        let hash: String = r.get::<_, Option<String>>(5)?.unwrap_or_default();
        let frequency: i64 = r.get(6)?;
        let name = unique_name(&url, format.as_deref(), &hash, &mut used);
        let dest = out.join(&name);
        copy_atomically(&project.resolve(&file), &dest)?;
        let cluster = clusters
            .of_image
            .get(&id)
            .map(|c| c.to_string())
            .unwrap_or_default();
        index.row([
            url.as_str(),
            name.as_str(),
            frequency.to_string().as_str(),
            cluster.as_str(),
            hash.as_str(),
        ])?;
        copied += 1;
    }
    index.finish(&index_path)?;
    Ok(TableReport {
        path: out.to_path_buf(),
        what: "originals",
        rows: copied,
        cluster: clusters.label(),
        search: clusters.search(),
        neutralised: 0,
        missing,
    })
}

/// A safe, unique file name for an original: the URL's last path segment
/// (letters, digits, `-`, `_`, `.` only) with the sniffed format's extension,
/// or the content hash when the URL has no usable name; a clash gets the
/// hash's first characters appended.
fn unique_name(url: &str, format: Option<&str>, hash: &str, used: &mut HashSet<String>) -> String {
    let ext = match format {
        Some("jpeg") | None => "jpg",
        Some(other) => other,
    };
    let last = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("");
    let last = percent_encoding::percent_decode_str(last).decode_utf8_lossy();
    let stem = last
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(last.as_ref());
    let mut stem: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(100)
        .collect();
    let short = &hash[..hash.len().min(12)];
    if stem.trim_matches('.').is_empty() {
        stem = short.to_string();
    }
    let mut name = format!("{stem}.{ext}");
    let mut n = 1;
    while !used.insert(name.to_ascii_lowercase()) {
        name = if n == 1 {
            format!("{stem}-{short}.{ext}")
        } else {
            format!("{stem}-{short}-{n}.{ext}")
        };
        n += 1;
    }
    name
}

/// Copies `from` to `dest` through a temporary file in `dest`'s folder, so
/// a killed export never leaves half an image under the final name.
fn copy_atomically(from: &Path, dest: &Path) -> Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tagscape-export-")
        .tempfile_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let mut src = std::fs::File::open(from).with_context(|| {
        format!(
            "cannot read the original {}: run `tagscape fetch` again to restore it",
            from.display()
        )
    })?;
    std::io::copy(&mut src, tmp.as_file_mut())
        .with_context(|| format!("cannot write {}", dest.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot write {}", dest.display()))?;
    }
    tmp.persist(dest)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_names_are_safe_and_unique() {
        let mut used = HashSet::new();
        let hash = "abcdef0123456789";
        let a = unique_name("https://x.org/m/cat.jpg?x=1", Some("jpeg"), hash, &mut used);
        assert_eq!(a, "cat.jpg");
        let b = unique_name(
            "https://y.org/cat.png",
            Some("jpeg"),
            "123456789abcdef",
            &mut used,
        );
        assert_eq!(b, "cat-123456789abc.jpg");
        let c = unique_name("https://x.org/../%2e%2e/", Some("png"), hash, &mut used);
        assert_eq!(c, "abcdef012345.png");
        let d = unique_name("file:///a/b/index.csv", Some("png"), hash, &mut used);
        assert_eq!(d, "index.png");
    }
}
