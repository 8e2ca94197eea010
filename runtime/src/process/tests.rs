//! Subprocess tests on real runtimes: exit codes and signals, pipes, cancel-safe waits,
//! reaping (pidfd and polling fallback, dropped children, orphans), and 1 000 children
//! at once on two workers.

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use futures::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};

use super::*;
use crate::{Builder, Runtime};

/// Runs `f` on its own thread; fails the test if it takes longer than `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test timed out after {secs} s"),
    }
}

fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

fn current() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

/// The state letter of `/proc/<pid>/status` (`'Z'` for a zombie), `None` if there is no
/// such process any more.
fn proc_state(pid: u32) -> Option<char> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("State:"))?;
    line["State:".len()..].trim().chars().next()
}

/// Polls until `pred(state)` holds, for at most `secs`.
fn state_becomes(pid: u32, secs: u64, pred: impl Fn(Option<char>) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if pred(proc_state(pid)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn not_zombie(state: Option<char>) -> bool {
    state != Some('Z')
}

#[test]
fn output_collects_status_stdout_and_stderr() {
    within(20, || {
        current().block_on(async {
            let out = Command::new("sh")
                .args(["-c", "echo out; echo err >&2; exit 3"])
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"out\n");
            assert_eq!(out.stderr, b"err\n");
            assert_eq!(out.status.code(), Some(3));
        })
    });
}

#[test]
fn output_restores_spawn_defaults() {
    within(20, || {
        current().block_on(async {
            let mut cmd = Command::new("cat");
            let out = cmd.output().await.unwrap(); // stdin null: cat ends at once
            assert!(out.status.success());
            // spawn after output: stdio inherited again, so no pipes.
            let mut child = cmd.stdin(Stdio::null()).spawn().unwrap();
            assert!(child.stdout.is_none() && child.stderr.is_none());
            assert!(child.wait().await.unwrap().success());
        })
    });
}

#[test]
fn nonexistent_program_is_not_found() {
    within(20, || {
        current().block_on(async {
            let err = Command::new("corio-no-such-program-xyz")
                .spawn()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound);
            let err = Command::new("/nonexistent/dir/prog")
                .output()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound);
            let err = Command::new("true")
                .current_dir("/nonexistent/dir")
                .status()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound);
        })
    });
}

#[test]
fn killed_child_reports_sigkill() {
    within(20, || {
        multi(2).block_on(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            assert!(child.try_wait().unwrap().is_none());
            child.kill().await.unwrap();
            let status = child.try_wait().unwrap().unwrap();
            assert_eq!(status.signal(), Some(9));
            assert_eq!(status.code(), None);
            assert!(!status.success());
            assert_eq!(child.id(), None);
            // Same status again; killing a reaped child is refused.
            assert_eq!(child.wait().await.unwrap(), status);
            assert_eq!(
                child.start_kill().unwrap_err().kind(),
                ErrorKind::InvalidInput
            );

            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            child.start_kill().unwrap();
            assert_eq!(child.wait().await.unwrap().signal(), Some(9));
        })
    });
}

#[test]
fn wait_closes_stdin_first() {
    within(20, || {
        current().block_on(async {
            // cat waits for EOF on stdin; wait() must close it or this never ends.
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            child
                .stdin
                .as_mut()
                .unwrap()
                .write_all(b"data")
                .await
                .unwrap();
            assert!(child.wait().await.unwrap().success());
            assert!(child.stdin.is_none());
        })
    });
}

#[test]
fn wait_is_cancel_safe() {
    within(20, || {
        multi(2).block_on(async {
            let mut child = Command::new("sleep").arg("0.3").spawn().unwrap();
            for _ in 0..3 {
                let r = crate::wait_for(child.wait(), Duration::from_millis(20)).await;
                assert!(r.is_err(), "sleep 0.3 ended within 60 ms");
            }
            assert!(child.wait().await.unwrap().success());
        })
    });
}

