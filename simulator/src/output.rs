//! Outputs: how many files a job makes, of which kind, and their bytes: PNG images, MP4
//! videos and WAV audio that players open.

use runcomfy::catalog::{FieldKind, ModelInfo};
use runcomfy::schema::{MediaFormat, MediaKind};
use serde_json::Value;

/// A two-second 160x90 H.264 video (baseline profile) in an MP4 container, made with
/// `ffmpeg -f lavfi -i testsrc=size=160x90:rate=8 -t 2 -c:v libx264 -profile:v baseline
/// -pix_fmt yuv420p -crf 35 -movflags +faststart`: every video a simulated job returns.
const CLIP_MP4: &[u8] = include_bytes!("../assets/clip.mp4");

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
    pub kind: MediaKind,
}

/// What a model returns: its catalog's word for it, else images (as the seed models do).
pub(crate) fn kind_of(model: &ModelInfo) -> MediaKind {
    model.upstream.output_kind.unwrap_or(MediaKind::Image)
}

/// The file format of each output kind.
pub(crate) fn format_of(kind: MediaKind) -> MediaFormat {
    match kind {
        MediaKind::Image => MediaFormat::Png,
        MediaKind::Video => MediaFormat::Mp4,
        MediaKind::Audio => MediaFormat::Wav,
    }
}

/// The output field of `count` files of `kind`: `images` for images (as the seeds' docs show),
/// `video`/`videos` and `audio`/`audios` otherwise.
pub(crate) fn field_of(kind: MediaKind, count: usize) -> &'static str {
    match (kind, count) {
        (MediaKind::Image, _) => "images",
        (MediaKind::Video, 1) => "video",
        (MediaKind::Video, _) => "videos",
        (MediaKind::Audio, 1) => "audio",
        (MediaKind::Audio, _) => "audios",
    }
}

/// The bytes of one output file.
pub(crate) fn render(plan: OutputPlan, seed: u64) -> Result<Vec<u8>, png::EncodingError> {
    match plan.kind {
        MediaKind::Image => render_png(plan.width, plan.height, seed),
        MediaKind::Video => Ok(CLIP_MP4.to_vec()),
        MediaKind::Audio => Ok(render_wav(seed)),
    }
}

