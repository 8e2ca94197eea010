//! Task dumps: every live task of a runtime with its state, polls, age and await chain
//! ([`Dump`], from [`dump`](crate::dump) or [`Handle::dump`](crate::Handle::dump)).
//!
//! Built from what is already there: the live-task registry (walked one shard at a time,
//! each shard's lock held only while its tasks are copied), each task's state word (which
//! counts polls), the await records its last `Pending` poll left (see
//! `corio_sync::trace`), and the monitor thread's sightings (ages, running polls).
//! Nothing is paused: a dump is a snapshot taken while the tasks keep running.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use corio_sync::trace::{self, Detail, Op, Record, MAX_RECORDS};

use super::error::TaskId;
use super::extra::ExtraSlot;
use super::info::{TaskInfo, TaskState};
use super::registry::Registry;

/// A snapshot of every live task of a runtime; `Display` prints it as a tree (tasks of a
/// `TaskGroup` under the task that spawned them), like `python -m asyncio pstree`.
///
/// ```
/// use std::time::Duration;
///
/// corio_runtime::run(async {
///     let sleeper = corio_runtime::task::Builder::new()
///         .name("sleeper")
///         .spawn(corio_runtime::sleep(Duration::from_secs(60)));
///     corio_runtime::sleep(Duration::from_millis(20)).await;
///     let dump = corio_runtime::dump();
///     let task = dump.iter().find(|t| t.info().name() == Some("sleeper")).unwrap();
///     assert_eq!(task.awaiting()[0].what(), "sleep");
///     println!("{dump}");
///     sleeper.cancel();
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Dump {
    tasks: Vec<TaskDump>,
    block_ons: Vec<BlockOnDump>,
    workers: usize,
    took: Duration,
}

/// A future given to `block_on` (or `corio::run`, `#[corio::main]`), which is not a task
/// but is often the one everything hangs on.
///
/// ```
/// corio_runtime::run(async {
///     let dump = corio_runtime::dump();
///     // This very future, running (so awaiting nothing right now).
///     assert_eq!(dump.block_ons().len(), 1);
///     assert!(dump.block_ons()[0].awaiting().is_empty());
/// });
/// ```
#[derive(Debug, Clone)]
pub struct BlockOnDump {
    thread: Option<String>,
    running: bool,
    awaiting: Chain,
}

impl BlockOnDump {
    /// The name of the thread blocked on it.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let dump = corio_runtime::dump();
    ///     let _name: Option<&str> = dump.block_ons()[0].thread_name();
    /// });
    /// ```
    pub fn thread_name(&self) -> Option<&str> {
        self.thread.as_deref()
    }

    /// True if it was being polled when the dump was taken (its await chain is then
    /// empty: it awaits nothing while it runs).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     assert!(corio_runtime::dump().block_ons()[0].is_running());
    /// });
    /// ```
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// What it awaited when last polled, outermost first (see [`TaskDump::awaiting`]).
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| rt.block_on(corio_runtime::sleep(std::time::Duration::from_millis(300))));
    ///     std::thread::sleep(std::time::Duration::from_millis(100));
    ///     let dump = handle.dump();
    ///     assert_eq!(dump.block_ons()[0].awaiting()[0].what(), "sleep");
    /// });
    /// ```
    pub fn awaiting(&self) -> &[Awaiting] {
        self.awaiting.as_slice()
    }
}

/// One task in a [`Dump`].
///
/// ```
/// corio_runtime::run(async {
///     let dump = corio_runtime::dump();
///     for task in &dump {
///         println!("{} spawned at {}: {:?}", task.info(), task.info().location(), task.state());
///     }
/// });
/// ```
#[derive(Debug, Clone)]
pub struct TaskDump {
    info: TaskInfo,
    polls: Option<u32>,
    age: Option<Duration>,
    worker: Option<usize>,
    running_for: Option<Duration>,
    parent: Option<TaskId>,
    awaiting: Chain,
}

static NO_OP: Op = Op {
    name: "",
    detail: Detail::None,
};

/// An await chain, inline (a dump of 100 000 tasks makes no allocation per task).
#[derive(Debug, Clone, Copy)]
struct Chain {
    links: [Awaiting; MAX_RECORDS],
    len: u8,
}

