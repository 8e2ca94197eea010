//! The hierarchical timing wheel: 6 levels × 64 slots at 1 ms resolution.
//!
//! Level `l` slot `s` covers `64^l` ticks; a timer due at tick `when` lives on the lowest
//! level on which `when` and the wheel's `elapsed` tick differ only in that level's digit
//! (base 64), so the earliest occupied slot of the lowest non-empty level always holds the
//! next expiration. Entries are records in a [`Slab`] linked into per-slot doubly-linked
//! lists by slab index: insert and cancel are O(1) (no scan, no allocation once the slab
//! has grown), finding the next expiration is O(levels) with one `u64` bitmap per level,
//! and advancing touches only entries that fire or cascade down a level.
//!
//! The wheel is a plain data structure (no clock, no locking): the driver keeps it behind
//! a mutex and converts between `Instant`s and ticks.

use std::task::Waker;

use slab::Slab;

const LEVELS: usize = 6;
const SLOTS: usize = 64;
const SLOT_BITS: u32 = 6;
/// Ticks covered by the whole wheel; deadlines further out are clamped and re-filed.
pub(crate) const MAX_TICKS: u64 = 1 << (SLOT_BITS * LEVELS as u32);
const NIL: u32 = u32::MAX;

/// One timer entry.
#[derive(Debug)]
struct Entry {
    /// The tick at which the timer fires.
    when: u64,
    /// `Some` while the timer waits and a task asked to be woken.
    waker: Option<Waker>,
    /// True once the timer fired (it is then in no slot list).
    fired: bool,
    /// Where the entry is linked (valid while `!fired`).
    level: u8,
    slot: u8,
    prev: u32,
    next: u32,
}

/// Result of [`Wheel::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The timer is filed under this key.
    Pending(usize),
    /// The deadline already passed with respect to the wheel's clock.
    Elapsed,
}

/// The timing wheel.
#[derive(Debug)]
pub(crate) struct Wheel {
    entries: Slab<Entry>,
    heads: [[u32; SLOTS]; LEVELS],
    occupied: [u64; LEVELS],
    /// Every timer due at or before this tick has fired.
    elapsed: u64,
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            entries: Slab::new(),
            heads: [[NIL; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            elapsed: 0,
        }
    }

    /// The tick up to which timers have been processed.
    #[cfg(test)]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of live entries (pending or fired but not yet removed).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Files a timer due at `when`; `Elapsed` (and nothing stored) if `when <= elapsed`.
    pub(crate) fn insert(&mut self, when: u64, waker: Waker) -> Inserted {
        if when <= self.elapsed {
            return Inserted::Elapsed;
        }
        let key = self.entries.insert(Entry {
            when,
            waker: Some(waker),
            fired: false,
            level: 0,
            slot: 0,
            prev: NIL,
            next: NIL,
        });
        assert!(key < NIL as usize, "too many corio timers");
        self.link(key);
        Inserted::Pending(key)
    }

    /// True if the entry has fired.
    pub(crate) fn is_fired(&self, key: usize) -> bool {
        self.entries[key].fired
    }

