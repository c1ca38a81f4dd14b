//! A bounded-by-caller map with least-recently-seen order, used for TCP streams and IP
//! fragment trains.
//!
//! Entries live in a slab (`Vec`) threaded by an intrusive doubly linked list, so lookup is one
//! hash probe and "touch", "insert", "remove" and "oldest" are O(1). The list is ordered by the
//! time an entry was last touched; because callers pass a monotone clock (the high-water mark
//! of packet time), the list is also ordered by `seen`, which lets idle expiry look only at the
//! head.
//!
//! Output determinism: the `HashMap` is only ever probed, never iterated; everything that
//! produces events walks the list, whose order depends only on the input.

use std::collections::HashMap;
use std::hash::Hash;

const NIL: u32 = u32::MAX;

struct Slot<K, V> {
    entry: Option<(K, V)>,
    prev: u32,
    next: u32,
    seen: i64,
}

pub(crate) struct Lru<K, V> {
    map: HashMap<K, u32>,
    slots: Vec<Slot<K, V>>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
}

impl<K: Hash + Eq + Copy, V> Lru<K, V> {
    pub(crate) fn new() -> Self {
        Lru {
            map: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    #[inline]
    pub(crate) fn find(&self, k: &K) -> Option<u32> {
        if self.map.is_empty() {
            return None;
        }
        self.map.get(k).copied()
    }

    #[inline]
    fn slot(&self, i: u32) -> Option<&Slot<K, V>> {
        self.slots.get(i as usize)
    }

    #[inline]
    pub(crate) fn get(&self, i: u32) -> Option<&V> {
        self.slot(i)?.entry.as_ref().map(|(_, v)| v)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, i: u32) -> Option<&mut V> {
        self.slots
            .get_mut(i as usize)?
            .entry
            .as_mut()
            .map(|(_, v)| v)
    }

    #[inline]
    pub(crate) fn seen(&self, i: u32) -> Option<i64> {
        self.slot(i).map(|s| s.seen)
    }

    /// The least recently touched entry.
    #[inline]
    pub(crate) fn oldest(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = match self.slot(i) {
            Some(s) => (s.prev, s.next),
            None => return,
        };
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    fn link_tail(&mut self, i: u32) {
        let tail = self.tail;
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.prev = tail;
            s.next = NIL;
        }
        match self.slots.get_mut(tail as usize) {
            Some(t) => t.next = i,
            None => self.head = i,
        }
        self.tail = i;
    }

    /// Marks `i` as seen at `now` and moves it to the young end.
    #[inline]
    pub(crate) fn touch(&mut self, i: u32, now: i64) {
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.seen = now;
        }
        if self.tail != i {
            self.unlink(i);
            self.link_tail(i);
        }
    }

    /// Inserts at the young end and returns the slot. An existing entry for `k` is replaced.
    pub(crate) fn insert(&mut self, k: K, v: V, now: i64) -> u32 {
        if let Some(old) = self.find(&k) {
            self.remove(old);
        }
        let slot = Slot {
            entry: Some((k, v)),
            prev: NIL,
            next: NIL,
            seen: now,
        };
        let i = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    *s = slot;
                }
                i
            }
            None => {
                // Callers cap the entry count far below u32::MAX (see `Config::normalized`).
                let i = u32::try_from(self.slots.len()).unwrap_or(NIL - 1);
                self.slots.push(slot);
                i
            }
        };
        self.link_tail(i);
        self.map.insert(k, i);
        i
    }

    pub(crate) fn remove(&mut self, i: u32) -> Option<(K, V)> {
        let entry = self.slots.get_mut(i as usize)?.entry.take()?;
        self.unlink(i);
        self.map.remove(&entry.0);
        self.free.push(i);
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_touch_remove() {
        let mut l: Lru<u32, &str> = Lru::new();
        let a = l.insert(1, "a", 1);
        let b = l.insert(2, "b", 2);
        let c = l.insert(3, "c", 3);
        assert_eq!(l.oldest(), Some(a));
        l.touch(a, 4);
        assert_eq!(l.oldest(), Some(b));
        assert_eq!(l.remove(c), Some((3, "c")));
        assert_eq!(l.remove(c), None);
        assert_eq!(l.remove(l.oldest().unwrap()), Some((2, "b")));
        assert_eq!(l.remove(l.oldest().unwrap()), Some((1, "a")));
        assert_eq!(l.oldest(), None);
        assert_eq!(l.len(), 0);
        // Slots are reused.
        let d = l.insert(4, "d", 5);
        assert!(d <= 2);
        assert_eq!(l.find(&4), Some(d));
        assert_eq!(l.get(d), Some(&"d"));
        assert_eq!(l.seen(d), Some(5));
        // Replacing an existing key keeps one entry.
        l.insert(4, "e", 6);
        assert_eq!(l.len(), 1);
    }
}
