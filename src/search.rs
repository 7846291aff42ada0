//! Finding images by their tags and by their posts' metadata: the viewer's
//! search box and `export --search` read the same query.
//!
//! A query is terms separated by spaces (quote a term that holds spaces:
//! `user:"Jane Doe"`), and every term must hold (AND):
//!
//! - `tag:NAME`: the image carries the tag (ignoring case).
//! - `user:NAME`: a post by that user (ignoring case and a leading `@`).
//! - `date:FROM..TO`: a post dated in the range, both ends included; each end
//!   is `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a full date, either may be left
//!   out (`date:2020-03..`), and a single date is its whole period
//!   (`date:2020-03` is March 2020). Posts whose date cannot be read are
//!   skipped and counted.
//! - `text:WORDS`: a post with a cell that contains the words (ignoring case).
//! - `COLUMN:VALUE`: a post whose column of that name contains the value
//!   (ignoring case); `COLUMN=VALUE` asks for the whole cell.
//! - `cluster:ID|NAME`: the image is in that cluster (`tagscape cluster`).
//! - a bare word: a tag that contains it, or a post cell that does.
//!
//! The post terms (user, date, text, columns) must all hold on one and the
//! same post: `user:alice date:2020` finds the images Alice posted in 2020,
//! not those she posted once while someone else posted them in 2020.

use std::collections::{HashMap, HashSet};
use std::fmt;

use anyhow::{Result, bail};
use rusqlite::Connection;

use crate::posts::{Post, PostColumns, for_each_post, normalize_date};
use crate::project::Project;

/// A parsed query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The query as the user typed it, for summaries.
    pub text: String,
    terms: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    Tag(String),
    /// A cluster's id or name, as typed.
    Cluster(String),
    /// A tag containing it or a post cell containing it (lowercase).
    Word(String),
    User(String),
    /// Bounds as normalised date prefixes (`YYYY`, `YYYY-MM`, …).
    Date {
        from: Option<String>,
        to: Option<String>,
    },
    Text(String),
    Column {
        name: String,
        value: String,
        whole: bool,
    },
}

impl Term {
    fn on_post(&self) -> bool {
        !matches!(self, Term::Tag(_) | Term::Cluster(_) | Term::Word(_))
    }
}

/// The images a query found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matches {
    /// Image ids (`images.id`), ascending.
    pub images: Vec<i64>,
    /// Posts that satisfied every post term (0 when the query has none).
    pub posts: u64,
    /// Posts skipped by a date term because their date could not be read.
    pub undated: u64,
}

impl Matches {
    /// What follows the images in a summary: " (3 posts match); 1 post
    /// skipped by the date filter: …", or nothing.
    pub fn details(&self) -> String {
        let mut out = String::new();
        if self.posts > 0 {
            out.push_str(&format!(
                " ({})",
                crate::collect::plural(self.posts, "post matches", "posts match")
            ));
        }
        if self.undated > 0 {
            out.push_str(&format!(
                "; {} skipped by the date filter: their date cannot be read",
                crate::collect::plural(self.undated, "post", "posts")
            ));
        }
        out
    }
}

impl fmt::Display for Matches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            crate::collect::plural(self.images.len() as u64, "image", "images"),
            self.details()
        )
    }
}

/// Splits on spaces outside double quotes; quotes are removed.
fn split_terms(text: &str) -> Result<Vec<String>> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        bail!("search `{text}`: a quote is not closed: close it or remove it");
    }
    if !current.is_empty() {
        terms.push(current);
    }
    Ok(terms)
}

/// A date bound as a normalised prefix: `2020`, `2020-03`, `2020-03-15`, or
/// any full date `posts::normalize_date` reads.
fn date_bound(text: &str, query: &str) -> Result<String> {
    let t = text.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = t.is_ascii()
        && match t.len() {
            4 => digits(t),
            7 => {
                digits(&t[..4])
                    && &t[4..5] == "-"
                    && digits(&t[5..])
                    && (1..=12).contains(&t[5..].parse::<u32>().unwrap_or(0))
            }
            _ => false,
        };
    if ok {
        return Ok(t.to_string());
    }
    match normalize_date(t) {
        // A bare day is a prefix; a time of day is kept whole.
        Some(full) if t.len() == 10 => Ok(full[..10].to_string()),
        Some(full) => Ok(full),
        None => bail!(
            "search `{query}`: `{t}` is not a date: write YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (e.g. date:2020-03..2020-06)"
        ),
    }
}