    /// Replaces the waker of a pending entry unless it would wake the same task.
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) {
        let e = &mut self.entries[key];
        match &e.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => e.waker = Some(waker.clone()),
        }
    }

    /// Removes an entry (pending or fired) in O(1).
    pub(crate) fn remove(&mut self, key: usize) {
        if !self.entries[key].fired {
            self.unlink(key);
        }
        self.entries.remove(key);
    }

    /// The tick at which the wheel next needs to be advanced, if any timer is pending.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        (0..LEVELS).find_map(|level| self.level_expiration(level).map(|(_, d)| d))
    }

    /// Fires every timer due at or before `now`, pushing their wakers into `wakers`.
    #[inline]
    pub(crate) fn advance(&mut self, now: u64, wakers: &mut Vec<Waker>) {
        while let Some((level, slot, deadline)) =
            (0..LEVELS).find_map(|l| self.level_expiration(l).map(|(s, d)| (l, s, d)))
        {
            if deadline > now {
                break;
            }
            // Everything in this slot is due at or after `deadline`; the wheel's clock can
            // move there, since nothing earlier is pending.
            self.elapsed = self.elapsed.max(deadline);
            let mut key = self.heads[level][slot];
            self.heads[level][slot] = NIL;
            self.occupied[level] &= !(1 << slot);
            while key != NIL {
                let k = key as usize;
                key = self.entries[k].next;
                let e = &mut self.entries[k];
                e.prev = NIL;
                e.next = NIL;
                if e.when <= now {
                    e.fired = true;
                    if let Some(w) = e.waker.take() {
                        wakers.push(w);
                    }
                } else {
                    // Cascade to a lower level (or re-file a clamped far-future timer).
                    self.link(k);
                }
            }
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// Fires every pending timer (driver shutdown).
    pub(crate) fn fire_all(&mut self, wakers: &mut Vec<Waker>) {
        for (_, e) in self.entries.iter_mut() {
            if !e.fired {
                e.fired = true;
                e.prev = NIL;
                e.next = NIL;
                wakers.extend(e.waker.take());
            }
        }
        self.heads = [[NIL; SLOTS]; LEVELS];
        self.occupied = [0; LEVELS];
    }

    /// Earliest occupied slot of `level` and the tick at which it must be processed.
    fn level_expiration(&self, level: usize) -> Option<(usize, u64)> {
        let occupied = self.occupied[level];
        if occupied == 0 {
            return None;
        }
        let shift = SLOT_BITS * level as u32;
        let slot_range = 1u64 << shift;
        let level_range = slot_range << SLOT_BITS;
        let now_slot = ((self.elapsed >> shift) as usize) % SLOTS;
        let slot =
            (occupied.rotate_right(now_slot as u32).trailing_zeros() as usize + now_slot) % SLOTS;
        let level_start = self.elapsed & !(level_range - 1);
        let mut deadline = level_start + slot as u64 * slot_range;
        if deadline < self.elapsed {
            // Only the top level wraps around: its slots act as a ring for timers in the
            // next rotation. (The current slot of every level is always empty.)
            debug_assert_eq!(level, LEVELS - 1);
            deadline += level_range;
        }
        Some((slot, deadline))
    }

    fn level_for(&self, when: u64) -> usize {
        let mut masked = (self.elapsed ^ when) | (SLOTS as u64 - 1);
        if masked >= MAX_TICKS {
            masked = MAX_TICKS - 1;
        }
        let significant = 63 - masked.leading_zeros();
        (significant / SLOT_BITS) as usize
    }

    fn link(&mut self, key: usize) {
        // Deadlines beyond half the wheel's span (~397 days) are filed half a rotation
        // out, never in the current top-level slot, and re-filed when that slot comes up
        // (the entry keeps its true deadline).
        let when = self.entries[key].when;
        let filed = when.min(self.elapsed + MAX_TICKS / 2);
        let level = self.level_for(filed);
        let slot = ((filed >> (SLOT_BITS * level as u32)) as usize) % SLOTS;
        let head = self.heads[level][slot];
        {
            let e = &mut self.entries[key];
            e.level = level as u8;
            e.slot = slot as u8;
            e.prev = NIL;
            e.next = head;
        }
        if head != NIL {
            self.entries[head as usize].prev = key as u32;
        }
        self.heads[level][slot] = key as u32;
        self.occupied[level] |= 1 << slot;
    }

    fn unlink(&mut self, key: usize) {
        let (level, slot, prev, next) = {
            let e = &self.entries[key];
            (e.level as usize, e.slot as usize, e.prev, e.next)
        };
        if prev == NIL {
            self.heads[level][slot] = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        if self.heads[level][slot] == NIL {
            self.occupied[level] &= !(1 << slot);
        }
        let e = &mut self.entries[key];
        e.prev = NIL;
        e.next = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    /// Advances tick by tick and records when each key fired.
    fn fire_times(wheel: &mut Wheel, keys: &[usize], until: u64) -> Vec<Option<u64>> {
        let mut fired = vec![None; keys.len()];
        let mut buf = Vec::new();
        for now in wheel.elapsed() + 1..=until {
            wheel.advance(now, &mut buf);
            for (i, &k) in keys.iter().enumerate() {
                if fired[i].is_none() && wheel.is_fired(k) {
                    fired[i] = Some(now);
                }
            }
        }
        fired
    }

    #[test]
    fn fires_exactly_at_deadline_across_levels() {
        let mut w = Wheel::new();
        let whens = [1, 2, 63, 64, 65, 100, 4095, 4096, 4097, 70_000, 300_000];
        let keys: Vec<usize> = whens
            .iter()
            .map(|&t| match w.insert(t, waker().1) {
                Inserted::Pending(k) => k,
                Inserted::Elapsed => panic!("{t} elapsed"),
            })
            .collect();
        let fired = fire_times(&mut w, &keys, 300_001);
        for (i, &t) in whens.iter().enumerate() {
            assert_eq!(fired[i], Some(t), "timer due at {t}");
        }
    }

    #[test]
    fn next_expiration_is_a_lower_bound_and_jumps_work() {
        let mut w = Wheel::new();
        let mut keys = Vec::new();
        let whens = [5u64, 77, 5000, 1_000_000, 123_456_789];
        for &t in &whens {
            if let Inserted::Pending(k) = w.insert(t, waker().1) {
                keys.push(k);
            }
        }
        let mut buf = Vec::new();
        // Jump straight to each expiration the wheel reports, like the driver does.
        let mut fired_at = Vec::new();
        while let Some(next) = w.next_expiration() {
            assert!(next > w.elapsed() || next == w.elapsed());
            w.advance(next, &mut buf);
            for (i, &k) in keys.iter().enumerate() {
                if w.is_fired(k) && !fired_at.iter().any(|&(j, _)| j == i) {
                    fired_at.push((i, next));
                }
            }
            if fired_at.len() == keys.len() {
                break;
            }
        }
        for (i, at) in fired_at {
            assert_eq!(at, whens[i]);
        }
        assert_eq!(buf.len(), whens.len());
    }

    #[test]
    fn remove_is_o1_and_wakes_nothing() {
        let mut w = Wheel::new();
        let (count, wk) = waker();
        let Inserted::Pending(a) = w.insert(10, wk.clone()) else {
            panic!()
        };
        let Inserted::Pending(b) = w.insert(10, wk) else {
            panic!()
        };
        assert_eq!(w.len(), 2);
        w.remove(a);
        assert_eq!(w.len(), 1);
        let mut buf = Vec::new();
        w.advance(10, &mut buf);
        assert_eq!(buf.len(), 1);
        buf.drain(..).for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(w.is_fired(b));
        w.remove(b);
        assert_eq!(w.len(), 0);
        assert_eq!(w.next_expiration(), None);
    }

    #[test]
    fn insert_at_or_before_elapsed_is_elapsed() {
        let mut w = Wheel::new();
        let mut buf = Vec::new();
        w.advance(100, &mut buf);
        assert_eq!(w.insert(100, waker().1), Inserted::Elapsed);
        assert_eq!(w.insert(50, waker().1), Inserted::Elapsed);
        assert!(matches!(w.insert(101, waker().1), Inserted::Pending(_)));
    }

    #[test]
    fn far_future_timers_are_clamped_and_refiled() {
        let mut w = Wheel::new();
        let when = MAX_TICKS * 2 + 17;
        let Inserted::Pending(k) = w.insert(when, waker().1) else {
            panic!()
        };
        let mut buf = Vec::new();
        let mut steps = 0;
        while !w.is_fired(k) {
            let next = w.next_expiration().expect("pending timer");
            assert!(next <= when);
            w.advance(next, &mut buf);
            steps += 1;
            assert!(steps < 100, "far timer did not converge");
        }
        assert_eq!(w.elapsed(), when);
    }

    #[test]
    fn randomized_against_a_sorted_model() {
        // xorshift: deterministic pseudo-random deadlines and cancellations.
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let mut w = Wheel::new();
        let mut live: Vec<(usize, u64)> = Vec::new();
        let mut buf = Vec::new();
        let mut now = 0u64;
        for _ in 0..2000 {
            match rnd() % 4 {
                0 | 1 => {
                    let when = now + 1 + rnd() % 20_000;
                    if let Inserted::Pending(k) = w.insert(when, waker().1) {
                        live.push((k, when));
                    }
                }
                2 if !live.is_empty() => {
                    let i = (rnd() as usize) % live.len();
                    let (k, _) = live.swap_remove(i);
                    w.remove(k);
                }
                _ => {
                    now += rnd() % 700;
                    w.advance(now, &mut buf);
                    live.retain(|&(k, when)| {
                        assert_eq!(w.is_fired(k), when <= now, "when={when} now={now}");
                        if w.is_fired(k) {
                            w.remove(k);
                            false
                        } else {
                            true
                        }
                    });
                }
            }
        }
        assert_eq!(w.len(), live.len());
    }
}
