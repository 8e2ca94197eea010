//! hyper, axum and rustls on corio, as runnable examples (this package's `examples/`) and
//! the tests that run them (`tests/`). Nothing to import: the library is empty.
//!
//! - `hyper_server`: HTTP/1.1 keep-alive and HTTP/2 hello world, graceful shutdown;
//! - `hyper_client`: HTTP/1.1 and 100 concurrent HTTP/2 requests against a server;
//! - `axum_router`: an axum `Router` (two routes, a JSON body) served by hyper on corio;
//! - `tls_server`: HTTPS through futures-rustls, with a certificate made at start-up.
//!
//! Run one with `cargo run -p corio-hyper-examples --example hyper_server`; test them
//! all with `cargo nextest run -p corio-hyper-examples`.
