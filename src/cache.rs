//! A least-recently-used cache bounded by the total weight (bytes) of what it holds.
//!
//! Pictures differ in size by three orders of magnitude (a 20 KB thumbnail, an 80 MB decoded
//! banner), so the bound is on bytes, not on entries. An entry heavier than the whole budget is
//! not kept at all.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// The cache. `get` and `insert` are O(log n).
#[derive(Debug)]
pub struct WeightedLru<K, V> {
    entries: HashMap<K, Entry<V>>,
    order: BTreeMap<u64, K>,
    clock: u64,
    weight: usize,
    capacity: usize,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    weight: usize,
    stamp: u64,
}

impl<K: Eq + Hash + Clone, V: Clone> WeightedLru<K, V> {
    /// An empty cache that holds at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        WeightedLru {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            clock: 0,
            weight: 0,
            capacity,
        }
    }

    /// The value for `key`, now the most recently used.
    pub fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.clock += 1;
        let stamp = self.clock;
        let entry = self.entries.get_mut(key)?;
        if let Some(owned_key) = self.order.remove(&entry.stamp) {
            self.order.insert(stamp, owned_key);
        }
        entry.stamp = stamp;
        Some(entry.value.clone())
    }

    /// Keeps `value` under `key`, evicting the least recently used entries to stay within the
    /// capacity. Returns false when the value alone is heavier than the capacity.
    pub fn insert(&mut self, key: K, value: V, weight: usize) -> bool {
        self.remove(&key);
        if weight > self.capacity {
            return false;
        }
        while self.weight + weight > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(evicted) = self.entries.remove(&oldest) {
                self.weight -= evicted.weight;
            }
        }
        self.clock += 1;
        self.order.insert(self.clock, key.clone());
        self.entries.insert(
            key,
            Entry {
                value,
                weight,
                stamp: self.clock,
            },
        );
        self.weight += weight;
        true
    }

    /// Drops `key`'s entry.
    pub fn remove<Q>(&mut self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.stamp);
            self.weight -= entry.weight;
        }
    }

    /// Bytes held.
    pub fn weight(&self) -> usize {
        self.weight
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn least_recently_used_goes_first() {
        let mut cache = WeightedLru::new(10);
        cache.insert("a", 1, 4);
        cache.insert("b", 2, 4);
        assert_eq!(cache.get("a"), Some(1));
        cache.insert("c", 3, 4);
        assert_eq!(cache.get("b"), None, "b was the least recently used");
        assert_eq!(cache.get("a"), Some(1));
        assert_eq!(cache.get("c"), Some(3));
        assert_eq!(cache.weight(), 8);
    }

    #[test]
    fn an_entry_heavier_than_the_cache_is_not_kept() {
        let mut cache = WeightedLru::new(10);
        cache.insert("a", 1, 4);
        assert!(!cache.insert("huge", 2, 11));
        assert_eq!(cache.get("a"), Some(1), "nothing evicted for it");
        assert_eq!(cache.len(), 1);
    }

    proptest! {
        #[test]
        fn weight_never_exceeds_capacity(ops in prop::collection::vec((0u8..20, 0usize..40), 0..200)) {
            let mut cache = WeightedLru::new(64);
            for (key, weight) in ops {
                cache.insert(key, key, weight);
                prop_assert!(cache.weight() <= 64);
                let sum: usize = cache.entries.values().map(|e| e.weight).sum();
                prop_assert_eq!(sum, cache.weight());
                prop_assert_eq!(cache.order.len(), cache.entries.len());
            }
        }
    }
}
