//! What a pending task is awaiting: leaf futures leave a record when they return
//! `Pending`, and the runtime keeps the records of a task's last poll for its task dump.
//!
//! The runtime polls each task inside [`poll_traced`]; a leaf future (a sleep, a socket
//! read, a `Queue::get`, a lock, a join...) that returns `Pending` calls [`record`] with a
//! static description of itself, one word of detail and the `#[track_caller]` location
//! it was created at. Records land in a small per-thread buffer (a few stores, no
//! allocation, no atomic); when the poll ends the runtime copies them to the task. An
//! inner future is polled before the future that wraps it, so the records of one poll
//! run from the innermost leaf outwards (`Queue::get`, then the `wait_for` around it).
//!
//! Outside a task poll (another executor, a `block_on` future) [`record`] does nothing.

use std::panic::Location;

#[cfg(not(loom))]
use std::cell::Cell;

/// How many records one poll keeps; later ones are dropped (the innermost are kept).
pub const MAX_RECORDS: usize = 3;

/// What the detail word of a [`Record`] means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// Nothing.
    None,
    /// A deadline, in nanoseconds since [`epoch`].
    Deadline,
    /// A file descriptor.
    Fd,
    /// A task id.
    Task,
    /// A number of children (tasks or futures).
    Count,
}

/// A static description of one kind of wait (`Queue::get`, `sleep`, ...).
#[derive(Debug)]
pub struct Op {
    /// What is awaited, as the user wrote it: `"Queue::get"`, `"sleep"`.
    pub name: &'static str,
    /// How to read the record's detail word.
    pub detail: Detail,
}

/// One thing a task was awaiting at the end of its last poll.
#[derive(Debug, Clone, Copy)]
pub struct Record {
    /// What kind of wait.
    pub op: &'static Op,
    /// The detail word, read as `op.detail` says.
    pub detail: u64,
    /// Where the awaited future was created (`None` where that is not known, e.g. a
    /// socket read through a trait method).
    pub at: Option<&'static Location<'static>>,
}

/// The instant deadlines are measured from (the first time anyone asked).
pub fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// `deadline` as a [`Detail::Deadline`] word (saturating; 0 for a deadline before [`epoch`]).
pub fn deadline_word(deadline: std::time::Instant) -> u64 {
    let since = deadline.saturating_duration_since(epoch());
    u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(not(loom))]
struct Buffer {
    /// Inside a traced task poll.
    active: Cell<bool>,
    len: Cell<u8>,
    records: [Cell<Record>; MAX_RECORDS],
}

#[cfg(not(loom))]
std::thread_local! {
    static BUFFER: Buffer = const {
        Buffer {
            active: Cell::new(false),
            len: Cell::new(0),
            records: [const { Cell::new(NONE_RECORD) }; MAX_RECORDS],
        }
    };
}

/// Records that the future being polled is pending on `op` (call it right before
/// returning `Pending`). Does nothing outside [`poll_traced`].
#[inline]
pub fn record(op: &'static Op, detail: u64, at: &'static Location<'static>) {
    record_at(op, detail, Some(at));
}

/// [`record`] for a wait whose creation site is not known.
#[inline]
pub fn record_at(op: &'static Op, detail: u64, at: Option<&'static Location<'static>>) {
    #[cfg(not(loom))]
    {
        let _ = BUFFER.try_with(|b| {
            let len = b.len.get() as usize;
            if b.active.get() && len < MAX_RECORDS {
                b.records[len].set(Record { op, detail, at });
                b.len.set(len as u8 + 1);
            }
        });
    }
    #[cfg(loom)]
    {
        let _ = (op, detail, at);
    }
}

/// Where the records of the futures a combinator is about to poll will start: pass it
/// to [`record_outer`] after polling them.
#[inline]
pub fn mark() -> usize {
    #[cfg(not(loom))]
    {
        BUFFER.try_with(|b| b.len.get() as usize).unwrap_or(0)
    }
    #[cfg(loom)]
    {
        0
    }
}

/// Records a combinator that polled other futures since `mark` (and is now pending):
/// keeps at most `keep` of their records (0 for tasks it joins, whose waits show up
/// under their own tasks) and always finds room for its own record after them.
#[inline]
pub fn record_outer(
    mark: usize,
    keep: usize,
    op: &'static Op,
    detail: u64,
    at: &'static Location<'static>,
) {
    #[cfg(not(loom))]
    {
        let _ = BUFFER.try_with(|b| {
            let len = b.len.get() as usize;
            let kept = len.min(mark.saturating_add(keep)).min(MAX_RECORDS - 1);
            b.len.set(kept as u8);
        });
        record(op, detail, at);
    }
    #[cfg(loom)]
    {
        let _ = (mark, keep, op, detail, at);
    }
}

