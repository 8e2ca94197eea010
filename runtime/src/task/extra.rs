//! A task's cold, out-of-line data: its name, the task whose `TaskGroup` it belongs to,
//! and what it was awaiting at the end of its last poll (for task dumps).
//!
//! One word in the task's trailer: the task's spawn location until the block is needed,
//! then a pointer to the block (which keeps the location). The block is allocated at
//! spawn for a named task or a `TaskGroup` child, otherwise by the task's own poller the
//! first time a poll ends `Pending` on a corio leaf future that left a record. A task
//! that never waits on corio (or never waits) never allocates it.
//!
//! Writers: the spawner (before the task is published) and then only the thread polling
//! the task (exclusive while `RUNNING`). Readers: anyone holding a task reference (task
//! dumps, `TaskInfo`), concurrently with a poll. The await records are therefore a
//! seqlock: the writer makes the sequence odd, stores, then makes it even again; a reader
//! keeps a copy only if it saw the same even sequence before and after. Every field is
//! an atomic, so a torn read is a stale value, never undefined behaviour, and each
//! pointer field only ever holds null or a `&'static` the writer stored. The word itself
//! changes once, from location to block, by a `Release` store after the block is filled
//! in; readers load it with `Acquire`.

use std::panic::Location;
use std::ptr;
use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use corio_sync::trace::{self, Op, Record, Records, MAX_RECORDS};

use super::error::TaskId;

/// The trailer's word for a task's spawn location and cold data: the `&'static Location`
/// itself, tagged with [`LOCATION_TAG`], until the task needs a block; from then on a
/// pointer to its [`Extra`] block, which holds the location too. One word for both keeps
/// a task that never needs the block at 88 bytes (a 96-byte malloc chunk).
pub(crate) struct ExtraSlot(AtomicPtr<()>);

/// Set in an [`ExtraSlot`] word that is a location rather than a block pointer.
const LOCATION_TAG: usize = 1;

