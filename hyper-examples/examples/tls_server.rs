//! HTTPS on corio: rustls (through futures-rustls, on corio's futures-io `TcpStream`)
//! terminates TLS and hyper serves HTTP/1.1 or HTTP/2 (chosen by ALPN) inside it.
//!
//! The certificate is self-signed for `localhost`, made at start-up with rcgen, and
//! written as PEM to the path in `CORIO_EXAMPLE_CERT` (default: `corio-example-cert.pem`
//! in the temp directory) so a client can trust it:
//! `curl --cacert PATH https://localhost:PORT/`.
//!
//! Serves on 127.0.0.1:0 (or the address in `CORIO_EXAMPLE_ADDR`) until interrupted, or
//! for `CORIO_EXAMPLE_SECONDS` seconds when that is set.
#[path = "../../examples/common/mod.rs"]
mod common;

use std::convert::Infallible;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use corio::hyper::{CorioExecutor, CorioIo, CorioTimer};
use corio::net::TcpListener;
use futures_rustls::rustls::ServerConfig;
use futures_rustls::TlsAcceptor;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::server::conn::auto;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("Hello over TLS! ({:?})", req.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// A self-signed certificate for `localhost` and its key; the certificate also as PEM.
fn make_certificate() -> Result<(ServerConfig, String), Box<dyn Error>> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let pem = certified.cert.pem();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    // rustls is built with only its `ring` provider, so that is the process default.
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((config, pem))
}

#[corio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (config, pem) = make_certificate()?;
    let cert_path = std::env::var_os("CORIO_EXAMPLE_CERT")
        .map(Into::into)
        .unwrap_or_else(|| std::env::temp_dir().join("corio-example-cert.pem"));
    std::fs::write(&cert_path, pem)?;
    println!(
        "certificate for localhost written to {}",
        cert_path.display()
    );

    let addr = std::env::var("CORIO_EXAMPLE_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("serving on {}", listener.local_addr()?);

    let acceptor = TlsAcceptor::from(Arc::new(config));
    let mut builder = auto::Builder::new(CorioExecutor::new());
    builder.http1().timer(CorioTimer::new());
    builder.http2().timer(CorioTimer::new());
    let builder = Arc::new(builder);
    let serve = async {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let builder = builder.clone();
            drop(corio::spawn(async move {
                // The handshake runs on the connection's own task, not the accept loop.
                let tls = match acceptor.accept(stream).await {
                    Ok(tls) => tls,
                    Err(e) => return eprintln!("TLS handshake with {peer}: {e}"),
                };
                let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                println!(
                    "TLS handshake with {peer} done (ALPN {})",
                    String::from_utf8_lossy(alpn.as_deref().unwrap_or(b"none"))
                );
                // A TLS stream is a futures-io stream: `CorioIo` adapts it for hyper.
                let io = CorioIo::new(tls);
                if let Err(e) = builder.serve_connection(io, service_fn(hello)).await {
                    eprintln!("connection from {peer}: {e}");
                }
            }));
        }
    };
    let serve_for = common::example_seconds().unwrap_or(Duration::MAX);
    let _ = corio::wait_for(serve, serve_for).await;
    println!("stopping after {:.1}s", serve_for.as_secs_f64());
    Ok(())
}
