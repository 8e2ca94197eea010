//! The LIFO slot and the steal path: every task leaves a worker's slot and queue exactly
//! once, whether its owner runs it or a thief rescues it (corio's answer to tokio #4941
//! moves a stuck worker's LIFO task and half its queue to another worker).
//!
//! Runs the runtime's own `scheduler/multi_thread/lifo.rs` and
//! `scheduler/multi_thread/queue.rs` (its loom stand-in for crossbeam-deque). Tasks are
//! boxed ids; whoever gets a pointer owns it, records the id and frees the box, so a task
//! handed out twice shows up as a duplicate id and a lost one as a missing id. The
//! stuck-worker *detection* (a watcher with a 1 ms timed park, or the monitor thread's
//! 250 ms bound) is timing, which loom does not model; what is modelled is the hand-off
//! it relies on.
#![cfg(loom)]

#[allow(dead_code)]
#[path = "../../runtime/src/scheduler/multi_thread/lifo.rs"]
mod lifo;

#[allow(dead_code)]
#[path = "../../runtime/src/scheduler/multi_thread/queue.rs"]
mod queue;

/// The included modules reach atomics and locks through `crate::loom`, as in corio-runtime.
mod loom {
    pub(crate) use corio_sync::loom::*;
}

use std::ptr::NonNull;

use ::loom::sync::{Arc, Mutex};
use ::loom::thread;
use corio_loom_tests::model_with;
use lifo::LifoSlot;
use queue::{Injector, Local, Steal};

fn task(id: u32) -> NonNull<u32> {
    NonNull::from(Box::leak(Box::new(id)))
}

/// Takes ownership of a task pointer: records its id and frees it.
fn own(seen: &Mutex<Vec<u32>>, task: NonNull<u32>) {
    // SAFETY: the pointer came from `task` (a leaked box) and the caller got it out of
    // the slot or a queue, which hand each pointer out once — what this model checks.
    let id = *unsafe { Box::from_raw(task.as_ptr()) };
    seen.lock().unwrap().push(id);
}

fn assert_each_once(seen: &Mutex<Vec<u32>>, n: u32) {
    let mut ids = seen.lock().unwrap().clone();
    ids.sort_unstable();
    assert_eq!(
        ids,
        (1..=n).collect::<Vec<_>>(),
        "a task was lost or handed out twice"
    );
}

/// The owner wakes two tasks into its LIFO slot (the second displaces the first into its
/// local queue) and runs what it finds, while a thief rescues from the slot and steals
/// from the queue: each task is run by exactly one of them.
#[test]
fn lifo_slot_and_steal_hand_each_task_out_once() {
    model_with(2, || {
        let slot = Arc::new(LifoSlot::new());
        let local = Local::new_fifo();
        let stealer = local.stealer();
        let seen = Arc::new(Mutex::new(Vec::new()));

        let thief = {
            let (slot, seen) = (slot.clone(), seen.clone());
            thread::spawn(move || {
                let mine = Local::new_fifo();
                if let Some(t) = slot.take() {
                    own(&seen, t);
                }
                if let Steal::Success(t) = stealer.steal_batch_and_pop(&mine) {
                    own(&seen, t);
                }
                while let Some(t) = mine.pop() {
                    own(&seen, t);
                }
            })
        };

        // The owner: two wake-ups, then it runs the slot first, then its queue.
        assert!(slot.push(task(1)).is_none());
        if let Some(displaced) = slot.push(task(2)) {
            local.push(displaced);
        }
        if let Some(t) = slot.take() {
            own(&seen, t);
        }
        while let Some(t) = local.pop() {
            own(&seen, t);
        }
        thief.join().unwrap();
        // Nothing is left behind: whatever neither took is still here.
        if let Some(t) = slot.take() {
            own(&seen, t);
        }
        assert_each_once(&seen, 2);
    });
}

