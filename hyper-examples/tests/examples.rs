//! Runs the hyper, axum and TLS examples and talks to them over real sockets.
//!
//! The examples are built by `cargo test` / `cargo nextest run` before the tests run; each
//! test runs one binary from `target/<profile>/examples/` with a timeout (helpers:
//! `corio_test_util::examples`, shared with the facade's `tests/examples.rs`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use corio_test_util::examples::{assert_in_order, finish, spawn, spawn_server};

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
