//! Task dumps: every leaf kind names what a task awaits and where; states, polls, ages,
//! the running worker, the TaskGroup tree, and the time a 100 000-task dump takes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use corio_runtime::task::{AwaitDetail, Builder as TaskBuilder, Dump, TaskDump, TaskState};
use corio_runtime::{spawn, Runtime, Task, TaskGroup, TaskId};
use corio_sync::{Barrier, Condition, Event, Lock, Mutex, Semaphore};
use corio_test_util::examples::assert_in_order;
use corio_test_util::within;

const LIMIT: Duration = Duration::from_secs(20);

/// Lets spawned tasks reach their first `Pending`.
async fn settle() {
    corio_runtime::sleep(Duration::from_millis(30)).await;
}

/// A dump taken once `ready` holds for it (tasks have reached the waits a test checks),
/// retaking it every few milliseconds; panics with the last dump after a while.
async fn dump_when(ready: impl Fn(&Dump) -> bool) -> Dump {
    let deadline = Instant::now() + LIMIT / 2;
    loop {
        let dump = corio_runtime::dump();
        if ready(&dump) {
            return dump;
        }
        assert!(Instant::now() < deadline, "never ready:\n{dump}");
        corio_runtime::sleep(Duration::from_millis(5)).await;
    }
}

/// True if task `id` is in the dump and awaits something.
fn waiting(dump: &Dump, id: TaskId) -> bool {
    dump.iter()
        .any(|t| t.info().id() == id && !t.awaiting().is_empty())
}

/// A dump in which every task in `ids` awaits something.
async fn dump_when_waiting(ids: &[TaskId]) -> Dump {
    dump_when(|d| ids.iter().all(|&id| waiting(d, id))).await
}

fn find(dump: &Dump, id: TaskId) -> &TaskDump {
    dump.iter()
        .find(|t| t.info().id() == id)
        .unwrap_or_else(|| panic!("task {id} not in the dump:\n{dump}"))
}

/// The chain of task `id`, as `what` names, outermost first.
fn chain(dump: &Dump, id: TaskId) -> Vec<&'static str> {
    find(dump, id).awaiting().iter().map(|a| a.what()).collect()
}

/// The line the awaited thing was created on.
fn line_of(dump: &Dump, id: TaskId, link: usize) -> u32 {
    let t = find(dump, id);
    t.awaiting()[link]
        .location()
        .unwrap_or_else(|| panic!("no location in {t}"))
        .line()
}

fn run<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    within(LIMIT, move || corio_runtime::run(f))
}

#[test]
fn sleep_and_wait_for_and_interval_name_their_deadline_and_line() {
    run(async {
        let sleeper = spawn(async {
            corio_runtime::sleep(Duration::from_secs(60)).await;
        });
        let line_sleep = line!() - 2;
        let ev = Arc::new(Event::new());
        let ev2 = ev.clone();
        let timed = spawn(async move {
            let _ = corio_runtime::wait_for(ev2.wait(), Duration::from_secs(30)).await;
        });
        let line_wait_for = line!() - 2;
        let ticker = spawn(async {
            let mut iv = corio_runtime::interval(Duration::from_secs(50));
            iv.tick().await;
            iv.tick().await;
        });
        let dump = dump_when_waiting(&[sleeper.id(), timed.id(), ticker.id()]).await;
        assert_eq!(chain(&dump, sleeper.id()), ["sleep"]);
        assert_eq!(line_of(&dump, sleeper.id(), 0), line_sleep);
        let left = find(&dump, sleeper.id()).awaiting()[0].detail();
        match left {
            AwaitDetail::TimeLeft(d) => {
                assert!(d > Duration::from_secs(50) && d <= Duration::from_secs(60))
            }
            other => panic!("{other:?}"),
        }
        // The timeout around the event wait: outermost first.
        assert_eq!(chain(&dump, timed.id()), ["wait_for", "Event::wait"]);
        assert_eq!(line_of(&dump, timed.id(), 0), line_wait_for);
        assert_eq!(line_of(&dump, timed.id(), 1), line_wait_for);
        assert_eq!(chain(&dump, ticker.id()), ["Interval::tick"]);
        let text = dump.to_string();
        assert!(text.contains("awaits sleep ("), "{text}");
        assert!(text.contains(" left) at "), "{text}");
        for t in [sleeper, timed, ticker] {
            t.cancel();
        }
    });
}