impl Query {
    /// Parses `text`; an empty query is an error (it would match everything).
    pub fn parse(text: &str) -> Result<Query> {
        let mut terms = Vec::new();
        for raw in split_terms(text)? {
            let colon = raw.find(':');
            let equals = raw.find('=');
            let (key, value, whole) = match (colon, equals) {
                (Some(c), Some(e)) if e < c => (Some(&raw[..e]), &raw[e + 1..], true),
                (Some(c), _) => (Some(&raw[..c]), &raw[c + 1..], false),
                (None, Some(e)) => (Some(&raw[..e]), &raw[e + 1..], true),
                (None, None) => (None, raw.as_str(), false),
            };
            let Some(key) = key.filter(|k| !k.is_empty()) else {
                terms.push(Term::Word(raw.to_lowercase()));
                continue;
            };
            if value.is_empty() {
                bail!("search `{text}`: `{raw}` has nothing after `{key}`: write e.g. {key}:value");
            }
            let term = match key.to_ascii_lowercase().as_str() {
                "tag" if !whole => Term::Tag(value.to_lowercase()),
                "cluster" if !whole => Term::Cluster(value.to_string()),
                "user" if !whole => Term::User(value.trim_start_matches('@').to_lowercase()),
                "text" if !whole => Term::Text(value.to_lowercase()),
                "date" if !whole => {
                    let (from, to) = match value.split_once("..") {
                        Some((a, b)) => (
                            (!a.is_empty()).then(|| date_bound(a, text)).transpose()?,
                            (!b.is_empty()).then(|| date_bound(b, text)).transpose()?,
                        ),
                        None => {
                            let day = date_bound(value, text)?;
                            (Some(day.clone()), Some(day))
                        }
                    };
                    if let (Some(a), Some(b)) = (&from, &to)
                        && a > b
                    {
                        bail!("search `{text}`: the range `{value}` ends before it starts");
                    }
                    Term::Date { from, to }
                }
                _ => Term::Column {
                    name: key.to_string(),
                    value: value.to_lowercase(),
                    whole,
                },
            };
            terms.push(term);
        }
        if terms.is_empty() {
            bail!(
                "search: the query is empty: write e.g. tag:cat user:alice date:2020-03..2020-06"
            );
        }
        Ok(Query {
            text: text.trim().to_string(),
            terms,
        })
    }

