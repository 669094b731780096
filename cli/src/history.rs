//! The run times learned by earlier commands, kept in a cache file so that the next `run` or
//! `batch` polls a model it has seen before on a warm schedule; the jobs `run` submitted, so
//! that `result --wait` on one of them polls on that schedule from its submit; and where `run`
//! left each job's provenance record, so that `result ID --out DIR` into another folder still
//! writes one beside the files.
//!
//! One file, `poll-history.json` in `$RUNCOMFY_CACHE_DIR` (else the platform's cache folder,
//! `runcomfy/` under it), holds a [`PollHistorySnapshot`], the latest [`JobRecord`]s and their
//! records' paths per server. A command adds only what it learned and submitted to what the file holds when it
//! ends, under a lock beside it, so commands running side by side keep each other's. It is a
//! cache: a file that cannot be read or written is logged (`-v`) and otherwise ignored.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use runcomfy::{Client, JobRecord, PollHistorySnapshot};
use serde::{Deserialize, Serialize};

/// The environment variable naming the cache folder.
pub const CACHE_DIR_ENV: &str = "RUNCOMFY_CACHE_DIR";

const FILE_NAME: &str = "poll-history.json";

/// Held while a command updates the cache file (which is replaced, so it cannot be the lock).
const LOCK_NAME: &str = "poll-history.lock";

/// Most servers kept; the ones saved longest ago go first.
const MAX_SERVERS: usize = 16;

/// Most job records kept per server; the oldest go first.
const MAX_JOBS: usize = 64;

/// The cache file's content.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    servers: BTreeMap<String, ServerEntry>,
}

impl CacheFile {
    const VERSION: u32 = 1;
}

#[derive(Debug, Serialize, Deserialize)]
struct ServerEntry {
    /// Seconds since the Unix epoch.
    saved_at: u64,
    history: PollHistorySnapshot,
    /// The jobs submitted last, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    jobs: Vec<JobRecord>,
    /// The provenance record `run` wrote for each of them, by request id (absolute paths).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    records: BTreeMap<String, PathBuf>,
}

/// What the cache holds of the jobs lately submitted to a server.
#[derive(Debug, Default)]
pub struct Recent {
    /// Their records, oldest first.
    pub jobs: Vec<JobRecord>,
    /// Where `run` wrote each one's provenance record, by request id.
    pub records: BTreeMap<String, PathBuf>,
}

/// The cache file, for one server.
#[derive(Debug)]
pub struct HistoryCache {
    path: PathBuf,
    server: String,
}

impl HistoryCache {
    /// The cache of `client`'s server, if there is a cache folder; `RUNCOMFY_CACHE_DIR` set
    /// but empty turns the cache off.
    pub fn for_client(client: &Client) -> Option<Self> {
        let dir = match std::env::var_os(CACHE_DIR_ENV) {
            Some(dir) if dir.is_empty() => return None,
            Some(dir) => PathBuf::from(dir),
            None => dirs::cache_dir()?.join("runcomfy"),
        };
        Some(Self {
            path: dir.join(FILE_NAME),
            server: client.base_url().as_str().to_owned(),
        })
    }

    /// Gives `client` the run times saved for its server; returns what it holds of the jobs
    /// lately submitted to it, read in the same pass.
    pub fn load_into(&self, client: &Client) -> Recent {
        let Some(entry) = read(&self.path).servers.remove(&self.server) else {
            return Recent::default();
        };
        client.import_poll_history(&entry.history);
        tracing::debug!(path = %self.path.display(), "poll history loaded");
        Recent {
            jobs: entry.jobs,
            records: entry.records,
        }
    }

    /// Adds the run times `client` learned to its server's entry, keeping the other servers'.
    /// A command that learned none (`status`) leaves the file alone.
    pub fn save_learned(&self, client: &Client) {
        self.save(&client.poll_history_learned(), &[], &[]);
    }

    /// Adds the job `submitted` to its server's entry at once: a command killed while it
    /// waits (kill -9) has it kept for `result --wait` all the same.
    pub fn save_job(&self, submitted: JobRecord) {
        self.save(&PollHistorySnapshot::default(), &[submitted], &[]);
    }