impl Chain {
    const EMPTY: Chain = Chain {
        links: [Awaiting {
            op: &NO_OP,
            value: 0,
            at: None,
        }; MAX_RECORDS],
        len: 0,
    };

    fn as_slice(&self) -> &[Awaiting] {
        &self.links[..self.len as usize]
    }
}

/// One link of a task's await chain: what it waits for and where that was created.
///
/// ```
/// use std::sync::Arc;
///
/// corio_runtime::run(async {
///     let ev = Arc::new(corio_sync::Event::new());
///     let waiter = {
///         let ev = ev.clone();
///         corio_runtime::spawn(async move { ev.wait().await })
///     };
///     corio_runtime::sleep(std::time::Duration::from_millis(20)).await;
///     let dump = corio_runtime::dump();
///     let link = &dump.iter().find(|t| t.info().id() == waiter.id()).unwrap().awaiting()[0];
///     assert_eq!(link.what(), "Event::wait");
///     assert!(link.location().unwrap().file().ends_with(".rs"));
///     ev.set();
///     waiter.await.unwrap();
/// });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Awaiting {
    op: &'static Op,
    /// The record's detail word; for a deadline, nanoseconds left at the dump (negative:
    /// overdue). Compact, so a dump of many tasks stays small.
    value: i64,
    at: Option<&'static Location<'static>>,
}

/// The detail of an [`Awaiting`] link.
///
/// ```
/// use corio_runtime::task::AwaitDetail;
/// let d = AwaitDetail::Fd(7);
/// assert_eq!(d.to_string(), "fd 7");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwaitDetail {
    /// Nothing more to say.
    None,
    /// A deadline this far ahead (a sleep, a timeout).
    TimeLeft(Duration),
    /// A deadline this far behind (due, the task has not run since).
    Overdue(Duration),
    /// A file descriptor.
    Fd(i32),
    /// A task being joined.
    Task(TaskId),
    /// How many tasks or futures are left.
    Remaining(u64),
    /// A signal number.
    Signal(i32),
}

impl Dump {
    /// Collects the dump of the tasks in `registry`. `running` lists `(worker, task id)`
    /// for each worker inside a poll.
    pub(crate) fn collect(registry: &Registry, workers: usize, running: &[(usize, u64)]) -> Dump {
        let start = Instant::now();
        let sightings = registry.sightings();
        let births = sightings.births();
        let mut tasks = Vec::with_capacity(registry.len());
        registry.for_each(|task| {
            let snap = task.state().load();
            if snap.is_complete() {
                return;
            }
            let info = TaskInfo::from_raw(task);
            let extra = &task.trailer().extra;
            let awaiting = chain(extra, start);
            let id = info.id();
            // `running` has one entry per busy worker: a scan beats a map.
            let worker = if info.state() == TaskState::Running {
                running
                    .iter()
                    .find(|&&(_, t)| t == id.as_u64())
                    .map(|&(w, _)| w)
            } else {
                None
            };
            let running_for = worker
                .and_then(|w| sightings.running_since(w, id.as_u64()))
                .map(|since| start.saturating_duration_since(since));
            tasks.push(TaskDump {
                polls: snap.polls(),
                age: births.age(id, start),
                worker,
                running_for,
                parent: extra.group(),
                awaiting,
                info,
            });
        });
        let block_ons = registry
            .block_ons()
            .into_iter()
            .map(|state| {
                let running = state.polling.load(std::sync::atomic::Ordering::Relaxed);
                BlockOnDump {
                    thread: state.thread.clone(),
                    running,
                    awaiting: if running {
                        Chain::EMPTY
                    } else {
                        chain(&state.slot, start)
                    },
                }
            })
            .collect();
        Dump {
            tasks,
            block_ons,
            workers,
            took: start.elapsed(),
        }
    }

    /// The futures given to `block_on` that are running now (usually one: the `main`
    /// future of `corio::run` or `#[corio::main]`).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     assert_eq!(corio_runtime::dump().block_ons().len(), 1);
    /// });
    /// ```
    pub fn block_ons(&self) -> &[BlockOnDump] {
        &self.block_ons
    }

