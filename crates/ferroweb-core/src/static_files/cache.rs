//! The memory cache of a static directory: what a lookup found (after every file system check:
//! confinement, index files, the precompressed sibling chosen) together with the file's bytes,
//! so that a hot file is answered on the runtime with no hop to the blocking pool, no system
//! call and no copy out of the page cache.
//!
//! An entry is trusted for [`REVALIDATE_AFTER`]; after that the next request looks the path up
//! again and keeps the bytes when size and modification time (what the validators are made
//! of) are unchanged. The cache weighs entries by their bytes and never holds more than its
//! budget; a file bigger than a sixteenth of it is always served from disk.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{DefaultHashBuilder, OptionsBuilder, Weighter};

use super::negotiate::Variant;
use crate::file::MemoryFile;

/// How long a cached lookup is trusted before the file system is asked again: a file replaced
/// on disk may be served as it was for up to this long (nginx's `open_file_cache_valid` is
/// the same idea, 60 s by default).
pub(crate) const REVALIDATE_AFTER: Duration = Duration::from_secs(1);

/// The largest file cached is the budget divided by this: one big file cannot push out
/// everything else.
const LARGEST_SHARE: u64 = 16;

/// The cache's shards split the budget between them, so there are few: enough that runtime
/// threads rarely meet on one lock, few enough that each holds files of the largest size.
const SHARDS: usize = 4;

/// What an entry costs beyond its bytes (the key, paths, the allocation), so that even empty
/// files weigh something and their number stays bounded.
const ENTRY_OVERHEAD: u64 = 256;

/// A lookup's result with the bytes of the file it found.
#[derive(Debug)]
pub(crate) struct CachedFile {
    pub(crate) path: PathBuf,
    pub(crate) variant: Option<Variant>,
    pub(crate) type_from: PathBuf,
    pub(crate) content: MemoryFile,
    checked: Instant,
}

impl CachedFile {
    pub(crate) fn new(
        path: PathBuf,
        variant: Option<Variant>,
        type_from: PathBuf,
        content: MemoryFile,
    ) -> Self {
        Self {
            path,
            variant,
            type_from,
            content,
            checked: Instant::now(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct ByteWeight;

impl Weighter<String, Arc<CachedFile>> for ByteWeight {
    fn weight(&self, key: &String, file: &Arc<CachedFile>) -> u64 {
        file.content.bytes.len() as u64 + key.len() as u64 + ENTRY_OVERHEAD
    }
}

type Entries = Cache<
    String,
    Arc<CachedFile>,
    ByteWeight,
    DefaultHashBuilder,
    DefaultLifecycle<String, Arc<CachedFile>>,
>;

/// The files recently served from one directory, by request path and accepted encodings.
pub(crate) struct MemoryCache {
    entries: Entries,
    largest: u64,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("budget", &self.entries.capacity())
            .field("held", &self.entries.weight())
            .finish()
    }
}

impl MemoryCache {
    /// A cache holding at most `budget` bytes; `None` for a budget of 0 (no cache).
    pub(crate) fn new(budget: u64) -> Option<Self> {
        if budget == 0 {
            return None;
        }
        let options = OptionsBuilder::new()
            // An estimate for sizing the tables, not a limit: the weight is the limit.
            .estimated_items_capacity(1024)
            .weight_capacity(budget)
            .shards(SHARDS)
            .build()
            .ok()?;
        let entries = Cache::with_options(
            options,
            ByteWeight,
            DefaultHashBuilder::default(),
            DefaultLifecycle::default(),
        );
        Some(Self {
            entries,
            largest: budget / LARGEST_SHARE,
        })
    }

    /// The largest file worth holding.
    pub(crate) fn largest_file(&self) -> u64 {
        self.largest
    }

    /// The key of a request: its path as sent (still percent-encoded) and the precompressed
    /// variants it accepts, best first. A raw NUL cannot occur in a request path, so it
    /// separates the two.
    pub(crate) fn key(relative: &str, variants: &[Variant]) -> String {
        let mut key = String::with_capacity(relative.len() + 1 + 4 * variants.len());
        key.push_str(relative);
        key.push('\0');
        for variant in variants {
            key.push_str(variant.suffix);
            key.push(',');
        }
        key
    }

    /// The entry for `key` when it was checked against the file system recently enough.
    pub(crate) fn fresh(&self, key: &str) -> Option<Arc<CachedFile>> {
        self.entries
            .get(key)
            .filter(|file| file.checked.elapsed() < REVALIDATE_AFTER)
    }

    /// The entry for `key`, however old: its bytes may still be good.
    pub(crate) fn previous(&self, key: &str) -> Option<Arc<CachedFile>> {
        self.entries.get(key)
    }

    pub(crate) fn store(&self, key: String, file: CachedFile) -> Arc<CachedFile> {
        let file = Arc::new(file);
        if file.content.bytes.len() as u64 <= self.largest {
            self.entries.insert(key, Arc::clone(&file));
        }
        file
    }

    /// Drops what `key` held: the path no longer leads to a file worth caching.
    pub(crate) fn forget(&self, key: &str) {
        self.entries.remove(key);
    }

    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> u64 {
        self.entries.weight()
    }
}