    /// Adds where job `request_id`'s provenance record is, at once, as [`save_job`] does
    /// (for `result ID --out DIR` into another folder).
    ///
    /// [`save_job`]: HistoryCache::save_job
    pub fn save_record(&self, request_id: &str, path: PathBuf) {
        self.save(
            &PollHistorySnapshot::default(),
            &[],
            &[(request_id.to_owned(), path)],
        );
    }

    fn save(
        &self,
        learned: &PollHistorySnapshot,
        submitted: &[JobRecord],
        records: &[(String, PathBuf)],
    ) {
        if learned.models.is_empty() && submitted.is_empty() && records.is_empty() {
            return;
        }
        let saved_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let update = || -> std::io::Result<()> {
            let _lock = lock(&self.path)?;
            let mut file = read(&self.path);
            let added = Added {
                learned,
                jobs: submitted,
                records,
            };
            add(&mut file, &self.server, &added, saved_at);
            write(&self.path, &file)
        };
        match update() {
            Ok(()) => tracing::debug!(path = %self.path.display(), "poll history saved"),
            Err(err) => unusable(&self.path, &err),
        }
    }
}

/// What a command adds to its server's entry.
struct Added<'a> {
    learned: &'a PollHistorySnapshot,
    jobs: &'a [JobRecord],
    records: &'a [(String, PathBuf)],
}

/// Adds to `server`'s entry (past [`MAX_JOBS`], its oldest jobs go, with their records'
/// paths), then drops the servers saved longest ago past [`MAX_SERVERS`].
fn add(file: &mut CacheFile, server: &str, added: &Added<'_>, saved_at: u64) {
    file.version = CacheFile::VERSION;
    let entry = file
        .servers
        .entry(server.to_owned())
        .or_insert_with(|| ServerEntry {
            saved_at,
            history: PollHistorySnapshot::default(),
            jobs: Vec::new(),
            records: BTreeMap::new(),
        });
    entry.saved_at = saved_at;
    entry.history.extend(added.learned);
    entry.jobs.extend_from_slice(added.jobs);
    let over = entry.jobs.len().saturating_sub(MAX_JOBS);
    entry.jobs.drain(..over);
    entry.records.extend(added.records.iter().cloned());
    let kept: std::collections::HashSet<&str> =
        entry.jobs.iter().map(|j| j.request_id.as_str()).collect();
    entry.records.retain(|id, _| kept.contains(id.as_str()));
    if file.servers.len() > MAX_SERVERS {
        // One sort, not a scan per server dropped: a file of many servers (someone else's
        // data) must not hold a finished run for minutes.
        let mut by_age: Vec<(u64, String)> = file
            .servers
            .iter()
            .map(|(server, entry)| (entry.saved_at, server.clone()))
            .collect();
        by_age.sort_unstable();
        let over = by_age.len() - MAX_SERVERS;
        for (_, server) in by_age.into_iter().take(over) {
            file.servers.remove(&server);
        }
    }
}

/// Says that the cache cannot be read or written, once a command: each job saves to it, and
/// every later try meets the same folder.
fn unusable(path: &Path, err: &std::io::Error) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        tracing::warn!(
            "the run-time cache {} cannot be used ({err}); the command goes on without it (set \
             RUNCOMFY_CACHE_DIR to another folder, or empty to turn the cache off)",
            path.display()
        );
    });
}

/// Largest cache file read: what it keeps ([`MAX_SERVERS`] servers' run times and
/// [`MAX_JOBS`] jobs each) is far smaller; a larger one is not this cache's.
const MAX_FILE_BYTES: u64 = 8 << 20;