#[test]
fn every_sync_primitive_names_itself() {
    run(async {
        let lock = Arc::new(Lock::new(()));
        let guard = lock.lock().await;
        let mutex = Arc::new(Mutex::new(0));
        let sem = Arc::new(Semaphore::new(0));
        let event = Arc::new(Event::new());
        let cond = Arc::new(Condition::new());
        let barrier = Arc::new(Barrier::new(2));
        let (tx, rx) = corio_sync::oneshot::channel::<u8>();

        let mut tasks: Vec<(Task<()>, &str)> = Vec::new();
        let l = lock.clone();
        tasks.push((spawn(async move { drop(l.lock().await) }), "Lock::lock"));
        let s = sem.clone();
        tasks.push((
            spawn(async move { drop(s.acquire().await) }),
            "Semaphore::acquire",
        ));
        let e = event.clone();
        tasks.push((spawn(async move { e.wait().await }), "Event::wait"));
        let (m, c) = (mutex.clone(), cond.clone());
        tasks.push((
            spawn(async move {
                let g = m.lock().await;
                drop(c.wait(g).await);
            }),
            "Condition::wait",
        ));
        let (m, c) = (mutex.clone(), cond.clone());
        tasks.push((
            spawn(async move {
                let g = m.lock().await;
                drop(c.wait_while(g, |v| *v == 0).await);
            }),
            "Condition::wait",
        ));
        let b = barrier.clone();
        tasks.push((
            spawn(async move {
                let _ = b.wait().await;
            }),
            "Barrier::wait",
        ));
        tasks.push((
            spawn(async move {
                let _ = rx.await;
            }),
            "oneshot::Receiver",
        ));
        let ids: Vec<_> = tasks.iter().map(|(t, _)| t.id()).collect();
        let dump = dump_when_waiting(&ids).await;
        for (task, what) in &tasks {
            assert_eq!(chain(&dump, task.id()), [*what], "{dump}");
            let at = find(&dump, task.id()).awaiting()[0].location().unwrap();
            assert!(at.file().ends_with("dump.rs"), "{what} at {at}");
        }

        drop(guard);
        sem.release();
        event.set();
        *mutex.lock().await = 1;
        cond.notify_all();
        barrier.wait().await;
        tx.send(1).unwrap();
        for (task, _) in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn joins_groups_gathers_and_to_thread_name_themselves() {
    run(async {
        let never = spawn(std::future::pending::<()>());
        let never_id = never.id();
        let joiner = spawn(async move { drop(never.await) });

        let gate = Arc::new(Event::new());
        let g = gate.clone();
        let owner = spawn(async move {
            let group = TaskGroup::<(), ()>::new();
            for _ in 0..3 {
                let g = g.clone();
                group
                    .spawn(async move {
                        g.wait().await;
                        Ok(())
                    })
                    .unwrap();
            }
            group.join().await.unwrap();
        });
        let g = gate.clone();
        let gatherer = spawn(async move {
            let g1 = g.clone();
            corio_runtime::gather([
                Box::pin(async move { g1.wait().await })
                    as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
                Box::pin(corio_runtime::sleep(Duration::from_secs(40))),
            ])
            .await;
        });
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = spawn(async move {
            corio_blocking::to_thread(move || release_rx.recv().ok()).await;
        });
        let ids = [joiner.id(), owner.id(), gatherer.id(), blocker.id()];
        let owner_id = owner.id();
        let dump = dump_when(|d| {
            let children = d.iter().filter(|t| t.parent() == Some(owner_id));
            ids.iter().all(|&id| waiting(d, id))
                && children.filter(|t| !t.awaiting().is_empty()).count() == 3
        })
        .await;
        assert_eq!(chain(&dump, joiner.id()), ["join"]);
        assert_eq!(
            find(&dump, joiner.id()).awaiting()[0].to_string(),
            format!("Task-{never_id} (join)")
        );
        assert_eq!(
            find(&dump, joiner.id()).awaiting()[0].detail(),
            AwaitDetail::Task(never_id)
        );
        assert_eq!(chain(&dump, owner.id()), ["TaskGroup::join"]);
        assert_eq!(
            find(&dump, owner.id()).awaiting()[0].detail(),
            AwaitDetail::Remaining(3)
        );
        let children: Vec<_> = dump
            .iter()
            .filter(|t| t.parent() == Some(owner.id()))
            .collect();
        assert_eq!(children.len(), 3, "{dump}");
        for c in &children {
            assert_eq!(c.awaiting()[0].what(), "Event::wait");
        }
        // gather: the outer record, then what its children await (innermost first in
        // the records, so the last child polled comes right after gather).
        let g = chain(&dump, gatherer.id());
        assert_eq!(g[0], "gather", "{dump}");
        assert!(g.contains(&"sleep") && g.contains(&"Event::wait"), "{g:?}");
        assert_eq!(chain(&dump, blocker.id()), ["to_thread job"]);

        // The tree puts the group's tasks under their owner.
        let text = dump.to_string();
        let owner_line = text
            .lines()
            .position(|l| l.contains(&format!("Task-{} ", owner.id())))
            .unwrap();
        let child_line = text
            .lines()
            .position(|l| l.contains(&format!("Task-{} ", children[0].info().id())))
            .unwrap();
        assert!(child_line > owner_line, "{text}");
        let child = text.lines().nth(child_line).unwrap();
        assert!(
            child.starts_with("│   ") || child.starts_with("    "),
            "children are indented:\n{text}"
        );

        gate.set();
        release_tx.send(()).unwrap();
        owner.await.unwrap();
        blocker.await.unwrap();
        gatherer.cancel();
        joiner.cancel();
    });
}

#[test]
fn socket_reads_name_the_type_and_fd() {
    run(async {
        use std::os::fd::AsRawFd;
        let listener = corio_runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = spawn(async move { listener.accept().await.unwrap() });
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        std_client.set_nonblocking(true).unwrap();
        let fd = std_client.as_raw_fd();
        let mut client = corio_runtime::net::TcpStream::from_std(std_client).unwrap();
        let reader = spawn(async move {
            let mut buf = [0u8; 8];
            let _ = client.read(&mut buf).await;
        });
        let dump = dump_when_waiting(&[reader.id()]).await;
        let r = find(&dump, reader.id());
        assert_eq!(r.awaiting()[0].what(), "TcpStream::read", "{dump}");
        assert_eq!(r.awaiting()[0].detail(), AwaitDetail::Fd(fd));
        assert_eq!(
            r.awaiting()[0].to_string(),
            format!("TcpStream::read (fd {fd})")
        );
        let _server_side = acceptor.await.unwrap();
        reader.cancel();
    });
}

#[test]
fn states_polls_ages_and_the_running_worker() {
    let rt = Runtime::new().unwrap();
    within(LIMIT, move || {
        rt.block_on(async {
            let before_spawn = Instant::now();
            let idle = TaskBuilder::new()
                .name("idler")
                .spawn(std::future::pending::<()>());
            let yielder = spawn(async {
                for _ in 0..4 {
                    corio_runtime::yield_now().await;
                }
                std::future::pending::<()>().await;
            });
            // Both have run to their last wait (polls no longer change).
            loop {
                let dump = corio_runtime::dump();
                if find(&dump, yielder.id()).polls() == Some(5)
                    && find(&dump, idle.id()).polls() == Some(1)
                {
                    break;
                }
                settle().await;
            }
            // A task that blocks its worker until released, so the dump sees it running.
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let busy = spawn(async move {
                let _ = release_rx.recv_timeout(LIMIT);
            });
            // Until the monitor has seen it running for a while (it samples every 25 ms).
            let deadline = Instant::now() + LIMIT;
            let dump = loop {
                let dump = corio_runtime::dump();
                let b = find(&dump, busy.id());
                if b.running_for()
                    .is_some_and(|d| d >= Duration::from_millis(50))
                {
                    break dump;
                }
                assert!(Instant::now() < deadline, "never seen running:\n{dump}");
                settle().await;
            };
            let b = find(&dump, busy.id());
            assert_eq!(b.state(), TaskState::Running, "{dump}");
            assert!(b.worker().is_some(), "{dump}");
            assert!(b.to_string().contains("running on worker"), "{b}");
            let i = find(&dump, idle.id());
            assert_eq!(i.state(), TaskState::Idle);
            assert_eq!(i.polls(), Some(1));
            // A lower bound (short by at most one monitor tick): never more than the truth.
            let age = i.age().unwrap();
            assert!(age <= before_spawn.elapsed(), "{i}");
            assert!(i.to_string().contains("Task-") && i.to_string().contains("'idler'"));
            release_tx.send(()).unwrap();
            busy.await.unwrap();
            idle.cancel();
            yielder.cancel();
        })
    });
}

#[test]
fn a_task_awaiting_nothing_corio_knows_has_an_empty_chain() {
    run(async {
        let t = spawn(async {
            // Awaited once through corio, then through a foreign future.
            corio_runtime::sleep(Duration::from_millis(1)).await;
            std::future::pending::<()>().await;
        });
        // First poll: pending on the sleep; second: pending on the foreign future.
        let id = t.id();
        let dump = dump_when(|d| {
            d.iter()
                .any(|t| t.info().id() == id && t.polls() == Some(2))
        })
        .await;
        assert!(find(&dump, id).awaiting().is_empty(), "{dump}");
        t.cancel();
    });
}

#[test]
fn handle_dump_works_from_outside_and_dump_panics_outside() {
    let rt = Runtime::new().unwrap();
    let t = rt.spawn(corio_runtime::sleep(Duration::from_secs(60)));
    let deadline = Instant::now() + LIMIT;
    loop {
        let dump = rt.handle().dump();
        if dump
            .iter()
            .any(|d| d.info().id() == t.id() && !d.awaiting().is_empty())
        {
            break;
        }
        assert!(Instant::now() < deadline, "the sleep never showed up");
        std::thread::sleep(Duration::from_millis(5));
    }
    t.cancel();
    let err = std::panic::catch_unwind(corio_runtime::dump).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(msg.contains("Handle::dump"), "{msg}");
}

#[test]
fn a_dump_of_100_000_tasks_is_quick() {
    let rt = Runtime::new().unwrap();
    within(Duration::from_secs(60), move || {
        rt.block_on(async {
            let gate = Arc::new(Event::new());
            let tasks: Vec<_> = (0..100_000)
                .map(|_| {
                    let g = gate.clone();
                    spawn(async move { g.wait().await })
                })
                .collect();
            // Until every task has reached its first wait.
            while !corio_runtime::dump()
                .iter()
                .all(|t| t.awaiting().len() == 1)
            {
                settle().await;
            }
            // Best of three: the first dump warms the allocator.
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let start = Instant::now();
                let dump = corio_runtime::dump();
                best = best.min(start.elapsed());
                assert_eq!(dump.len(), 100_000);
                assert!(dump.iter().all(|t| t.awaiting().len() == 1));
            }
            println!("dump of 100 000 tasks: {best:?}");
            // < 10 ms in an optimised build; a debug build is several times slower.
            let bound = if cfg!(debug_assertions) {
                Duration::from_millis(500)
            } else {
                Duration::from_millis(10)
            };
            assert!(best < bound, "{best:?}");
            gate.set();
            for t in tasks {
                t.await.unwrap();
            }
        })
    });
}

/// The child half of `the_dump_signal_prints_the_dump_to_stderr`: a runtime whose dump
/// signal comes from `CORIO_DUMP_SIGNAL`, with one task waiting on an event forever.
#[test]
#[ignore = "the child process of the dump-signal tests, which run it with --ignored"]
fn dump_signal_child() {
    let rt = Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let ev = Arc::new(Event::new());
        let e = ev.clone();
        let _waiter = TaskBuilder::new()
            .name("stuck-waiter")
            .spawn(async move { e.wait().await });
        corio_runtime::sleep(Duration::from_millis(20)).await;
        println!("ready");
        corio_runtime::sleep(Duration::from_secs(30)).await;
    });
}

