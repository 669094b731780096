//! The batch gallery in a real browser: a `--mock` batch of image, video and audio models, then
//! headless Chromium opens `gallery.html` and every `<img>`, `<video>` and `<audio>` must load.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs it when missing);
//! `RUNCOMFY_TEST_BROWSER` names another Chromium-family binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Probes each media element once it settles and writes one line per element into
/// `<pre id="media-check">`, which `--dump-dom` prints.
const PROBE: &str = r#"<script>
function settle(el) {
  return new Promise(function (done) {
    if (el.tagName === 'IMG') {
      el.loading = 'eager';
      if (el.complete) { done(el.naturalWidth > 0 ? 'ok' : 'error'); return; }
      el.onload = function () { done(el.naturalWidth > 0 ? 'ok' : 'error'); };
      el.onerror = function () { done('error'); };
    } else {
      if (el.readyState >= 1) { done('ok'); return; }
      el.onloadedmetadata = function () { done('ok'); };
      el.onerror = function () { done('error ' + (el.error && el.error.code)); };
    }
  }).then(function (state) {
    return el.tagName.toLowerCase() + ' ' + el.getAttribute('src') + ' ' + state;
  });
}
Promise.all(Array.from(document.querySelectorAll('img,video,audio')).map(settle))
  .then(function (lines) {
    var pre = document.createElement('pre');
    pre.id = 'media-check';
    pre.textContent = lines.join('\n');
    document.body.appendChild(pre);
  });
</script>"#;

fn browser() -> PathBuf {
    if let Some(path) = std::env::var_os("RUNCOMFY_TEST_BROWSER") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    panic!(
        "no headless browser: install Debian's `chromium` (`.ci/run` does), or set RUNCOMFY_TEST_BROWSER"
    );
}

/// Opens `page` in headless Chromium; returns the probe's lines.
fn probe(page: &Path) -> Vec<String> {
    let output = Command::new(browser())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--allow-file-access-from-files",
            "--virtual-time-budget=20000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom
        .find("<pre id=\"media-check\">")
        .unwrap_or_else(|| panic!("the probe never finished:\n{dom}"));
    let rest = &dom[start + "<pre id=\"media-check\">".len()..];
    let end = rest.find("</pre>").unwrap();
    rest[..end].lines().map(str::to_owned).collect()
}

fn write_png(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), 64, 48);
    encoder.set_color(png::ColorType::Rgb);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[0x60; 64 * 48 * 3]).unwrap();
}

#[test]
fn every_image_video_and_audio_of_a_gallery_loads_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let frame = dir.path().join("frame.png");
    write_png(&frame);
    let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../simulator/assets/clip.mp4");
    let lines = [
        serde_json::json!({"model": "bytedance/seedream-4-0/sequential", "key": "stills",
            "input": {"text": "Two views of a lighthouse at dusk.",
                      "sequential_image_generation_options": 2, "image_size": "16:9"}}),
        serde_json::json!({"model": "bytedance/seedance-2.5/reference-to-video/480p", "key": "clip",
            "input": {"prompt": "The lighthouse in a storm.", "images": [frame],
                      "videos": [clip]}}),
        serde_json::json!({"model": "acestep-ai/ace-step-1.5/text-to-audio", "key": "tune",
            "input": {"tags": "calm, piano, sea"}}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("in.jsonl"), text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_runcomfy"))
        .current_dir(dir.path())
        .env_remove("RUNCOMFY_TOKEN")
        .env("RUNCOMFY_CACHE_DIR", "")
        .args(["--mock", "batch", "in.jsonl", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let out = dir.path().join("out");
    let gallery = std::fs::read_to_string(out.join("gallery.html")).unwrap();
    assert!(
        gallery.contains("runcomfy batch: 2 images, 1 video, 1 audio file"),
        "{gallery}"
    );
    // The probe page sits beside the gallery, so its relative links resolve the same way.
    let page = out.join("probe.html");
    std::fs::write(
        &page,
        gallery.replace("</body>", &format!("{PROBE}</body>")),
    )
    .unwrap();
    let results = probe(&page);
    let count = |tag: &str| results.iter().filter(|l| l.starts_with(tag)).count();
    assert_eq!(
        (count("img "), count("video "), count("audio ")),
        (2, 1, 1),
        "{results:#?}"
    );
    for line in &results {
        assert!(line.ends_with(" ok"), "did not load: {line}\n{results:#?}");
    }

    // The probe can fail: a damaged clip does not load.
    let video = results
        .iter()
        .find(|l| l.starts_with("video "))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap();
    std::fs::write(out.join(video.replace("%20", " ")), b"not a video at all").unwrap();
    let damaged = probe(&page);
    assert!(
        damaged
            .iter()
            .any(|l| l.starts_with("video ") && l.contains("error")),
        "{damaged:#?}"
    );
}
