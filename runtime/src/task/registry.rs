//! The live-task registry: every unfinished task of a runtime, for `all_tasks()` and for
//! shutdown (which cancels them all).
//!
//! Sharded by task id: each shard is an intrusive doubly-linked list (the links live in
//! the task header) behind its own `parking_lot` mutex, so concurrent spawns rarely meet
//! on a lock. The registry holds one reference to each task it lists.

use std::ptr::NonNull;

use std::sync::Arc as StdArc;

use super::extra::ExtraSlot;
use super::info::TaskInfo;
use super::raw::{Header, RawTask};
use super::sightings::Sightings;
use crate::loom::{AtomicBool, Mutex, Ordering};

struct List {
    head: Option<NonNull<Header>>,
    len: usize,
    /// Tasks ever inserted (metrics; counted under the lock, so it costs no atomic).
    inserted: u64,
}

// SAFETY: the list only stores task pointers; they are Send (see RawTask) and the links
// are only touched with the shard lock held.
unsafe impl Send for List {}

/// The sharded registry.
pub(crate) struct Registry {
    shards: Box<[Mutex<List>]>,
    mask: usize,
    closed: AtomicBool,
    /// What the monitor thread saw (task ages, running polls), for task dumps.
    sightings: Sightings,
    /// The await records of the futures given to `block_on` right now (not tasks), with
    /// the name of the thread blocked on each.
    block_ons: parking_lot::Mutex<Vec<(u64, StdArc<BlockOnState>)>>,
}

/// What a task dump sees of one `block_on` call.
pub(crate) struct BlockOnState {
    /// The await records of its last `Pending` poll.
    pub(crate) slot: ExtraSlot,
    /// Inside a poll right now.
    pub(crate) polling: std::sync::atomic::AtomicBool,
    /// The blocked thread's name.
    pub(crate) thread: Option<String>,
}

/// A `block_on` call's entry in the registry; removed on drop.
pub(crate) struct BlockOnEntry<'a> {
    registry: &'a Registry,
    key: u64,
    state: StdArc<BlockOnState>,
}

impl BlockOnEntry<'_> {
    /// Polls the `block_on` future, publishing what it awaits for task dumps.
    pub(crate) fn poll<F: std::future::Future>(
        &self,
        future: std::pin::Pin<&mut F>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        use std::sync::atomic::Ordering::Relaxed;
        self.state.polling.store(true, Relaxed);
        let out = corio_sync::trace::poll_traced(
            || future.poll(cx),
            |res, records| {
                if res.is_pending() {
                    self.state.slot.publish(records);
                }
            },
        );
        self.state.polling.store(false, Relaxed);
        out
    }
}

impl Drop for BlockOnEntry<'_> {
    fn drop(&mut self) {
        self.registry
            .block_ons
            .lock()
            .retain(|(key, _)| *key != self.key);
    }
}

impl Registry {
    /// A registry with at least `min_shards` shards (rounded up to a power of two).
    pub(crate) fn new(min_shards: usize) -> Registry {
        let n = min_shards.max(1).next_power_of_two();
        Registry {
            shards: (0..n)
                .map(|_| {
                    Mutex::new(List {
                        head: None,
                        len: 0,
                        inserted: 0,
                    })
                })
                .collect(),
            mask: n - 1,
            closed: AtomicBool::new(false),
            sightings: Sightings::default(),
            block_ons: parking_lot::Mutex::new(Vec::new()),
        }
    }

    fn shard(&self, task: RawTask) -> &Mutex<List> {
        &self.shards[(task.id().as_u64() as usize) & self.mask]
    }

    /// Registers a new task, taking over the caller's registry reference. Fails (giving
    /// the reference back) once the registry is closed: the caller must shut the task down.
    pub(crate) fn insert(&self, task: RawTask) -> Result<(), RawTask> {
        let mut list = self.shard(task).lock();
        // Checked under the shard lock: `close_and_shutdown_all` sets `closed` before it
        // takes each lock, so every task is either refused here or drained there.
        if self.closed.load(Ordering::Acquire) {
            return Err(task);
        }
        let node = task.header_ptr();
        let header = task.header();
        // SAFETY: the links of a task not yet in any list are ours; the head's links are
        // guarded by the shard lock we hold.
        unsafe {
            header.registry_prev.with_mut(|p| *p = None);
            header.registry_next.with_mut(|p| *p = list.head);
            if let Some(head) = list.head {
                head.as_ref().registry_prev.with_mut(|p| *p = Some(node));
            }
        }
        list.head = Some(node);
        list.len += 1;
        list.inserted += 1;
        Ok(())
    }