/// The cache file, or an empty one when it is missing, not JSON or of another version; a part
/// of a server's entry that cannot be read is left out, the rest kept.
fn read(path: &Path) -> CacheFile {
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.len() > MAX_FILE_BYTES
    {
        tracing::warn!(path = %path.display(), bytes = metadata.len(), "ignoring a poll history too large to be one");
        return CacheFile::default();
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            if err.kind() != std::io::ErrorKind::NotFound {
                unusable(path, &err);
            }
            return CacheFile::default();
        }
    };
    // Each server's entry, and each part of it, is read on its own: a value gone bad (edited
    // by hand, or half written by a disk that filled) costs that part, not every server's jobs.
    #[derive(Deserialize)]
    struct Parts {
        version: u32,
        #[serde(default)]
        servers: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    }
    let parts = match serde_json::from_str::<Parts>(&text) {
        Ok(parts) if parts.version == CacheFile::VERSION => parts,
        Ok(_) => return CacheFile::default(),
        Err(err) => {
            unreadable(path, &err.to_string());
            return CacheFile::default();
        }
    };
    let servers = parts
        .servers
        .into_iter()
        .map(|(server, entry)| {
            let part = |name: &str| entry.get(name).cloned();
            let entry = ServerEntry {
                saved_at: read_part(path, &server, "saved_at", part("saved_at")),
                history: read_part(path, &server, "history", part("history")),
                jobs: read_part(path, &server, "jobs", part("jobs")),
                records: read_part(path, &server, "records", part("records")),
            };
            (server, entry)
        })
        .collect();
    CacheFile {
        version: CacheFile::VERSION,
        servers,
    }
}

/// One part of a server's entry; its default (and a warning) when it is missing or unreadable.
fn read_part<T: serde::de::DeserializeOwned + Default>(
    path: &Path,
    server: &str,
    name: &str,
    value: Option<serde_json::Value>,
) -> T {
    let Some(value) = value else {
        return T::default();
    };
    serde_json::from_value(value).unwrap_or_else(|err| {
        unreadable(path, &format!("{server}: {name}: {err}"));
        T::default()
    })
}

/// Says once a command that (part of) the cache file is unreadable and goes unused: it is
/// read at the start and again when a command saves to it.
fn unreadable(path: &Path, err: &str) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        tracing::warn!(path = %path.display(), %err, "ignoring an unreadable part of the poll history");
    });
}

/// Locks the cache folder of `path` for one read-add-write; unlocked when dropped.
fn lock(path: &Path) -> std::io::Result<File> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_NAME))?;
    lock.lock()?;
    Ok(lock)
}

