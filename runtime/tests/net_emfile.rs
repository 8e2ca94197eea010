//! A listener survives running out of file descriptors: `accept` returns the error, and
//! accepting works again once descriptors are free.
//!
//! The real check runs in a child process with a small `RLIMIT_NOFILE` (set by the shell's
//! `ulimit`), so exhausting descriptors cannot disturb other tests.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn listener_survives_emfile() {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" --exact emfile_child --ignored --nocapture --test-threads=1")
        .arg(&exe)
        .output()
        .expect("run the child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "child did not run:\n{stdout}\n{stderr}");
    assert!(stdout.contains("EMFILE seen"), "child did not hit EMFILE:\n{stdout}");
}

#[test]
#[ignore = "run by listener_survives_emfile in a child process with a low fd limit"]
fn emfile_child() {
    corio_runtime::__doc_block_on(async {
        let listener = corio_runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        // Pending connections in the backlog (blocking std clients).
        let clients: Vec<_> = (0..2)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        // Exhaust descriptors.
        let mut hog = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => hog.push(f),
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(24), "expected EMFILE, got {e}");
                    break;
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let err = loop {
            match listener.accept().await {
                Err(e) => break e,
                Ok(_) => {
                    assert!(Instant::now() < deadline);
                    // Accepting used a descriptor we had not exhausted; keep hogging.
                }
            }
        };
        assert_eq!(err.raw_os_error(), Some(24), "{err}");
        println!("EMFILE seen: {err}");
        // Free descriptors: the same listener accepts again.
        hog.truncate(hog.len().saturating_sub(8));
        let (s, peer) = listener.accept().await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), peer);
        drop(clients);
    });
}