#[test]
fn communicate_big_outputs_and_input_without_deadlock() {
    within(60, || {
        multi(2).block_on(async {
            // 4 MiB in through stdin, echoed to stdout, plus 4 MiB on stderr: every pipe
            // fills many times over, so reading one while the other blocks would hang.
            let input: Vec<u8> = (0..4 << 20).map(|i| (i % 251) as u8).collect();
            let mut child = Command::new("sh")
                .args(["-c", "head -c 4194304 /dev/zero >&2 & cat; wait"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let expected = input.clone();
            let writer = crate::spawn(async move {
                stdin.write_all(&input).await.unwrap();
                // dropped: EOF for cat
            });
            let out = child.wait_with_output().await.unwrap();
            writer.await.unwrap();
            assert!(out.status.success());
            assert_eq!(out.stdout.len(), expected.len());
            assert!(out.stdout == expected, "stdout differs from stdin");
            assert_eq!(out.stderr.len(), 4 << 20);
            assert!(out.stderr.iter().all(|&b| b == 0));
        })
    });
}

#[test]
fn futures_io_lines_and_close() {
    within(20, || {
        multi(2).block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"one\ntwo\nthree").await.unwrap();
            stdin.close().await.unwrap(); // EOF through futures-io
            assert_eq!(
                stdin.write(b"late").await.unwrap_err().kind(),
                ErrorKind::BrokenPipe
            );
            let stdout = child.stdout.take().unwrap();
            let lines: Vec<String> = futures::io::BufReader::new(stdout)
                .lines()
                .map(Result::unwrap)
                .collect()
                .await;
            assert_eq!(lines, ["one", "two", "three"]);
            assert!(child.wait().await.unwrap().success());

            // AsyncReadExt over a stderr pipe.
            let mut child = Command::new("sh")
                .args(["-c", "printf abc >&2"])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut s = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut s)
                .await
                .unwrap();
            assert_eq!(s, "abc");
            child.wait().await.unwrap();
        })
    });
}

#[test]
fn exit_is_watched_through_a_pidfd_on_linux() {
    within(20, || {
        current().block_on(async {
            let mut child = Command::new("sleep").arg("0.05").spawn().unwrap();
            assert_eq!(
                child.reaper.as_ref().unwrap().uses_pidfd(),
                cfg!(target_os = "linux")
            );
            assert!(child.wait().await.unwrap().success());
        })
    });
}

#[test]
fn polling_fallback_waits_and_kills() {
    within(20, || {
        multi(2).block_on(async {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", "sleep 0.1; exit 5"]).force_polling();
            let mut child = cmd.spawn().unwrap();
            assert!(!child.reaper.as_ref().unwrap().uses_pidfd());
            assert_eq!(child.wait().await.unwrap().code(), Some(5));

            let out = Command::new("echo")
                .arg("polled")
                .force_polling()
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"polled\n");

            let mut child = Command::new("sleep")
                .arg("30")
                .force_polling()
                .spawn()
                .unwrap();
            child.kill().await.unwrap();
            assert_eq!(child.try_wait().unwrap().unwrap().signal(), Some(9));
        })
    });
}

/// A dropped, unwaited child that exits later is reaped by the runtime: never a zombie.
fn dropped_child_is_reaped(force_polling: bool) {
    within(20, move || {
        multi(2).block_on(async move {
            let mut cmd = Command::new("sleep");
            cmd.arg("0.1");
            if force_polling {
                cmd.force_polling();
            }
            let child = cmd.spawn().unwrap();
            let pid = child.id().unwrap();
            drop(child);
            assert!(
                proc_state(pid).is_some(),
                "the child runs on after its Child is dropped"
            );
            // Keep the runtime alive (and its workers free) while checking /proc.
            let reaped = corio_blocking::to_thread(move || {
                // Exits after 100 ms; must not stay a zombie.
                state_becomes(pid, 10, |s| s.is_none()) || state_becomes(pid, 1, not_zombie)
            })
            .await;
            assert!(reaped, "pid {pid} left as a zombie: {:?}", proc_state(pid));
        })
    });
}

#[test]
fn dropped_child_is_reaped_pidfd() {
    dropped_child_is_reaped(false);
}

#[test]
fn dropped_child_is_reaped_polling() {
    dropped_child_is_reaped(true);
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    within(20, || {
        multi(2).block_on(async {
            let child = Command::new("sleep")
                .arg("30")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let pid = child.id().unwrap();
            drop(child);
            let gone =
                corio_blocking::to_thread(move || state_becomes(pid, 10, |s| s.is_none())).await;
            assert!(gone, "pid {pid} still there: {:?}", proc_state(pid));
        })
    });
}

