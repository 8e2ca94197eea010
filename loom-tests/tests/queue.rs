//! loom models of `corio_sync::Queue`: put/get/task_done/join, the hand-offs to a getter
//! or putter that is dropped after being woken (a getter handed an item, a putter
//! admitted to a slot), and shutdown (graceful and immediate). `broken_twins.rs` runs the
//! hand-off scenarios on a twin queue with the old putter hand-off and a lossy getter.
//!
//! A bounded `Queue` keeps its items in a lock-free ring, and a `put` or `get` that
//! neither waits nor wakes takes no lock: the `fast_*` models race those fast paths
//! against a getter, putter or joiner that is starting to wait, against an immediate
//! shutdown, and against a putter admitted to a slot an overlapping put then takes.
#![cfg(loom)]

use corio_loom_tests::model_with;
use corio_loom_tests::probe::{poll_once, Probe};
use corio_sync::{GetError, Queue, QueueShutDown};
use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use std::task::Poll;

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

/// A full queue (maxsize 1) with two waiting putters, A (2) and B (3); a `get` on another
/// thread races A being dropped without being polled again. Whether the get admitted A
/// first (A then passes its slot on) or A left first (the get admits B), B is woken once
/// and completes, the cancelled 2 never enters, and `join` counts exactly the items that
/// did.
#[test]
fn queue_putter_dropped_after_admission_passes_slot_on() {
    model_with(3, || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let mut a = Box::pin(q.put(2));
        assert!(poll_once(a.as_mut()).is_pending());
        let pb = Probe::new();
        let mut b = Box::pin(q.put(3));
        assert!(pb.poll(b.as_mut()).is_pending());

        let q2 = q.clone();
        let t = thread::spawn(move || q2.get_nowait());
        drop(a);
        assert_eq!(t.join().unwrap(), Ok(1));
        assert_eq!(pb.wakes(), 1, "the next putter was not admitted");
        assert_eq!(pb.poll(b.as_mut()), Poll::Ready(Ok(())));
        assert_eq!(q.get_nowait(), Ok(3));
        assert_eq!(
            q.get_nowait(),
            Err(GetError::Empty),
            "a cancelled put enqueued"
        );
        q.task_done().unwrap();
        q.task_done().unwrap();
        assert!(q.task_done().is_err(), "a cancelled put was counted");
    });
}

/// A waiting putter A is dropped after a `get` admitted it, while another thread is
/// putting (parked or not yet arrived): that put completes — never stranded behind a
/// slot nobody uses — and the queue holds exactly its item.
#[test]
fn queue_admitted_putter_dropped_unblocks_parked_putter() {
    model_with(3, || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let mut a = Box::pin(q.put(2));
        assert!(poll_once(a.as_mut()).is_pending());
        let q2 = q.clone();
        let t = thread::spawn(move || block_on(q2.put(3)));
        assert_eq!(q.get_nowait(), Ok(1)); // admits A, the oldest putter
        drop(a);
        assert_eq!(t.join().unwrap(), Ok(()));
        assert_eq!(q.get_nowait(), Ok(3));
        assert_eq!(
            q.get_nowait(),
            Err(GetError::Empty),
            "a cancelled put enqueued"
        );
    });
}

/// A getter A is handed an item and dropped while another thread is getting (parked or
/// not yet arrived): that get receives the item exactly once.
#[test]
fn queue_getter_dropped_after_grant_unblocks_parked_getter() {
    model_with(3, || {
        let q = Queue::new(0);
        let mut a = Box::pin(q.get());
        assert!(poll_once(a.as_mut()).is_pending());
        let q2 = q.clone();
        let t = thread::spawn(move || block_on(q2.get()));
        q.put_nowait(7).unwrap(); // to A, the oldest getter
        drop(a);
        assert_eq!(t.join().unwrap(), Ok(7));
        assert_eq!(
            q.get_nowait(),
            Err(GetError::Empty),
            "the item was duplicated"
        );
    });
}

/// Two putters wait on a full queue (maxsize 1) while a consumer thread takes one item
/// and then waits for the next. The first putter, once admitted, either queues its item
/// or hands it straight to the waiting consumer; in the second case the slot is free
/// again and must go to the second putter. Both putters complete, in order, and every
/// item is received once.
#[test]
fn queue_admitted_putter_feeding_a_getter_admits_the_next() {
    model_with(3, || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let mut a = Box::pin(q.put(2));
        assert!(poll_once(a.as_mut()).is_pending());
        let mut b = Box::pin(q.put(3));
        assert!(poll_once(b.as_mut()).is_pending());
        let q2 = q.clone();
        let t = thread::spawn(move || {
            let first = q2.get_nowait().unwrap(); // admits A
            (first, block_on(q2.get()).unwrap())
        });
        assert_eq!(block_on(a.as_mut()), Ok(()));
        assert_eq!(block_on(b.as_mut()), Ok(())); // deadlock if the freed slot was kept
        assert_eq!(t.join().unwrap(), (1, 2));
        assert_eq!(q.get_nowait(), Ok(3));
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    });
}

