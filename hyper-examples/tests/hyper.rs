//! hyper 1.x on corio: HTTP/1 and HTTP/2 round trips over corio's TCP and Unix streams,
//! 100 concurrent HTTP/2 streams on one connection, HTTP/1 and HTTP/2 timeouts driven by
//! `CorioTimer`, TLS through futures-rustls, and the futures-io adapter's checks.

use std::error::Error;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use corio::hyper::{CorioExecutor, CorioIo, CorioTimer, FuturesIo};
use corio::net::{TcpListener, TcpStream, UnixStream};
use corio_test_util::within;
use futures_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::{http1 as client1, http2 as client2};
use hyper::server::conn::{http1 as server1, http2 as server2};
use hyper::service::service_fn;
use hyper::{Request, Response};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

type BoxError = Box<dyn Error + Send + Sync>;

const LIMIT: Duration = Duration::from_secs(60);

/// Answers `"PATH via VERSION"`, or echoes a POST's body.
async fn service(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    if req.method() == hyper::Method::POST {
        let body = req.into_body().collect().await?.to_bytes();
        return Ok(Response::new(Full::new(body)));
    }
    let body = format!("{} via {:?}", req.uri().path(), req.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

async fn get(
    sender: &mut client1::SendRequest<Empty<Bytes>>,
    path: &str,
) -> Result<(u16, Bytes), BoxError> {
    sender.ready().await?;
    let req = Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    Ok((status, res.into_body().collect().await?.to_bytes()))
}

#[test]
fn http1_keep_alive_round_trips_over_tcp() {
    within(LIMIT, || {
        corio::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = corio::spawn(async move {
                // Exactly one connection: every request below must reuse it.
                let (stream, _) = listener.accept().await?;
                server1::Builder::new()
                    .timer(CorioTimer::new())
                    .serve_connection(CorioIo::new(stream), service_fn(service))
                    .await?;
                Ok::<_, BoxError>(())
            });
            let stream = TcpStream::connect(addr).await?;
            let (mut sender, conn) = client1::handshake(CorioIo::new(stream)).await?;
            let conn = corio::spawn(conn);
            for path in ["/", "/a", "/b/c"] {
                let (status, body) = get(&mut sender, path).await?;
                assert_eq!(status, 200);
                assert_eq!(body, format!("{path} via HTTP/1.1"));
            }
            drop(sender);
            conn.await??;
            server.await??;
            Ok::<_, BoxError>(())
        })
        .unwrap()
    });
}

#[test]
fn http1_large_bodies_over_unix_streams_both_read_paths() {
    // The client reads through corio's own path (straight into hyper's uninitialised
    // buffer), the server through `FuturesIo` (zero-filled): a 1 MiB echo crosses many
    // reads on both.
    within(LIMIT, || {
        corio::run(async {
            let (a, b) = UnixStream::pair()?;
            let server = corio::spawn(async move {
                server1::Builder::new()
                    .serve_connection(CorioIo::new(FuturesIo::new(b)), service_fn(service))
                    .await
            });
            let (mut sender, conn) = client1::handshake(CorioIo::new(a)).await?;
            let conn = corio::spawn(conn);
            let payload: Bytes = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
            let req = Request::post("/echo")
                .header("host", "localhost")
                .body(Full::new(payload.clone()))?;
            let res = sender.send_request(req).await?;
            assert_eq!(res.status(), 200);
            let body = res.into_body().collect().await?.to_bytes();
            assert!(body == payload, "echoed body differs");
            drop(sender);
            conn.await??;
            server.await??;
            Ok::<_, BoxError>(())
        })
        .unwrap()
    });
}