#[test]
fn orphan_without_runtime_is_reaped_by_a_later_spawn() {
    within(30, || {
        let rt = current();
        let child = rt.block_on(async { Command::new("sleep").arg("0.1").spawn().unwrap() });
        drop(rt);
        let pid = child.id().unwrap();
        drop(child); // no runtime here: onto the orphan list
        assert!(reap::orphan_pids().contains(&pid));
        // It exits; nobody waits for it, so it becomes a zombie until someone reaps.
        assert!(
            state_becomes(pid, 10, |s| s == Some('Z')
                || !reap::orphan_pids().contains(&pid)),
            "sleep 0.1 did not exit"
        );
        current().block_on(async {
            assert!(Command::new("true").status().await.unwrap().success());
        });
        assert!(!reap::orphan_pids().contains(&pid));
        assert!(
            state_becomes(pid, 1, not_zombie),
            "pid {pid} left as a zombie"
        );
    });
}

#[test]
fn runtime_shutdown_hands_a_pending_reap_to_the_orphan_list() {
    within(30, || {
        let rt = multi(2);
        let pid = rt.block_on(async {
            let child = Command::new("sleep").arg("0.2").spawn().unwrap();
            let pid = child.id().unwrap();
            drop(child); // a detached task waits for it
            pid
        });
        drop(rt); // the task is dropped with the runtime
        assert!(reap::orphan_pids().contains(&pid));
        assert!(state_becomes(pid, 10, |s| s == Some('Z')
            || !reap::orphan_pids().contains(&pid)));
        reap::reap_orphans();
        assert!(
            state_becomes(pid, 1, not_zombie),
            "pid {pid} left as a zombie"
        );
    });
}

#[test]
fn output_is_lazy_and_names_itself_outside_a_runtime() {
    let mut cmd = Command::new("true");
    let fut = cmd.output(); // building it outside a runtime is fine
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(fut)
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("corio::process::Command::output"), "{msg}");
    assert!(msg.contains("process/tests.rs"), "{msg}");
}

#[test]
fn spawn_outside_a_runtime_panics_with_advice() {
    let err = std::panic::catch_unwind(|| Command::new("true").spawn()).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("corio::process::Command::spawn"), "{msg}");
}

/// Raises the soft limit on open files to at least `want` (up to the hard limit).
fn raise_fd_limit(want: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current.is_some_and(|c| c < want) {
        lim.current = Some(lim.maximum.map_or(want, |m| m.min(want)));
        setrlimit(Resource::Nofile, lim).unwrap();
    }
}

