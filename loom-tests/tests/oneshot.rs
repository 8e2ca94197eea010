//! loom models of `corio_sync::oneshot`.
#![cfg(loom)]

use corio_loom_tests::model_with;
use corio_loom_tests::probe::Probe;
use corio_sync::oneshot;
use corio_sync::RecvError;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use std::task::Poll;

/// `send` races the receiver's first poll: the value always arrives (no lost wake-up).
#[test]
fn oneshot_send_races_receive() {
    model_with(3, || {
        let (tx, rx) = oneshot::channel::<usize>();
        let t = thread::spawn(move || tx.send(7).is_ok());
        assert_eq!(block_on(rx), Ok(7));
        assert!(t.join().unwrap());
    });
}

/// `send` races the receiver being dropped: the value is dropped exactly once, whether
/// it was refused (given back) or dropped with the channel.
#[test]
fn oneshot_send_races_receiver_drop() {
    model_with(3, || {
        let (tx, rx) = oneshot::channel::<Arc<()>>();
        let v = Arc::new(());
        let v2 = v.clone();
        let t = thread::spawn(move || tx.send(v2).is_err());
        drop(rx);
        let _refused = t.join().unwrap();
        assert_eq!(Arc::strong_count(&v), 1);
    });
}

/// The sender dropped without sending wakes the receiver with `RecvError`.
#[test]
fn oneshot_sender_drop_wakes_receiver() {
    model_with(3, || {
        let (tx, rx) = oneshot::channel::<usize>();
        let t = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx), Err(RecvError));
        t.join().unwrap();
    });
}

/// The receiver re-polls with a different waker while `send` runs: if the second poll is
/// pending, the *new* waker is the one woken, exactly once, and the value is then ready.
#[test]
fn oneshot_waker_swap_races_send() {
    model_with(3, || {
        let (tx, mut rx) = oneshot::channel::<usize>();
        let (p1, p2) = (Probe::new(), Probe::new());
        let t = thread::spawn(move || tx.send(5).unwrap());
        let first = p1.poll(std::pin::Pin::new(&mut rx));
        if first.is_pending() {
            let second = p2.poll(std::pin::Pin::new(&mut rx));
            t.join().unwrap();
            match second {
                Poll::Ready(v) => assert_eq!(v, Ok(5)),
                Poll::Pending => {
                    assert_eq!(p2.wakes(), 1, "wake-up lost after the waker swap");
                    assert_eq!(p2.poll(std::pin::Pin::new(&mut rx)), Poll::Ready(Ok(5)));
                }
            }
        } else {
            assert_eq!(first, Poll::Ready(Ok(5)));
            t.join().unwrap();
        }
    });
}
