//! The runtime's monitor thread: slow-poll warnings (through `tracing`, or stderr without
//! a subscriber), the hand-off of a stuck worker's queue, and `Handle::metrics()`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corio_runtime::{spawn, task, yield_now, Builder, Runtime};
use corio_test_util::within;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One captured event: its target, level and fields (as strings).
#[derive(Debug, Clone)]
struct Captured {
    target: String,
    level: Level,
    fields: HashMap<String, String>,
}

/// A tiny `tracing` subscriber that keeps every event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl Capture {
    fn slow_polls(&self) -> Vec<Captured> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.target == "corio::slow_poll")
            .cloned()
            .collect()
    }
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Captured {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Builds a runtime with `capture` as the current subscriber (the monitor thread reports
/// to the dispatcher current where the runtime was built).
fn build_with(capture: &Capture, builder: Builder) -> Runtime {
    tracing::subscriber::with_default(capture.clone(), || builder.build().unwrap())
}

fn blocking_task(rt: &Runtime, name: &str, block: Duration) {
    let t = task::Builder::new()
        .name(name)
        .spawn_on(async move { std::thread::sleep(block) }, &rt.handle());
    rt.block_on(t).unwrap();
}

#[test]
fn one_warning_for_a_300ms_poll() {
    within(Duration::from_secs(30), || {
        let capture = Capture::default();
        let rt = build_with(
            &capture,
            Builder::new_multi_thread()
                .worker_threads(2)
                .slow_poll_threshold(Duration::from_millis(100)),
        );
        blocking_task(&rt, "sleepy", Duration::from_millis(300));
        drop(rt);
        let events = capture.slow_polls();
        assert_eq!(events.len(), 1, "{events:#?}");
        let e = &events[0];
        assert_eq!(e.level, Level::WARN);
        assert_eq!(e.fields["task_name"], "sleepy");
        assert!(e.fields["spawned_at"].contains("monitor.rs"), "{e:?}");
        let worker: usize = e.fields["worker"].parse().unwrap();
        assert!(worker < 2, "{e:?}");
        let ms: u64 = e.fields["elapsed_ms"].parse().unwrap();
        assert!((100..300).contains(&ms), "{e:?}");
        assert!(e.fields["task_id"].parse::<u64>().unwrap() > 0);
        let message = &e.fields["message"];
        assert!(message.contains("Executing <Task id="), "{message}");
        assert!(message.contains("name='sleepy' spawned at"), "{message}");
        assert!(
            message.contains(&format!("on worker {worker}")),
            "{message}"
        );
    });
}

#[test]
fn no_warning_for_fast_tasks() {
    within(Duration::from_secs(30), || {
        let capture = Capture::default();
        let rt = build_with(
            &capture,
            Builder::new_multi_thread()
                .worker_threads(2)
                .slow_poll_threshold(Duration::from_millis(100)),
        );
        rt.block_on(async {
            let tasks: Vec<_> = (0..1000)
                .map(|i| {
                    spawn(async move {
                        for _ in 0..3 {
                            yield_now().await;
                        }
                        i
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        // A few monitor ticks after the work, too.
        std::thread::sleep(Duration::from_millis(100));
        drop(rt);
        assert!(
            capture.slow_polls().is_empty(),
            "{:#?}",
            capture.slow_polls()
        );
    });
}

#[test]
fn no_warning_when_turned_off() {
    within(Duration::from_secs(30), || {
        let capture = Capture::default();
        let rt = build_with(
            &capture,
            Builder::new_multi_thread()
                .worker_threads(2)
                .slow_poll_threshold(None),
        );
        blocking_task(&rt, "sleepy", Duration::from_millis(300));
        drop(rt);
        assert!(
            capture.slow_polls().is_empty(),
            "{:#?}",
            capture.slow_polls()
        );
    });
}

#[test]
fn current_thread_tasks_and_block_on_are_covered() {
    within(Duration::from_secs(30), || {
        let capture = Capture::default();
        let rt = build_with(
            &capture,
            Builder::new_current_thread().slow_poll_threshold(Duration::from_millis(100)),
        );
        blocking_task(&rt, "local-sleepy", Duration::from_millis(300));
        rt.block_on(async { std::thread::sleep(Duration::from_millis(300)) });
        drop(rt);
        let events = capture.slow_polls();
        assert_eq!(events.len(), 2, "{events:#?}");
        assert_eq!(events[0].fields["task_name"], "local-sleepy");
        assert!(events[0].fields["message"].contains("on the current-thread runtime"));
        assert!(events[1].fields["message"].contains("<block_on future>"));
        assert!(!events[1].fields.contains_key("task_name"));
    });
}

/// Run as a child process by `stderr_fallback_without_subscriber`: no subscriber here.
#[test]
#[ignore = "run as a child process by stderr_fallback_without_subscriber"]
fn stderr_child() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .slow_poll_threshold(Duration::from_millis(100))
        .build()
        .unwrap();
    blocking_task(&rt, "stderr-child", Duration::from_millis(300));
}

#[test]
fn stderr_fallback_without_subscriber() {
    within(Duration::from_secs(60), || {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["stderr_child", "--exact", "--ignored", "--nocapture"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let lines: Vec<_> = stderr
            .lines()
            .filter(|l| l.starts_with("corio: Executing <Task id="))
            .collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].contains("name='stderr-child' spawned at runtime/tests/monitor.rs:"),
            "{stderr}"
        );
        assert!(lines[0].contains("seconds on worker 0"), "{stderr}");
    });
}

/// Task A spawns 100 short tasks onto its own worker (its LIFO slot and local queue),
/// then blocks that worker for 2 s; each short task records how long after its spawn it
/// ran. Returns the longest wait.
async fn strand_100_tasks() -> Duration {
    let a = spawn(async {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let spawned = Instant::now();
                spawn(async move { spawned.elapsed() })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        tasks
    });
    let mut longest = Duration::ZERO;
    for t in a.await.unwrap() {
        longest = longest.max(t.await.unwrap());
    }
    longest
}

#[test]
fn stuck_worker_hands_its_queue_over() {
    within(Duration::from_secs(30), || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let longest = rt.block_on(strand_100_tasks());
        assert!(longest < Duration::from_millis(1500), "{longest:?}");
    });
}

/// The hard case: the other worker always has work of its own (a task that keeps
/// yielding), so it never looks for work to steal; the stuck worker's queue still moves.
#[test]
fn stuck_worker_hands_its_queue_over_to_a_busy_worker() {
    within(Duration::from_secs(30), || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let spinners: Vec<_> = (0..2)
            .map(|_| {
                let (stop, threads) = (stop.clone(), threads.clone());
                rt.spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        threads.lock().unwrap().insert(std::thread::current().id());
                        yield_now().await;
                    }
                })
            })
            .collect();
        // Both workers busy spinning, each with its own yielded task.
        while threads.lock().unwrap().len() < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let longest = rt.block_on(strand_100_tasks());
        stop.store(true, Ordering::Relaxed);
        for s in spinners {
            rt.block_on(s).unwrap();
        }
        assert!(longest < Duration::from_millis(1500), "{longest:?}");
    });
}

#[test]
fn metrics_count_tasks_polls_timers_and_sources() {
    within(Duration::from_secs(30), || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let handle = rt.handle();
        let before = handle.metrics();
        assert_eq!(before.workers, 2);
        assert_eq!(before.per_worker.len(), 2);
        assert_eq!(before.spawned_total, 0);
        assert_eq!(before.live_tasks, 0);
        rt.block_on(async {
            let tasks: Vec<_> = (0..50).map(|i| spawn(async move { i })).collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let m = handle.metrics();
        assert_eq!(m.spawned_total, 50);
        assert_eq!(m.live_tasks, 0);
        let polls: u64 = m.per_worker.iter().map(|w| w.polls).sum();
        assert!(polls >= 50, "{m:#?}");
        assert_eq!(m.injector_depth, 0);

        rt.block_on(async {
            let sleepers: Vec<_> = (0..3)
                .map(|_| spawn(corio_runtime::sleep(Duration::from_secs(60))))
                .collect();
            while handle.metrics().timers < 3 {
                corio_runtime::sleep(Duration::from_millis(1)).await;
            }
            let m = handle.metrics();
            assert_eq!(m.live_tasks, 3);
            assert_eq!(m.spawned_total, 53);
            let sources = m.io_sources;
            let listener = corio_runtime::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            assert_eq!(handle.metrics().io_sources, sources + 1);
            drop(listener);
            assert_eq!(handle.metrics().io_sources, sources);
            for s in sleepers {
                s.cancel();
            }
        });
    });
}

#[test]
fn metrics_of_the_current_thread_flavor() {
    within(Duration::from_secs(30), || {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            spawn(async {}).await.unwrap();
            corio_blocking::to_thread(|| ()).await;
        });
        let m = rt.handle().metrics();
        assert_eq!(m.workers, 1);
        assert_eq!(m.spawned_total, 1);
        assert_eq!(m.live_tasks, 0);
        // The spawned task and the block_on future's polls.
        assert!(m.per_worker[0].polls >= 2, "{m:#?}");
        assert!(m.blocking.threads >= 1, "{m:#?}");
        assert_eq!(m.blocking.queued, 0);
    });
}

#[test]
fn busy_time_grows_while_a_worker_polls() {
    within(Duration::from_secs(30), || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .slow_poll_threshold(None)
            .build()
            .unwrap();
        rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(300)) }))
            .unwrap();
        let busy = rt.handle().metrics().per_worker[0].busy_time;
        // Sampled every 25 ms: most of the 300 ms poll is seen.
        assert!(busy >= Duration::from_millis(150), "{busy:?}");
    });
}
