//! `corio_runtime::signal`: delivery through the reactor, coalescing without loss, several
//! listeners and runtimes, the `Stream` impl, laziness, refused kinds, `ctrl_c`.
//!
//! Tests in this binary run in parallel threads of one process, so each test uses its own
//! signal kind, installs its listener before raising, and raises with `raise(3)` (which
//! delivers to the calling thread before it returns).
#![cfg(unix)]

mod common;
use common::{current_thread, multi_thread, run_within, LIMIT};

use std::io;
use std::time::Duration;

use corio_runtime::signal::unix::{signal, Signal, SignalKind};
use corio_runtime::{spawn, wait_for};
use corio_test_util::within;
use futures::StreamExt;

fn raise(sig: libc::c_int) {
    // SAFETY: every test installs a listener for `sig` before raising it.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

/// True if `sig` has no delivery pending (its `recv` stays pending for a while).
async fn quiet(sig: &mut Signal) -> bool {
    wait_for(sig.recv(), Duration::from_millis(100))
        .await
        .is_err()
}

#[test]
fn signal_is_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin + std::fmt::Debug>() {}
    check::<Signal>();
    check::<SignalKind>();
}

#[test]
fn recv_after_raise() {
    run_within(LIMIT, async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        raise(libc::SIGUSR1);
        assert_eq!(usr1.recv().await, Some(()));
        assert!(quiet(&mut usr1).await);
    });
}

#[test]
fn raised_twice_before_recv_coalesces_and_is_never_lost() {
    run_within(LIMIT, async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        raise(libc::SIGUSR2);
        raise(libc::SIGUSR2);
        assert_eq!(usr2.recv().await, Some(()));
        assert!(quiet(&mut usr2).await, "two deliveries gave two recvs");
        // A dropped (timed-out) recv lost nothing: the next delivery is seen.
        raise(libc::SIGUSR2);
        assert_eq!(usr2.recv().await, Some(()));
        assert!(quiet(&mut usr2).await);
    });
}

#[test]
fn every_signal_of_a_kind_gets_each_delivery() {
    run_within(LIMIT, async {
        let mut a = signal(SignalKind::hangup()).unwrap();
        let mut b = signal(SignalKind::hangup()).unwrap();
        raise(libc::SIGHUP);
        assert_eq!(a.recv().await, Some(()));
        assert_eq!(b.recv().await, Some(()));
        // Dropping one leaves the other listening.
        drop(a);
        raise(libc::SIGHUP);
        assert_eq!(b.recv().await, Some(()));
    });
}

#[test]
fn stream_yields_one_item_per_recv() {
    run_within(LIMIT, async {
        let mut alrm = signal(SignalKind::from_raw(libc::SIGALRM)).unwrap();
        let mut seen = 0;
        for _ in 0..3 {
            raise(libc::SIGALRM);
            assert_eq!(alrm.next().await, Some(()));
            seen += 1;
        }
        assert_eq!(seen, 3);
        let timed_out = wait_for(alrm.next(), Duration::from_millis(100)).await;
        assert!(timed_out.is_err());
    });
}

#[test]
fn a_waiting_task_is_woken_by_a_delivery_on_another_thread() {
    for (name, rt) in [
        ("multi_thread", multi_thread(2)),
        ("current_thread", current_thread()),
    ] {
        let got = within(Duration::from_secs(20), move || {
            rt.block_on(async {
                let mut vt = signal(SignalKind::from_raw(libc::SIGVTALRM)).unwrap();
                let waiter = spawn(async move { vt.recv().await });
                corio_runtime::sleep(Duration::from_millis(50)).await;
                // The handler runs on a thread outside the runtime; the reactor wakes it.
                std::thread::spawn(|| raise(libc::SIGVTALRM))
                    .join()
                    .unwrap();
                waiter.await.unwrap()
            })
        });
        assert_eq!(got, Some(()), "{name}");
    }
}

#[test]
fn a_signal_made_before_the_runtime_keeps_earlier_deliveries() {
    let mut prof = signal(SignalKind::from_raw(libc::SIGPROF)).unwrap();
    raise(libc::SIGPROF); // delivered before any runtime exists
    let got = within(Duration::from_secs(20), move || {
        current_thread().block_on(async move {
            let first = prof.recv().await;
            (first, quiet(&mut prof).await)
        })
    });
    assert_eq!(got, (Some(()), true));
}

#[test]
fn signals_on_two_runtimes_each_receive() {
    let mut a = signal(SignalKind::from_raw(libc::SIGURG)).unwrap();
    let mut b = signal(SignalKind::from_raw(libc::SIGURG)).unwrap();
    let rt_a = multi_thread(1);
    let rt_b = current_thread();
    let ta = std::thread::spawn(move || rt_a.block_on(async move { a.recv().await }));
    let tb = std::thread::spawn(move || rt_b.block_on(async move { b.recv().await }));
    std::thread::sleep(Duration::from_millis(50));
    raise(libc::SIGURG);
    let (ra, rb) = within(Duration::from_secs(20), move || {
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_eq!((ra, rb), (Some(()), Some(())));
}

#[test]
fn refused_and_invalid_kinds_are_errors() {
    for signum in [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGILL,
        libc::SIGFPE,
        0,
        -1,
        100_000,
    ] {
        let err = signal(SignalKind::from_raw(signum)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{signum}: {err}");
        assert!(err.to_string().contains(&signum.to_string()), "{err}");
    }
}

#[test]
fn sigchld_can_be_listened_to() {
    run_within(LIMIT, async {
        let mut chld = signal(SignalKind::child()).unwrap();
        let status = std::process::Command::new("true").status().unwrap();
        assert!(status.success());
        // SIGCHLD goes to any thread of the process; the reactor reports it all the same.
        assert_eq!(chld.recv().await, Some(()));
    });
}

#[test]
fn polling_outside_a_runtime_panics_naming_the_call_site() {
    let mut s = signal(SignalKind::from_raw(libc::SIGWINCH)).unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(s.recv())
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("inside a corio runtime"), "{msg}");
    assert!(msg.contains("signal.rs"), "{msg}");
}

#[test]
fn ctrl_c_completes_on_sigint() {
    run_within(LIMIT, async {
        let mut ctrl_c = std::pin::pin!(corio_runtime::signal::ctrl_c());
        // The first poll installs the SIGINT action; only then is raising it safe.
        assert!(futures::poll!(ctrl_c.as_mut()).is_pending());
        raise(libc::SIGINT);
        ctrl_c.await.unwrap();
    });
}

#[test]
fn recv_is_none_once_the_runtime_it_joined_is_gone() {
    let got = within(Duration::from_secs(20), || {
        let mut ttou = signal(SignalKind::from_raw(libc::SIGTTOU)).unwrap();
        let first = current_thread();
        // Joins `first` (nothing delivered yet, so the wait times out).
        let waited = first.block_on(async {
            wait_for(ttou.recv(), Duration::from_millis(20))
                .await
                .is_err()
        });
        drop(first);
        let second = current_thread();
        (waited, second.block_on(ttou.recv()))
    });
    assert_eq!(got, (true, None));
}