/// Writes the file whole or not at all: a temporary file beside it, renamed over it.
fn write(path: &Path, file: &CacheFile) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut temp, file)?;
    temp.flush()?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a command that learned `learned` and submitted nothing adds.
    fn learned(learned: &PollHistorySnapshot) -> Added<'_> {
        Added {
            learned,
            jobs: &[],
            records: &[],
        }
    }

    fn snapshot(ms: &[u64]) -> PollHistorySnapshot {
        PollHistorySnapshot {
            version: PollHistorySnapshot::VERSION,
            models: BTreeMap::from([("m".to_owned(), ms.to_vec())]),
        }
    }

    #[test]
    fn learned_run_times_join_the_servers_entry_and_the_oldest_server_goes() {
        let mut file = CacheFile {
            version: CacheFile::VERSION,
            servers: BTreeMap::new(),
        };
        for i in 0..MAX_SERVERS as u64 {
            // Server 0 was saved last, server 1 longest ago.
            let saved_at = if i == 0 { 1_000 } else { i };
            let entry = ServerEntry {
                saved_at,
                history: snapshot(&[1_000]),
                jobs: Vec::new(),
                records: BTreeMap::new(),
            };
            file.servers.insert(format!("https://s{i}/"), entry);
        }

        add(
            &mut file,
            "https://s0/",
            &learned(&snapshot(&[2_000])),
            2_000,
        );
        assert_eq!(
            file.servers["https://s0/"].history.models["m"],
            [1_000, 2_000]
        );
        assert_eq!(file.servers.len(), MAX_SERVERS);

        add(
            &mut file,
            "https://new/",
            &learned(&snapshot(&[3_000])),
            3_000,
        );
        assert_eq!(file.servers.len(), MAX_SERVERS);
        assert_eq!(file.servers["https://new/"].history.models["m"], [3_000]);
        assert!(
            !file.servers.contains_key("https://s1/"),
            "saved longest ago"
        );
    }

    #[test]
    fn a_file_of_many_servers_is_trimmed_at_once() {
        let servers = 100_000u64;
        let mut file = CacheFile {
            version: CacheFile::VERSION,
            servers: (0..servers)
                .map(|i| {
                    let entry = ServerEntry {
                        saved_at: i,
                        history: PollHistorySnapshot::default(),
                        jobs: Vec::new(),
                        records: BTreeMap::new(),
                    };
                    (format!("https://s{i}/"), entry)
                })
                .collect(),
        };
        let started = std::time::Instant::now();
        add(
            &mut file,
            "https://new/",
            &learned(&snapshot(&[1])),
            servers,
        );
        // A scan per server dropped took minutes here.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(file.servers.len(), MAX_SERVERS);
        assert!(file.servers.contains_key("https://new/"));
        assert!(
            file.servers
                .contains_key(&format!("https://s{}/", servers - 1))
        );
    }

    #[test]
    fn the_file_round_trips_and_a_client_of_the_server_loads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(FILE_NAME);
        let mut file = CacheFile::default();
        add(
            &mut file,
            "https://api.example/",
            &learned(&snapshot(&[1_500])),
            1,
        );
        write(&path, &file).unwrap();

        let client = Client::builder()
            .token("t")
            .base_url("https://api.example/")
            .build()
            .unwrap();
        let cache = HistoryCache {
            path: path.clone(),
            server: client.base_url().as_str().to_owned(),
        };
        assert_eq!(cache.load_into(&client).jobs, []);
        assert_eq!(client.poll_history().models["m"], [1_500]);

        // It learned nothing itself: the file is left as it was.
        std::fs::write(&path, "left alone").unwrap();
        cache.save_learned(&client);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "left alone");
    }

    #[test]
    fn the_latest_jobs_are_kept_per_server() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let cache = HistoryCache {
            path: dir.path().join(FILE_NAME),
            server: "https://api.example/".into(),
        };
        let client = Client::builder()
            .token("t")
            .base_url("https://api.example/")
            .build()?;
        let record = |n: usize| {
            JobRecord::new(format!("req-{n}"), "m/x")
                .submitted_at(UNIX_EPOCH + std::time::Duration::from_secs(n as u64))
        };
        let records: Vec<JobRecord> = (0..MAX_JOBS + 2).map(record).collect();
        let written = |n: usize| {
            (
                format!("req-{n}"),
                PathBuf::from(format!("/out/{n}/r.json")),
            )
        };
        for (n, record) in records.iter().enumerate() {
            cache.save_job(record.clone());
            if n < 3 {
                let (id, path) = written(n);
                cache.save_record(&id, path);
            }
        }
        // The oldest two went first, with their records' paths; the rest are kept in order.
        let kept = cache.load_into(&client);
        assert_eq!(kept.jobs, records[2..]);
        assert!(!kept.jobs.contains(&record(1)));
        assert_eq!(kept.records, BTreeMap::from([written(2)]));
        let other = HistoryCache {
            server: "https://other.example/".into(),
            ..cache
        };
        assert_eq!(other.load_into(&client).jobs, [], "per server");
        Ok(())
    }

    #[test]
    fn a_file_of_another_version_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, r#"{"version": 99, "servers": {}}"#).unwrap();
        assert!(read(&path).servers.is_empty());
    }

    /// A bad run time costs its server's run times, not another server's jobs and records.
    #[test]
    fn an_unreadable_part_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let text = r#"{"version": 1, "servers": {
            "https://api.example/": {"saved_at": 5, "history": {"version": 1, "models": {"m": [1000]}},
                "jobs": [{"request_id": "r1", "model_id": "m/x"}],
                "records": {"r1": "/tmp/r1/runcomfy-record.json"}},
            "http://127.0.0.1:9/": {"saved_at": 6, "history": {"version": 1, "models": {"m": [-1]}},
                "jobs": [{"request_id": "r2", "model_id": "m/x"}]}
        }}"#;
        std::fs::write(&path, text).unwrap();
        let file = read(&path);
        let api = &file.servers["https://api.example/"];
        assert_eq!(api.history.models["m"], [1000]);
        assert_eq!(api.jobs.len(), 1);
        assert_eq!(api.records.len(), 1);
        let local = &file.servers["http://127.0.0.1:9/"];
        assert!(local.history.models.is_empty());
        assert_eq!((local.saved_at, local.jobs.len()), (6, 1));
    }
}