    /// The tasks, in no particular order (`Display` prints them by id, oldest first).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     assert!(corio_runtime::dump().tasks().is_empty());
    /// });
    /// ```
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }

    /// Iterates over the tasks, in no particular order.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     assert_eq!(corio_runtime::dump().iter().count(), 0);
    /// });
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, TaskDump> {
        self.tasks.iter()
    }

    /// How many live tasks the dump holds.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(std::future::pending::<()>());
    ///     assert_eq!(corio_runtime::dump().len(), 1);
    ///     t.cancel();
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True if no task was live.
    ///
    /// ```
    /// corio_runtime::run(async { assert!(corio_runtime::dump().is_empty()) });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// How long taking the dump took.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     assert!(corio_runtime::dump().took() < std::time::Duration::from_secs(1));
    /// });
    /// ```
    pub fn took(&self) -> Duration {
        self.took
    }
}

/// The await chain in `slot`, outermost first (the records are innermost first).
fn chain(slot: &ExtraSlot, now: Instant) -> Chain {
    let mut records = [None; MAX_RECORDS];
    let n = slot.awaiting(&mut records);
    let mut chain = Chain::EMPTY;
    for r in records[..n].iter().rev().flatten() {
        chain.links[chain.len as usize] = Awaiting::from_record(r, now);
        chain.len += 1;
    }
    chain
}

impl<'a> IntoIterator for &'a Dump {
    type Item = &'a TaskDump;
    type IntoIter = std::slice::Iter<'a, TaskDump>;

    fn into_iter(self) -> Self::IntoIter {
        self.tasks.iter()
    }
}

impl TaskDump {
    /// Id, name, spawn location and state.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(std::future::pending::<()>());
    ///     assert_eq!(corio_runtime::dump().tasks()[0].info().id(), t.id());
    ///     t.cancel();
    /// });
    /// ```
    pub fn info(&self) -> &TaskInfo {
        &self.info
    }

    /// Idle, scheduled, running or being cancelled.
    ///
    /// ```
    /// use corio_runtime::task::TaskState;
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(std::future::pending::<()>());
    ///     corio_runtime::yield_now().await;
    ///     let state = corio_runtime::dump().tasks()[0].state();
    ///     assert!(matches!(state, TaskState::Idle | TaskState::Scheduled));
    ///     t.cancel();
    /// });
    /// ```
    pub fn state(&self) -> TaskState {
        self.info.state()
    }

    /// How many times the task was polled (wrapping at 2^32; `None` on 32-bit targets).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(std::future::pending::<()>());
    ///     corio_runtime::sleep(std::time::Duration::from_millis(10)).await;
    ///     assert_eq!(corio_runtime::dump().tasks()[0].polls(), Some(1));
    ///     t.cancel();
    /// });
    /// ```
    pub fn polls(&self) -> Option<u32> {
        self.polls
    }

    /// How long ago the task was spawned: a lower bound, short by at most one tick of
    /// the runtime's monitor thread (≤ 25 ms).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(std::future::pending::<()>());
    ///     let age = corio_runtime::dump().tasks()[0].age();
    ///     assert!(age.unwrap() < std::time::Duration::from_secs(60));
    ///     t.cancel();
    /// });
    /// ```
    pub fn age(&self) -> Option<Duration> {
        self.age
    }

    /// The worker polling the task right now, if it is running on one.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(async {
    ///         let me = corio_runtime::current_task().unwrap().id();
    ///         let dump = corio_runtime::dump();
    ///         dump.iter().find(|t| t.info().id() == me).unwrap().worker()
    ///     });
    ///     assert!(t.await.unwrap().is_some());
    /// });
    /// ```
    pub fn worker(&self) -> Option<usize> {
        self.worker
    }

    /// For a running task: how long its current poll has been running, as sampled by the
    /// monitor thread (`None` for a poll shorter than one of its ticks).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     assert!(corio_runtime::dump().iter().all(|t| t.running_for().is_none()));
    /// });
    /// ```
    pub fn running_for(&self) -> Option<Duration> {
        self.running_for
    }

    /// The task that spawned this one into a `TaskGroup`.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     assert!(corio_runtime::dump().iter().all(|t| t.parent().is_none()));
    /// });
    /// ```
    pub fn parent(&self) -> Option<TaskId> {
        self.parent
    }