/// Runs one task poll `f` with an empty record buffer, then gives `done` the poll's result
/// and the records it left (innermost first). A nested call (a task polled inside
/// another's poll) leaves the outer poll's records as they were.
#[inline]
pub fn poll_traced<R>(f: impl FnOnce() -> R, done: impl FnOnce(&R, &[Record])) -> R {
    #[cfg(not(loom))]
    {
        // Restores the outer poll's buffer state even if `f` panics (its records are lost
        // then, which only costs the outer task one dump line).
        struct Reset(bool, u8);
        impl Drop for Reset {
            fn drop(&mut self) {
                let (active, len) = (self.0, self.1);
                let _ = BUFFER.try_with(|b| {
                    b.active.set(active);
                    b.len.set(len);
                });
            }
        }
        // A nested poll appends after the outer poll's records and hands over only its
        // own; the reset drops them again.
        let (outer, start) = BUFFER.with(|b| {
            let start = b.len.get();
            (Reset(b.active.replace(true), start), start as usize)
        });
        let r = f();
        BUFFER.with(|b| {
            let len = b.len.get() as usize;
            let mut records = [NONE_RECORD; MAX_RECORDS];
            let mut n = 0;
            for (r, cell) in records.iter_mut().zip(&b.records[start..len]) {
                *r = cell.get();
                n += 1;
            }
            done(&r, &records[..n]);
        });
        drop(outer);
        r
    }
    #[cfg(loom)]
    {
        let r = f();
        done(&r, &[]);
        r
    }
}

static NONE_OP: Op = Op {
    name: "",
    detail: Detail::None,
};

const NONE_RECORD: Record = Record {
    op: &NONE_OP,
    detail: 0,
    at: None,
};

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    static SLEEP: Op = Op {
        name: "sleep",
        detail: Detail::Deadline,
    };
    static GET: Op = Op {
        name: "Queue::get",
        detail: Detail::None,
    };

    #[test]
    fn records_outside_a_traced_poll_are_ignored() {
        record(&GET, 0, Location::caller());
        let mut seen = None;
        poll_traced(|| (), |_, r| seen = Some(r.len()));
        assert_eq!(seen, Some(0));
    }

    #[test]
    fn a_poll_hands_over_its_records_innermost_first() {
        let mut seen = Vec::new();
        let out = poll_traced(
            || {
                record(&GET, 0, Location::caller());
                record(&SLEEP, 7, Location::caller());
                42
            },
            |r, recs| {
                assert_eq!(*r, 42);
                seen = recs.iter().map(|r| (r.op.name, r.detail)).collect();
            },
        );
        assert_eq!(out, 42);
        assert_eq!(seen, [("Queue::get", 0), ("sleep", 7)]);
    }

    #[test]
    fn extra_records_are_dropped_and_nested_polls_keep_the_outer_ones() {
        let mut outer = Vec::new();
        poll_traced(
            || {
                record(&GET, 1, Location::caller());
                let mut inner = 0;
                poll_traced(
                    || {
                        for i in 0..10 {
                            record(&SLEEP, i, Location::caller());
                        }
                    },
                    |_, r| inner = r.len(),
                );
                // The outer record takes one of the slots.
                assert_eq!(inner, MAX_RECORDS - 1);
                record(&GET, 2, Location::caller());
            },
            |_, r| outer = r.iter().map(|r| r.detail).collect(),
        );
        assert_eq!(outer, [1, 2]);
    }

    #[test]
    fn an_outer_record_always_finds_room() {
        let mut seen = Vec::new();
        poll_traced(
            || {
                let m = mark();
                for i in 0..5 {
                    record(&SLEEP, i, Location::caller());
                }
                record_outer(m, MAX_RECORDS, &GET, 99, Location::caller());
            },
            |_, r| seen = r.iter().map(|r| r.detail).collect(),
        );
        assert_eq!(seen, [0, 1, 99]);
        poll_traced(
            || {
                record(&SLEEP, 7, Location::caller());
                let m = mark();
                record(&SLEEP, 8, Location::caller());
                record_outer(m, 0, &GET, 99, Location::caller());
            },
            |_, r| seen = r.iter().map(|r| r.detail).collect(),
        );
        assert_eq!(seen, [7, 99]);
    }
}