    /// Unlinks `task` if it is still listed; true if it was (its reference is then the
    /// caller's to drop).
    pub(crate) fn remove(&self, task: RawTask) -> bool {
        let mut list = self.shard(task).lock();
        let node = task.header_ptr();
        let header = task.header();
        // SAFETY: links are only read or written with the shard lock held, which we hold;
        // neighbours are live because the list holds a reference to each of them.
        unsafe {
            let prev = header.registry_prev.with(|p| *p);
            let next = header.registry_next.with(|p| *p);
            match prev {
                Some(prev) => prev.as_ref().registry_next.with_mut(|p| *p = next),
                None if list.head == Some(node) => list.head = next,
                // Not listed: never inserted, or already popped by shutdown.
                None => return false,
            }
            if let Some(next) = next {
                next.as_ref().registry_prev.with_mut(|p| *p = prev);
            }
            header.registry_prev.with_mut(|p| *p = None);
            header.registry_next.with_mut(|p| *p = None);
        }
        list.len -= 1;
        true
    }

    fn pop(&self, shard: &Mutex<List>) -> Option<RawTask> {
        let mut list = shard.lock();
        let node = list.head?;
        // SAFETY: as in `remove`: the lock is held and the listed tasks are live.
        unsafe {
            let header = node.as_ref();
            let next = header.registry_next.with(|p| *p);
            if let Some(next) = next {
                next.as_ref().registry_prev.with_mut(|p| *p = None);
            }
            header.registry_next.with_mut(|p| *p = None);
            list.head = next;
        }
        list.len -= 1;
        Some(RawTask::from_raw(node))
    }

    /// Refuses new tasks from now on and shuts down every listed one. `keep` decides per
    /// task whether it may be shut down on this thread; the others are unlinked and their
    /// reference leaked (their future is deliberately never dropped).
    pub(crate) fn close_and_shutdown_all(&self, keep: impl Fn(RawTask) -> bool) {
        self.closed.store(true, Ordering::Release);
        for shard in self.shards.iter() {
            // Shutting a task down may spawn or wake others; loop until the shard is empty.
            while let Some(task) = self.pop(shard) {
                if keep(task) {
                    task.shutdown();
                }
            }
        }
    }

    /// Listed tasks (finished ones included until released), without walking the lists.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len).sum()
    }

    /// Lists a `block_on` call until the returned entry is dropped.
    pub(crate) fn enter_block_on(&self) -> BlockOnEntry<'_> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let key = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let state = StdArc::new(BlockOnState {
            // A `block_on` has no spawn location of its own; dumps do not show this one.
            slot: ExtraSlot::new(std::panic::Location::caller(), None, None),
            polling: std::sync::atomic::AtomicBool::new(false),
            thread: std::thread::current().name().map(str::to_owned),
        });
        self.block_ons.lock().push((key, state.clone()));
        BlockOnEntry {
            registry: self,
            key,
            state,
        }
    }

    /// The `block_on` calls in progress.
    pub(crate) fn block_ons(&self) -> Vec<StdArc<BlockOnState>> {
        self.block_ons
            .lock()
            .iter()
            .map(|(_, state)| state.clone())
            .collect()
    }

    /// What the monitor thread saw.
    pub(crate) fn sightings(&self) -> &Sightings {
        &self.sightings
    }

    /// True once `close_and_shutdown_all` started.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Calls `f` on every listed task, one shard at a time (under that shard's lock).
    pub(crate) fn for_each(&self, mut f: impl FnMut(RawTask)) {
        for shard in self.shards.iter() {
            let list = shard.lock();
            let mut cur = list.head;
            while let Some(node) = cur {
                let task = RawTask::from_raw(node);
                f(task);
                // SAFETY: the lock is held; listed tasks are live.
                cur = unsafe { node.as_ref().registry_next.with(|p| *p) };
            }
        }
    }
}

impl Registry {
    /// Unfinished tasks (as [`for_each`](Self::for_each) sees them, so O(listed tasks))
    /// and tasks ever listed.
    pub(crate) fn counts(&self) -> (usize, u64) {
        self.shards.iter().fold((0, 0), |(live, total), shard| {
            let list = shard.lock();
            let mut unfinished = 0;
            let mut cur = list.head;
            while let Some(node) = cur {
                let task = RawTask::from_raw(node);
                // A finished task stays listed until its last reference is released.
                unfinished += usize::from(!task.state().load().is_complete());
                // SAFETY: the lock is held; listed tasks are live.
                cur = unsafe { node.as_ref().registry_next.with(|p| *p) };
            }
            (live + unfinished, total + list.inserted)
        })
    }

    /// A snapshot of the listed task with this id, if any (walks one shard).
    #[cfg_attr(any(loom, shuttle), allow(dead_code))] // used by the monitor thread
    pub(crate) fn find(&self, id: u64) -> Option<TaskInfo> {
        let list = self.shards[(id as usize) & self.mask].lock();
        let mut cur = list.head;
        while let Some(node) = cur {
            let task = RawTask::from_raw(node);
            if task.id().as_u64() == id {
                return Some(TaskInfo::from_raw(task));
            }
            // SAFETY: the lock is held; listed tasks are live.
            cur = unsafe { node.as_ref().registry_next.with(|p| *p) };
        }
        None
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("shards", &self.shards.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}