#[test]
fn the_dump_signal_prints_the_dump_to_stderr() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "dump_signal_child", "--ignored", "--nocapture"])
        .env("CORIO_DUMP_SIGNAL", "SIGUSR1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let pid = child.id() as libc::pid_t;
    let _guard = Kill(child);
    let out = within(LIMIT, move || {
        let mut lines = BufReader::new(stdout).lines();
        assert!(
            lines.any(|l| l.unwrap().contains("ready")),
            "the child never got ready"
        );
        // SAFETY: `kill` has no memory-safety preconditions; the pid is our child's.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR1) }, 0);
        // Read stderr until the dump's waiter line shows up.
        let mut text = String::new();
        let mut buf = [0u8; 4096];
        while !text.contains("awaits Event::wait") {
            let n = stderr.read(&mut buf).unwrap();
            assert!(n > 0, "stderr closed before the dump:\n{text}");
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        text
    });
    assert!(out.contains("corio task dump: 1 live task"), "{out}");
    assert!(out.contains("'stuck-waiter'"), "{out}");
    // The future given to block_on is in the dump too, with what it awaits.
    assert_in_order(&out, &["block_on future on thread", "awaits sleep ("]);
    assert!(
        out.contains("awaits Event::wait at runtime/tests/dump.rs"),
        "{out}"
    );
}

#[test]
fn an_invalid_dump_signal_is_a_clear_build_error() {
    let err = corio_runtime::Builder::new_current_thread()
        .dump_on_signal(corio_runtime::signal::unix::SignalKind::from_raw(
            libc::SIGKILL,
        ))
        .build()
        .expect_err("SIGKILL cannot be caught");
    assert!(err.to_string().contains("task dumps on signal 9"), "{err}");
}

#[test]
fn a_bad_corio_dump_signal_fails_the_build_naming_the_variable() {
    let out = within(LIMIT, || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "dump_signal_child", "--ignored", "--nocapture"])
            .env("CORIO_DUMP_SIGNAL", "SIGNOPE")
            .output()
            .unwrap()
    });
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CORIO_DUMP_SIGNAL=\"SIGNOPE\" is not a signal"),
        "{stderr}"
    );
}