// Both kinds of pointer leave the tag bit free.
const _: () = assert!(std::mem::align_of::<Location<'static>>() > LOCATION_TAG);
const _: () = assert!(std::mem::align_of::<Extra>() > LOCATION_TAG);

struct Extra {
    location: &'static Location<'static>,
    name: Option<Arc<String>>,
    group: Option<TaskId>,
    seq: AtomicU32,
    len: AtomicUsize,
    records: [Slot; MAX_RECORDS],
}

#[derive(Default)]
struct Slot {
    op: AtomicPtr<Op>,
    detail: AtomicU64,
    at: AtomicPtr<Location<'static>>,
}

impl Extra {
    /// A block with no records: a spare one of this thread's if it has one.
    fn new(
        location: &'static Location<'static>,
        name: Option<Arc<String>>,
        group: Option<TaskId>,
    ) -> Box<Extra> {
        match spare::take() {
            Some(mut extra) => {
                extra.location = location;
                extra.name = name;
                extra.group = group;
                // `seq` stays as it was (even: no publication is under way); the old
                // records stay behind `len` 0, where no reader looks.
                *extra.len.get_mut() = 0;
                extra
            }
            None => Box::new(Extra {
                location,
                name,
                group,
                seq: AtomicU32::new(0),
                len: AtomicUsize::new(0),
                records: Default::default(),
            }),
        }
    }
}

/// Blocks of ended tasks, kept per thread for the next task that needs one. Most blocks
/// are made by a task's first wait and freed when the task ends, often on the same worker:
/// a short stack of spares saves a `malloc` and a `free` per such task. A block is only
/// kept once its task is deallocated, so no reader can still be looking at it.
#[cfg(not(any(loom, shuttle)))]
mod spare {
    use super::Extra;
    use std::cell::RefCell;

    /// How many spares a thread keeps (≈ 2 KiB).
    const KEEP: usize = 16;

    std::thread_local! {
        // The boxes are the point: each is an allocation kept for reuse.
        #[allow(clippy::vec_box)]
        static SPARE: RefCell<Vec<Box<Extra>>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn take() -> Option<Box<Extra>> {
        SPARE
            .try_with(|s| s.try_borrow_mut().ok()?.pop())
            .ok()
            .flatten()
    }

    /// Keeps `extra` as a spare, or hands it back if this thread has enough.
    pub(super) fn keep(extra: Box<Extra>) -> Option<Box<Extra>> {
        SPARE
            .try_with(|s| match s.try_borrow_mut() {
                Ok(mut spares) if spares.len() < KEEP => {
                    spares.reserve_exact(KEEP);
                    spares.push(extra);
                    None
                }
                _ => Some(extra),
            })
            // The thread is exiting and its spares are gone (`extra` was dropped with the
            // closure): nothing to hand back.
            .unwrap_or_default()
    }
}

/// Model checkers run without spares: each block is its own allocation.
#[cfg(any(loom, shuttle))]
mod spare {
    use super::Extra;

    pub(super) fn take() -> Option<Box<Extra>> {
        None
    }

    pub(super) fn keep(extra: Box<Extra>) -> Option<Box<Extra>> {
        Some(extra)
    }
}

/// What an [`ExtraSlot`] word holds.
enum Word<'a> {
    Location(&'static Location<'static>),
    Block(&'a Extra),
}

impl ExtraSlot {
    /// The slot of a task spawned at `location`.
    #[inline]
    pub(crate) fn new(
        location: &'static Location<'static>,
        name: Option<Arc<String>>,
        group: Option<TaskId>,
    ) -> ExtraSlot {
        let word = if name.is_some() || group.is_some() {
            Box::into_raw(Extra::new(location, name, group)).cast::<()>()
        } else {
            tag(location)
        };
        ExtraSlot(AtomicPtr::new(word))
    }

    fn word(&self) -> Word<'_> {
        let word = self.0.load(Ordering::Acquire);
        if word.addr() & LOCATION_TAG != 0 {
            let location = word
                .map_addr(|a| a & !LOCATION_TAG)
                .cast::<Location<'static>>();
            // SAFETY: a tagged word is a `&'static Location` tagged by `tag`.
            Word::Location(unsafe { &*location })
        } else {
            // SAFETY: an untagged word came from `Box::into_raw` and is freed only by
            // `Drop`, which has `&mut self`: the block outlives this borrow of `self`.
            Word::Block(unsafe { &*word.cast::<Extra>() })
        }
    }

    fn get(&self) -> Option<&Extra> {
        match self.word() {
            Word::Location(_) => None,
            Word::Block(extra) => Some(extra),
        }
    }

    /// Where the task was spawned.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        match self.word() {
            Word::Location(location) => location,
            Word::Block(extra) => extra.location,
        }
    }

    /// The task's name.
    pub(crate) fn name(&self) -> Option<Arc<String>> {
        self.get().and_then(|e| e.name.clone())
    }

    /// The task's name, borrowed.
    pub(crate) fn name_str(&self) -> Option<&str> {
        self.get()
            .and_then(|e| e.name.as_deref())
            .map(String::as_str)
    }

    /// The task that owns the `TaskGroup` this task was spawned into.
    pub(crate) fn group(&self) -> Option<TaskId> {
        self.get().and_then(|e| e.group)
    }

    /// True while the task has no block (nothing published, no name, no group).
    #[inline]
    fn has_no_block(&self) -> bool {
        self.0.load(Ordering::Relaxed).addr() & LOCATION_TAG != 0
    }

    /// Publishes the `recorded` records (from `trace::take`) the `Pending` poll that just
    /// ended left in this thread's record buffer. Only the task's poller may call it.
    #[inline]
    pub(crate) fn publish_recorded(&self, recorded: usize) {
        // The common case, inline: nothing recorded now or before (no block yet), or
        // recording compiled out.
        if !trace::ENABLED || (recorded == 0 && self.has_no_block()) {
            return;
        }
        self.publish_taken(recorded);
    }

    /// [`publish_recorded`](Self::publish_recorded)'s slow path, out of line so the fast
    /// path does not compute the buffer's address.
    #[inline(never)]
    fn publish_taken(&self, recorded: usize) {
        trace::with_taken(recorded, |records| self.publish_slow(records));
    }

    /// Publishes `records` as what the task awaits. Only the task's poller may call it.
    #[inline]
    pub(crate) fn publish(&self, records: Records<'_>) {
        // The common case, inline: nothing recorded now or before (no block yet).
        if records.is_empty() && self.has_no_block() {
            return;
        }
        self.publish_slow(records);
    }

    #[inline(never)]
    fn publish_slow(&self, records: Records<'_>) {
        let extra = match self.word() {
            Word::Block(extra) => extra,
            // Nothing recorded and nothing published before: nothing to clear.
            Word::Location(_) if records.is_empty() => return,
            Word::Location(location) => {
                let ptr = Box::into_raw(Extra::new(location, None, None));
                // Only the poller stores a block after spawn, so a plain store cannot
                // race with another store; `Release` publishes the block's contents.
                self.0.store(ptr.cast::<()>(), Ordering::Release);
                // SAFETY: just allocated; freed only by `Drop` (see `word`).
                unsafe { &*ptr }
            }
        };
        // Unchanged since the last publication (a task waiting on the same thing again):
        // nothing to write. We are the only writer, so these loads see our own stores.
        if extra.len.load(Ordering::Relaxed) == records.len()
            && extra.records.iter().zip(records.iter()).all(|(slot, r)| {
                let at = r.at.map_or(ptr::null(), ptr::from_ref);
                slot.op.load(Ordering::Relaxed).cast_const() == ptr::from_ref(r.op)
                    && slot.detail.load(Ordering::Relaxed) == r.detail
                    && slot.at.load(Ordering::Relaxed).cast_const() == at
            })
        {
            return;
        }
        let seq = extra.seq.load(Ordering::Relaxed);
        extra.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        for (slot, r) in extra.records.iter().zip(records.iter()) {
            slot.op
                .store(ptr::from_ref(r.op).cast_mut(), Ordering::Relaxed);
            slot.detail.store(r.detail, Ordering::Relaxed);
            let at =
                r.at.map_or(ptr::null_mut(), |at| ptr::from_ref(at).cast_mut());
            slot.at.store(at, Ordering::Relaxed);
        }
        extra.len.store(records.len(), Ordering::Relaxed);
        extra.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// A consistent copy of the last published records (innermost first) into `out`;
    /// returns how many. Lock-free: retries while the poller is publishing.
    pub(crate) fn awaiting(&self, out: &mut [Option<Record>; MAX_RECORDS]) -> usize {
        let Some(extra) = self.get() else {
            return 0;
        };
        for _ in 0..64 {
            let before = extra.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let len = extra.len.load(Ordering::Relaxed).min(MAX_RECORDS);
            for (o, slot) in out.iter_mut().zip(&extra.records).take(len) {
                let op = slot.op.load(Ordering::Relaxed);
                let at = slot.at.load(Ordering::Relaxed);
                // SAFETY: each pointer field holds null or a pointer made from a
                // `&'static` by `publish` (atomic stores: never torn), so a non-null
                // value is a valid `'static` reference.
                let (op, at) = unsafe { (op.as_ref(), at.as_ref()) };
                *o = op.map(|op| Record {
                    op,
                    detail: slot.detail.load(Ordering::Relaxed),
                    at,
                });
            }
            fence(Ordering::Acquire);
            if extra.seq.load(Ordering::Relaxed) == before {
                return len;
            }
        }
        // The poller kept publishing (a task polled in a tight loop): report nothing
        // rather than a mix of two polls.
        0
    }
}