/// A `put_nowait` (lock-free: nobody waits yet) races a getter on another thread that
/// finds the queue empty and starts waiting: the getter always receives the item.
#[test]
fn queue_fast_put_reaches_a_getter_starting_to_wait() {
    model_with(3, || {
        let q = Queue::new(2);
        let q2 = q.clone();
        let t = thread::spawn(move || block_on(q2.get()));
        q.put_nowait(5).unwrap();
        assert_eq!(t.join().unwrap(), Ok(5), "the put's wake-up was lost");
        assert_eq!(q.qsize(), 0);
    });
}

/// A `get_nowait` (lock-free) frees the only slot while a putter on another thread finds
/// the queue full and starts waiting: the putter is always admitted and its item follows.
#[test]
fn queue_fast_get_admits_a_putter_starting_to_wait() {
    model_with(3, || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let q2 = q.clone();
        let t = thread::spawn(move || block_on(q2.put(2)));
        assert_eq!(q.get_nowait(), Ok(1));
        assert_eq!(t.join().unwrap(), Ok(()), "the putter was never admitted");
        assert_eq!(q.get_nowait(), Ok(2));
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    });
}

/// The last `task_done` (lock-free) races a joiner on another thread that starts waiting:
/// the joiner always returns.
#[test]
fn queue_last_task_done_releases_a_joiner_starting_to_wait() {
    model_with(3, || {
        let q = Queue::new(2);
        q.put_nowait(1).unwrap();
        let q2 = q.clone();
        let t = thread::spawn(move || block_on(q2.join()));
        assert_eq!(q.get_nowait(), Ok(1));
        q.task_done().unwrap();
        t.join().unwrap();
        assert!(q.task_done().is_err());
    });
}

/// A lock-free `put_nowait` races an immediate shutdown: the put fails, or its item is
/// dropped and counted done by the shutdown — never left behind in a shut-down queue,
/// and `join` never waits for it.
#[test]
fn queue_fast_put_racing_immediate_shutdown_leaves_nothing() {
    model_with(3, || {
        let q = Queue::new(2);
        let q2 = q.clone();
        let t = thread::spawn(move || q2.put_nowait(1).is_ok());
        q.shutdown(true);
        let _put = t.join().unwrap();
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown), "an item survived");
        assert!(q.task_done().is_err(), "a dropped item was left unfinished");
        assert!(poll_once(Box::pin(q.join()).as_mut()).is_ready());
    });
}

/// A full queue (maxsize 1); a putter on another thread starts waiting while a third
/// thread's `put_nowait`, which may have read the flags before that putter linked itself,
/// takes the slot a `get` frees (possibly the one reserved for the waiting putter). Every
/// item that was put comes out exactly once, and the waiting putter always completes.
#[test]
fn queue_overlapping_put_and_admitted_putter_lose_nothing() {
    model_with(2, || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let (qa, qb) = (q.clone(), q.clone());
        let a = thread::spawn(move || block_on(qa.put(2)));
        let b = thread::spawn(move || qb.put_nowait(3).is_ok());
        assert_eq!(q.get_nowait(), Ok(1));
        let b_put = b.join().unwrap();
        let mut got = vec![block_on(q.get()).unwrap()];
        if b_put {
            got.push(block_on(q.get()).unwrap());
        }
        assert_eq!(
            a.join().unwrap(),
            Ok(()),
            "the waiting putter never completed"
        );
        got.sort_unstable();
        assert_eq!(got, if b_put { vec![2, 3] } else { vec![2] });
        assert_eq!(
            q.get_nowait(),
            Err(GetError::Empty),
            "an item was duplicated"
        );
    });
}

/// A full queue (maxsize 1) with putter A waiting; a consumer thread gets three items
/// while another thread puts a third and waits behind A. A, once admitted, fills its slot
/// while the consumer frees the slot again and the third putter starts waiting: every
/// putter is admitted, in order, and nothing waits forever.
#[test]
fn queue_admitted_fill_races_a_get_and_a_putter_starting_to_wait() {
    model_with(2, || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let mut a = Box::pin(q.put(2));
        assert!(poll_once(a.as_mut()).is_pending());
        let (qc, qt) = (q.clone(), q.clone());
        let consumer = thread::spawn(move || {
            let got: Vec<_> = (0..3).map(|_| block_on(qc.get()).unwrap()).collect();
            got
        });
        let third = thread::spawn(move || block_on(qt.put(3)));
        assert_eq!(block_on(a.as_mut()), Ok(()));
        assert_eq!(third.join().unwrap(), Ok(()), "a putter was never admitted");
        assert_eq!(consumer.join().unwrap(), [1, 2, 3]);
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    });
}
