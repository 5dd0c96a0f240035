//! A small bounded memo table for values that are pure functions of their key and of an
//! immutable bundle (Cedar entities per caller and model, policy slices), shared by every
//! request an isolate serves.
//!
//! Bounded by clearing: when full, the table starts over. Entries are cheap to rebuild and
//! a workload's working set (callers × models in use) is small, so an LRU's bookkeeping
//! would cost every lookup to save a rare rebuild.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug)]
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, V>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The value for `key`, made (and kept) on a miss. A failure to make it is returned
    /// and not kept. The lock is not held while `make` runs.
    pub fn get_or_try_insert<E>(&self, key: &K, make: impl FnOnce() -> Result<V, E>) -> Result<V, E>
    where
        K: Clone,
    {
        if let Some(found) = self.lock().get(key) {
            return Ok(found.clone());
        }
        let made = make()?;
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key.clone(), made.clone());
        Ok(made)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A poisoned lock only means another thread panicked mid-insert; every entry is a
    /// complete value, so the table is still sound.
    fn lock(&self) -> MutexGuard<'_, HashMap<K, V>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn makes_once_per_key_and_keeps_failures_out() {
        let memo: Memo<&str, u32> = Memo::new(8);
        let mut made = 0;
        for _ in 0..3 {
            let value = memo.get_or_try_insert(&"a", || {
                made += 1;
                Ok::<_, ()>(7)
            });
            assert_eq!(value, Ok(7));
        }
        assert_eq!(made, 1);
        assert_eq!(memo.get_or_try_insert(&"b", || Err("no")), Err("no"));
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn starts_over_when_full() {
        let memo: Memo<u32, u32> = Memo::new(2);
        for key in 0..5 {
            let _ = memo.get_or_try_insert(&key, || Ok::<_, ()>(key * 10));
            assert!(memo.len() <= 2);
        }
        assert_eq!(memo.get_or_try_insert(&4, || Err(())), Ok(40));
    }
}
