//! oneshot: value delivery, both error paths, wakers, try_recv, drops, threads.
mod common;

use common::*;
use corio_sync::oneshot::{self, TryRecvError};
use corio_sync::RecvError;
use futures::executor::block_on;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn send_then_receive() {
    let (tx, rx) = oneshot::channel();
    assert_eq!(tx.send(String::from("v")), Ok(()));
    assert_eq!(block_on(rx).as_deref(), Ok("v"));
}

#[test]
fn receiver_waits_and_send_wakes_it() {
    let (tx, rx) = oneshot::channel();
    let mut rx = Box::pin(rx);
    let (wk, count) = counting_waker();
    assert!(poll_with(&mut rx, &wk).is_pending());
    assert!(poll_with(&mut rx, &wk).is_pending()); // same waker: no churn
    tx.send(5).unwrap();
    assert_eq!(count.get(), 1);
    assert_eq!(ready(&mut rx), Ok(5));
}

#[test]
fn only_the_latest_waker_is_woken() {
    let (tx, rx) = oneshot::channel();
    let mut rx = Box::pin(rx);
    let (w1, c1) = counting_waker();
    let (w2, c2) = counting_waker();
    assert!(poll_with(&mut rx, &w1).is_pending());
    assert!(poll_with(&mut rx, &w2).is_pending());
    tx.send(1).unwrap();
    assert_eq!((c1.get(), c2.get()), (0, 1));
}

#[test]
fn sender_dropped_gives_recv_error() {
    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(block_on(rx), Err(RecvError));
}

#[test]
fn sender_dropped_while_receiver_waits_wakes_it_with_error() {
    let (tx, rx) = oneshot::channel::<u8>();
    let mut rx = Box::pin(rx);
    let (wk, count) = counting_waker();
    assert!(poll_with(&mut rx, &wk).is_pending());
    drop(tx);
    assert_eq!(count.get(), 1);
    assert_eq!(ready(&mut rx), Err(RecvError));
}

#[test]
fn receiver_dropped_send_gives_value_back() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(String::from("back")), Err(String::from("back")));
}

#[test]
fn try_recv_empty_value_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn unreceived_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    tx.send(Tracked(drops.clone())).map_err(|_| ()).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // Refused send: the value comes back (and is dropped by us, once).
    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(Tracked(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn stress_cross_thread_send_receive_and_drops() {
    within(60, || {
        let mut received = 0;
        for i in 0..5_000u32 {
            let (tx, rx) = oneshot::channel();
            let t = std::thread::spawn(move || {
                if i % 3 == 0 {
                    drop(tx);
                } else {
                    let _ = tx.send(i);
                }
            });
            if i % 5 == 0 {
                drop(rx); // races the send: it must either succeed or give the value back
            } else {
                match block_on(rx) {
                    Ok(v) => {
                        assert_eq!(v, i);
                        received += 1;
                    }
                    Err(RecvError) => assert_eq!(i % 3, 0),
                }
            }
            t.join().unwrap();
        }
        // i % 3 != 0 and i % 5 != 0 among 0..5000.
        assert_eq!(
            received,
            (0..5_000).filter(|i| i % 3 != 0 && i % 5 != 0).count()
        );
    });
}

/// A receiver woken by `send` and dropped before it ran: the send succeeded (the value
/// is not given back), the receiver was woken once, and the value is dropped exactly
/// once, with the channel.
#[test]
fn granted_then_dropped_receiver_drops_the_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    let mut rx = Box::pin(rx);
    let (wk, woken) = counting_waker();
    assert!(poll_with(&mut rx, &wk).is_pending());
    assert!(tx.send(Tracked(drops.clone())).is_ok());
    assert_eq!(woken.get(), 1);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}