/// One second of a sine tone (8 kHz, 16-bit mono PCM) in a WAV file, its pitch from `seed`.
pub(crate) fn render_wav(seed: u64) -> Vec<u8> {
    const RATE: u32 = 8000;
    let frequency = 220.0 + (seed % 660) as f64;
    let samples: Vec<u8> = (0..RATE)
        .flat_map(|i| {
            let t = f64::from(i) / f64::from(RATE);
            let value = (std::f64::consts::TAU * frequency * t).sin() * 8000.0;
            (value as i16).to_le_bytes()
        })
        .collect();
    let mut out = Vec::with_capacity(44 + samples.len());
    let data_len = u32::try_from(samples.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

/// `bytes` padded to `size` the way its format allows, so the file stays valid: a private
/// ancillary chunk before a PNG's `IEND`, a `free` box after an MP4's boxes, a `JUNK` chunk
/// in a WAV's RIFF. A file already that large, or one of another format, is left as it is.
pub(crate) fn pad(bytes: Vec<u8>, kind: MediaKind, size: u64) -> Vec<u8> {
    const PNG_END: usize = 12; // IEND: length, type, CRC.
    let Ok(size) = usize::try_from(size) else {
        return bytes;
    };
    // Length, type and (PNG) CRC of the padding chunk or box.
    let overhead = match kind {
        MediaKind::Image => 12,
        MediaKind::Video | MediaKind::Audio => 8,
    };
    let Some(filler) = size.checked_sub(bytes.len() + overhead) else {
        return bytes;
    };
    let mut out = Vec::with_capacity(size);
    match kind {
        MediaKind::Image => {
            let Some(body) = bytes.len().checked_sub(PNG_END) else {
                return bytes;
            };
            let Ok(len) = u32::try_from(filler) else {
                return bytes;
            };
            out.extend_from_slice(&bytes[..body]);
            out.extend_from_slice(&len.to_be_bytes());
            let start = out.len();
            // Ancillary, private, reserved bit clear, safe to copy.
            out.extend_from_slice(b"rcPd");
            out.resize(out.len() + filler, 0);
            let crc = crc32fast::hash(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
            out.extend_from_slice(&bytes[body..]);
        }
        MediaKind::Video => {
            let Ok(len) = u32::try_from(filler + 8) else {
                return bytes;
            };
            out.extend_from_slice(&bytes);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(b"free");
            out.resize(size, 0);
        }
        MediaKind::Audio => {
            // A RIFF chunk's data has an even length.
            let filler = filler - filler % 2;
            let (Ok(len), Ok(riff)) = (
                u32::try_from(filler),
                u32::try_from(bytes.len() + overhead + filler - 8),
            ) else {
                return bytes;
            };
            out.extend_from_slice(&bytes);
            out[4..8].copy_from_slice(&riff.to_le_bytes());
            out.extend_from_slice(b"JUNK");
            out.extend_from_slice(&len.to_le_bytes());
            out.resize(out.len() + filler, 0);
        }
    }
    out
}

/// Works out the size and count of the outputs from a (validated) input.
pub(crate) fn plan(model: &ModelInfo, input: &Value) -> OutputPlan {
    let (width, height) = ["image_size", "resolution", "size"]
        .into_iter()
        .find_map(|name| {
            let value = input.get(name).cloned().or_else(|| {
                model
                    .field(name)
                    .and_then(|f| f.default())
                    .map(|d| d.to_value())
            })?;
            parse_size(value.as_str()?)
        })
        .unwrap_or((DEFAULT_SIDE, DEFAULT_SIDE));
    let kind = kind_of(model);
    OutputPlan {
        width,
        height,
        // One video or audio file a job, as RunComfy's models return.
        count: if kind == MediaKind::Image {
            count(model, input)
        } else {
            1
        },
        kind,
    }
}

/// The number of images made: what [`billed`] counts, but one when sequential generation is
/// disabled (the docs: `disabled` generates a single image).
fn count(model: &ModelInfo, input: &Value) -> usize {
    if input
        .get("sequential_image_generation")
        .and_then(Value::as_str)
        == Some("disabled")
    {
        return 1;
    }
    billed(model, input)
}

/// The number of images billed: the model's field counting outputs for the price (Seedream's
/// `sequential_image_generation_options`, `num_images`...; its default when left out), capped
/// so references plus outputs stay within 15 (the validator normally refuses more already);
/// one for a model with no count. The docs say "the final price will be calculated based on
/// this value", a maximum, whatever the job then makes.
fn billed(model: &ModelInfo, input: &Value) -> usize {
    let Some(field) = model
        .price_units
        .iter()
        .find(|f| f.unit == runcomfy::price::PriceUnit::Output)
        .and_then(|f| model.field(f.name))
    else {
        return 1;
    };
    let wanted = input
        .get(field.name)
        .and_then(Value::as_u64)
        .or_else(|| field.default().and_then(|v| v.to_value().as_u64()))
        .unwrap_or(1);
    let references: u64 = model
        .fields()
        .filter(|f| f.is_list() && f.kind() == FieldKind::Media(MediaKind::Image))
        .filter_map(|f| input.get(f.name).and_then(Value::as_array))
        .map(|items| items.len() as u64)
        .sum();
    wanted
        .min(MAX_TOTAL_IMAGES.saturating_sub(references))
        .max(1) as usize
}

/// Seconds a job of a model priced per second makes when its input does not say (`auto`).
const DEFAULT_SECONDS: f64 = 5.0;

/// What a job costs: the rate times the outputs billed ([`billed`]), or times the seconds its input asks
/// for (the sum of its duration fields, or [`DEFAULT_SECONDS`] when they say `auto`). A base
/// price is charged as a fixed one: the floor. `None` when the rate or unit is unknown.
pub(crate) fn cost(
    model: &ModelInfo,
    price: &runcomfy::price::Price,
    input: &Value,
    plan: &OutputPlan,
) -> Option<runcomfy::price::Usd> {
    use runcomfy::price::{PriceUnit, Pricing};
    let rate = price.usd?;
    let units = match price.unit? {
        // Images are billed by the count asked for; a video or audio job makes one file.
        PriceUnit::Output if plan.kind == MediaKind::Image => billed(model, input) as f64,
        PriceUnit::Output => plan.count as f64,
        _ => {
            let fixed = runcomfy::price::Price {
                pricing: Some(Pricing::Fixed),
                ..price.clone()
            };
            match runcomfy::estimate::estimate(model, &fixed, input).basis {
                runcomfy::estimate::Basis::Units { units, .. } => units,
                runcomfy::estimate::Basis::None(_) => DEFAULT_SECONDS,
            }
        }
    };
    rate.times(units)
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

/// Colours of the palette; 4 bits per pixel.
const PALETTE_SIZE: usize = 16;
/// Bands across and down: the index of a pixel is its band across plus its band down.
const BANDS: usize = 8;

/// A PNG of diagonal colour bands (a coarse gradient) whose colours come from `seed`; the same
/// seed gives the same bytes.
///
/// Speed matters more than beauty: a 4-bit palette image is a sixth of the bytes of RGB, and
/// rows only change at band edges, so with the `Up` filter almost every filtered row is zeros
/// and a 4096 x 4096 image encodes in tens of milliseconds to a few kilobytes.
pub(crate) fn render_png(
    width: u32,
    height: u32,
    seed: u64,
) -> Result<Vec<u8>, png::EncodingError> {
    let [r0, g0, b0, dr, dg, db, ..] = seed.to_le_bytes();
    let palette: Vec<u8> = (0..PALETTE_SIZE as u8)
        .flat_map(|i| {
            [
                r0.wrapping_add(i.wrapping_mul(dr | 9)),
                g0.wrapping_add(i.wrapping_mul(dg | 5)),
                b0.wrapping_add(i.wrapping_mul(db | 3)),
            ]
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Four);
    encoder.set_palette(palette);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Up);
    let mut writer = encoder.write_header()?;
    let mut stream = writer.stream_writer()?;
    let (w, h) = (width as usize, height as usize);
    let band_across: Vec<usize> = (0..w).map(|x| x * BANDS / w.max(1)).collect();
    let mut row = vec![0u8; w.div_ceil(2)];
    let mut band_down = usize::MAX;
    for y in 0..h {
        let band = y * BANDS / h.max(1);
        if band != band_down {
            band_down = band;
            row.fill(0);
            for (x, across) in band_across.iter().enumerate() {
                let index = ((across + band) % PALETTE_SIZE) as u8;
                row[x / 2] |= if x % 2 == 0 { index << 4 } else { index };
            }
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

    /// A plan of one file of `kind`, `width` by `height`.
    fn one(kind: MediaKind, width: u32, height: u32) -> OutputPlan {
        OutputPlan {
            width,
            height,
            count: 1,
            kind,
        }
    }

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
    fn counts_are_capped_by_references() {
        let Some(model) = runcomfy::catalog::find("bytedance/seedream-4-0/edit-sequential") else {
            panic!("the seed model edit-sequential is missing from the catalog");
        };
        let refs =
            |n: usize| -> Vec<String> { (0..n).map(|i| format!("https://x/{i}.png")).collect() };
        let input =
            serde_json::json!({"images": refs(12), "sequential_image_generation_options": 15});
        assert_eq!(count(model, &input), 3);
        let input = serde_json::json!({"images": refs(2)});
        assert_eq!(count(model, &input), 3, "the schema default");
        let input =
            serde_json::json!({"images": refs(15), "sequential_image_generation_options": 4});
        assert_eq!(count(model, &input), 1, "never fewer than one");
        let plan = plan(
            model,
            &serde_json::json!({"images": refs(1), "image_size": "1728:2304 (3:4)"}),
        );
        assert_eq!((plan.width, plan.height, plan.count), (1728, 2304, 3));
        assert_eq!(plan.kind, MediaKind::Image);
    }

    #[test]
    fn every_kind_renders_a_file_of_its_format() {
        for kind in MediaKind::ALL {
            let bytes = render(one(kind, 32, 16), 7).unwrap_or_default();
            assert_eq!(MediaFormat::sniff(&bytes), Some(format_of(kind)), "{kind}");
        }
        assert_eq!(render_wav(1).len(), 44 + 16_000);
    }

    #[test]
    fn padded_files_have_the_size_and_stay_valid() {
        for kind in MediaKind::ALL {
            let bytes = render(one(kind, 64, 48), 3).unwrap_or_default();
            let padded = pad(bytes.clone(), kind, 100_000);
            // WAV chunks are even: a byte short at most.
            assert!((99_999..=100_000).contains(&padded.len()), "{kind}");
            assert_eq!(MediaFormat::sniff(&padded), Some(format_of(kind)), "{kind}");
            assert_eq!(
                pad(bytes.clone(), kind, 10),
                bytes,
                "{kind}: already larger"
            );
        }
        let png = pad(
            render_png(64, 48, 3).unwrap_or_default(),
            MediaKind::Image,
            50_000,
        );
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let Ok(mut reader) = decoder.read_info() else {
            panic!("the padded PNG does not read");
        };
        let mut pixels = vec![0; reader.output_buffer_size().unwrap_or(0)];
        assert!(
            reader.next_frame(&mut pixels).is_ok(),
            "its chunks check out"
        );
        assert_eq!((reader.info().width, reader.info().height), (64, 48));
        let wav = pad(render_wav(1), MediaKind::Audio, 50_000);
        let riff = u32::from_le_bytes([wav[4], wav[5], wav[6], wav[7]]);
        assert_eq!(riff as usize, wav.len() - 8);
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
