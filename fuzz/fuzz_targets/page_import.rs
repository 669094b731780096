//! The doc-page importer on any text: a page, or an error naming the page (and a position),
//! never a panic; a page it accepts normalizes without panicking too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(page) = xtask::page::parse_page(std::path::Path::new("page.txt"), &text) {
        let _ = xtask::normalize::input(page.input);
        let _ = xtask::normalize::output(page.output);
    }
});
