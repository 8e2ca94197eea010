//! loom models of `corio_sync::Barrier`.
#![cfg(loom)]

use corio_loom_tests::model_with;
use corio_sync::Barrier;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

/// Two parties pass the barrier twice (the barrier is reused): in each generation both
/// are released, exactly one is the leader, and the indices are 0 and 1.
#[test]
fn barrier_two_generations() {
    model_with(3, || {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let pass = |b: &Barrier| {
            [0, 1].map(|_| {
                let r = block_on(b.wait());
                (r.index(), r.is_leader())
            })
        };
        let t = thread::spawn(move || pass(&b2));
        let mine = pass(&b);
        let theirs = t.join().unwrap();
        for generation in 0..2 {
            let (a, b) = (mine[generation], theirs[generation]);
            assert!(a.1 ^ b.1, "exactly one leader: {a:?} {b:?}");
            let mut idx = [a.0, b.0];
            idx.sort();
            assert_eq!(idx, [0, 1]);
            for r in [a, b] {
                assert_eq!(r.1, r.0 == 1, "the leader is the last to arrive");
            }
        }
        assert_eq!(b.n_waiting(), 0);
    });
}
