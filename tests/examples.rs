//! Runs every example and checks the key lines of its story.
//!
//! The examples are built by `cargo test` / `cargo nextest run` before the tests run; each
//! test runs one binary from `target/<profile>/examples/` with a timeout (helpers:
//! `corio_test_util::examples`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use corio_test_util::examples::{
    assert_in_order, elapsed_line, finish, run, spawn, spawn_server, Running,
};

#[test]
fn hello_world() {
    let (out, took) = run("hello_world", 30);
    assert_in_order(
        &out,
        &[
            "<future",
            "协程执行了",
            "Hello ...",
            "... World!",
            "Data fetched",
        ],
    );
    assert!(
        took >= Duration::from_secs(4),
        "two 2 s sleeps took {took:?}"
    );
}

#[test]
fn await_vs_tasks() {
    let (out, _) = run("await_vs_tasks", 60);
    assert_in_order(
        &out,
        &["-- await", "hello", "hello", "world", "world", "-- spawn"],
    );
    let spawn_part = out.split("-- spawn").nth(1).unwrap();
    // Concurrent: both start before either finishes. (Their timers fire in the same tick,
    // and on two workers either task may print its second line first.)
    let words: Vec<&str> = spawn_part
        .lines()
        .skip(1)
        .take(4)
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    let (mut starts, mut ends) = (words[..2].to_vec(), words[2..].to_vec());
    starts.sort();
    ends.sort();
    assert_eq!(
        (starts, ends),
        (vec!["hello", "world"], vec!["hello", "world"]),
        "{out}"
    );
    assert_in_order(
        &out,
        &[
            "协程开始执行",
            "结果为： 我是返回值",
            "协程执行完毕，最终结果： 我是返回值",
        ],
    );
    assert_in_order(
        &out,
        &[
            "main 协程执行",
            "start",
            "start",
            "end",
            "end",
            "返回值:2",
            "返回值:3",
        ],
    );
}

#[test]
fn named_tasks() {
    let (out, took) = run("named_tasks", 30);
    assert_in_order(
        &out,
        &[
            "Task 1 started",
            "Task 2 started",
            "Task 1 finished Data fetched",
            "Task 2 finished Data fetched",
        ],
    );
    assert!(out.contains("\"1\"") && out.contains("\"2\""), "{out}");
    assert!(
        took < Duration::from_secs(4),
        "tasks ran concurrently: {took:?}"
    );
}

#[test]
fn wait_timeout_cancel() {
    let (out, took) = run("wait_timeout_cancel", 30);
    assert_in_order(
        &out,
        &["Task A started", "Task B started", "Task C started"],
    );
    assert!(out.contains("Task A completed"));
    assert!(out.contains("Task C raised an exception: Task C failed"));
    assert!(out.contains("Task A done,result is Data fetched"));
    assert_in_order(
        &out,
        &["Task B is still pending", "Task B has been cancelled"],
    );
    assert!(!out.contains("Task B completed"));
    assert!(
        took < Duration::from_secs(5),
        "the 3 s timeout returned early: {took:?}"
    );
}

