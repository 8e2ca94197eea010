//! The pool's job queue behind a tiny interface.
//!
//! Normally a `crossbeam_channel` (unbounded, MPMC, lock-free on the hot path). Under
//! `cfg(loom)` it is a `Mutex<VecDeque>` stand-in built on the loom facade: crossbeam is
//! trusted, what loom checks is the pool's own protocol (`protocol.rs`). Under loom a
//! "timed" receive cannot rely on time passing, so `recv_timeout` yields once to let other
//! threads run and then reports a timeout if the queue is still empty: both outcomes of a
//! real timed wait (a message arrived in time / the keep-alive elapsed) are explored.

use std::time::Duration;

/// Outcome of [`Receiver::recv_timeout`].
#[derive(Debug)]
pub(crate) enum Recv<T> {
    /// A message arrived.
    Msg(T),
    /// Nothing arrived within the timeout.
    Timeout,
    /// The queue is empty and every sender is gone.
    Disconnected,
}

#[cfg(not(any(loom, shuttle)))]
mod imp {
    use super::Recv;
    use crossbeam_channel::RecvTimeoutError;
    use std::time::Duration;

    pub(crate) struct Sender<T>(crossbeam_channel::Sender<T>);
    pub(crate) struct Receiver<T>(crossbeam_channel::Receiver<T>);

    pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (Sender(tx), Receiver(rx))
    }

    impl<T> Sender<T> {
        /// Enqueues `msg`; gives it back if every receiver is gone.
        #[inline]
        pub(crate) fn send(&self, msg: T) -> Result<(), T> {
            self.0.send(msg).map_err(|e| e.into_inner())
        }
    }

    impl<T> Receiver<T> {
        /// Takes a message if one is queued, without blocking.
        #[inline]
        pub(crate) fn try_recv(&self) -> Option<T> {
            // Empty or disconnected: nothing to take.
            self.0.try_recv().ok()
        }

        /// Waits up to `timeout` for a message.
        pub(crate) fn recv_timeout(&self, timeout: Duration) -> Recv<T> {
            match self.0.recv_timeout(timeout) {
                Ok(msg) => Recv::Msg(msg),
                Err(RecvTimeoutError::Timeout) => Recv::Timeout,
                Err(RecvTimeoutError::Disconnected) => Recv::Disconnected,
            }
        }

        /// Messages currently queued (a snapshot).
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(any(loom, shuttle))]
mod imp {
    use super::Recv;
    use crate::loom::{thread, Arc, Mutex};
    use std::collections::VecDeque;
    use std::time::Duration;

    struct Chan<T> {
        /// The queue and the number of live senders.
        state: Mutex<(VecDeque<T>, usize)>,
    }

    pub(crate) struct Sender<T>(Arc<Chan<T>>);
    pub(crate) struct Receiver<T>(Arc<Chan<T>>);

    pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let chan = Arc::new(Chan {
            state: Mutex::new((VecDeque::new(), 1)),
        });
        (Sender(chan.clone()), Receiver(chan))
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            self.0.state.lock().1 -= 1;
        }
    }

    impl<T> Sender<T> {
        pub(crate) fn send(&self, msg: T) -> Result<(), T> {
            self.0.state.lock().0.push_back(msg);
            Ok(())
        }
    }

    impl<T> Receiver<T> {
        pub(crate) fn try_recv(&self) -> Option<T> {
            self.0.state.lock().0.pop_front()
        }

        pub(crate) fn recv_timeout(&self, _timeout: Duration) -> Recv<T> {
            for attempt in 0..2 {
                {
                    let mut state = self.0.state.lock();
                    if let Some(msg) = state.0.pop_front() {
                        return Recv::Msg(msg);
                    }
                    if state.1 == 0 {
                        return Recv::Disconnected;
                    }
                }
                if attempt == 0 {
                    thread::yield_now();
                }
            }
            Recv::Timeout
        }

        pub(crate) fn len(&self) -> usize {
            self.0.state.lock().0.len()
        }
    }
}

pub(crate) use imp::{channel, Receiver, Sender};

// Keep the shared signature honest in both configurations.
#[allow(dead_code)]
fn _assert_interface(rx: &Receiver<()>, tx: &Sender<()>) {
    let _: Result<(), ()> = tx.send(());
    let _: Option<()> = rx.try_recv();
    let _: Recv<()> = rx.recv_timeout(Duration::ZERO);
    let _: usize = rx.len();
}
