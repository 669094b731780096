//! The run times learned by earlier commands, kept in a cache file so that the next `run` or
//! `batch` polls a model it has seen before on a warm schedule.
//!
//! One file, `poll-history.json` in `$RUNCOMFY_CACHE_DIR` (else the platform's cache folder,
//! `runcomfy/` under it), holds a [`PollHistorySnapshot`] per server. It is a cache: a file
//! that cannot be read or written is logged (`-v`) and otherwise ignored, and two commands
//! ending at once keep the run times of the last one to save.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use runcomfy::{Client, PollHistorySnapshot};
use serde::{Deserialize, Serialize};

/// The environment variable naming the cache folder.
pub const CACHE_DIR_ENV: &str = "RUNCOMFY_CACHE_DIR";

const FILE_NAME: &str = "poll-history.json";

/// Most servers kept; the ones saved longest ago go first.
const MAX_SERVERS: usize = 16;

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
}

/// The cache file, for one server.
#[derive(Debug)]
pub struct HistoryCache {
    path: PathBuf,
    server: String,
    /// The client's history right after loading, so a command that learned nothing (`status`)
    /// does not rewrite the file.
    loaded: Option<PollHistorySnapshot>,
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
            loaded: None,
        })
    }

    /// Gives `client` the run times saved for its server.
    pub fn load_into(&mut self, client: &Client) {
        if let Some(entry) = read(&self.path).servers.get(&self.server) {
            client.import_poll_history(&entry.history);
            tracing::debug!(path = %self.path.display(), "poll history loaded");
        }
        self.loaded = Some(client.poll_history());
    }

    /// Saves `client`'s run times for its server, keeping the other servers' entries.
    pub fn save_from(&self, client: &Client) {
        let history = client.poll_history();
        if history.models.is_empty() || self.loaded.as_ref() == Some(&history) {
            return;
        }
        let mut file = read(&self.path);
        file.version = CacheFile::VERSION;
        let saved_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        file.servers
            .insert(self.server.clone(), ServerEntry { saved_at, history });
        while file.servers.len() > MAX_SERVERS {
            let oldest = file
                .servers
                .iter()
                .min_by_key(|(_, entry)| entry.saved_at)
                .map(|(server, _)| server.clone());
            match oldest {
                Some(server) => file.servers.remove(&server),
                None => break,
            };
        }
        match write(&self.path, &file) {
            Ok(()) => tracing::debug!(path = %self.path.display(), "poll history saved"),
            Err(err) => {
                tracing::warn!(path = %self.path.display(), %err, "cannot save the poll history");
            }
        }
    }
}

/// The cache file, or an empty one when it is missing, unreadable or of another version.
fn read(path: &Path) -> CacheFile {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), %err, "cannot read the poll history");
            }
            return CacheFile::default();
        }
    };
    match serde_json::from_str::<CacheFile>(&text) {
        Ok(file) if file.version == CacheFile::VERSION => file,
        Ok(_) => CacheFile::default(),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "ignoring an unreadable poll history");
            CacheFile::default()
        }
    }
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

    fn entry(saved_at: u64) -> ServerEntry {
        ServerEntry {
            saved_at,
            history: PollHistorySnapshot {
                version: PollHistorySnapshot::VERSION,
                models: BTreeMap::from([("m".to_owned(), vec![1_000])]),
            },
        }
    }

    #[test]
    fn saving_keeps_other_servers_and_drops_the_oldest_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(FILE_NAME);
        let mut file = CacheFile {
            version: CacheFile::VERSION,
            servers: BTreeMap::new(),
        };
        for i in 0..MAX_SERVERS as u64 {
            // Server 0 was saved last, server 1 longest ago.
            let saved_at = if i == 0 { 1_000 } else { i };
            file.servers
                .insert(format!("http://s{i}/"), entry(saved_at));
        }
        write(&path, &file).unwrap();

        let client = Client::builder()
            .token("t")
            .base_url("https://new.example/")
            .build()
            .unwrap();
        client.import_poll_history(&entry(0).history);
        let mut cache = HistoryCache {
            path: path.clone(),
            server: client.base_url().as_str().to_owned(),
            loaded: None,
        };
        cache.save_from(&client);

        let saved = read(&path);
        assert_eq!(saved.servers.len(), MAX_SERVERS);
        assert!(saved.servers.contains_key("https://new.example/"));
        assert!(saved.servers.contains_key("http://s0/"));
        assert!(!saved.servers.contains_key("http://s1/"));

        // A new client of the same server starts from what was saved.
        let again = Client::builder()
            .token("t")
            .base_url("https://new.example/")
            .build()
            .unwrap();
        cache.load_into(&again);
        assert_eq!(again.poll_history().models["m"], vec![1_000]);

        // Nothing learned since loading: the file is left as it was.
        std::fs::write(&path, "left alone").unwrap();
        cache.save_from(&again);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "left alone");
    }

    #[test]
    fn a_file_of_another_version_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, r#"{"version": 99, "servers": {}}"#).unwrap();
        assert!(read(&path).servers.is_empty());
    }
}