#[test]
fn http2_round_trip_and_100_concurrent_streams_on_one_connection() {
    const STREAMS: usize = 100;
    within(LIMIT, || {
        corio::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            // Every handler waits until all 100 requests are inside the server at once:
            // the test finishes only if the streams really run concurrently on the one
            // connection (hyper hands each to `CorioExecutor`).
            let barrier = Arc::new(corio::sync::Barrier::new(STREAMS));
            let server = corio::spawn(async move {
                let (stream, _) = listener.accept().await?;
                let svc = service_fn(move |req: Request<Incoming>| {
                    let barrier = barrier.clone();
                    async move {
                        if req.uri().path().starts_with("/wait/") {
                            barrier.wait().await;
                        }
                        service(req).await
                    }
                });
                server2::Builder::new(CorioExecutor::new())
                    .timer(CorioTimer::new())
                    .max_concurrent_streams(2 * STREAMS as u32)
                    .serve_connection(CorioIo::new(stream), svc)
                    .await?;
                Ok::<_, BoxError>(())
            });

            let stream = TcpStream::connect(addr).await?;
            let (mut sender, conn) = client2::Builder::new(CorioExecutor::new())
                .timer(CorioTimer::new())
                .handshake(CorioIo::new(stream))
                .await?;
            let conn = corio::spawn(conn);

            // One round trip first.
            let req = Request::get("/hello").body(Empty::<Bytes>::new())?;
            let res = sender.send_request(req).await?;
            assert_eq!(res.version(), hyper::Version::HTTP_2);
            let body = res.into_body().collect().await?.to_bytes();
            assert_eq!(body, "/hello via HTTP/2.0");

            let requests = (0..STREAMS).map(|i| {
                let mut sender = sender.clone();
                async move {
                    let req = Request::get(format!("/wait/{i}")).body(Empty::<Bytes>::new())?;
                    let res = sender.send_request(req).await?;
                    let body = res.into_body().collect().await?.to_bytes();
                    Ok::<_, BoxError>((i, body))
                }
            });
            for res in corio::gather(requests).await {
                let (i, body) = res?;
                assert_eq!(body, format!("/wait/{i} via HTTP/2.0"));
            }
            drop(sender);
            conn.await??;
            server.await??;
            Ok::<_, BoxError>(())
        })
        .unwrap()
    });
}

#[test]
fn header_read_timeout_fires_through_corio_timer() {
    within(LIMIT, || {
        corio::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let timeout = Duration::from_millis(300);
            let server = corio::spawn(async move {
                let (stream, _) = listener.accept().await?;
                let start = Instant::now();
                let res = server1::Builder::new()
                    .timer(CorioTimer::new())
                    .header_read_timeout(timeout)
                    .serve_connection(CorioIo::new(stream), service_fn(service))
                    .await;
                Ok::<_, std::io::Error>((res, start.elapsed()))
            });
            let mut client = TcpStream::connect(addr).await?;
            // Half a request head, then silence.
            client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await?;
            let (res, elapsed) = server.await??;
            let err = res.expect_err("the connection must fail with a timeout");
            assert!(err.is_timeout(), "not a timeout: {err:?}");
            assert!(elapsed >= timeout, "fired early: {elapsed:?}");
            // The server closed the connection: the client reads EOF (after at most an
            // error response).
            let mut rest = Vec::new();
            let mut buf = [0; 1024];
            loop {
                match client.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => rest.extend_from_slice(&buf[..n]),
                }
            }
            assert!(
                rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
                "{:?}",
                String::from_utf8_lossy(&rest)
            );
            Ok::<_, BoxError>(())
        })
        .unwrap()
    });
}

#[test]
fn http2_keep_alive_timeout_closes_a_silent_peer_through_corio_timer() {
    within(LIMIT, || {
        corio::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = corio::spawn(async move {
                let (stream, _) = listener.accept().await?;
                let start = Instant::now();
                let res = server2::Builder::new(CorioExecutor::new())
                    .timer(CorioTimer::new())
                    .keep_alive_interval(Duration::from_millis(100))
                    .keep_alive_timeout(Duration::from_millis(200))
                    .serve_connection(CorioIo::new(stream), service_fn(service))
                    .await;
                Ok::<_, std::io::Error>((res, start.elapsed()))
            });
            // An HTTP/2 peer that opens the connection (preface and an empty SETTINGS
            // frame), then never answers the server's keep-alive PINGs.
            let mut client = TcpStream::connect(addr).await?;
            client
                .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                .await?;
            client.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await?;
            let (res, elapsed) = server.await??;
            let err = res.expect_err("the silent peer must time out");
            assert!(err.is_timeout(), "not a timeout: {err:?}");
            // A PING after 100 ms idle, then 200 ms without its ACK.
            assert!(
                elapsed >= Duration::from_millis(300),
                "fired early: {elapsed:?}"
            );
            Ok::<_, BoxError>(())
        })
        .unwrap()
    });
}

#[test]
fn corio_timer_sleeps_and_resets() {
    use hyper::rt::Timer;
    within(LIMIT, || {
        corio::run(async {
            let timer = CorioTimer::new();
            let start = Instant::now();
            timer.sleep(Duration::from_millis(30)).await;
            assert!(start.elapsed() >= Duration::from_millis(30));

            // Resetting a corio sleep moves its deadline in place.
            let mut nap = timer.sleep(Duration::from_secs(3600));
            let deadline = Instant::now() + Duration::from_millis(20);
            timer.reset(&mut nap, deadline);
            nap.await;
            assert!(Instant::now() >= deadline);

            // Resetting a sleep from another timer replaces it with a corio one.
            let mut foreign: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Never);
            timer.reset(&mut foreign, Instant::now() + Duration::from_millis(5));
            foreign.await;
        })
    });
}

