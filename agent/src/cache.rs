//! The render cache: a render's result (objects with their secrets resolved) kept in memory,
//! keyed by (commit, path, key-material generation), so reconciling an unchanged commit
//! costs no read, decryption or build. Objects wipe their strings when the last user of an
//! evicted entry drops it. The SOPS data-key cache (in the keyring) and the unsealed-value
//! cache (in the SealedSecret resolver) work below it, for renders of new commits.

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
    /// Bumped whenever the decryption/sealing keys or resolver credentials change.
    pub keys_generation: u64,
}

/// A bounded cache of renders (oldest evicted first).
pub struct RenderCache {
    entries: Mutex<VecDeque<(RenderKey, Arc<Vec<Object>>)>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl RenderCache {
    /// A cache holding at most `capacity` renders.
    pub fn new(capacity: usize) -> Self {
        RenderCache {
            entries: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached render for `key`, if any.
    pub fn get(&self, key: &RenderKey) -> Option<Arc<Vec<Object>>> {
        let hit = self
            .entries
            .lock()
            .ok()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| Arc::clone(v));
        match hit {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        hit
    }

    /// Stores a render (replacing one with the same key) and returns it shared.
    pub fn insert(&self, key: RenderKey, objects: Vec<Object>) -> Arc<Vec<Object>> {
        let v = Arc::new(objects);
        if let Ok(mut e) = self.entries.lock() {
            e.retain(|(k, _)| *k != key);
            while e.len() >= self.capacity {
                e.pop_front();
            }
            e.push_back((key, Arc::clone(&v)));
        }
        v
    }

    /// Drops every entry rendered with an older key generation (keys rotated).
    pub fn retain_generation(&self, keys_generation: u64) {
        if let Ok(mut e) = self.entries.lock() {
            e.retain(|(k, _)| k.keys_generation == keys_generation);
        }
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: &str, g: u64) -> RenderKey {
        RenderKey {
            commit: c.into(),
            path: "app".into(),
            keys_generation: g,
        }
    }

    #[test]
    fn hits_misses_eviction_and_generations() {
        let c = RenderCache::new(2);
        assert!(c.get(&key("a", 1)).is_none());
        c.insert(key("a", 1), vec![Object(serde_json::json!({"kind": "A"}))]);
        assert_eq!(c.get(&key("a", 1)).unwrap()[0].kind(), "A");
        assert!(
            c.get(&key("a", 2)).is_none(),
            "another key generation is another render"
        );
        c.insert(key("b", 1), Vec::new());
        c.insert(key("c", 1), Vec::new());
        assert!(c.get(&key("a", 1)).is_none(), "oldest evicted");
        c.insert(key("d", 2), Vec::new());
        c.retain_generation(2);
        assert!(c.get(&key("c", 1)).is_none());
        assert!(c.get(&key("d", 2)).is_some());
        assert_eq!(c.stats(), (2, 4));
    }
}