    /// Runs the query over the project's images, tags and posts. A column
    /// that no post has is an error listing the columns there are.
    pub fn run(&self, project: &Project) -> Result<Matches> {
        let conn = project.conn();
        let columns = PostColumns::load(conn)?;
        let post_terms: Vec<PostTerm> = self
            .terms
            .iter()
            .filter(|t| t.on_post())
            .map(|t| PostTerm::resolve(t, &columns))
            .collect::<Result<_>>()?;
        let tags = ImageTags::load(conn)?;

        // The tag terms narrow the candidates first.
        let mut candidates: Option<HashSet<i64>> = None;
        for term in &self.terms {
            let carrying = match term {
                Term::Tag(tag) => tags.carrying(tag),
                Term::Cluster(wanted) => cluster_images(project, wanted)?,
                _ => continue,
            };
            candidates = Some(match candidates {
                Some(c) => c.intersection(&carrying).copied().collect(),
                None => carrying,
            });
        }
        let words: Vec<&str> = self
            .terms
            .iter()
            .filter_map(|t| match t {
                Term::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect();

        // Per image: which bare words its tags already satisfy, and whether a
        // post satisfied all post terms; found by one pass over the posts.
        let mut found = Matches::default();
        let mut per_image: HashMap<i64, ImageState> = HashMap::new();
        for_each_post(conn, &columns, |post| {
            if candidates
                .as_ref()
                .is_some_and(|c| !c.contains(&post.image_id))
            {
                return Ok(());
            }
            let state = per_image
                .entry(post.image_id)
                .or_insert_with(|| ImageState {
                    words: words
                        .iter()
                        .map(|w| tags.has_word(post.image_id, w))
                        .collect(),
                    post_matched: false,
                });
            let lower: Vec<String> = post.values.iter().map(|v| v.to_lowercase()).collect();
            for (w, seen) in words.iter().zip(state.words.iter_mut()) {
                if !*seen && lower.iter().any(|v| v.contains(w)) {
                    *seen = true;
                }
            }
            if !post_terms.is_empty() {
                match post_matches(&post_terms, &columns, &post, &lower) {
                    PostVerdict::Yes => {
                        state.post_matched = true;
                        found.posts += 1;
                    }
                    PostVerdict::Undated => found.undated += 1,
                    PostVerdict::No => {}
                }
            }
            Ok(())
        })?;

        // Images without posts can still match on tags alone.
        let mut images: Vec<i64> = if post_terms.is_empty() {
            let pool: Vec<i64> = match &candidates {
                Some(c) => c.iter().copied().collect(),
                None => tags
                    .images_with_tags()
                    .chain(per_image.keys().copied())
                    .collect(),
            };
            pool.into_iter()
                .collect::<HashSet<i64>>()
                .into_iter()
                .filter(|id| match per_image.get(id) {
                    Some(state) => state.words.iter().all(|&w| w),
                    None => words.iter().all(|w| tags.has_word(*id, w)),
                })
                .collect()
        } else {
            per_image
                .iter()
                .filter(|(_, s)| s.post_matched && s.words.iter().all(|&w| w))
                .map(|(&id, _)| id)
                .collect()
        };
        images.sort_unstable();
        found.images = images;
        Ok(found)
    }
}

/// The images of the cluster with this id or name (either name: the user's
/// or the automatic one).
fn cluster_images(project: &Project, wanted: &str) -> Result<HashSet<i64>> {
    let clusters = crate::cluster::load_clusters(project)?;
    let w = wanted.trim();
    let Some(cluster) = clusters
        .iter()
        .find(|c| w.parse::<i64>().ok() == Some(c.id))
        .or_else(|| clusters.iter().find(|c| c.name.eq_ignore_ascii_case(w)))
        .or_else(|| {
            clusters
                .iter()
                .find(|c| c.auto_name.eq_ignore_ascii_case(w))
        })
    else {
        bail!(
            "search cluster:{w}: no cluster with that id or name: see `tagscape cluster {} list`",
            project.dir().display()
        );
    };
    let mut stmt = project.conn().prepare(
        "SELECT g.image_id FROM graph_nodes g JOIN node_clusters c ON c.node_id = g.node_id
         WHERE c.cluster_id = ?1 AND g.kind = 'image' AND g.image_id IS NOT NULL",
    )?;
    let ids = stmt
        .query_map([cluster.id], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<HashSet<i64>>>()?;
    Ok(ids)
}

struct ImageState {
    /// One per bare word: found in a tag or a post cell so far.
    words: Vec<bool>,
    post_matched: bool,
}

/// Every image's tags, lowercase.
struct ImageTags {
    of_image: HashMap<i64, Vec<String>>,
}

impl ImageTags {
    fn load(conn: &Connection) -> Result<ImageTags> {
        let mut of_image: HashMap<i64, Vec<String>> = HashMap::new();
        let mut stmt = conn.prepare("SELECT DISTINCT image_id, tag_key FROM tags")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            of_image.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
        Ok(ImageTags { of_image })
    }

    fn carrying(&self, tag: &str) -> HashSet<i64> {
        self.of_image
            .iter()
            .filter(|(_, tags)| tags.iter().any(|t| t == tag))
            .map(|(&id, _)| id)
            .collect()
    }

    fn has_word(&self, image: i64, word: &str) -> bool {
        self.of_image
            .get(&image)
            .is_some_and(|tags| tags.iter().any(|t| t.contains(word)))
    }

    fn images_with_tags(&self) -> impl Iterator<Item = i64> + '_ {
        self.of_image.keys().copied()
    }
}

/// A post term with its column resolved.
enum PostTerm<'q> {
    User(&'q str),
    Date {
        from: Option<&'q str>,
        to: Option<&'q str>,
    },
    Text(&'q str),
    Column {
        index: usize,
        value: &'q str,
        whole: bool,
    },
}

impl<'q> PostTerm<'q> {
    fn resolve(term: &'q Term, columns: &PostColumns) -> Result<PostTerm<'q>> {
        Ok(match term {
            Term::User(u) => PostTerm::User(u),
            Term::Date { from, to } => PostTerm::Date {
                from: from.as_deref(),
                to: to.as_deref(),
            },
            Term::Text(t) => PostTerm::Text(t),
            Term::Column { name, value, whole } => PostTerm::Column {
                index: columns.resolve(std::slice::from_ref(name), "search")?[0],
                value,
                whole: *whole,
            },
            Term::Tag(_) | Term::Cluster(_) | Term::Word(_) => unreachable!("not a post term"),
        })
    }
}

enum PostVerdict {
    Yes,
    No,
    /// Refused only because a date term could not read the post's date.
    Undated,
}

fn post_matches(
    terms: &[PostTerm<'_>],
    columns: &PostColumns,
    post: &Post,
    lower: &[String],
) -> PostVerdict {
    let mut date = None;
    for term in terms {
        let holds = match term {
            PostTerm::User(user) => columns
                .users(post)
                .any(|u| u.trim_start_matches('@').to_lowercase() == *user),
            PostTerm::Text(text) => lower.iter().any(|v| v.contains(text)),
            PostTerm::Column {
                index,
                value,
                whole,
            } => lower.get(*index).is_some_and(|v| {
                if *whole {
                    v.trim() == *value
                } else {
                    v.contains(value)
                }
            }),
            // Judged last: an undated post counts as skipped only when the
            // date is all that stands in the way.
            PostTerm::Date { .. } => true,
        };
        if !holds {
            return PostVerdict::No;
        }
    }
    for term in terms {
        if let PostTerm::Date { from, to } = term {
            let Some(date) = date.get_or_insert_with(|| columns.date(post)) else {
                return PostVerdict::Undated;
            };
            let head = |bound: &str| &date[..bound.len().min(date.len())];
            if !(from.is_none_or(|f| head(f) >= f) && to.is_none_or(|t| head(t) <= t)) {
                return PostVerdict::No;
            }
        }
    }
    PostVerdict::Yes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_split_on_spaces_outside_quotes() {
        assert_eq!(
            split_terms(r#"tag:cat user:"Jane Doe"  protest"#).unwrap(),
            vec!["tag:cat", "user:Jane Doe", "protest"]
        );
        assert!(split_terms(r#"user:"open"#).is_err());
    }

    #[test]
    fn dates_parse_as_prefixes_and_single_dates_cover_their_period() {
        let q = Query::parse("date:2020-03").unwrap();
        assert_eq!(
            q.terms,
            vec![Term::Date {
                from: Some("2020-03".into()),
                to: Some("2020-03".into())
            }]
        );
        let q = Query::parse("date:..2020-06-30").unwrap();
        assert_eq!(
            q.terms,
            vec![Term::Date {
                from: None,
                to: Some("2020-06-30".into())
            }]
        );
        assert!(Query::parse("date:2020-06..2020-01").is_err());
        let err = Query::parse("date:yesterday").unwrap_err().to_string();
        assert!(err.contains("`yesterday` is not a date"), "{err}");
    }

    #[test]
    fn keys_choose_the_term_and_other_keys_are_columns() {
        let q = Query::parse("Tag:Cat user:@Alice lang=de hashtags:blm word").unwrap();
        assert_eq!(
            q.terms,
            vec![
                Term::Tag("cat".into()),
                Term::User("alice".into()),
                Term::Column {
                    name: "lang".into(),
                    value: "de".into(),
                    whole: true
                },
                Term::Column {
                    name: "hashtags".into(),
                    value: "blm".into(),
                    whole: false
                },
                Term::Word("word".into()),
            ]
        );
        assert!(Query::parse("   ").is_err());
        assert!(Query::parse("user:").is_err());
    }
}
