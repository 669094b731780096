//! Downloads (issue 9, target 6): fifteen 20 MB outputs through [`Client::download_with`],
//! against the loopback rate of a plain reqwest loop fetching the same files, and the peak
//! memory of each.
//!
//! A tiny HTTP/1.1 server in the bench serves the files from one shared buffer (the simulator
//! makes its outputs at the requested image size, not at a size in bytes). Peers, alternately
//! in the same run: reqwest streaming each body to a file (the same disk work; also with an
//! fsync before close, which the client does so a renamed file is whole), reqwest
//! streaming to nowhere (the loopback rate), and reqwest reading each body whole into memory
//! (what RunComfy's CLI does). Peak memory is `VmHWM` growth over the RSS before each pass,
//! with `VmHWM` reset through `/proc/self/clear_refs`.
//!
//! Run with `cargo bench -p runcomfy --bench download` (`-- --quick` for fewer rounds).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use runcomfy::models::bytedance::seedream_4_0::sequential::Sequential;
use runcomfy::{Client, DownloadOptions, Model};
use serde_json::json;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FILES: usize = 15;
const SIZE: usize = 20 * 1024 * 1024;
/// Files at once, for every side (the client's default).
const CONCURRENCY: usize = 4;

/// A PNG of `SIZE` bytes as an encoder writes one: its signature, a header chunk, data in
/// 64 KiB chunks (zeros: the client neither inflates nor checks CRCs), and its end. The client
/// names the file by its first bytes and walks its chunks to the end, as for any download.
fn body() -> Bytes {
    const CHUNK: usize = 64 * 1024;
    let mut data = Vec::with_capacity(SIZE);
    data.extend_from_slice(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR");
    data.extend_from_slice(&[0, 0, 0x10, 0, 0, 0, 0x10, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let end = b"\0\0\0\0IEND\xae\x42\x60\x82";
    while data.len() + 12 + end.len() < SIZE {
        let len = CHUNK.min(SIZE - data.len() - 12 - end.len());
        data.extend_from_slice(&(len as u32).to_be_bytes());
        data.extend_from_slice(b"IDAT");
        data.resize(data.len() + len + 4, 0);
    }
    data.extend_from_slice(end);
    data.resize(SIZE, 0);
    Bytes::from(data)
}

/// Serves `body` for every GET, keep-alive, until the runtime ends.
async fn serve(listener: tokio::net::TcpListener, body: Bytes) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let body = body.clone();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            loop {
                // Read one request head (GETs have no body).
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let mut chunk = [0u8; 4096];
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                buf.drain(..end);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if socket.write_all(head.as_bytes()).await.is_err()
                    || socket.write_all(&body).await.is_err()
                {
                    return;
                }
            }
        });
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Side {
    Client,
    RawToFile,
    RawToFileSynced,
    RawToNowhere,
    RawWholeBody,
}

/// Seconds taken and peak RSS growth in bytes.
fn pass(rt: &tokio::runtime::Runtime, side: Side, base: &str, dir: &Path) -> (f64, u64) {
    let urls: Vec<String> = (0..FILES).map(|i| format!("{base}/out/{i}.png")).collect();
    let output: <Sequential as Model>::Output =
        serde_json::from_value(json!({ "images": urls })).unwrap();
    let client = Client::builder().token("t").base_url(base).build().unwrap();
    let http = reqwest::Client::new();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let rss = status_bytes("VmRSS");
    reset_peak_rss();
    let start = Instant::now();
    rt.block_on(async {
        match side {
            Side::Client => {
                let files = client
                    .download_with(
                        &output,
                        dir,
                        &DownloadOptions::new().concurrency(CONCURRENCY),
                    )
                    .await
                    .unwrap();
                assert_eq!(files.len(), FILES);
                assert!(files.iter().all(|f| f.bytes == SIZE as u64));
            }
            _ => {
                futures::stream::iter(urls.iter().enumerate())
                    .for_each_concurrent(CONCURRENCY, |(i, url)| {
                        let http = http.clone();
                        async move {
                            let response = http.get(url).send().await.unwrap();
                            match side {
                                Side::RawWholeBody => {
                                    let body = response.bytes().await.unwrap();
                                    tokio::fs::write(dir.join(format!("{i}.png")), &body)
                                        .await
                                        .unwrap();
                                }
                                Side::RawToFile | Side::RawToFileSynced => {
                                    let mut file =
                                        tokio::fs::File::create(dir.join(format!("{i}.png")))
                                            .await
                                            .unwrap();
                                    let mut stream = response.bytes_stream();
                                    while let Some(chunk) = stream.next().await {
                                        file.write_all(&chunk.unwrap()).await.unwrap();
                                    }
                                    file.flush().await.unwrap();
                                    if side == Side::RawToFileSynced {
                                        file.sync_all().await.unwrap();
                                    }
                                }
                                _ => {
                                    let mut stream = response.bytes_stream();
                                    let mut n = 0;
                                    while let Some(chunk) = stream.next().await {
                                        n += chunk.unwrap().len();
                                    }
                                    assert_eq!(n, SIZE);
                                }
                            }
                        }
                    })
                    .await;
            }
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let peak = status_bytes("VmHWM").saturating_sub(rss);
    (seconds, peak)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let body = body();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(serve(listener, body));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    let sides = [
        Side::Client,
        Side::RawToFile,
        Side::RawToFileSynced,
        Side::RawToNowhere,
        Side::RawWholeBody,
    ];
    // Warm-up of every path (and the page cache's free pages).
    for side in sides {
        pass(&rt, side, &base, &target);
    }
    let rounds = if quick() { 2 } else { 5 };
    let mut results: Vec<(Side, Vec<f64>, Vec<u64>)> =
        sides.iter().map(|s| (*s, vec![], vec![])).collect();
    for round in 0..rounds {
        for k in 0..sides.len() {
            // Rotate the order each round so drift in background load hits all alike.
            let side = sides[(k + round) % sides.len()];
            let (seconds, peak) = pass(&rt, side, &base, &target);
            let entry = results.iter_mut().find(|(s, _, _)| *s == side).unwrap();
            entry.1.push(seconds);
            entry.2.push(peak);
        }
    }
    let total_mb = (FILES * SIZE) as f64 / (1024.0 * 1024.0);
    let figures: Vec<(Side, f64, u64)> = results
        .iter()
        .map(|(side, secs, peaks)| {
            (
                *side,
                total_mb / median(secs.clone()),
                peaks.iter().copied().max().unwrap_or(0),
            )
        })
        .collect();
    let get = |side: Side| *figures.iter().find(|f| f.0 == side).unwrap();
    println!(
        "downloads: {FILES} x 20 MiB, {CONCURRENCY} at a time (medians of {rounds} rotated rounds; peak = largest)"
    );
    for (side, rate, peak) in &figures {
        println!(
            "  {:<14} {rate:>7.0} MiB/s  peak RSS +{:.1} MiB",
            format!("{side:?}"),
            *peak as f64 / (1024.0 * 1024.0)
        );
    }
    let (_, ours, our_peak) = get(Side::Client);
    let (_, to_file, _) = get(Side::RawToFile);
    let (_, synced, _) = get(Side::RawToFileSynced);
    let (_, loopback, _) = get(Side::RawToNowhere);
    let (_, _, whole_peak) = get(Side::RawWholeBody);
    // The peer doing the same work: the client syncs each file before renaming it into place
    // (a file that exists is whole), so the fair comparison syncs too; the unsynced and
    // disk-free rates show what that durability and the disk cost.
    emit(json!({
        "target": "6 downloads",
        "what": "15 x 20 MiB, MiB/s",
        "ours": ours,
        "peer_name": "raw reqwest streaming to files, fsync before close",
        "peer": synced,
        "ratio": ours / synced,
        "note": format!(
            "ratio = Client/raw-to-file-synced (>= 0.8 passes); raw to files without fsync {to_file:.0} MiB/s, Client at {:.2} of it; loopback (raw to nowhere) {loopback:.0} MiB/s, Client at {:.2} of it",
            ours / to_file,
            ours / loopback
        ),
        "pass": ours >= 0.8 * synced,
    }));
    emit(json!({
        "target": "6 downloads",
        "what": "peak RSS growth (MiB)",
        "ours": our_peak as f64 / (1024.0 * 1024.0),
        "peer_name": "whole bodies in memory (RunComfy CLI style)",
        "peer": whole_peak as f64 / (1024.0 * 1024.0),
        "note": "<= 64 MiB above the RSS before the pass passes; largest of all rounds",
        "pass": our_peak <= 64 * 1024 * 1024,
    }));
}
