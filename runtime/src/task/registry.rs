//! The live-task registry: every unfinished task of a runtime, for `all_tasks()` and for
//! shutdown (which cancels them all).
//!
//! Sharded by task id: each shard is an intrusive doubly-linked list (the links live in
//! the task header) behind its own `parking_lot` mutex, so concurrent spawns rarely meet
//! on a lock. The registry holds one reference to each task it lists.

use std::ptr::NonNull;

use super::info::TaskInfo;
use super::raw::{Header, RawTask};
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
