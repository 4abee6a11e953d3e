//! The build cache: a build's result (objects read, SOPS files decrypted, kustomize applied)
//! kept in memory, keyed by everything that decides it — the commit, the path, and the
//! generation of the decryption keys — so Syncs of one source and path with the same keys
//! share one build, and a new reconcile of an unchanged input reads, decrypts and builds
//! nothing. What differs per Sync (namespaces, variables, sealed and external secrets) happens
//! after it. Its size is bounded in bytes (the objects' serialized size), oldest evicted first.
//! Objects wipe their strings when the last user of an evicted entry drops it. The SOPS
//! data-key cache (in the keyring) and the unsealed-value cache (in the SealedSecret resolver)
//! work beside it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::object::Object;

/// What a render depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenderKey {
    /// The commit (`sha1:...`), never a branch name.
    pub commit: String,
    /// The path rendered.
    pub path: String,
    /// A keyed digest of the other inputs (the decryption keys' generation).
    pub inputs: u64,
}

/// A build: objects, each with whether it came from SOPS files only.
pub type Built = Vec<(Object, bool)>;

struct Entry {
    key: RenderKey,
    objects: Arc<Built>,
    bytes: usize,
}

/// A cache of renders bounded in bytes (oldest evicted first).
pub struct RenderCache {
    entries: Mutex<(VecDeque<Entry>, usize)>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The memory a build takes, estimated from its serialized size.
pub fn size_of(objects: &[(Object, bool)]) -> usize {
    objects
        .iter()
        .map(|(o, _)| serde_json::to_vec(&o.0).map(|b| b.len()).unwrap_or(0) * 2)
        .sum::<usize>()
        + std::mem::size_of::<Entry>()
}

impl RenderCache {
    /// A cache holding at most `capacity_bytes` of renders (0: nothing is kept).
    pub fn new(capacity_bytes: usize) -> Self {
        RenderCache {
            entries: Mutex::new((VecDeque::new(), 0)),
            capacity: capacity_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached render for `key`, if any.
    pub fn get(&self, key: &RenderKey) -> Option<Arc<Built>> {
        let hit = self
            .entries
            .lock()
            .ok()?
            .0
            .iter()
            .find(|e| e.key == *key)
            .map(|e| Arc::clone(&e.objects));
        match hit {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        hit
    }

    /// Stores a render (replacing one with the same key; a render larger than the whole cache
    /// is not kept) and returns it shared.
    pub fn insert(&self, key: RenderKey, objects: Built) -> Arc<Built> {
        let bytes = size_of(&objects);
        let v = Arc::new(objects);
        if bytes > self.capacity {
            return v;
        }
        if let Ok(mut guard) = self.entries.lock() {
            let (entries, used) = &mut *guard;
            if let Some(i) = entries.iter().position(|e| e.key == key)
                && let Some(old) = entries.remove(i)
            {
                *used -= old.bytes;
            }
            while *used + bytes > self.capacity {
                match entries.pop_front() {
                    Some(old) => *used -= old.bytes,
                    None => break,
                }
            }
            entries.push_back(Entry {
                key,
                objects: Arc::clone(&v),
                bytes,
            });
            *used += bytes;
        }
        v
    }

    /// (entries, bytes) held now.
    pub fn usage(&self) -> (usize, usize) {
        self.entries.lock().map(|g| (g.0.len(), g.1)).unwrap_or((0, 0))
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: &str, inputs: u64) -> RenderKey {
        RenderKey {
            commit: c.into(),
            path: "app".into(),
            inputs,
        }
    }

    fn render(n: usize) -> Built {
        (0..n)
            .map(|i| {
                let o = Object(serde_json::json!({"kind": "ConfigMap", "metadata": {"name": format!("c{i}")}}));
                (o, false)
            })
            .collect()
    }

    #[test]
    fn hits_misses_and_eviction_by_bytes() {
        let one = size_of(&render(10));
        let c = RenderCache::new(one * 2 + one / 2);
        assert!(c.get(&key("a", 1)).is_none());
        c.insert(key("a", 1), render(10));
        assert_eq!(c.get(&key("a", 1)).unwrap()[0].0.kind(), "ConfigMap");
        assert!(c.get(&key("a", 2)).is_none(), "other inputs are another render");
        c.insert(key("b", 1), render(10));
        c.insert(key("c", 1), render(10));
        assert!(c.get(&key("a", 1)).is_none(), "oldest evicted when the bytes run out");
        assert!(c.get(&key("c", 1)).is_some());
        assert_eq!(c.usage().0, 2);
        assert!(c.usage().1 <= one * 2 + one / 2);
        c.insert(key("huge", 1), render(1000));
        assert!(c.get(&key("huge", 1)).is_none(), "larger than the cache: not kept");
        assert_eq!(c.stats(), (2, 4));
    }
}
