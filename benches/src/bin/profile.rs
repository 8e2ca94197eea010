//! Runs one corio sync workload alone, on a current-thread or a 2-worker runtime, for
//! profilers whose counts repeat exactly (`valgrind --tool=callgrind`) or for `perf`:
//!
//! ```text
//! cargo build --release -p corio-benches --bin profile
//! valgrind --tool=callgrind target/release/profile queue_1to1 current 100000
//! target/release/profile semaphore_held_across_yield multi 100 5   # 5 runs in a row
//! target/release/profile queue_4to1 async-std 1000000 3 waits   # count the waits too
//! ```
//!
//! Workloads: `queue_1to1` / `queue_4to1` (items through a 1 024-slot queue; the count is
//! the total number of items), `semaphore_held_across_yield` (1 000 tasks × `count`
//! acquisitions of a 10-permit semaphore, each held across one yield). The same shapes
//! as the report's `sync` rows. `async_channel_1to1` / `async_channel_4to1` and
//! `async_lock_semaphore_held_across_yield` run the same shapes with async-channel's bounded
//! channel and async-lock's (not FIFO) `Semaphore` on corio, to separate the primitive from
//! the runtime; `async_std_channel_4to1` uses async-std's own channel (async-channel 1.x,
//! the report's async-std row), which waits far less than async-channel 2.
//!
//! Flavors: `current`, `multi` (corio) and `async-std` (its global executor with the same
//! number of threads): every workload runs on every flavor, so that each primitive can be
//! timed on each runtime (each workload is written once, over `Exec`, `Chan` and
//! `Sem`). Each run prints its time and CPU time; with `waits` after the repeat count it
//! also counts the operations whose future was not ready at its first poll (the counting
//! costs time of its own).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

const USAGE: &str = "usage: profile <queue_1to1|queue_4to1|async_channel_1to1|\
                     async_channel_4to1|async_std_channel_4to1|semaphore_held_across_yield|\
                     async_lock_semaphore_held_across_yield> <current|multi|async-std> <count> \
                     [repeat] [waits]";

/// Acquisitions, puts or sends whose future returned `Pending` at least once: how often the
/// primitive made a task wait, printed after each run.
static WAITED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether to count waits (`waits` after the repeat count): the counting wrapper costs
/// time of its own, so timed runs leave it out.
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Awaits the future `$f`, through [`counted`] only when counting, so that timed runs
/// await it directly.
macro_rules! wait {
    ($f:expr) => {
        if COUNTING.load(std::sync::atomic::Ordering::Relaxed) {
            counted($f).await
        } else {
            $f.await
        }
    };
}

/// Awaits `f`, counting it in [`WAITED`] if it was not ready at its first poll.
async fn counted<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut first = true;
    std::future::poll_fn(|cx| {
        let r = f.as_mut().poll(cx);
        if first && r.is_pending() {
            WAITED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        first = false;
        r
    })
    .await
}

/// The process's user + system CPU time so far.
fn cpu_time() -> std::time::Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` writes a `rusage` into the buffer it is given, which is valid
    // and large enough for one.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec as u64)
            + std::time::Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(workload), Some(flavor), Some(count)) = (args.first(), args.get(1), args.get(2))
    else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("count is a number");
    let repeat: usize = args
        .get(3)
        .map_or(1, |r| r.parse().expect("repeat is a number"));
    if args.get(4).is_some_and(|a| a == "waits") {
        COUNTING.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let rt = match flavor.as_str() {
        "current" => Some(corio::Builder::new_current_thread().build()),
        "multi" => Some(
            corio::Builder::new_multi_thread()
                .worker_threads(corio_benches::WORKERS)
                .build(),
        ),
        "async-std" => {
            corio_benches::runtimes::async_std();
            None
        }
        _ => panic!("{USAGE}"),
    }
    .map(|rt| rt.expect("runtime"));
    for _ in 0..repeat {
        let start = Instant::now();
        let cpu = cpu_time();
        let mut line = format!("{workload} on {flavor}: ");
        match &rt {
            Some(rt) => {
                rt.block_on(run::<Corio>(workload, count));
                let metrics = rt.handle().metrics();
                let polls: u64 = metrics.per_worker.iter().map(|w| w.polls).sum();
                let steals: u64 = metrics.per_worker.iter().map(|w| w.steals).sum();
                let parks: u64 = metrics.per_worker.iter().map(|w| w.parks).sum();
                line += &format!(
                    "{:?}, CPU {:?} (so far: {polls} task polls, {steals} steals, {parks} parks)",
                    start.elapsed(),
                    cpu_time() - cpu
                );
            }
            None => {
                async_std::task::block_on(run::<AsyncStd>(workload, count));
                line += &format!("{:?}, CPU {:?}", start.elapsed(), cpu_time() - cpu);
            }
        }
        eprintln!("{line}");
        if COUNTING.load(std::sync::atomic::Ordering::Relaxed) {
            let waited = WAITED.swap(0, std::sync::atomic::Ordering::Relaxed);
            eprintln!("  acquisitions / puts / sends that waited: {waited}");
        }
    }
}

/// Runs `workload` once with its tasks on executor `E`.
async fn run<E: Exec>(workload: &str, count: usize) {
    match workload {
        "queue_1to1" => queue::<E, _>(corio::sync::Queue::new(CAPACITY), 1, count).await,
        "queue_4to1" => queue::<E, _>(corio::sync::Queue::new(CAPACITY), 4, count).await,
        "async_channel_1to1" => queue::<E, _>(async_channel::bounded(CAPACITY), 1, count).await,
        "async_channel_4to1" => queue::<E, _>(async_channel::bounded(CAPACITY), 4, count).await,
        "async_std_channel_4to1" => {
            queue::<E, _>(async_std::channel::bounded(CAPACITY), 4, count).await
        }
        "semaphore_held_across_yield" => {
            semaphore::<E, _>(corio::sync::Semaphore::new(PERMITS), count).await
        }
        "async_lock_semaphore_held_across_yield" => {
            semaphore::<E, _>(async_lock::Semaphore::new(PERMITS), count).await
        }
        _ => panic!("{USAGE}"),
    }
}

/// The queues' slots and the semaphores' permits, as in the report's `sync` rows.
const CAPACITY: usize = 1024;
const PERMITS: usize = 10;

/// Where a workload's tasks run: corio's runtime or async-std's global executor.
trait Exec {
    /// Spawns `f` now; the returned future waits for its output.
    fn spawn<T: Send + 'static>(
        f: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send;
    /// The executor's `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;
}

