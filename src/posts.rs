//! The posts of the project's images, read back (`collect` writes them):
//! every occurrence of an image in the inputs with its source file, its line
//! and the row's cells, and per image what researchers report about them —
//! how many posts, how many distinct users, the first and last date.
//!
//! Sources have different headers (a TCAT export, a 4CAT export, a plain
//! list), so the posts are read against the union of all their columns, in
//! the order the sources were added.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result, bail};
use rusqlite::Connection;
use serde_json::Value;

/// Column names that hold a post's author, best first (TCAT, 4CAT, generic).
pub const USER_COLUMNS: &[&str] = &[
    "from_user_name",
    "author",
    "username",
    "user_name",
    "screen_name",
    "user",
    "author_name",
    "owner_username",
];

/// Column names that hold a post's date, best first. TCAT's `created_at` is
/// text while its `time` is unix seconds; 4CAT writes `timestamp`.
pub const DATE_COLUMNS: &[&str] = &[
    "created_at",
    "timestamp",
    "date",
    "datetime",
    "published",
    "published_at",
    "post_date",
    "taken_at",
    "time",
    "unix_timestamp",
];

/// Column names that hold a link to the post itself, best first.
pub const LINK_COLUMNS: &[&str] = &[
    "permalink",
    "post_url",
    "tweet_url",
    "status_url",
    "link",
    "url",
];

/// Where one source's posts come from and how its cells map onto the union.
struct SourceColumns {
    path: String,
    /// Union index of each of the source's own columns.
    to_union: Vec<usize>,
}

/// The union of the posts' columns, and how to read any post against it.
pub struct PostColumns {
    /// Column names, unique (a name repeated inside one header gets `_2`, `_3`).
    pub names: Vec<String>,
    index: HashMap<String, usize>,
    sources: HashMap<i64, SourceColumns>,
    user_cols: Vec<usize>,
    date_cols: Vec<usize>,
    link_cols: Vec<usize>,
    id_col: Option<usize>,
}

/// One post as read back: aligned with `PostColumns::names`.
pub struct Post {
    pub image_id: i64,
    /// The image's URL.
    pub url: String,
    /// The input as the user named it (empty for posts migrated from an
    /// older project, whose source was not recorded).
    pub source: String,
    pub line: Option<u64>,
    pub times: u64,
    pub values: Vec<String>,
}

impl PostColumns {
    /// Reads the columns of every source, and the keys of posts migrated
    /// from older projects (which carry their own column names).
    pub fn load(conn: &Connection) -> Result<PostColumns> {
        let mut columns = PostColumns {
            names: Vec::new(),
            index: HashMap::new(),
            sources: HashMap::new(),
            user_cols: Vec::new(),
            date_cols: Vec::new(),
            link_cols: Vec::new(),
            id_col: None,
        };
        let mut stmt = conn.prepare("SELECT id, path, columns FROM sources ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (id, path, header) = row?;
            let header: Vec<String> = match header {
                Some(json) => serde_json::from_str(&json)
                    .with_context(|| format!("the stored columns of {path} are unreadable"))?,
                None => Vec::new(),
            };
            let mut repeats: HashMap<&str, usize> = HashMap::new();
            let to_union = header
                .iter()
                .map(|name| {
                    let n = repeats.entry(name).or_default();
                    *n += 1;
                    let unique = if *n == 1 {
                        name.clone()
                    } else {
                        format!("{name}_{n}")
                    };
                    columns.intern(unique)
                })
                .collect();
            columns.sources.insert(id, SourceColumns { path, to_union });
        }
        let mut migrated = conn.prepare(
            "SELECT DISTINCT j.key FROM posts, json_each(posts.cells) AS j
             WHERE posts.source_id IS NULL AND json_type(posts.cells) = 'object'",
        )?;
        let keys = migrated.query_map([], |r| r.get::<_, String>(0))?;
        for key in keys {
            columns.intern(key?);
        }
        let find = |names: &[&str], columns: &PostColumns| -> Vec<usize> {
            names.iter().filter_map(|n| columns.find(n)).collect()
        };
        columns.user_cols = find(USER_COLUMNS, &columns);
        columns.date_cols = find(DATE_COLUMNS, &columns);
        columns.link_cols = find(LINK_COLUMNS, &columns);
        columns.id_col = columns.find("id");
        Ok(columns)
    }

    fn intern(&mut self, name: String) -> usize {
        if let Some(&i) = self.index.get(&name) {
            return i;
        }
        self.names.push(name.clone());
        self.index.insert(name, self.names.len() - 1);
        self.names.len() - 1
    }

