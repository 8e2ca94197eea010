//! An empty spawned task costs at most 128 bytes: one allocation, counted by a global
//! allocator that records what the spawning thread allocates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use corio_runtime::{spawn, task::Builder, yield_now};

struct Counting;

std::thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    let _ = COUNTING.try_with(|c| {
        if c.get() {
            ALLOCS.with(|a| a.set(a.get() + 1));
            BYTES.with(|b| b.set(b.get() + size));
        }
    });
}

// SAFETY: forwards to the system allocator; the bookkeeping only touches thread-locals of
// `Cell<usize>`/`Cell<bool>`, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// (allocations, bytes) made by this thread while running `f`.
fn measure<R>(f: impl FnOnce() -> R) -> (usize, usize, R) {
    ALLOCS.with(|a| a.set(0));
    BYTES.with(|b| b.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (ALLOCS.with(Cell::get), BYTES.with(Cell::get), r)
}

#[test]
fn empty_task_is_one_allocation_of_at_most_88_bytes() {
    let rt = corio_runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        // Warm up: lazily initialised thread-locals and queue capacity.
        for _ in 0..4 {
            spawn(async {}).await.unwrap();
        }
        let (allocs, bytes, task) = measure(|| spawn(async {}));
        task.await.unwrap();
        println!("spawn(async {{}}): {allocs} allocation(s), {bytes} bytes");
        assert_eq!(allocs, 1, "one allocation per task");
        // 88 bytes is a 96-byte chunk in glibc's malloc (n + 8 rounded up to 16): what
        // a pending task costs in memory (the report's bytes per pending task).
        assert!(
            bytes <= 88,
            "an empty task costs {bytes} bytes (budget: 88)"
        );

        // Hundreds of pending tasks: still one allocation each, amortized.
        let (allocs, bytes, tasks) = measure(|| {
            (0..32)
                .map(|_| spawn(std::future::pending::<()>()))
                .collect::<Vec<_>>()
        });
        // The Vec itself allocates too; the tasks are one each.
        assert!(allocs <= 32 + 6, "{allocs} allocations for 32 tasks");
        println!("32 pending tasks: {bytes} bytes incl. the Vec");
        for t in &tasks {
            t.cancel();
        }
        for t in tasks {
            let _ = t.await;
        }
        yield_now().await;
    });
}

#[test]
fn unnamed_tasks_make_one_allocation_and_named_ones_two() {
    let rt = corio_runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        spawn(async {}).await.unwrap();
        let (unnamed, _, t) = measure(|| spawn(async {}));
        assert_eq!(t.name(), None);
        t.await.unwrap();
        let builder = Builder::new().name("named");
        let (named, _, t) = measure(|| builder.spawn(async {}));
        assert_eq!(t.name(), Some("named"));
        t.await.unwrap();
        assert_eq!(unnamed, 1);
        // The name itself was allocated by `Builder::name`, before spawn; spawning adds the
        // task's out-of-line block that holds it (and later its await records for task
        // dumps), which unnamed tasks only get once they wait on something corio knows.
        assert_eq!(named, 2);
    });
}