/// A `hyper::rt::Sleep` of another timer that never fires.
struct Never;

impl std::future::Future for Never {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl hyper::rt::Sleep for Never {}

/// A self-signed certificate for `localhost`: the server's config and the certificate.
fn tls_config() -> (ServerConfig, CertificateDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    (config, cert)
}

fn client_config(trusted: Option<CertificateDer<'static>>) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    if let Some(cert) = trusted {
        roots.add(cert).unwrap();
    }
    ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[test]
fn tls_handshake_and_request_through_futures_rustls() {
    within(LIMIT, || {
        corio::run(async {
            let (server_config, cert) = tls_config();
            let acceptor = TlsAcceptor::from(Arc::new(server_config));
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = corio::spawn(async move {
                // First an untrusting client (its handshake fails), then a trusting one.
                let (stream, _) = listener.accept().await?;
                assert!(acceptor.accept(stream).await.is_err());
                let (stream, _) = listener.accept().await?;
                let tls = acceptor.accept(stream).await?;
                server1::Builder::new()
                    .serve_connection(CorioIo::new(tls), service_fn(service))
                    .await?;
                Ok::<_, BoxError>(())
            });
            let name = ServerName::try_from("localhost")?;

            let untrusting = TlsConnector::from(Arc::new(client_config(None)));
            let err = untrusting
                .connect(name.clone(), TcpStream::connect(addr).await?)
                .await
                .expect_err("a certificate outside the root store must be refused");
            assert!(err.to_string().contains("UnknownIssuer"), "{err}");

            let connector = TlsConnector::from(Arc::new(client_config(Some(cert))));
            let tls = connector
                .connect(name, TcpStream::connect(addr).await?)
                .await?;
            let (mut sender, conn) = client1::handshake(CorioIo::new(tls)).await?;
            let conn = corio::spawn(conn);
            let (status, body) = get(&mut sender, "/secure").await?;
            assert_eq!(status, 200);
            assert_eq!(body, "/secure via HTTP/1.1");
            drop(sender);
            conn.await??;
            server.await??;
            Ok::<_, BoxError>(())
        })
        .unwrap()
    });
}

/// A reader that claims one byte more than the buffer it was given.
struct Overclaiming;

impl futures::io::AsyncRead for Overclaiming {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len() + 1))
    }
}

fn read_once<T: hyper::rt::Read + Unpin>(io: &mut T, capacity: usize) -> std::io::Result<Vec<u8>> {
    let mut storage = vec![MaybeUninit::uninit(); capacity];
    let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    match Pin::new(io).poll_read(&mut cx, buf.unfilled()) {
        Poll::Ready(Ok(())) => Ok(buf.filled().to_vec()),
        Poll::Ready(Err(e)) => Err(e),
        Poll::Pending => panic!("in-memory readers are always ready"),
    }
}

#[test]
fn futures_io_reads_fill_the_buffer_and_reject_overclaiming_readers() {
    let mut io = CorioIo::new(FuturesIo::new(futures::io::Cursor::new(b"abc".to_vec())));
    assert_eq!(read_once(&mut io, 2).unwrap(), b"ab");
    assert_eq!(read_once(&mut io, 8).unwrap(), b"c");
    assert_eq!(read_once(&mut io, 8).unwrap(), b""); // EOF

    let mut bad = CorioIo::new(FuturesIo::new(Overclaiming));
    let err = read_once(&mut bad, 8).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn corio_streams_read_straight_into_the_uninitialised_buffer() {
    within(LIMIT, || {
        corio::run(async {
            let (mut a, b) = UnixStream::pair()?;
            a.write_all(b"hello, hyper").await?;
            let mut io = CorioIo::new(b);
            let mut storage = vec![MaybeUninit::uninit(); 5];
            let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
            std::future::poll_fn(|cx| {
                hyper::rt::Read::poll_read(Pin::new(&mut io), cx, buf.unfilled())
            })
            .await?;
            assert_eq!(buf.filled(), b"hello");
            // The rest on the next read; then EOF once the writer is gone.
            let mut storage = vec![MaybeUninit::uninit(); 64];
            let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
            std::future::poll_fn(|cx| {
                hyper::rt::Read::poll_read(Pin::new(&mut io), cx, buf.unfilled())
            })
            .await?;
            assert_eq!(buf.filled(), b", hyper");
            drop(a);
            let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
            std::future::poll_fn(|cx| {
                hyper::rt::Read::poll_read(Pin::new(&mut io), cx, buf.unfilled())
            })
            .await?;
            assert!(buf.filled().is_empty());
            Ok::<_, BoxError>(())
        })
        .unwrap()
    });
}
