//! `corio::process` through the facade: asyncio's subprocess calls in corio's spelling.

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use corio::process::{Command, Stdio};

#[corio::test]
async fn create_subprocess_shell_and_communicate() {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("read x; echo got $x; echo warn >&2; exit 1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"42\n")
        .await
        .unwrap();
    let out = corio::wait_for(child.wait_with_output(), Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.stdout, b"got 42\n");
    assert_eq!(out.stderr, b"warn\n");
    assert_eq!(out.status.code(), Some(1));
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_program_and_killed_child() {
    let err = Command::new("corio-definitely-missing")
        .spawn()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    corio::wait_for(child.kill(), Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    let status = child.try_wait().unwrap().expect("killed and reaped");
    assert_eq!(status.signal(), Some(9));
}

#[test]
fn output_future_runs_under_corio_run() {
    let mut cmd = Command::new("echo");
    cmd.arg("lazy");
    let fut = cmd.output(); // built outside any runtime
    let out = corio::run(fut).unwrap();
    assert_eq!(out.stdout, b"lazy\n");
}
