//! What DMI-TCAT (and Twitter-shaped exports like it) put around the URLs:
//! `"; "`-joined multi-URL cells, the aligned `media_type` list, the
//! Media-frequency export's `frequency` column, and the thumbnail URLs Twitter
//! serves for videos and GIFs. See FORMATS.md (a).

/// What an image URL shows: a photo, or the still Twitter serves for a video or GIF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Photo,
    VideoThumb,
    GifThumb,
}

impl MediaKind {
    /// The value stored in `images.media_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::VideoThumb => "video_thumb",
            MediaKind::GifThumb => "gif_thumb",
        }
    }

    /// From a TCAT `media_type` value (`photo` | `video` | `animated_gif`).
    pub fn from_media_type(value: &str) -> Option<MediaKind> {
        match value.trim().to_ascii_lowercase().as_str() {
            "photo" => Some(MediaKind::Photo),
            "video" => Some(MediaKind::VideoThumb),
            "animated_gif" => Some(MediaKind::GifThumb),
            _ => None,
        }
    }

    /// From the URL alone: Twitter serves video stills under `ext_tw_video_thumb`
    /// / `amplify_video_thumb` and GIF stills under `tweet_video_thumb`. This is
    /// how the Media-frequency export (no `media_type` column) is flagged.
    pub fn from_url(url: &str) -> MediaKind {
        if url.contains("/tweet_video_thumb/") {
            MediaKind::GifThumb
        } else if url.contains("/ext_tw_video_thumb/") || url.contains("/amplify_video_thumb/") {
            MediaKind::VideoThumb
        } else {
            MediaKind::Photo
        }
    }
}

/// The parts of a multi-valued cell: TCAT joins with `"; "`, so split on `;`
/// and trim. Empty parts are dropped; a `data:` URL (which contains `;`) stays whole.
pub fn split_cell(cell: &str) -> Vec<&str> {
    let cell = cell.trim();
    if cell.is_empty() {
        return vec![""];
    }
    if cell
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("data:"))
    {
        return vec![cell];
    }
    let parts: Vec<&str> = cell
        .split(';')
        .flat_map(split_comma_joined_urls)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() { vec![""] } else { parts }
}

/// 4CAT joins the URLs of an `images` cell with `,`. A comma splits only
/// where the next part starts a new http(s) URL: image CDNs put commas inside
/// URLs (`/w_100,h_80/`).
pub fn split_comma_joined_urls(part: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, _) in part.match_indices(',') {
        let rest = part[i + 1..].trim_start();
        let next_is_url = rest
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
            || rest
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
        if next_is_url {
            pieces.push(&part[start..i]);
            start = i + 1;
        }
    }
    pieces.push(&part[start..]);
    pieces
}

/// The kind of the `index`-th URL of a cell, from the aligned `media_type`
/// cell when there is one, else from the URL.
pub fn media_kind(media_types: Option<&[&str]>, index: usize, url: &str) -> MediaKind {
    media_types
        .and_then(|types| types.get(index))
        .copied()
        .and_then(MediaKind::from_media_type)
        .unwrap_or_else(|| MediaKind::from_url(url))
}

/// The kind of a URL whose post has a 4CAT `type` (`photo`, `video`,
/// `mixed`): a video post's image is its still; a mixed carousel's one
/// image could be either, so the URL decides, as it does for other values.
pub fn post_media_kind(post_type: &str, url: &str) -> MediaKind {
    match post_type.trim().to_ascii_lowercase().as_str() {
        "video" => MediaKind::VideoThumb,
        "photo" | "image" => MediaKind::Photo,
        _ => MediaKind::from_url(url),
    }
}

/// How many times a row's URL occurred: the `frequency` cell of a
/// Media-frequency export (one row per interval and URL), 1 elsewhere.
pub fn row_frequency(cell: Option<&str>) -> Result<u64, String> {
    match cell.map(str::trim) {
        None | Some("") => Ok(1),
        Some(value) => value
            .parse::<u64>()
            .map_err(|_| format!("frequency `{value}` is not a whole number")),
    }
}

/// Checks that the `media_type` list lines up with the URL list of its row
/// (TCAT writes one type per media); a mismatch means the columns are not
/// what we think, so the types are ignored for that row.
pub fn aligned(types: Vec<&str>, urls: usize) -> Option<Vec<&str>> {
    (types.len() == urls).then_some(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_split_like_tcat_joins() {
        assert_eq!(
            split_cell("https://a/1.jpg; https://a/2.jpg"),
            ["https://a/1.jpg", "https://a/2.jpg"]
        );
        assert_eq!(split_cell(" "), [""]);
        assert_eq!(
            split_cell("data:image/png;base64,AA"),
            ["data:image/png;base64,AA"]
        );
    }

    #[test]
    fn video_and_gif_stills_are_recognised() {
        assert_eq!(
            MediaKind::from_url("https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/a.jpg"),
            MediaKind::VideoThumb
        );
        assert_eq!(
            MediaKind::from_url("https://pbs.twimg.com/tweet_video_thumb/a.jpg"),
            MediaKind::GifThumb
        );
        let types = ["photo", "animated_gif"];
        assert_eq!(media_kind(Some(&types), 1, "x"), MediaKind::GifThumb);
        assert_eq!(row_frequency(Some("42")), Ok(42));
        assert!(row_frequency(Some("4.5")).is_err());
    }
}
