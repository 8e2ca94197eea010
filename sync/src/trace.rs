//! What a pending task is awaiting: leaf futures leave a record when they return
//! `Pending`, and the runtime keeps the records of a task's last poll for its task dump.
//!
//! A leaf future (a sleep, a socket read, a `Queue::get`, a lock, a join...) that returns
//! `Pending` calls [`record`] with a static description of itself, one word of detail and
//! the `#[track_caller]` location it was created at. Records land in a small per-thread
//! buffer (a few stores, no allocation, no atomic); the runtime ends each task poll with
//! [`take`] and copies what the poll left to the task (its `block_on` futures go through
//! [`poll_traced`]). An inner future is polled before the future that wraps it, so the
//! records of one poll run from the innermost leaf outwards (`Queue::get`, then the
//! `wait_for` around it).
//!
//! Records made outside corio's polls (another executor) are never read: the runtime
//! empties the buffer when a thread starts running its scheduler. Without the
//! `await-chains` feature (and under the model checkers) every function here does
//! nothing: see [`ENABLED`].

use std::panic::Location;

#[cfg(not(any(loom, shuttle)))]
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
    /// A signal number.
    Signal,
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

/// `deadline` as a [`Detail::Deadline`] word (saturating; 0 for a deadline before [`epoch`],
/// and always 0 when recording is off).
pub fn deadline_word(deadline: std::time::Instant) -> u64 {
    if !ENABLED {
        // Nobody reads it: skip the clock arithmetic.
        return 0;
    }
    let since = deadline.saturating_duration_since(epoch());
    u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
struct Buffer {
    len: Cell<u8>,
    records: [Cell<Record>; MAX_RECORDS],
}

#[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
std::thread_local! {
    static BUFFER: Buffer = const {
        Buffer {
            len: Cell::new(0),
            records: [const { Cell::new(NONE_RECORD) }; MAX_RECORDS],
        }
    };
}

/// Records that the future being polled is pending on `op` (call it right before
/// returning `Pending`). Outside a task poll the record goes nowhere: the next
/// [`poll_traced`] starts from an empty buffer.
#[inline]
pub fn record(op: &'static Op, detail: u64, at: &'static Location<'static>) {
    record_at(op, detail, Some(at));
}

/// [`record`] for a wait whose creation site is not known.
///
/// Out of line: it runs only when a future returns `Pending`, and keeping it out of the
/// callers keeps their ready paths small.
#[inline(never)]
pub fn record_at(op: &'static Op, detail: u64, at: Option<&'static Location<'static>>) {
    #[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
    {
        let _ = BUFFER.try_with(|b| {
            let len = b.len.get() as usize;
            if len < MAX_RECORDS {
                b.records[len].set(Record { op, detail, at });
                b.len.set(len as u8 + 1);
            }
        });
    }
    #[cfg(not(all(feature = "await-chains", not(any(loom, shuttle)))))]
    {
        let _ = (op, detail, at);
    }
}

/// Where the records of the futures a combinator is about to poll will start: pass it
/// to [`record_outer`] after polling them.
#[inline]
pub fn mark() -> usize {
    #[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
    {
        BUFFER.try_with(|b| b.len.get() as usize).unwrap_or(0)
    }
    #[cfg(not(all(feature = "await-chains", not(any(loom, shuttle)))))]
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
    #[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
    {
        let _ = BUFFER.try_with(|b| {
            let len = b.len.get() as usize;
            let kept = len.min(mark.saturating_add(keep)).min(MAX_RECORDS - 1);
            b.len.set(kept as u8);
        });
        record(op, detail, at);
    }
    #[cfg(not(all(feature = "await-chains", not(any(loom, shuttle)))))]
    {
        let _ = (mark, keep, op, detail, at);
    }
}

/// The records one poll left, innermost first: a view of the thread's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    #[cfg(not(any(loom, shuttle)))]
    cells: &'a [Cell<Record>],
    #[cfg(any(loom, shuttle))]
    cells: &'a [Record],
}

impl<'a> Records<'a> {
    /// No record.
    pub const EMPTY: Records<'static> = Records { cells: &[] };

    /// A view of `records` (for tests of code that publishes records).
    #[cfg(not(any(loom, shuttle)))]
    pub fn from_mut(records: &'a mut [Record]) -> Records<'a> {
        Records {
            cells: Cell::from_mut(records).as_slice_of_cells(),
        }
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True if the poll left none.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The records, innermost first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Record> + 'a {
        #[cfg(not(any(loom, shuttle)))]
        {
            self.cells.iter().map(Cell::get)
        }
        #[cfg(any(loom, shuttle))]
        {
            self.cells.iter().copied()
        }
    }
}

/// Starts a traced poll: empties this thread's record buffer. After the poll, [`take`]
/// says how many records it left (and empties the buffer again) and [`with_taken`] reads
/// them.
///
/// The runtime's task poller skips this: the runtime calls it when a thread starts
/// running its scheduler, every task poll ends with [`take`], and the runtime's other
/// traced polls ([`poll_traced`]) begin and end the same way, so a task poll always
/// starts from an empty buffer. A task poll inside another task's poll (which
/// corio never does: runtimes do not nest) would leave the outer poll only the records
/// made after the inner one.
#[inline]
pub fn begin() {
    #[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
    BUFFER.with(|b| b.len.set(0));
}

/// Ends a traced poll: how many records it left, innermost first; the buffer is empty
/// again. Read them with [`with_taken`] before anything else records on this thread.
#[inline]
pub fn take() -> usize {
    #[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
    {
        BUFFER.with(|b| b.len.replace(0) as usize)
    }
    #[cfg(not(all(feature = "await-chains", not(any(loom, shuttle)))))]
    {
        0
    }
}

/// Runs `f` on the `n` records the last [`take`] returned, innermost first.
#[inline]
pub fn with_taken<R>(n: usize, f: impl FnOnce(Records<'_>) -> R) -> R {
    #[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
    {
        BUFFER.with(|b| {
            f(Records {
                cells: &b.records[..n.min(MAX_RECORDS)],
            })
        })
    }
    #[cfg(not(all(feature = "await-chains", not(any(loom, shuttle)))))]
    {
        let _ = n;
        f(Records::EMPTY)
    }
}

/// Runs one poll `f` between [`begin`] and [`take`]: `done` gets its result and the
/// records it left (innermost first).
#[inline]
pub fn poll_traced<R>(f: impl FnOnce() -> R, done: impl FnOnce(&R, Records<'_>)) -> R {
    begin();
    let r = f();
    let n = take();
    with_taken(n, |records| done(&r, records));
    r
}

/// True when corio records what tasks await (the `await-chains` feature, outside model
/// checkers); otherwise every function here does nothing and task dumps show no await
/// chains.
pub const ENABLED: bool = cfg!(all(feature = "await-chains", not(any(loom, shuttle))));

#[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
static NONE_OP: Op = Op {
    name: "",
    detail: Detail::None,
};

#[cfg(all(feature = "await-chains", not(any(loom, shuttle))))]
const NONE_RECORD: Record = Record {
    op: &NONE_OP,
    detail: 0,
    at: None,
};

#[cfg(all(test, feature = "await-chains", not(any(loom, shuttle))))]
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
    fn records_outside_a_traced_poll_do_not_reach_the_next_one() {
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
    fn records_past_the_buffer_are_dropped() {
        let mut seen = Vec::new();
        poll_traced(
            || {
                for i in 0..10 {
                    record(&SLEEP, i, Location::caller());
                }
            },
            |_, r| seen = r.iter().map(|r| r.detail).collect(),
        );
        assert_eq!(seen, [0, 1, 2]);
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
