//! The doc-page importer never panics, whatever the text: a page, or an error naming the page
//! (and a line and column inside it), never a crash; what it accepts normalizes. The twin of
//! the `page_import` fuzz target in `fuzz/`.

use std::path::Path;

use proptest::prelude::*;
use xtask::page::{Page, PageError, parse_page};

/// Pieces of real pages: ids, curl lines, schemas (whole and cut), localized prose.
const FRAGMENTS: &[&str] = &[
    "curl --request POST --url https://model-api.runcomfy.net/v1/models/bytedance/seedream-4-0/edit \\\n",
    "https://model-api.runcomfy.net/v1/models/acme/other-model/",
    "/v1/models/",
    "/v1/models/a/b?x=1",
    "bytedance/seedream-4-0/edit\n",
    "{\"type\": \"object\", \"properties\": {\"prompt\": {\"type\": \"string\", \"maxLength\": 600}}, \"required\": [\"prompt\"]}",
    "{\"properties\": {\"images\": {\"type\": \"array\", \"items\": {\"type\": \"string\", \"format\": \"image_uri\"}}}}",
    "{\"output\": {\"type\": \"object\", \"properties\": {\"images\": {\"type\": \"array\"}}}}",
    "{\"output\": {\"image\": ",
    "{\"type\": \"object\", \"properties\": {\"x\": 1,}}",
    "{\"title\": \"Entrée\", \"properties\": ",
    "{",
    "}",
    "\"",
    "\\",
    "\n",
    "\r\n",
    "スキーマ ",
    "Esquema de entrada ",
    "\u{feff}",
    "\u{0}",
];

fn page_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
            1 => any::<String>(),
            1 => "[{}\\[\\]\":,/a-z0-9\\\\ \n]{0,24}",
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

/// Parses; an error names the page, and a position within the text when it gives one.
fn check(text: &str) {
    match parse_page(Path::new("page.txt"), text) {
        Ok(Page { input, output, .. }) => {
            let _ = xtask::normalize::input(input);
            let _ = xtask::normalize::output(output);
        }
        Err(err) => {
            let message = err.to_string();
            assert!(message.starts_with("page.txt"), "{message}");
            if let PageError::InvalidJson { line, column, .. }
            | PageError::ConflictingIds { line, column, .. } = err
            {
                let lines = text.split('\n').count();
                assert!(
                    (1..=lines).contains(&line),
                    "line {line} of {lines}: {message}"
                );
                assert!(column >= 1, "{message}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn pieces_of_pages_never_panic(text in page_text()) {
        check(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn a_seed_page_cut_or_spliced_never_panics(
        seed in 0usize..5,
        cut in any::<prop::sample::Index>(),
        len in 0usize..400,
        insert in page_text(),
    ) {
        let dir = xtask::workspace_root().join("../shared/seeds");
        let mut pages: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        pages.sort();
        let text = std::fs::read_to_string(&pages[seed % pages.len()]).unwrap();
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + len).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        // Replace a stretch of a real page: a damaged save, a paste gone wrong.
        let spliced = format!("{}{insert}{}", &text[..at], &text[end..]);
        check(&spliced);
    }
}