#[test]
fn gather() {
    let (out, _) = run("gather", 30);
    assert!(
        out.contains(r#"["fetched 1", "fetched 2", "fetched 3"]"#),
        "{out}"
    );
    assert!(out.contains(r#"["A done", "B done", "C done"]"#), "{out}");
    assert!(out.contains("[0, 1, 2]"), "{out}");
    let first = out.split("耗时: ").nth(1).unwrap();
    let secs: f64 = first[..first.find('s').unwrap()].parse().unwrap();
    assert!(secs < 2.0, "three 1 s tasks took {secs} s");
}

#[test]
fn gather_exceptions() {
    let (out, _) = run("gather_exceptions", 30);
    assert_in_order(&out, &["OK: A ok", "Error: B failed!", "OK: C ok"]);
    assert_in_order(
        &out,
        &["-- panics", "OK: A ok", "Error: B failed!", "OK: C ok"],
    );
    assert_in_order(&out, &["-- try_gather", "Error: B failed!"]);
}

#[test]
fn wait_for_timeout() {
    let (out, took) = run("wait_for_timeout", 30);
    assert_in_order(&out, &["Data fetched", "Timeout!", "操作超时!"]);
    assert!(
        took < Duration::from_secs(7),
        "timeouts cut the waits short: {took:?}"
    );
}

#[test]
fn background_tasks() {
    let (out, _) = run("background_tasks", 30);
    assert_in_order(&out, &["做其他事情...", "继续做其他事情...", "Job"]);
    assert!(out.contains("Job 1 complete") && out.contains("Job 2 complete"));
}

#[test]
fn queue_producer_consumer() {
    let (out, _) = run("queue_producer_consumer", 60);
    for i in 0..5 {
        assert!(out.contains(&format!("produced: {i}")), "{out}");
        assert!(out.contains(&format!("consumed: {i}")), "{out}");
    }
    assert!(out.contains("consumer cancelled: true"));
    for i in 0..6 {
        assert!(out.contains(&format!("生产: task_{i}")), "{out}");
        assert!(out.contains(&format!("消费: task_{i}")), "{out}");
    }
    assert!(out.contains("Consumer-1") && out.contains("Consumer-2"));
    assert!(out.trim_end().ends_with("all consumed"));
}

#[test]
fn semaphore_limit() {
    let (out, _) = run("semaphore_limit", 30);
    let part = out.split("-- 002").next().unwrap();
    assert_in_order(
        part,
        &["Worker 0 started", "Worker 1 started", "Worker 0 finished"],
    );
    // Never more than two inside at once.
    let mut inside = 0;
    for line in part.lines() {
        if line.ends_with("started") {
            inside += 1;
            assert!(inside <= 2, "three workers inside the semaphore:\n{part}");
        } else if line.ends_with("finished") {
            inside -= 1;
        }
    }
    assert_eq!(out.matches("响应内容").count(), 3);
    let took: Vec<f64> = out
        .lines()
        .filter_map(|l| l.strip_prefix("耗时: "))
        .map(|s| s.trim_end_matches('s').parse().unwrap())
        .collect();
    assert!(took[0] > 2.5 && took[0] < 4.5, "{took:?}");
    assert!(took[1] > 1.5 && took[1] < 3.0, "{took:?}");
}

#[test]
fn lock_serialize() {
    let (out, _) = run("lock_serialize", 30);
    assert_eq!(out.matches("响应内容").count(), 3);
    assert!(out.contains("[0, 1, 2]"));
    let secs = elapsed_line(&out, "耗时: ");
    assert!(
        (2.5..5.0).contains(&secs),
        "the lock serialized 3 × 1 s: {secs}"
    );
}

#[test]
fn event_waiters() {
    let (out, _) = run("event_waiters", 30);
    assert_eq!(out.matches("big waiter 收到任务事件").count(), 2, "{out}");
    assert_eq!(out.matches("small waiter 收到任务事件").count(), 2, "{out}");
    assert_eq!(out.matches("响应内容").count(), 3);
    assert_in_order(&out, &["响应内容", "收到任务事件"]);
}

#[test]
fn condition_notify() {
    let (out, _) = run("condition_notify", 30);
    for i in 0..3 {
        assert!(out.contains(&format!("waiter[{i}]等待完成")), "{out}");
    }
    // notify(2) wakes the two oldest waiters first; the third needs a second notify.
    assert_in_order(
        &out,
        &[
            "响应内容",
            "waiter[0]等待完成",
            "waiter[1]等待完成",
            "waiter[2]等待完成",
        ],
    );
    let secs = elapsed_line(&out, "耗时: ");
    assert!(secs < 2.5, "all three requests ran concurrently: {secs}");
}

#[test]
fn future_set_result() {
    let (out, took) = run("future_set_result", 30);
    assert_in_order(&out, &["would wait forever", "r: 10089"]);
    assert!(took >= Duration::from_secs(4), "{took:?}");
}

#[test]
fn to_thread() {
    let (out, _) = run("to_thread", 60);
    assert_in_order(
        &out,
        &[
            "Main started",
            "Blocking IO started",
            "Blocking IO finished",
            "Main finished",
        ],
    );
    let bad = elapsed_line(&out, "bad    (time.sleep):");
    let good = elapsed_line(&out, "good   (run_in_executor):");
    let better = elapsed_line(&out, "better (to_thread):");
    assert!(bad >= 3.9, "blocking sleeps serialize: {bad}");
    assert!(
        good < 3.0 && better < 3.0,
        "pools run them in parallel: {good} {better}"
    );
}

#[test]
fn executor_pools() {
    let (out, _) = run("executor_pools", 60);
    for i in 0..3 {
        assert!(out.contains(&format!("threading({i}): done")), "{out}");
        assert!(out.contains(&format!("cpu({i}): done")), "{out}");
    }
}

fn http_get(addr: &str, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        match TcpStream::connect(addr) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("connect {addr}: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // One write: the seed's protocol server parses each `data_received` chunk on its own
    // (as the asyncio original does), so a request split across segments is refused.
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn test_web_server() {
    let start = Instant::now();
    let (child, addr) = spawn_server("test_web_server", &[("CORIO_EXAMPLE_SECONDS", "4")]);
    let resp = http_get(&addr, "/");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains(r#"{"msg": "ok"}"#), "{resp}");
    assert!(start.elapsed() >= Duration::from_millis(900));
    let (out, _) = finish(child, "test_web_server", Duration::from_secs(20));
    assert!(out.contains(&format!("serving on http://{addr}")), "{out}");
}

#[test]
fn fetch_many() {
    let (out, _) = run("fetch_many", 90);
    assert!(out.contains("[0, 1, 2]"));
    assert!(out.contains("200 - /status/200") && out.contains("404 - /status/404"));
    assert!(out.contains("获取了 50 个响应"));
    let speedup = elapsed_line(&out, "加速比:");
    assert!(
        speedup > 2.0,
        "concurrent fetching is faster: {speedup}x\n{out}"
    );
}

#[test]
fn protocol_http_server() {
    let (child, addr) = spawn_server("protocol_http_server", &[("CORIO_EXAMPLE_SECONDS", "5")]);
    // A /block request is in flight while / answers at once.
    let blocker = {
        let addr = addr.clone();
        std::thread::spawn(move || http_get(&addr, "/block"))
    };
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let resp = http_get(&addr, "/");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "/ waited for /block"
    );
    assert!(resp.contains("<h1>hello world</h1>"), "{resp}");
    let (out, _) = finish(child, "protocol_http_server", Duration::from_secs(20));
    assert!(out.contains("GET /block") && out.contains("GET /"), "{out}");
    // The server stopped before /block's 10 s: that connection was closed unanswered.
    let _ = blocker.join();
}

#[test]
fn subprocess() {
    let (out, _) = run("subprocess", 60);
    assert_in_order(
        &out,
        &[
            "[\"ls /zzz\" exited with 2]",
            "[stderr]",
            "/zzz",
            "exited with 0]",
            "[stdout]\nhello",
            "ls:\na.txt\nb.txt\nc.txt\n",
            "ls exited with Some(0)",
            "tick 1",
            "tick 2",
            "tick 3",
            "the ticker exited with Some(4)",
            "sleep 30 was killed by signal Some(9)",
            "no-such-program-here: not found",
        ],
    );
    // The two shells ran at once: about 1 s, not 2 s.
    let both = elapsed_line(&out, "both took");
    assert!(
        both < 1.9,
        "the shells ran one after the other: {both}s\n{out}"
    );
    // Lines were printed as the child wrote them, not all at its exit.
    let at = |tick: &str| -> f64 {
        let line = out.lines().find(|l| l.ends_with(tick)).unwrap();
        line.split('s').next().unwrap().parse().unwrap()
    };
    assert!(at("tick 3") - at("tick 1") >= 0.5, "{out}");
}

#[test]
fn streams_echo() {
    let (out, _) = run("streams_echo", 30);
    assert_in_order(
        &out,
        &[
            "Serving on 127.0.0.1:",
            "Send: \"Hello World!\"",
            "Received \"Hello World!\" from 127.0.0.1:",
            "Received: \"Hello World!\"",
            "Server closed",
        ],
    );
}

#[test]
fn reuse_port() {
    let (out, _) = run("reuse_port", 60);
    let distinct: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("distinct server processes: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{out}"))
        .trim()
        .parse()
        .unwrap();
    assert!(
        distinct >= 2,
        "the kernel spread 64 connections over {distinct} process(es):\n{out}"
    );
    let served: usize = out
        .lines()
        .filter_map(|l| {
            l.strip_suffix(" connections")?
                .rsplit_once(": ")?
                .1
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert_eq!(served, 64, "{out}");
    assert!(out.contains("all server processes stopped"), "{out}");
}

/// The example's stdout, line by line, read on a helper thread (so a test can react to
/// each line while the process runs).
fn stdout_lines(running: &mut Running) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = running.0.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line containing `needle`, within `limit` (earlier lines are skipped).
fn expect_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line containing {needle:?} within {limit:?}: {e}"),
        }
    }
}

/// Waits for the process to exit (at most `limit`) and returns its status.
fn wait_exit(running: &mut Running, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = running.0.try_wait().expect("wait for example") {
            return status;
        }
        assert!(Instant::now() < deadline, "did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send_sigterm(running: &Running) {
    let status = Command::new("kill")
        .args(["-TERM", &running.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn graceful_server_finishes_a_slow_request_after_sigterm() {
    let mut child = spawn("graceful_server", &[]);
    let lines = stdout_lines(&mut child);
    let serving = expect_line(&lines, "serving on ", Duration::from_secs(20));
    let addr: std::net::SocketAddr = serving["serving on ".len()..].trim().parse().unwrap();

    // A slow request is in flight when SIGTERM arrives.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    expect_line(&lines, "GET /slow", Duration::from_secs(10));
    send_sigterm(&child);
    let stopping = expect_line(&lines, "SIGTERM received", Duration::from_secs(10));
    assert!(stopping.contains("1 open connection(s)"), "{stopping}");

    // New connections are refused from now on.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            Ok(accepted_before_close) => drop(accepted_before_close),
            // e.g. reset: the connection reached the backlog of the closing listener.
            Err(e) => eprintln!("connect while closing: {e}"),
        }
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }

    // The slow request still gets its whole answer.
    let mut response = String::new();
    slow.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.ends_with("\r\n\r\nslow response, sent after 1 s\n"),
        "{response}"
    );

    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{status}");
    expect_line(&lines, "all connections finished", Duration::from_secs(5));
}

#[test]
fn graceful_server_exits_after_the_deadline() {
    let mut child = spawn("graceful_server", &[("CORIO_GRACE_SECONDS", "0.5")]);
    let lines = stdout_lines(&mut child);
    let serving = expect_line(&lines, "serving on ", Duration::from_secs(20));
    let addr = serving["serving on ".len()..].trim().to_string();
    // An idle connection that never sends a request.
    let idle = TcpStream::connect(&addr).unwrap();
    expect_line(&lines, "connection from", Duration::from_secs(10));
    send_sigterm(&child);
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{status}");
    let line = expect_line(&lines, "deadline passed", Duration::from_secs(5));
    assert!(line.contains("dropping 1 open connection(s)"), "{line}");
    drop(idle);
}

#[test]
fn udp_echo() {
    let (out, _) = run("udp_echo", 30);
    assert_in_order(
        &out,
        &[
            "Starting UDP server",
            "Send: \"Hello World!\"",
            "Received \"Hello World!\" from 127.0.0.1:",
            "Send \"Hello World!\" to 127.0.0.1:",
            "Received: \"Hello World!\"",
            "Close the socket",
            "Connection closed",
            "client done",
        ],
    );
}

/// Like [`finish`], also returning what the example wrote to stderr.
fn finish_with_stderr(mut running: Running, name: &str, limit: Duration) -> (String, String) {
    fn collect(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    }
    let out = collect(running.0.stdout.take().unwrap());
    let err = collect(running.0.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = running.0.try_wait().expect("wait for example") {
            break status;
        }
        assert!(
            start.elapsed() < limit,
            "{name} did not finish within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(status.success(), "{name} failed: {status}\n{out}\n{err}");
    (out, err)
}

#[test]
fn slow_poll() {
    let (out, err) = finish_with_stderr(
        spawn("slow_poll", &[]),
        "slow_poll",
        Duration::from_secs(20),
    );
    let warnings: Vec<_> = err
        .lines()
        .filter(|l| l.starts_with("corio: Executing <Task id="))
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("name='blocks-its-worker' spawned at examples/slow_poll.rs:"),
        "{err}"
    );
    assert!(warnings[0].contains(" seconds on worker "), "{err}");
    assert!(
        out.contains("2 tasks spawned, 0 still running, 2 worker threads"),
        "{out}"
    );
    assert_in_order(&out, &["worker 0: ", " polls", "worker 1: ", " polls"]);
}

#[test]
fn debugging() {
    let (out, err) = finish_with_stderr(
        spawn("debugging", &[]),
        "debugging",
        Duration::from_secs(20),
    );
    // The blocking task is reported once, by name.
    let warnings: Vec<_> = err
        .lines()
        .filter(|l| l.starts_with("corio: Executing <Task id="))
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("name='blocks-its-worker'"), "{err}");
    // The dump: the deadlocked pair on their locks, the group's workers under their
    // supervisor, each waiting in a wait_for.
    assert!(
        out.contains("corio task dump: 5 live tasks on 2 workers"),
        "{out}"
    );
    assert_in_order(
        &out,
        &[
            "block_on future on thread 'main' · running",
            "'left'",
            "awaits Lock::lock at examples/debugging.rs:",
            "'right'",
            "awaits Lock::lock at examples/debugging.rs:",
            "'supervisor'",
            "awaits TaskGroup::join (2 left) at examples/debugging.rs:",
            "    ├── Task-",
            "awaits wait_for (",
            "↳ Queue::get at examples/debugging.rs:",
            "    └── Task-",
            "awaits wait_for (",
            "↳ Queue::get at examples/debugging.rs:",
            "possible deadlock: left awaits Lock::lock",
            "possible deadlock: right awaits Lock::lock",
        ],
    );
}