    /// What the task awaited when its last poll returned `Pending`, outermost first
    /// (`wait_for` before the `Queue::get` inside it). Empty for a task that has not
    /// waited on anything corio knows (a future from another library, or a task that was
    /// never polled).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(std::future::pending::<()>());
    ///     corio_runtime::sleep(std::time::Duration::from_millis(10)).await;
    ///     assert!(corio_runtime::dump().tasks()[0].awaiting().is_empty());
    ///     t.cancel();
    /// });
    /// ```
    pub fn awaiting(&self) -> &[Awaiting] {
        self.awaiting.as_slice()
    }
}

impl Awaiting {
    fn from_record(r: &Record, now: Instant) -> Awaiting {
        let value = match r.op.detail {
            Detail::Deadline => {
                let deadline = trace::epoch() + Duration::from_nanos(r.detail);
                match deadline.checked_duration_since(now) {
                    Some(left) => i64::try_from(left.as_nanos()).unwrap_or(i64::MAX),
                    None => -i64::try_from((now - deadline).as_nanos()).unwrap_or(i64::MAX),
                }
            }
            _ => r.detail as i64,
        };
        Awaiting {
            op: r.op,
            value,
            at: r.at,
        }
    }

    /// What is awaited: `"sleep"`, `"Queue::get"`, `"TcpStream::read"`, `"join"`...
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(corio_runtime::sleep(std::time::Duration::from_secs(9)));
    ///     corio_runtime::sleep(std::time::Duration::from_millis(10)).await;
    ///     assert_eq!(corio_runtime::dump().tasks()[0].awaiting()[0].what(), "sleep");
    ///     t.cancel();
    /// });
    /// ```
    pub fn what(&self) -> &'static str {
        self.op.name
    }

    /// The detail: time left, file descriptor, joined task...
    ///
    /// ```
    /// use corio_runtime::task::AwaitDetail;
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(corio_runtime::sleep(std::time::Duration::from_secs(9)));
    ///     corio_runtime::sleep(std::time::Duration::from_millis(10)).await;
    ///     let d = corio_runtime::dump().tasks()[0].awaiting()[0].detail();
    ///     assert!(matches!(d, AwaitDetail::TimeLeft(_)));
    ///     t.cancel();
    /// });
    /// ```
    pub fn detail(&self) -> AwaitDetail {
        let v = self.value;
        match self.op.detail {
            Detail::Deadline if v >= 0 => AwaitDetail::TimeLeft(Duration::from_nanos(v as u64)),
            Detail::Deadline => AwaitDetail::Overdue(Duration::from_nanos(v.unsigned_abs())),
            Detail::Fd => AwaitDetail::Fd(v as i32),
            Detail::Task => match std::num::NonZeroU64::new(v as u64) {
                Some(id) => AwaitDetail::Task(TaskId::from_nonzero(id)),
                None => AwaitDetail::None,
            },
            Detail::Count => AwaitDetail::Remaining(v as u64),
            Detail::Signal => AwaitDetail::Signal(v as i32),
            _ => AwaitDetail::None,
        }
    }

    /// Where the awaited future was created (`None` where corio cannot know it, e.g. a
    /// socket read through `AsyncRead`).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::spawn(corio_runtime::sleep(std::time::Duration::from_secs(9)));
    ///     corio_runtime::sleep(std::time::Duration::from_millis(10)).await;
    ///     let at = corio_runtime::dump().tasks()[0].awaiting()[0].location().unwrap();
    ///     assert_eq!(at.line(), line!() - 3);
    ///     t.cancel();
    /// });
    /// ```
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.at
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 0.001 {
        format!("{} µs", d.as_micros())
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.1} s")
    }
}

impl fmt::Display for AwaitDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwaitDetail::None => Ok(()),
            AwaitDetail::TimeLeft(d) => write!(f, "{} left", secs(*d)),
            AwaitDetail::Overdue(d) => write!(f, "{} overdue", secs(*d)),
            AwaitDetail::Fd(fd) => write!(f, "fd {fd}"),
            AwaitDetail::Task(id) => write!(f, "Task-{id}"),
            AwaitDetail::Remaining(n) => write!(f, "{n} left"),
            AwaitDetail::Signal(n) => write!(f, "signal {n}"),
        }
    }
}