/// Two thieves race for one stuck worker's LIFO task: exactly one gets it.
#[test]
fn two_thieves_race_for_one_lifo_task() {
    model_with(3, || {
        let slot = Arc::new(LifoSlot::new());
        assert!(slot.push(task(1)).is_none());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let (slot, seen) = (slot.clone(), seen.clone());
                thread::spawn(move || {
                    if let Some(t) = slot.take() {
                        own(&seen, t);
                    }
                })
            })
            .collect();
        for t in thieves {
            t.join().unwrap();
        }
        assert!(!slot.is_occupied());
        assert_each_once(&seen, 1);
    });
}

/// Broken twin: a slot whose `take` loads the pointer and then stores null (two steps
/// instead of one swap). Two takers can both get the same task — run twice.
#[test]
#[should_panic(expected = "a task was lost or handed out twice")]
fn broken_twin_lifo_take_without_swap_hands_a_task_out_twice() {
    use ::loom::sync::atomic::{AtomicPtr, Ordering};

    struct BrokenSlot(AtomicPtr<u32>);
    impl BrokenSlot {
        fn take(&self) -> Option<NonNull<u32>> {
            let p = NonNull::new(self.0.load(Ordering::Acquire))?;
            self.0.store(std::ptr::null_mut(), Ordering::Release);
            Some(p)
        }
    }

    model_with(3, || {
        let boxed = task(1);
        let slot = Arc::new(BrokenSlot(AtomicPtr::new(boxed.as_ptr())));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let (slot, seen) = (slot.clone(), seen.clone());
                thread::spawn(move || {
                    if let Some(t) = slot.take() {
                        // Record only; the box is freed once, below.
                        // SAFETY: the box stays alive until both thieves are joined.
                        seen.lock().unwrap().push(unsafe { *t.as_ptr() });
                    }
                })
            })
            .collect();
        for t in thieves {
            t.join().unwrap();
        }
        // SAFETY: `task(1)` leaked this box; nothing else frees it.
        drop(unsafe { Box::from_raw(boxed.as_ptr()) });
        assert_each_once(&seen, 1);
    });
}

/// The monitor thread's hand-off (`Shared::hand_off`): it moves a stuck worker's LIFO task
/// and its whole queue to the injector (`steal` one at a time from the worker's stealer)
/// while the owner runs what it finds and a thief steals a batch; workers later take the
/// injector's tasks. Each task is run exactly once.
#[test]
fn monitor_hand_off_moves_each_task_once() {
    model_with(2, || {
        let slot = Arc::new(LifoSlot::new());
        let local = Local::new_fifo();
        let (for_monitor, for_thief) = (local.stealer(), local.stealer());
        let injector = Arc::new(Injector::new());
        let seen = Arc::new(Mutex::new(Vec::new()));
        // Queued before the poll that gets stuck: 1 in the queue, 2 in the slot.
        local.push(task(1));
        assert!(slot.push(task(2)).is_none());

        let monitor = {
            let (slot, injector) = (slot.clone(), injector.clone());
            thread::spawn(move || {
                if let Some(t) = slot.take() {
                    injector.push(t);
                }
                while let Steal::Success(t) = for_monitor.steal() {
                    injector.push(t);
                }
            })
        };
        let thief = {
            let seen = seen.clone();
            thread::spawn(move || {
                let mine = Local::new_fifo();
                if let Steal::Success(t) = for_thief.steal_batch_and_pop(&mine) {
                    own(&seen, t);
                }
                while let Some(t) = mine.pop() {
                    own(&seen, t);
                }
            })
        };
        // The owner's poll ends: it runs its slot, then its queue.
        if let Some(t) = slot.take() {
            own(&seen, t);
        }
        if let Some(t) = local.pop() {
            own(&seen, t);
        }
        monitor.join().unwrap();
        thief.join().unwrap();
        // Another worker drains the injector.
        while let Steal::Success(t) = injector.steal() {
            own(&seen, t);
        }
        assert!(!slot.is_occupied() && local.is_empty());
        assert_each_once(&seen, 2);
    });
}
