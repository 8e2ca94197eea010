//! loom models of `corio_sync::Queue`: put/get/task_done/join, a getter dropped after
//! being handed an item, and shutdown (graceful and immediate).
#![cfg(loom)]

use corio_loom_tests::model_with;
use corio_loom_tests::probe::{poll_once, Probe};
use corio_sync::{GetError, Queue, QueueShutDown};
use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// A full queue (maxsize 1) with a putter waiting for space, and a consumer thread that
/// gets and marks done both items: items come out in order, the putter completes, and
/// `join` returns only once both items were marked done.
#[test]
fn queue_put_get_task_done_join() {
    model_with(3, || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let mut put2 = Box::pin(q.put(2));
        assert!(poll_once(put2.as_mut()).is_pending(), "queue is full");

        let done = Arc::new(AtomicUsize::new(0));
        let (q2, done2) = (q.clone(), done.clone());
        let t = thread::spawn(move || {
            let mut got = Vec::new();
            for _ in 0..2 {
                got.push(block_on(q2.get()).unwrap());
                done2.fetch_add(1, Ordering::SeqCst);
                q2.task_done().unwrap();
            }
            got
        });
        assert_eq!(block_on(put2.as_mut()), Ok(()));
        block_on(q.join());
        assert_eq!(done.load(Ordering::SeqCst), 2, "join returned early");
        assert_eq!(t.join().unwrap(), [1, 2]);
        assert!(q.task_done().is_err());
        assert!(q.empty());
    });
}

/// Two getters wait; a put on another thread races the first getter being dropped. If
/// the item was handed to the dropped getter it goes to the second one; either way the
/// second getter is woken once and receives it, and nothing is left in the queue.
#[test]
fn queue_getter_dropped_after_grant_keeps_item() {
    model_with(3, || {
        let q = Queue::new(0);
        let pb = Probe::new();
        let mut ga = Box::pin(q.get());
        assert!(poll_once(ga.as_mut()).is_pending());
        let mut gb = Box::pin(q.get());
        assert!(pb.poll(gb.as_mut()).is_pending());

        let q2 = q.clone();
        let t = thread::spawn(move || q2.put_nowait(7).unwrap());
        drop(ga);
        t.join().unwrap();
        assert_eq!(pb.wakes(), 1);
        assert_eq!(block_on(gb.as_mut()), Ok(7));
        assert_eq!(q.qsize(), 0);
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    });
}

/// A graceful shutdown races a putter (queue full) and a getter: every item ends up in
/// exactly one place — refused back to the putter, received by the getter, or drained
/// after the shutdown — and the queue then reports `ShutDown`.
#[test]
fn queue_shutdown_conserves_items() {
    model_with(3, || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let q1 = q.clone();
        let putter = thread::spawn(move || match block_on(q1.put(2)) {
            Ok(()) => None,
            Err(QueueShutDown(v)) => Some(v),
        });
        let q2 = q.clone();
        let getter = thread::spawn(move || block_on(q2.get()).ok());
        q.shutdown(false);
        let mut seen = Vec::new();
        seen.extend(putter.join().unwrap());
        seen.extend(getter.join().unwrap());
        loop {
            match q.get_nowait() {
                Ok(v) => seen.push(v),
                Err(GetError::ShutDown) => break,
                Err(GetError::Empty) => panic!("empty but not shut down"),
            }
        }
        seen.sort();
        assert_eq!(seen, [1, 2], "an item was lost or duplicated");
    });
}

/// An immediate shutdown drops the queued items and counts them done, so a `join`
/// waiting on another thread returns; getters then fail.
#[test]
fn queue_immediate_shutdown_releases_join() {
    model_with(3, || {
        let q = Queue::new(0);
        q.put_nowait(1).unwrap();
        let q2 = q.clone();
        let t = thread::spawn(move || block_on(q2.join()));
        q.shutdown(true);
        t.join().unwrap();
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        assert!(q.task_done().is_err());
    });
}
