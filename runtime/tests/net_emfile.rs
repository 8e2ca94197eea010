//! Running out of file descriptors: `accept` returns the error and the listener stays
//! usable; `create_server`'s accept loop backs off and serves again once descriptors are
//! free.
//!
//! The real checks run in a child process with a small `RLIMIT_NOFILE` (set by the
//! shell's `ulimit`), so exhausting descriptors cannot disturb other tests.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corio_runtime::net::{create_server, Protocol, TcpListener, Transport};

const EMFILE: i32 = rustix::io::Errno::MFILE.raw_os_error();

fn run_child(name: &str) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 96 && exec \"$0\" --exact {name} --ignored --nocapture --test-threads=1"
        ))
        .arg(&exe)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the child test");
    // Never hang: the child gets 60 s.
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child test {name} timed out");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "child did not run:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("EMFILE seen"),
        "child did not hit EMFILE:\n{stdout}"
    );
}

/// Opens `/dev/null` until the process is out of descriptors.
fn exhaust_fds() -> Vec<std::fs::File> {
    let mut hog = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(EMFILE), "expected EMFILE, got {e}");
                return hog;
            }
        }
    }
}

#[test]
fn listener_survives_emfile() {
    run_child("listener_emfile_child");
}

#[test]
fn create_server_survives_emfile() {
    run_child("server_emfile_child");
}

#[test]
#[ignore = "run by listener_survives_emfile in a child process with a low fd limit"]
fn listener_emfile_child() {
    corio_runtime::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..2)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let mut hog = exhaust_fds();
        let err = listener.accept().await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(EMFILE), "{err}");
        println!("EMFILE seen: {err}");
        // Free descriptors: the same listener accepts again.
        hog.truncate(hog.len().saturating_sub(8));
        let (s, peer) = listener.accept().await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), peer);
        drop(clients);
    });
}

#[test]
#[ignore = "run by create_server_survives_emfile in a child process with a low fd limit"]
fn server_emfile_child() {
    struct Echo;
    impl Protocol for Echo {
        fn data_received(&mut self, data: &[u8], t: &Transport) {
            t.write(data);
        }
    }
    corio_runtime::run(async {
        let server = create_server(|| Echo, "127.0.0.1:0").await.unwrap();
        let addr = server.local_addr();
        let mut hog = exhaust_fds();
        // Free exactly one descriptor for a client socket; the server has none left.
        hog.pop();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        // The accept loop now fails with EMFILE and backs off; confirm that state.
        assert_eq!(
            std::fs::File::open("/dev/null").unwrap_err().raw_os_error(),
            Some(EMFILE)
        );
        println!("EMFILE seen: the server cannot accept");
        corio_runtime::sleep(Duration::from_millis(150)).await;
        // Free descriptors: the server must pick the pending connection up by itself.
        let t = Instant::now();
        hog.truncate(hog.len().saturating_sub(8));
        let echoed = corio_runtime::spawn(async move { corio_blocking_free_echo(&mut client) })
            .await
            .unwrap();
        assert_eq!(echoed, b"still serving");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        server.close();
    });
}

/// A blocking client round trip (small; runs on a worker, which is fine in a test).
fn corio_blocking_free_echo(client: &mut std::net::TcpStream) -> Vec<u8> {
    client.write_all(b"still serving").unwrap();
    let mut buf = [0; 13];
    client.read_exact(&mut buf).unwrap();
    buf.to_vec()
}