/// `Queue::get at src/worker.rs:42`, `sleep (1.2 s left) at src/main.rs:10`,
/// `TcpStream::read (fd 7)`, `Task-17 (join)`.
impl fmt::Display for Awaiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = self.detail();
        if let AwaitDetail::Task(id) = detail {
            // The joined task first: `Task-17 (join)`.
            return write!(f, "Task-{id} ({})", self.op.name);
        }
        f.write_str(self.op.name)?;
        if detail != AwaitDetail::None {
            write!(f, " ({detail})")?;
        }
        if let Some(at) = self.at {
            write!(f, " at {at}")?;
        }
        Ok(())
    }
}

/// One line: `Task-3 'fetcher' · idle · 4 polls · age 2.0 s · spawned at src/main.rs:9`.
impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info.name() {
            Some(name) => write!(f, "Task-{} '{name}'", self.info.id())?,
            None => write!(f, "Task-{}", self.info.id())?,
        }
        match (self.state(), self.worker) {
            (TaskState::Running, Some(w)) => {
                write!(f, " · running on worker {w}")?;
                if let Some(d) = self.running_for {
                    write!(f, " for {}", secs(d))?;
                }
            }
            (TaskState::Running, None) => f.write_str(" · running")?,
            (TaskState::Idle, _) => f.write_str(" · idle")?,
            (TaskState::Scheduled, _) => f.write_str(" · scheduled")?,
            (TaskState::Cancelling, _) => f.write_str(" · cancelling")?,
            (TaskState::Finished, _) => f.write_str(" · finished")?,
        }
        if let Some(p) = self.polls {
            write!(f, " · {p} poll{}", if p == 1 { "" } else { "s" })?;
        }
        if let Some(age) = self.age {
            write!(f, " · age {}", secs(age))?;
        }
        write!(f, " · spawned at {}", self.info.location())
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "corio task dump: {} live task{} on {} worker{} (taken in {})",
            self.tasks.len(),
            if self.tasks.len() == 1 { "" } else { "s" },
            self.workers,
            if self.workers == 1 { "" } else { "s" },
            secs(self.took),
        )?;
        for b in &self.block_ons {
            f.write_str("block_on future")?;
            if let Some(name) = &b.thread {
                write!(f, " on thread '{name}'")?;
            }
            writeln!(f, "{}", if b.running { " · running" } else { "" })?;
            for (depth, link) in b.awaiting.as_slice().iter().enumerate() {
                let lead = if depth == 0 { "awaits " } else { "  ↳ " };
                writeln!(f, "    {}{lead}{link}", "  ".repeat(depth))?;
            }
        }
        // Children (tasks of a group) under their parent, when the parent is in the dump.
        let index: HashMap<TaskId, usize> = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.info.id(), i))
            .collect();
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        // By id: oldest first, at every level of the tree.
        let mut order: Vec<usize> = (0..self.tasks.len()).collect();
        order.sort_unstable_by_key(|&i| self.tasks[i].info.id());
        for i in order {
            let t = &self.tasks[i];
            match t.parent.and_then(|p| index.get(&p)) {
                Some(&p) if p != i => children.entry(p).or_default().push(i),
                _ => roots.push(i),
            }
        }
        // Depth-first with an explicit stack: (task, prefix for its lines, last sibling).
        let mut stack: Vec<(usize, String, bool)> = roots
            .iter()
            .rev()
            .enumerate()
            .map(|(k, &i)| (i, String::new(), k == 0))
            .collect();
        while let Some((i, prefix, last)) = stack.pop() {
            let t = &self.tasks[i];
            writeln!(f, "{prefix}{}{t}", if last { "└── " } else { "├── " })?;
            let inner = format!("{prefix}{}", if last { "    " } else { "│   " });
            let kids = children.get(&i).map(Vec::as_slice).unwrap_or(&[]);
            let bar = if kids.is_empty() { "  " } else { "│ " };
            for (depth, link) in t.awaiting.as_slice().iter().enumerate() {
                let lead = if depth == 0 { "awaits " } else { "  ↳ " };
                writeln!(f, "{inner}{bar}{}{lead}{link}", "  ".repeat(depth))?;
            }
            for (k, &c) in kids.iter().enumerate().rev() {
                stack.push((c, inner.clone(), k + 1 == kids.len()));
            }
        }
        Ok(())
    }
}