    /// The union index of the column named `name` (exact first, then
    /// ignoring ASCII case).
    pub fn find(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.index
            .get(name)
            .copied()
            .or_else(|| self.names.iter().position(|n| n.eq_ignore_ascii_case(name)))
    }

    /// The union indices of `wanted`, or an error listing the columns there are.
    pub fn resolve(&self, wanted: &[String], flag: &str) -> Result<Vec<usize>> {
        wanted
            .iter()
            .map(|name| match self.find(name) {
                Some(i) => Ok(i),
                None if self.names.is_empty() => bail!(
                    "{flag} {name}: the project's posts have no columns (its inputs were plain lists or folders, or it has no inputs yet)"
                ),
                None => bail!(
                    "{flag} {name}: no such column in the project's posts (columns: {}): pass some of those",
                    self.describe()
                ),
            })
            .collect()
    }

    /// The column names for messages: "`a`, `b`, `c`".
    pub fn describe(&self) -> String {
        self.names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One stored post against the union. Cells that are not what the store
    /// should hold are reported as unreadable, naming the post.
    #[allow(clippy::too_many_arguments)]
    fn read(
        &self,
        post_id: i64,
        image_id: i64,
        url: String,
        source_id: Option<i64>,
        line: Option<i64>,
        times: i64,
        cells: &str,
    ) -> Result<Post> {
        let mut values = vec![String::new(); self.names.len()];
        let parsed: Value = serde_json::from_str(cells)
            .with_context(|| format!("post {post_id} in the project store is unreadable"))?;
        let source = source_id.and_then(|id| self.sources.get(&id));
        match parsed {
            Value::Array(cells) => {
                let to_union = source.map(|s| s.to_union.as_slice()).unwrap_or(&[]);
                for (cell, &i) in cells.into_iter().zip(to_union) {
                    values[i] = as_text(cell);
                }
            }
            Value::Object(map) => {
                for (key, cell) in map {
                    if let Some(&i) = self.index.get(&key) {
                        values[i] = as_text(cell);
                    }
                }
            }
            _ => bail!("post {post_id} in the project store is unreadable (not a row)"),
        }
        Ok(Post {
            image_id,
            url,
            source: source.map(|s| s.path.clone()).unwrap_or_default(),
            line: line.map(|l| l as u64),
            times: times.max(0) as u64,
            values,
        })
    }

    /// The post's author: the first non-empty user column.
    pub fn user<'p>(&self, post: &'p Post) -> Option<&'p str> {
        first_filled(&self.user_cols, post)
    }

    /// Every non-empty user column of the post (a row may name its author
    /// in more than one).
    pub fn users<'p>(&'p self, post: &'p Post) -> impl Iterator<Item = &'p str> + 'p {
        self.user_cols
            .iter()
            .filter_map(|&i| post.values.get(i))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The post's date normalised to `YYYY-MM-DD HH:MM:SS` UTC, when one of
    /// the date columns holds one that can be read.
    pub fn date(&self, post: &Post) -> Option<String> {
        self.date_cols
            .iter()
            .filter_map(|&i| post.values.get(i))
            .find_map(|v| normalize_date(v))
    }
}

impl PostColumns {
    /// A link that opens the post: a link column holding a web address other
    /// than the image's own, else, for TCAT-shaped rows (a numeric `id` and
    /// `from_user_name`), the tweet's address.
    pub fn link(&self, post: &Post) -> Option<String> {
        let web = |v: &&String| {
            let v = v.trim();
            (v.starts_with("https://") || v.starts_with("http://")) && v != post.url
        };
        if let Some(v) = self
            .link_cols
            .iter()
            .filter_map(|&i| post.values.get(i))
            .find(web)
        {
            return Some(v.trim().to_string());
        }
        let id = post.values.get(self.id_col?)?.trim();
        let user = post.values.get(self.find("from_user_name")?)?.trim();
        let tweet = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let handle =
            !user.is_empty() && user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        (tweet && handle).then(|| format!("https://twitter.com/{user}/status/{id}"))
    }
}

fn first_filled<'p>(cols: &[usize], post: &'p Post) -> Option<&'p str> {
    cols.iter()
        .filter_map(|&i| post.values.get(i))
        .map(|v| v.trim())
        .find(|v| !v.is_empty())
}

