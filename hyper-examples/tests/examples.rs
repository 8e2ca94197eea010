//! Runs the hyper, axum and TLS examples and talks to them over real sockets.
//!
//! The examples are built by `cargo test` / `cargo nextest run` before the tests run; each
//! test runs one binary from `target/<profile>/examples/` with a timeout. The helpers are
//! those of the facade's `tests/examples.rs`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn example_path(name: &str) -> PathBuf {
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
struct Running(Child, Option<std::thread::JoinHandle<String>>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn spawn(name: &str, envs: &[(&str, &str)]) -> Running {
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
fn spawn_server(name: &str, envs: &[(&str, &str)]) -> (Running, String) {
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
fn finish(mut running: Running, name: &str, limit: Duration) -> (String, Duration) {
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

/// Asserts that `needles` appear in `out`, in this order.
fn assert_in_order(out: &str, needles: &[&str]) {
    let mut rest = out;
    for needle in needles {
        match rest.find(needle) {
            Some(i) => rest = &rest[i + needle.len()..],
            None => panic!("expected {needle:?} (in order) in output:\n{out}"),
        }
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`, so the server
/// closes after answering); the whole response.
fn request(addr: &str, method: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn hyper_server_keep_alive_and_graceful_shutdown() {
    let (child, addr) = spawn_server("hyper_server", &[("CORIO_EXAMPLE_SECONDS", "3")]);
    // Two requests on one kept-alive connection, which then stays open (idle) until
    // the server shuts down.
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let expected = "Hello, World! (HTTP/1.1)";
    for _ in 0..2 {
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0; 1024];
        while !String::from_utf8_lossy(&got).ends_with(expected) {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got.starts_with(b"HTTP/1.1 200 OK"));
    }
    let (out, _) = finish(child, "hyper_server", Duration::from_secs(30));
    // Graceful shutdown closed the idle connection: EOF, not a reset or a hang.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert_in_order(
        &out,
        &[
            "serving on http://",
            "shutting down: 1 connection(s) open",
            "all connections closed",
        ],
    );
}

#[test]
fn hyper_client_http1_and_http2_against_hyper_server() {
    let (server, addr) = spawn_server("hyper_server", &[("CORIO_EXAMPLE_SECONDS", "6")]);
    let client = spawn("hyper_client", &[("CORIO_EXAMPLE_TARGET", &addr)]);
    let (out, _) = finish(client, "hyper_client", Duration::from_secs(30));
    assert_in_order(
        &out,
        &[
            "HTTP/1.1 GET / -> 200 OK: Hello, World! (HTTP/1.1)",
            "HTTP/1.1 GET /a -> 200 OK",
            "HTTP/1.1 GET /b -> 200 OK",
            "HTTP/2 100 concurrent requests on one connection: 100 succeeded; \
             last body: Hello, World! (HTTP/2.0)",
        ],
    );
    let (out, _) = finish(server, "hyper_server", Duration::from_secs(30));
    assert!(out.contains("all connections closed"), "{out}");
}

#[test]
fn axum_router_routes_and_json() {
    let (child, addr) = spawn_server("axum_router", &[("CORIO_EXAMPLE_SECONDS", "4")]);
    let resp = request(&addr, "GET", "/", "");
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(resp.ends_with("Hello from axum on corio!"), "{resp}");
    let resp = request(&addr, "POST", "/users", r#"{"name": "Ada"}"#);
    assert!(resp.starts_with("HTTP/1.1 201 Created"), "{resp}");
    assert!(resp.contains("content-type: application/json"), "{resp}");
    assert!(resp.ends_with(r#"{"id":1,"name":"Ada"}"#), "{resp}");
    let resp = request(&addr, "POST", "/users", r#"{"name": "Grace"}"#);
    assert!(resp.ends_with(r#"{"id":2,"name":"Grace"}"#), "{resp}");
    // axum's JSON extractor rejects a body without `name`; unknown paths are 404.
    let resp = request(&addr, "POST", "/users", r#"{"nom": "x"}"#);
    assert!(resp.starts_with("HTTP/1.1 422"), "{resp}");
    let resp = request(&addr, "GET", "/nowhere", "");
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    let (out, _) = finish(child, "axum_router", Duration::from_secs(30));
    assert!(out.contains("stopping after 4.0s"), "{out}");
}

#[test]
fn tls_server_handshake_verified_against_its_certificate() {
    use futures_rustls::rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use std::sync::Arc;

    let cert_path =
        std::env::temp_dir().join(format!("corio-tls-example-{}.pem", std::process::id()));
    let cert_env = cert_path.to_str().unwrap().to_string();
    let (child, addr) = spawn_server(
        "tls_server",
        &[
            ("CORIO_EXAMPLE_SECONDS", "4"),
            ("CORIO_EXAMPLE_CERT", &cert_env),
        ],
    );
    // The certificate was written before the "serving on" line.
    let cert = CertificateDer::from_pem_file(&cert_path).unwrap();
    let _ = std::fs::remove_file(&cert_path);
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let mut config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let sock = TcpStream::connect(&addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = StreamOwned::new(conn, sock);
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    // The server closes after answering; rustls may report the missing close_notify
    // as an error after the whole response has arrived.
    let _ = tls.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(resp.ends_with("Hello over TLS! (HTTP/1.1)"), "{resp}");
    let (out, _) = finish(child, "tls_server", Duration::from_secs(30));
    assert_in_order(
        &out,
        &[
            "certificate for localhost written to",
            "serving on",
            "TLS handshake with",
            "done (ALPN http/1.1)",
        ],
    );
}