/// `location` as a tagged [`ExtraSlot`] word.
fn tag(location: &'static Location<'static>) -> *mut () {
    ptr::from_ref(location)
        .cast_mut()
        .cast::<()>()
        .map_addr(|a| a | LOCATION_TAG)
}

impl Drop for ExtraSlot {
    #[inline]
    fn drop(&mut self) {
        let word = *self.0.get_mut();
        if word.addr() & LOCATION_TAG == 0 {
            // SAFETY: an untagged word was allocated by `Box::into_raw` in this module and
            // is freed (or kept as a spare) only here.
            let mut extra = unsafe { Box::from_raw(word.cast::<Extra>()) };
            extra.name = None;
            drop(spare::keep(extra));
        }
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use corio_sync::trace::Detail;

    static GET: Op = Op {
        name: "Queue::get",
        detail: Detail::None,
    };
    static SLEEP: Op = Op {
        name: "sleep",
        detail: Detail::Deadline,
    };

    fn read(slot: &ExtraSlot) -> Vec<(&'static str, u64)> {
        let mut out = [None; MAX_RECORDS];
        let n = slot.awaiting(&mut out);
        out[..n]
            .iter()
            .map(|r| {
                let r = r.expect("a published record");
                (r.op.name, r.detail)
            })
            .collect()
    }

    #[test]
    fn nothing_is_allocated_until_something_is_recorded() {
        let spawned_at = Location::caller();
        let slot = ExtraSlot::new(spawned_at, None, None);
        slot.publish(Records::EMPTY);
        assert!(slot.has_no_block());
        assert!(read(&slot).is_empty());
        assert_eq!(slot.location(), spawned_at);
        let at = Location::caller();
        slot.publish(Records::from_mut(&mut [
            Record {
                op: &GET,
                detail: 0,
                at: Some(at),
            },
            Record {
                op: &SLEEP,
                detail: 9,
                at: None,
            },
        ]));
        assert_eq!(read(&slot), [("Queue::get", 0), ("sleep", 9)]);
        // The block took over the word, and keeps the spawn location.
        assert!(!slot.has_no_block());
        assert_eq!(slot.location(), spawned_at);
        // A later poll that awaited nothing corio knows clears the records.
        slot.publish(Records::EMPTY);
        assert!(read(&slot).is_empty());
        assert_eq!(slot.name(), None);
    }

    #[test]
    fn name_and_group_are_kept() {
        let spawned_at = Location::caller();
        let slot = ExtraSlot::new(spawned_at, Some(Arc::new("worker".into())), None);
        assert_eq!(slot.name().as_deref().map(String::as_str), Some("worker"));
        assert_eq!(slot.location(), spawned_at);
        assert_eq!(slot.group(), None);
    }

    #[test]
    fn a_freed_block_is_reused_clean_by_the_next_task_on_the_thread() {
        let at = Location::caller();
        let slot = ExtraSlot::new(at, Some(Arc::new("first".into())), Some(TaskId::next()));
        slot.publish(Records::from_mut(&mut [Record {
            op: &GET,
            detail: 5,
            at: None,
        }]));
        let block = slot.0.load(Ordering::Relaxed);
        drop(slot);
        let here = Location::caller();
        let next = ExtraSlot::new(here, Some(Arc::new("second".into())), None);
        assert_eq!(
            next.0.load(Ordering::Relaxed),
            block,
            "the spare was reused"
        );
        assert_eq!(next.name().as_deref().map(String::as_str), Some("second"));
        assert_eq!(next.group(), None);
        assert_eq!(next.location(), here);
        assert!(
            read(&next).is_empty(),
            "no records from the block's last task"
        );
    }

    #[test]
    fn a_reader_never_sees_a_mix_of_two_publications() {
        let slot = Arc::new(ExtraSlot::new(Location::caller(), None, None));
        let at = Location::caller();
        let rec = |d| Record {
            op: &SLEEP,
            detail: d,
            at: Some(at),
        };
        slot.publish(Records::from_mut(&mut [rec(0), rec(0), rec(0)]));
        let writer = {
            let slot = slot.clone();
            std::thread::spawn(move || {
                for d in 1..20_000u64 {
                    slot.publish(Records::from_mut(&mut [rec(d), rec(d), rec(d)]));
                }
            })
        };
        // Read while the writer runs, and once more after it is done (a thread scheduler
        // that runs the writer to completion first, like valgrind's, still gets a read).
        loop {
            let done = writer.is_finished();
            let seen = read(&slot);
            let [first, ..] = seen.as_slice() else {
                // The reader gave up while the writer kept publishing (allowed); once the
                // writer is done a read must succeed.
                assert!(!done, "no consistent read after the writer finished");
                continue;
            };
            assert!(seen.iter().all(|r| r == first), "torn read: {seen:?}");
            if done {
                assert_eq!(seen.len(), 3);
                assert_eq!(seen[0].1, 19_999, "the last publication wins");
                break;
            }
        }
        writer.join().unwrap();
    }
}