struct Corio;

impl Exec for Corio {
    fn spawn<T: Send + 'static>(
        f: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        let task = corio::spawn(f);
        async move { task.await.expect("task") }
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        corio::yield_now()
    }
}

struct AsyncStd;

impl Exec for AsyncStd {
    fn spawn<T: Send + 'static>(
        f: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        async_std::task::spawn(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        async_std::task::yield_now()
    }
}

/// A bounded queue of `usize`: corio's `Queue` or a peer's channel (sender, receiver).
trait Chan: Send + Sync + 'static {
    /// Puts `v`, waiting while the queue is full.
    fn put(&self, v: usize) -> impl Future<Output = ()> + Send + '_;
    /// Takes the oldest item, waiting while the queue is empty.
    fn get(&self) -> impl Future<Output = usize> + Send + '_;
}

impl Chan for corio::sync::Queue<usize> {
    async fn put(&self, v: usize) {
        corio::sync::Queue::put(self, v).await.expect("open");
    }
    async fn get(&self) -> usize {
        corio::sync::Queue::get(self).await.expect("open")
    }
}

impl Chan for (async_channel::Sender<usize>, async_channel::Receiver<usize>) {
    async fn put(&self, v: usize) {
        self.0.send(v).await.expect("open");
    }
    async fn get(&self) -> usize {
        self.1.recv().await.expect("open")
    }
}

impl Chan
    for (
        async_std::channel::Sender<usize>,
        async_std::channel::Receiver<usize>,
    )
{
    async fn put(&self, v: usize) {
        self.0.send(v).await.expect("open");
    }
    async fn get(&self) -> usize {
        self.1.recv().await.expect("open")
    }
}

/// A semaphore whose permit is released on drop: corio's or async-lock's.
trait Sem: Send + Sync + 'static {
    /// Waits for a permit; it is returned when the output is dropped.
    fn acquire(&self) -> impl Future<Output = impl Send + '_> + Send + '_;
}

impl Sem for corio::sync::Semaphore {
    fn acquire(&self) -> impl Future<Output = impl Send + '_> + Send + '_ {
        corio::sync::Semaphore::acquire(self)
    }
}

impl Sem for async_lock::Semaphore {
    fn acquire(&self) -> impl Future<Output = impl Send + '_> + Send + '_ {
        async_lock::Semaphore::acquire(self)
    }
}

/// `producers` tasks put `items` in all through `chan`; one task gets them.
async fn queue<E: Exec, C: Chan>(chan: C, producers: usize, items: usize) {
    let per = items / producers;
    let chan = Arc::new(chan);
    let consumer = {
        let chan = chan.clone();
        E::spawn(async move {
            let mut sum = 0u64;
            for _ in 0..per * producers {
                sum += chan.get().await as u64;
            }
            sum
        })
    };
    let putters: Vec<_> = (0..producers)
        .map(|_| {
            let chan = chan.clone();
            E::spawn(async move {
                for i in 0..per {
                    wait!(chan.put(i));
                }
            })
        })
        .collect();
    for p in putters {
        p.await;
    }
    std::hint::black_box(consumer.await);
}

/// 1 000 tasks each take a permit of `sem` `acquisitions` times and hold it across a yield.
async fn semaphore<E: Exec, S: Sem>(sem: S, acquisitions: usize) {
    let sem = Arc::new(sem);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let sem = sem.clone();
            E::spawn(async move {
                for _ in 0..acquisitions {
                    let _permit = wait!(sem.acquire());
                    E::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await;
    }
}
