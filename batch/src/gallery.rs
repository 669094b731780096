//! `gallery.html`: one static page showing every output file with its prompt, model and
//! request id: images as pictures, videos and audio as players, anything else as a link. No
//! external assets or scripts (inline CSS), relative links, every text HTML-escaped.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use runcomfy::vocab::media::{MediaFormat, MediaKind};

use crate::error::BatchError;
use crate::journal::{FileRow, Row, State};
use crate::report::count;
use crate::spending::Spending;

/// The gallery's file name in the output folder.
pub const GALLERY_FILE: &str = "gallery.html";

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#fafafa;color:#222}
h1{font-size:1.3rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:1rem}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5rem}
figure img,figure video{width:100%;height:auto;display:block;border-radius:4px;background:#eee}
figure audio{width:100%;display:block}
figcaption{font-size:.8rem;margin-top:.4rem;overflow-wrap:anywhere}
.prompt{margin:0 0 .3rem}
.meta{color:#666;font-family:ui-monospace,monospace;font-size:.72rem}
.failed{color:#a00;font-size:.8rem;overflow-wrap:anywhere}
";

/// Writes `gallery.html` for the files the lines saved.
pub fn write_gallery(
    out: &Path,
    rows: &[Row],
    files: &HashMap<u64, Vec<FileRow>>,
) -> Result<(), BatchError> {
    let html = render(rows, files);
    crate::report::write_atomically(&out.join(GALLERY_FILE), html.as_bytes())
}

/// The page.
pub fn render(rows: &[Row], files: &HashMap<u64, Vec<FileRow>>) -> String {
    let mut cards = String::new();
    let mut counts: BTreeMap<Option<MediaKind>, usize> = BTreeMap::new();
    // Every file saved, a failed or unfinished line's too: the total counts their jobs.
    for row in rows {
        let row_files = files.get(&row.number).into_iter().flatten();
        push_cards(&mut cards, &mut counts, row, row_files);
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>runcomfy batch gallery</title><style>{STYLE}</style></head><body>\n\
         <h1>runcomfy batch: {}</h1>\n<p class=\"meta\">{}</p>\n\
         <div class=\"grid\">\n{cards}</div>\n</body></html>\n",
        count_summary(&counts),
        escape(&total_text(&Spending::of(rows)))
    )
}

/// `total cost $0.17 (every job of the batch, failed ones too; 2 jobs did not say what they
/// cost: $0.20 at their estimates)`.
fn total_text(spending: &Spending) -> String {
    let besides: String = crate::report::besides_stated(spending, false)
        .iter()
        .map(|clause| format!("; {clause}"))
        .collect();
    format!(
        "total cost {} (every job of the batch, failed ones too{besides})",
        spending.stated
    )
}

/// Adds a card for each of a line's files, counting them by kind, and one for a job that failed
/// with none.
fn push_cards<'a>(
    cards: &mut String,
    counts: &mut BTreeMap<Option<MediaKind>, usize>,
    row: &Row,
    files: impl Iterator<Item = &'a FileRow>,
) {
    let files: Vec<&FileRow> = files.collect();
    // The job's cost, said on each of its cards: a reader adding them up must not count it
    // once a file.
    let cost = match (row.cost, files.len()) {
        (Some(cost), 0 | 1) => format!("cost {cost}"),
        (Some(cost), n) => format!("job cost {cost}, for its {n} files"),
        (None, _) => match &row.cost_unread {
            Some(said) => format!("cost {said} (not US dollars this runcomfy can read)"),
            None => "cost not given".to_owned(),
        },
    };
    let prompt = row_prompt(row);
    let mut label = match &row.key {
        Some(key) => format!("line {} · {key}", row.number),
        None => format!("line {}", row.number),
    };
    // Files saved before another one failed.
    match row.state {
        State::Downloaded => {}
        State::Failed => label.push_str(" · failed"),
        _ => label.push_str(" · not all saved yet"),
    }
    let card = |cards: &mut String, media: &str| {
        let _ = writeln!(
            cards,
            "<figure>{media}<figcaption><p class=\"prompt\">{}</p>\
             <div class=\"meta\">{}<br>{}<br>request {}<br>{}</div></figcaption></figure>",
            escape(&prompt),
            escape(&label),
            escape(row.model.as_deref().unwrap_or("")),
            escape(row.request_id.as_deref().unwrap_or("")),
            escape(&cost),
        );
    };
    for file in &files {
        let kind = kind_of(file);
        *counts.entry(kind).or_default() += 1;
        card(cards, &media_tag(kind, file, &prompt));
    }
    // A job that failed with no file: the total counts it, so the page names it, and why.
    if files.is_empty() && row.state == State::Failed && row.request_id.is_some() {
        let reason = row.reason.as_deref().unwrap_or("failed");
        card(
            cards,
            &format!("<p class=\"failed\">failed: {}</p>", escape(reason)),
        );
    }
}

/// The line's prompt, or nothing when its input has none.
fn row_prompt(row: &Row) -> String {
    row.input
        .as_deref()
        .and_then(|input| serde_json::from_str::<serde_json::Value>(input).ok())
        .and_then(|input| {
            input
                .as_object()
                .and_then(crate::input::prompt_of)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// The element showing a file of `kind`: an image, a player, or a link.
fn media_tag(kind: Option<MediaKind>, file: &FileRow, prompt: &str) -> String {
    let href = url_path(&file.path);
    match kind {
        Some(MediaKind::Image) => format!(
            "<a href=\"{href}\"><img loading=\"lazy\" src=\"{href}\" alt=\"{}\"></a>",
            escape(prompt)
        ),
        // `preload="metadata"`: a page of many clips fetches each one's header only.
        Some(MediaKind::Video) => format!(
            "<video controls preload=\"metadata\" src=\"{href}\" title=\"{}\"></video>",
            escape(prompt)
        ),
        Some(MediaKind::Audio) => format!(
            "<audio controls preload=\"metadata\" src=\"{href}\" title=\"{}\"></audio>",
            escape(prompt)
        ),
        None => format!("<a href=\"{href}\">{}</a>", escape(&file.path)),
    }
}

/// The heading's count of files: kinds in their order (images, videos, audio), then files
/// of no known kind.
fn count_summary(counts: &BTreeMap<Option<MediaKind>, usize>) -> String {
    let mut summary: Vec<String> = counts
        .iter()
        .filter_map(|(kind, n)| {
            let (one, many) = match (*kind)? {
                MediaKind::Image => ("image", "images"),
                MediaKind::Video => ("video", "videos"),
                MediaKind::Audio => ("audio file", "audio files"),
            };
            Some(count(*n as u64, one, many))
        })
        .collect();
    if let Some(n) = counts.get(&None) {
        summary.push(count(*n as u64, "other file", "other files"));
    }
    if summary.is_empty() {
        summary.push("no files".to_owned());
    }
    summary.join(", ")
}

/// What a downloaded file is: from the type the server declared, else from its name.
fn kind_of(file: &FileRow) -> Option<MediaKind> {
    let declared = file.content_type.as_deref().and_then(|mime| {
        MediaFormat::from_mime(mime)
            .map(MediaFormat::kind)
            .or_else(|| {
                let top = mime.split('/').next().unwrap_or_default();
                MediaKind::parse(top)
            })
    });
    declared.or_else(|| MediaFormat::from_extension(&file.path).map(MediaFormat::kind))
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative path as a URL path: `/`-separated, each segment percent-encoded.
fn url_path(path: &str) -> String {
    let mut out = String::new();
    for (i, segment) in path.split(['/', '\\']).enumerate() {
        if i > 0 {
            out.push('/');
        }
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                out.push(char::from(byte));
            } else {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_paths_are_relative() {
        let rows = vec![Row {
            number: 1,
            key: Some("<b>".into()),
            dir: Some("line-1".into()),
            model: Some("bytedance/seedream-4-0/sequential".into()),
            input: Some(r#"{"text":"a <script>alert(1)</script> & \"q\""}"#.into()),
            state: State::Downloaded,
            request_id: Some("r-1".into()),
            reason: None,
            submits: 1,
            estimate: "0.09".parse().ok(),
            basis: None,
            cost: "0.09".parse().ok(),
            submitted_at: None,
            unseen: Some(runcomfy::price::Usd::ZERO),
            cost_unread: None,
        }];
        let files = HashMap::from([(
            1,
            vec![FileRow {
                field: "images".into(),
                index: Some(0),
                path: "line 1/images-0.png".into(),
                bytes: 3,
                content_type: Some("image/png".into()),
                url: None,
                sha256: None,
            }],
        )]);
        let html = render(&rows, &files);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"));
        assert!(html.contains("src=\"line%201/images-0.png\""));
        assert!(html.contains("loading=\"lazy\""));
        assert!(html.contains("&lt;b&gt;"));
        assert!(html.contains("cost $0.09"), "per job");
        assert!(html.contains("total cost $0.09"), "and in total");
        assert!(!html.contains("http"), "no external assets");
    }

    #[test]
    fn each_kind_gets_its_element() {
        let row = |n: u64| Row {
            number: n,
            key: None,
            dir: None,
            model: None,
            input: Some(r#"{"prompt":"p"}"#.into()),
            state: State::Downloaded,
            request_id: None,
            reason: None,
            submits: 1,
            estimate: None,
            basis: None,
            cost: None,
            submitted_at: None,
            unseen: Some(runcomfy::price::Usd::ZERO),
            cost_unread: None,
        };
        let file = |path: &str, mime: Option<&str>| FileRow {
            field: "f".into(),
            index: None,
            path: path.into(),
            bytes: 1,
            content_type: mime.map(Into::into),
            url: None,
            sha256: None,
        };
        let files = HashMap::from([(
            1,
            vec![
                file("a.png", Some("image/png")),
                // A server that says octet-stream: the name decides.
                file("b.mp4", Some("application/octet-stream")),
                file("c.bin", Some("video/x-matroska")),
                file("d.wav", None),
                file("e.txt", Some("text/plain")),
            ],
        )]);
        let html = render(&[row(1)], &files);
        assert_eq!(html.matches("<img ").count(), 1);
        assert_eq!(html.matches("<video controls").count(), 2, "{html}");
        assert_eq!(html.matches("<audio controls").count(), 1);
        assert!(html.contains("<a href=\"e.txt\">e.txt</a>"));
        assert!(html.contains("runcomfy batch: 1 image, 2 videos, 1 audio file, 1 other file"));
        let empty = render(&[], &HashMap::new());
        assert!(empty.contains("runcomfy batch: no files"));
    }

    /// The total counts every job, so the page shows every file those jobs saved (a failed
    /// line's too) and says what may have been billed besides.
    #[test]
    fn the_total_is_of_every_job_and_says_what_it_leaves_out() {
        let row = |n: u64, state: State, cost: Option<&str>| Row {
            number: n,
            key: None,
            dir: None,
            model: None,
            input: None,
            state,
            request_id: Some(format!("r-{n}")),
            reason: None,
            submits: 1,
            estimate: None,
            basis: None,
            cost: cost.and_then(|c| c.parse().ok()),
            submitted_at: None,
            unseen: Some(runcomfy::price::Usd::ZERO),
            cost_unread: None,
        };
        let file = |path: &str| FileRow {
            field: "images".into(),
            index: None,
            path: path.into(),
            bytes: 1,
            content_type: Some("image/png".into()),
            url: None,
            sha256: None,
        };
        let rows = [
            row(1, State::Downloaded, Some("0.10")),
            Row {
                estimate: "0.04".parse().ok(),
                ..row(2, State::Downloaded, None)
            },
            Row {
                reason: Some("it broke".into()),
                ..row(3, State::Failed, Some("0.05"))
            },
            row(4, State::Failed, Some("0.02")),
            row(5, State::Failed, None),
            Row {
                request_id: None,
                submits: 0,
                ..row(6, State::Failed, None)
            },
        ];
        let files = HashMap::from([
            (1, vec![file("1.png")]),
            (2, vec![file("2.png")]),
            (4, vec![file("4.png")]),
        ]);
        let html = render(&rows, &files);
        assert!(html.contains("runcomfy batch: 3 images"), "{html}");
        assert!(html.contains("line 4 · failed"), "{html}");
        // Line 3 failed with no file, at a cost: named, with why.
        assert!(html.contains("line 3 · failed"), "{html}");
        assert!(html.contains("failed: it broke"), "{html}");
        assert!(html.contains("line 5 · failed"), "{html}");
        assert!(
            !html.contains("line 6 "),
            "never accepted, nothing billed: {html}"
        );
        assert!(
            html.contains(
                "total cost $0.17 (every job of the batch, failed ones too; 2 jobs did not say \
                 what they cost: $0.04 at the estimate of 1 of them)"
            ),
            "{html}"
        );
    }
}
