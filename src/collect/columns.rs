//! Which column of a table holds the image URLs: `--column` when given, else
//! the best-ranked known header name whose values look like URLs or paths,
//! else the column whose sampled values look most like image URLs.

use std::path::Path;

use anyhow::{Result, bail};

use super::normalize::{has_image_extension, normalize_entry};
use super::table::Row;
use super::tcat::split_cell;

/// Header names of image-URL columns, best first (compared trimmed and
/// case-insensitively). TCAT's `media_urls` beats the avatar column
/// `from_user_profile_image_url` (the recipe's fallback), which beats generic
/// names like `url` or `link` that often point at posts rather than images.
/// 4CAT's Instagram `image_url` (always a still) beats its `media_url` (the
/// MP4 of a video post).
pub const URL_COLUMN_NAMES: &[&str] = &[
    "media_urls",
    "media url",
    "media_url_https",
    "image_url",
    "image url",
    "media_url",
    "media urls",
    "image_urls",
    "imageurl",
    "image_location",
    "img_url",
    "img_src",
    "photo_url",
    "picture_url",
    "thumbnail_url",
    "from_user_profile_image_url",
    "profile_image_url",
    // 4CAT Telegram: the attachment's file (its `url` is the message's link).
    "attachment_filename",
    "url",
    "image",
    "img",
    "src",
    "photo",
    "picture",
    "thumbnail",
    "file",
    "path",
    "filename",
    "link",
];

/// How the URL column was found (for the summary and logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Given,
    ByName,
    ByContent,
}

/// What the sampled values of one column look like.
#[derive(Default, Clone, Copy)]
struct Evidence {
    non_empty: usize,
    usable: usize,
    image_like: usize,
}

impl Evidence {
    fn of(column: usize, samples: &[Row], base_dir: &Path) -> Evidence {
        let mut e = Evidence::default();
        for row in samples {
            for part in split_cell(row.get(column)) {
                if part.is_empty() {
                    continue;
                }
                e.non_empty += 1;
                if normalize_entry(part, base_dir).is_ok() {
                    e.usable += 1;
                    if has_image_extension(part) || part.contains("/media/") {
                        e.image_like += 1;
                    }
                }
            }
        }
        e
    }

    /// At least half the non-empty values are URLs or image paths. A column
    /// with no values in the sample (tweets without media) is not evidence
    /// against a name match.
    fn plausible(&self) -> bool {
        self.non_empty == 0 || self.usable * 2 >= self.non_empty
    }
}

/// Picks the URL column of `headers`, looking at `samples` (the first rows).
pub fn choose(
    file: &Path,
    headers: &[String],
    samples: &[Row],
    given: Option<&str>,
    base_dir: &Path,
) -> Result<(usize, Found)> {
    let seen = || {
        headers
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let position = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    if let Some(name) = given {
        return match position(name.trim()) {
            Some(i) => Ok((i, Found::Given)),
            None => bail!(
                "{} has no column `{name}` (columns seen: {}): pass one of those to --column",
                file.display(),
                seen()
            ),
        };
    }
    for name in URL_COLUMN_NAMES {
        if let Some(i) = position(name)
            && Evidence::of(i, samples, base_dir).plausible()
        {
            return Ok((i, Found::ByName));
        }
    }
    let best = (0..headers.len())
        .map(|i| (i, Evidence::of(i, samples, base_dir)))
        .filter(|(_, e)| e.non_empty > 0 && e.plausible())
        // Most image-looking values first, then most URL-looking; ties go to the leftmost column.
        .max_by(|(ia, a), (ib, b)| {
            (a.image_like * b.non_empty.max(1))
                .cmp(&(b.image_like * a.non_empty.max(1)))
                .then((a.usable * b.non_empty).cmp(&(b.usable * a.non_empty)))
                .then(ib.cmp(ia))
        });
    match best {
        Some((i, _)) => Ok((i, Found::ByContent)),
        None => bail!(
            "{}: no column of image URLs found (columns seen: {}): name the column with --column NAME",
            file.display(),
            seen()
        ),
    }
}
