//! Output images: how many, how large, and their PNG bytes.

use runcomfy::catalog::{FieldKind, MediaKind, ModelInfo};
use serde_json::Value;

/// Seedream's limit: reference images plus generated images.
const MAX_TOTAL_IMAGES: u64 = 15;
/// Size when neither the input nor the schema says one.
const DEFAULT_SIDE: u32 = 1024;
/// Largest side we render, so a hostile size cannot exhaust memory.
const MAX_SIDE: u32 = 8192;

/// The outputs a job produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputPlan {
    pub width: u32,
    pub height: u32,
    pub count: usize,
}

/// Works out the size and count of the outputs from a (validated) input.
pub(crate) fn plan(model: &ModelInfo, input: &Value) -> OutputPlan {
    let (width, height) = ["image_size", "resolution", "size"]
        .into_iter()
        .find_map(|name| {
            let value = input
                .get(name)
                .cloned()
                .or_else(|| model.field(name).and_then(|f| f.default_value()))?;
            parse_size(value.as_str()?)
        })
        .unwrap_or((DEFAULT_SIDE, DEFAULT_SIDE));
    OutputPlan {
        width,
        height,
        count: count(model, input),
    }
}

/// The number of images: `sequential_image_generation_options` (or its default) where the
/// model has it, capped so references plus outputs stay within 15; else one.
fn count(model: &ModelInfo, input: &Value) -> usize {
    let Some(field) = model.field("sequential_image_generation_options") else {
        return 1;
    };
    let wanted = input
        .get(field.name)
        .and_then(Value::as_u64)
        .or_else(|| field.default_value().and_then(|v| v.as_u64()))
        .unwrap_or(1);
    let references: u64 = model
        .fields
        .iter()
        .filter(|f| f.array && f.kind == FieldKind::Media(MediaKind::Image))
        .filter_map(|f| input.get(f.name).and_then(Value::as_array))
        .map(|items| items.len() as u64)
        .sum();
    wanted
        .min(MAX_TOTAL_IMAGES.saturating_sub(references))
        .max(1) as usize
}

/// `2560:1440 (16:9)`, `2048x2048 (1:1)`, `1024*768`, `1K`/`2K`/`4K`.
pub(crate) fn parse_size(text: &str) -> Option<(u32, u32)> {
    let head = text.split_whitespace().next()?;
    let side = |k: u32| Some((k * 1024, k * 1024));
    match head.to_ascii_uppercase().as_str() {
        "1K" => return side(1),
        "2K" => return side(2),
        "4K" => return side(4),
        _ => {}
    }
    let (w, h) = head.split_once(['x', 'X', ':', '*'])?;
    let (w, h): (u32, u32) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    ((1..=MAX_SIDE).contains(&w) && (1..=MAX_SIDE).contains(&h)).then_some((w, h))
}

/// A PNG of a gradient whose colours come from `seed`; the same seed gives the same bytes.
///
/// Rows differ from the one above by a constant, so with the `Up` filter and fast deflate even
/// a 4096 x 4096 image encodes in a few tens of milliseconds to a few kilobytes.
pub(crate) fn render_png(
    width: u32,
    height: u32,
    seed: u64,
) -> Result<Vec<u8>, png::EncodingError> {
    let [r0, g0, b0, dr, dg, ..] = seed.to_le_bytes();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Up);
    let mut writer = encoder.write_header()?;
    let mut stream = writer.stream_writer()?;
    let w = width as usize;
    // Red and blue vary across, green down; `dr`/`dg` pick the slopes.
    let mut row = vec![0u8; w * 3];
    for (x, px) in row.chunks_exact_mut(3).enumerate() {
        let t = (x * 256 / w.max(1)) as u8;
        px[0] = r0.wrapping_add(t.wrapping_mul(dr | 1));
        px[2] = b0.wrapping_sub(t);
    }
    for y in 0..height as usize {
        let g = g0.wrapping_add(((y * 256 / height.max(1) as usize) as u8).wrapping_mul(dg | 1));
        for px in row.chunks_exact_mut(3) {
            px[1] = g;
        }
        std::io::Write::write_all(&mut stream, &row)?;
    }
    stream.finish()?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("2560:1440 (16:9)"), Some((2560, 1440)));
        assert_eq!(parse_size("2048x2048 (1:1)"), Some((2048, 2048)));
        assert_eq!(parse_size("1K"), Some((1024, 1024)));
        assert_eq!(parse_size("2K"), Some((2048, 2048)));
        assert_eq!(parse_size("4k"), Some((4096, 4096)));
        assert_eq!(parse_size("auto"), None);
        assert_eq!(parse_size("0x100"), None);
        assert_eq!(parse_size("100000x100"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn png_has_the_size_and_is_deterministic() {
        let a = render_png(300, 200, 42).unwrap_or_default();
        let b = render_png(300, 200, 42).unwrap_or_default();
        let c = render_png(300, 200, 43).unwrap_or_default();
        assert!(!a.is_empty());
        assert_eq!(a, b);
        assert_ne!(a, c);
        let decoder = png::Decoder::new(std::io::Cursor::new(&a));
        let reader = decoder.read_info();
        assert!(reader.is_ok());
        if let Ok(reader) = reader {
            assert_eq!((reader.info().width, reader.info().height), (300, 200));
        }
    }
}
