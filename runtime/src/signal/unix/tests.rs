//! Dropping a `Signal` removes its action; the other `Signal`s of that kind keep working.

use std::time::Duration;

use super::{signal, SignalKind};

#[test]
fn drop_unregisters_the_action() {
    // SIGWINCH is ignored by default, so a stray delivery cannot hurt the test binary.
    let kind = SignalKind::from_raw(libc::SIGWINCH);
    let out = crate::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(crate::wait_for(
            async move {
                let dropped = signal(kind).unwrap();
                let mut kept = signal(kind).unwrap();
                let id = dropped.sig_id();
                drop(dropped);
                // The action is gone: removing it again finds nothing.
                assert!(!signal_hook_registry::unregister(id));
                // SAFETY: raising a signal that has a handler installed is sound.
                unsafe { libc::raise(libc::SIGWINCH) };
                kept.recv().await
            },
            Duration::from_secs(10),
        ));
    assert_eq!(out, Ok(Some(())));
}