#[test]
fn a_thousand_children_at_once_on_two_workers() {
    const CHILDREN: usize = 1000;
    raise_fd_limit(4 * CHILDREN as u64 + 256);
    within(120, || {
        multi(2).block_on(async {
            let in_flight = Arc::new(AtomicUsize::new(0));
            let max_in_flight = Arc::new(AtomicUsize::new(0));
            let all_spawned = Arc::new(corio_sync::Event::new());
            let done = Arc::new(AtomicBool::new(false));
            let ticks_during = Arc::new(AtomicUsize::new(0));
            let spawn_ns = Arc::new(AtomicUsize::new(0));

            let ticker = {
                let (in_flight, done, ticks) =
                    (in_flight.clone(), done.clone(), ticks_during.clone());
                crate::spawn(async move {
                    let mut total = 0usize;
                    while !done.load(Ordering::SeqCst) {
                        crate::sleep(Duration::from_millis(2)).await;
                        total += 1;
                        if in_flight.load(Ordering::SeqCst) > 0 {
                            ticks.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    total
                })
            };

            let started = Instant::now();
            let tasks: Vec<_> = (0..CHILDREN)
                .map(|_| {
                    let (in_flight, max_in_flight, all_spawned, spawn_ns) = (
                        in_flight.clone(),
                        max_in_flight.clone(),
                        all_spawned.clone(),
                        spawn_ns.clone(),
                    );
                    crate::spawn(async move {
                        let t = Instant::now();
                        let mut child = Command::new("true")
                            .stdin(Stdio::null())
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .spawn()
                            .unwrap();
                        spawn_ns.fetch_add(t.elapsed().as_nanos() as usize, Ordering::SeqCst);
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        max_in_flight.fetch_max(now, Ordering::SeqCst);
                        if now == CHILDREN {
                            all_spawned.set();
                        }
                        // Every child stays unreaped until all of them exist.
                        all_spawned.wait().await;
                        let status = child.wait().await.unwrap();
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        status
                    })
                })
                .collect();
            let statuses = crate::gather(tasks).await;
            let took = started.elapsed();
            done.store(true, Ordering::SeqCst);
            let total_ticks = ticker.await.unwrap();

            assert_eq!(statuses.len(), CHILDREN);
            assert!(statuses.iter().all(|s| s.as_ref().unwrap().success()));
            assert_eq!(max_in_flight.load(Ordering::SeqCst), CHILDREN);
            let during = ticks_during.load(Ordering::SeqCst);
            assert!(
                during > 0,
                "the ticking task never ran while children were in flight"
            );
            eprintln!(
                "{CHILDREN} children in {took:?} ({:?} per spawn call); ticker: {during} \
                 ticks while children were in flight, {total_ticks} in all",
                Duration::from_nanos((spawn_ns.load(Ordering::SeqCst) / CHILDREN) as u64)
            );
        })
    });
}

#[test]
fn types_are_send_sync_unpin_and_futures_send() {
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn send<T: Send>(_: &T) {}
    send_sync_unpin::<Command>();
    send_sync_unpin::<Child>();
    send_sync_unpin::<ChildStdin>();
    send_sync_unpin::<ChildStdout>();
    send_sync_unpin::<ChildStderr>();
    let mut cmd = Command::new("true");
    send(&cmd.output());
    send(&cmd.status());
}

#[test]
fn a_child_outlives_the_runtime_that_spawned_it() {
    within(20, || {
        let rt = multi(1);
        let mut child = rt.block_on(async { Command::new("sleep").arg("0.1").spawn().unwrap() });
        drop(rt); // its pidfd's reactor is gone: the wait falls back to polling
        current().block_on(async {
            assert!(child.wait().await.unwrap().success());
        });
    });
}

#[test]
fn a_polling_wait_cut_short_resumes_on_another_runtime() {
    within(20, || {
        let rt = multi(1);
        let mut child = rt.block_on(async {
            let mut child = Command::new("sleep")
                .arg("0.2")
                .force_polling()
                .spawn()
                .unwrap();
            // Leaves a pending backoff timer of this runtime in the watch.
            let r = crate::wait_for(child.wait(), Duration::from_millis(30)).await;
            assert!(r.is_err());
            child
        });
        drop(rt);
        current().block_on(async {
            assert!(child.wait().await.unwrap().success());
        });
    });
}

#[test]
fn a_child_is_awaited_on_another_runtime_while_its_own_is_idle() {
    within(20, || {
        // A current-thread runtime only watches its reactor inside block_on: the wait on
        // the second runtime must not depend on it.
        let idle = current();
        let mut child = idle.block_on(async { Command::new("sleep").arg("0.1").spawn().unwrap() });
        multi(1).block_on(async {
            assert!(child.wait().await.unwrap().success());
        });
        drop(idle);
    });
}

#[test]
fn the_background_reaper_is_a_named_task() {
    within(20, || {
        multi(2).block_on(async {
            let child = Command::new("sleep").arg("0.3").spawn().unwrap();
            let pid = child.id().unwrap();
            drop(child);
            let name = format!("corio::process reaper of pid {pid}");
            assert!(crate::all_tasks()
                .iter()
                .any(|t| t.name() == Some(name.as_str())));
            // It ends once the child is reaped.
            let deadline = Instant::now() + Duration::from_secs(10);
            while crate::all_tasks()
                .iter()
                .any(|t| t.name() == Some(name.as_str()))
            {
                assert!(Instant::now() < deadline, "the reaper task never finished");
                crate::sleep(Duration::from_millis(10)).await;
            }
            assert!(not_zombie(proc_state(pid)));
        })
    });
}