fn as_text(cell: Value) -> String {
    match cell {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Calls `each` for every post of the project, grouped by image (in image
/// id order, each image's posts in the order they were added).
pub fn for_each_post(
    conn: &Connection,
    columns: &PostColumns,
    mut each: impl FnMut(Post) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.image_id, i.url, p.source_id, p.line, p.times, p.cells
         FROM posts p JOIN images i ON i.id = p.image_id ORDER BY p.image_id, p.id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        each(read_row(columns, r)?)?;
    }
    Ok(())
}

fn read_row(columns: &PostColumns, r: &rusqlite::Row<'_>) -> Result<Post> {
    columns.read(
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        &r.get::<_, String>(6)?,
    )
}

/// The posts of one image, in the order they were added.
pub fn posts_of(conn: &Connection, columns: &PostColumns, image_id: i64) -> Result<Vec<Post>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.image_id, i.url, p.source_id, p.line, p.times, p.cells
         FROM posts p JOIN images i ON i.id = p.image_id WHERE p.image_id = ?1 ORDER BY p.id",
    )?;
    let mut rows = stmt.query([image_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read_row(columns, r)?);
    }
    Ok(out)
}

/// What the posts of one image add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostSummary {
    pub posts: u64,
    pub users: u64,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
}

/// Accumulates `PostSummary` over one image's posts.
#[derive(Default)]
pub struct SummaryBuilder {
    posts: u64,
    users: HashSet<String>,
    first: Option<String>,
    last: Option<String>,
}

impl SummaryBuilder {
    pub fn add(&mut self, columns: &PostColumns, post: &Post) {
        self.posts += 1;
        if let Some(user) = columns.user(post) {
            self.users.insert(user.to_string());
        }
        if let Some(date) = columns.date(post) {
            if self.first.as_ref().is_none_or(|f| date < *f) {
                self.first = Some(date.clone());
            }
            if self.last.as_ref().is_none_or(|l| date > *l) {
                self.last = Some(date);
            }
        }
    }

    pub fn finish(self) -> PostSummary {
        PostSummary {
            posts: self.posts,
            users: self.users.len() as u64,
            first_date: self.first,
            last_date: self.last,
        }
    }
}

/// A date as the exports write them, normalised to `YYYY-MM-DD HH:MM:SS`
/// UTC so dates compare as text: `2019-03-15`, `2019-03-15 13:00:00`,
/// `2019-03-15T13:00:00.123Z`, `…+02:00`, and unix seconds (TCAT's `time`,
/// 4CAT's `unix_timestamp`). Anything else is not a date here.
pub fn normalize_date(text: &str) -> Option<String> {
    let t = text.trim();
    if t.len() >= 9 && t.len() <= 11 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format_utc(t.parse::<i64>().ok()?));
    }
    let b = t.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = t.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut rest) = (0, 0, 0, &t[10..]);
    if let Some(time) = rest.strip_prefix(['T', ' ']) {
        let tb = time.as_bytes();
        if tb.len() < 5 || tb[2] != b':' {
            return None;
        }
        hour = time.get(0..2)?.parse().ok()?;
        minute = time.get(3..5)?.parse().ok()?;
        rest = &time[5..];
        if let Some(s) = rest.strip_prefix(':') {
            second = s.get(0..2)?.parse().ok()?;
            rest = &s[2..];
            if let Some(frac) = rest.strip_prefix(['.', ',']) {
                let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
                rest = &frac[digits..];
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
    }
    let rest = rest.trim();
    let offset_minutes = match rest {
        "" | "Z" | "z" | "UTC" | "+00:00" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            sign * (digits[..2].parse::<i64>().ok()? * 60 + digits[2..].parse::<i64>().ok()?)
        }
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_minutes * 60;
    Some(format_utc(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS` of unix seconds.
fn format_utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_exports_normalise_to_utc_text() {
        assert_eq!(
            normalize_date("2019-03-15 13:00:00").as_deref(),
            Some("2019-03-15 13:00:00")
        );
        assert_eq!(
            normalize_date("2019-03-15").as_deref(),
            Some("2019-03-15 00:00:00")
        );
        // 1552654800 is 2019-03-15 13:00:00 UTC (FORMATS.md a2's example row).
        assert_eq!(
            normalize_date("1552654800").as_deref(),
            Some("2019-03-15 13:00:00")
        );
        assert_eq!(
            normalize_date("2019-03-15T15:00:00.5+02:00").as_deref(),
            Some("2019-03-15 13:00:00")
        );
        assert_eq!(
            normalize_date("2020-02-29T23:30:00-01:00").as_deref(),
            Some("2020-03-01 00:30:00")
        );
        for junk in [
            "",
            "yesterday",
            "2019-13-01",
            "15/03/2019",
            "2019-03-15 25:00",
            "12",
        ] {
            assert_eq!(normalize_date(junk), None, "{junk}");
        }
    }
}
