//! Running a package's example binaries from its integration tests: find the binary
//! `cargo test` built, start it with a kill-on-drop guard, read the address a server example
//! prints, and collect its output under a deadline.
//!
//! ```no_run
//! use corio_test_util::examples::{assert_in_order, run};
//! let (out, _took) = run("hello_world", 30);
//! assert_in_order(&out, &["hello", "world"]);
//! ```

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of example `name` built for the running test binary's profile
/// (`target/<profile>/examples/<name>`); panics if it was not built.
pub fn example_path(name: &str) -> PathBuf {
    // target/<profile>/deps/examples-<hash> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile> directory");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "example binary {} not found: build the examples first (cargo test builds them)",
        path.display()
    );
    path
}

/// A running example; killed if the test fails before `finish` collects it, so a failed
/// server test does not leave a process holding its port for the next run.
#[derive(Debug)]
pub struct Running(pub Child, pub Option<std::thread::JoinHandle<String>>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts example `name` with `envs` set, its stdout and stderr piped.
pub fn spawn(name: &str, envs: &[(&str, &str)]) -> Running {
    let mut cmd = Command::new(example_path(name));
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    Running(cmd.spawn().expect("start example"), None)
}

/// Starts a server example on a port the OS picks (`CORIO_EXAMPLE_ADDR=127.0.0.1:0`, so
/// runs sharing the machine never collide) and returns it with the address from its
/// "serving on [http://]ADDR" line. The rest of its output is collected in the
/// background and returned, after that line, by [`finish`].
pub fn spawn_server(name: &str, envs: &[(&str, &str)]) -> (Running, String) {
    use std::io::BufRead;
    let mut envs = envs.to_vec();
    envs.push(("CORIO_EXAMPLE_ADDR", "127.0.0.1:0"));
    let mut running = spawn(name, &envs);
    let mut stdout = std::io::BufReader::new(running.0.stdout.take().unwrap());
    let mut head = String::new();
    let addr = loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).expect("read example output");
        assert!(n > 0, "{name} exited before printing its address:\n{head}");
        head.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("serving on ") {
            break rest.trim_start_matches("http://").to_string();
        }
    };
    running.1 = Some(std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        head + &rest
    }));
    (running, addr)
}

/// Waits for the child at most `limit`; kills it and fails if it runs longer.
pub fn finish(mut running: Running, name: &str, limit: Duration) -> (String, Duration) {
    let child = &mut running.0;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for example") {
            let out = match running.1.take() {
                Some(collector) => collector.join().expect("collect example output"),
                None => {
                    let mut out = String::new();
                    child
                        .stdout
                        .take()
                        .unwrap()
                        .read_to_string(&mut out)
                        .unwrap();
                    out
                }
            };
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            assert!(status.success(), "{name} failed: {status}\n{out}\n{err}");
            return (out, start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{name} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs example `name` to completion (at most `limit_secs`): its stdout and run time.
pub fn run(name: &str, limit_secs: u64) -> (String, Duration) {
    finish(spawn(name, &[]), name, Duration::from_secs(limit_secs))
}

/// Asserts that `needles` appear in `out`, in this order.
pub fn assert_in_order(out: &str, needles: &[&str]) {
    let mut rest = out;
    for needle in needles {
        match rest.find(needle) {
            Some(i) => rest = &rest[i + needle.len()..],
            None => panic!("expected {needle:?} (in order) in output:\n{out}"),
        }
    }
}

/// The number on the first line of `out` starting with `prefix` (a trailing `s` or `x`
/// unit is ignored), e.g. `took 1.02s`.
pub fn elapsed_line(out: &str, prefix: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{out}"));
    line[prefix.len()..]
        .trim()
        .trim_end_matches(['s', 'x'])
        .parse()
        .unwrap_or_else(|_| panic!("bad number in {line:?}"))
}