#[test]
fn a_signal_wait_names_the_signal_not_its_pipe() {
    use corio_runtime::signal::unix::{signal, SignalKind};
    run(async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        let line = line!() - 1;
        let waiter = spawn(async move {
            usr2.recv().await;
        });
        let dump = dump_when_waiting(&[waiter.id()]).await;
        let w = find(&dump, waiter.id());
        assert_eq!(chain(&dump, waiter.id()), ["Signal::recv"], "{dump}");
        assert_eq!(w.awaiting()[0].detail(), AwaitDetail::Signal(libc::SIGUSR2));
        assert_eq!(line_of(&dump, waiter.id(), 0), line);
        waiter.cancel();
    });
}

#[test]
fn queue_waits_name_the_queue_type_and_line() {
    use futures::StreamExt;
    run(async {
        let q = corio_sync::Queue::<u8>::new(1);
        let lifo = corio_sync::LifoQueue::<u8>::new(0);
        let full = corio_sync::PriorityQueue::<u8>::new(1);
        full.put_nowait(1).unwrap();
        let (q1, l1, f1) = (q.clone(), lifo.clone(), full.clone());
        let getter = spawn(async move {
            let _ = corio_runtime::wait_for(q1.get(), Duration::from_secs(30)).await;
        });
        let get_line = line!() - 2;
        let lifo_getter = spawn(async move {
            let _ = l1.get().await;
        });
        let putter = spawn(async move {
            let _ = f1.put(2).await;
        });
        // An item put and never marked done keeps `join` waiting.
        let jq = corio_sync::Queue::<u8>::new(0);
        jq.put_nowait(1).unwrap();
        let q3 = q.clone();
        let joiner = spawn(async move { jq.join().await });
        let streamer = spawn(async move {
            let mut s = q3;
            let _ = s.next().await;
        });
        let ids = [
            getter.id(),
            lifo_getter.id(),
            putter.id(),
            joiner.id(),
            streamer.id(),
        ];
        let dump = dump_when_waiting(&ids).await;
        assert_eq!(
            chain(&dump, getter.id()),
            ["wait_for", "Queue::get"],
            "{dump}"
        );
        assert_eq!(line_of(&dump, getter.id(), 1), get_line);
        assert_eq!(chain(&dump, lifo_getter.id()), ["LifoQueue::get"]);
        assert_eq!(chain(&dump, putter.id()), ["PriorityQueue::put"]);
        assert_eq!(chain(&dump, joiner.id()), ["Queue::join"]);
        assert_eq!(chain(&dump, streamer.id()), ["Queue::get"]);
        for t in [getter, lifo_getter, putter, joiner, streamer] {
            t.cancel();
        }
    });
}

#[test]
fn wait_and_as_completed_name_themselves_not_the_tasks_they_poll() {
    use corio_runtime::ReturnWhen;
    run(async {
        let waiter = spawn(async {
            let never = spawn(std::future::pending::<()>());
            let (done, pending) =
                corio_runtime::wait([never], ReturnWhen::AllCompleted, None).await;
            drop((done, pending));
        });
        let streamer = spawn(async {
            let never = spawn(std::future::pending::<()>());
            let mut stream = corio_runtime::as_completed([never]);
            let _ = stream.next().await;
        });
        let gatherer = spawn(async {
            let r: Result<Vec<()>, ()> =
                corio_runtime::try_gather([std::future::pending::<Result<(), ()>>()]).await;
            drop(r);
        });
        let dump = dump_when_waiting(&[waiter.id(), streamer.id(), gatherer.id()]).await;
        assert_eq!(chain(&dump, waiter.id()), ["wait"], "{dump}");
        assert_eq!(
            find(&dump, waiter.id()).awaiting()[0].detail(),
            AwaitDetail::Remaining(1)
        );
        assert_eq!(chain(&dump, streamer.id()), ["as_completed"], "{dump}");
        assert_eq!(chain(&dump, gatherer.id()), ["try_gather"], "{dump}");
        for t in [waiter, streamer, gatherer] {
            t.cancel();
        }
    });
}
