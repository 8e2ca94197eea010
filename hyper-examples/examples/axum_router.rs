//! An axum `Router` served on corio: axum builds the service (routing, JSON extraction and
//! responses), hyper serves each connection on a corio task, and hyper-util's
//! `TowerToHyperService` joins the two. axum is built without its `tokio` feature, so
//! `axum::serve` is not used: the accept loop below replaces it.
//!
//! Routes: `GET /` answers a greeting; `POST /users` takes `{"name": ...}` and answers
//! `201 Created` with `{"id": N, "name": ...}`.
//!
//! Serves on 127.0.0.1:0 (or the address in `CORIO_EXAMPLE_ADDR`) until interrupted, or
//! for `CORIO_EXAMPLE_SECONDS` seconds when that is set.
#[path = "../../examples/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use corio::hyper::{CorioExecutor, CorioIo, CorioTimer};
use corio::net::TcpListener;
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct NewUser {
    name: String,
}

#[derive(Serialize)]
struct User {
    id: u64,
    name: String,
}

async fn root() -> &'static str {
    "Hello from axum on corio!"
}

async fn create_user(
    State(next_id): State<Arc<AtomicU64>>,
    Json(new): Json<NewUser>,
) -> (StatusCode, Json<User>) {
    let id = next_id.fetch_add(1, Ordering::Relaxed);
    (StatusCode::CREATED, Json(User { id, name: new.name }))
}

fn app() -> Router {
    Router::new()
        .route("/", get(root))
        .route("/users", post(create_user))
        .with_state(Arc::new(AtomicU64::new(1)))
}

#[corio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("CORIO_EXAMPLE_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("serving on http://{}", listener.local_addr()?);

    let app = app();
    let mut builder = auto::Builder::new(CorioExecutor::new());
    builder.http1().timer(CorioTimer::new());
    builder.http2().timer(CorioTimer::new());
    let serve = async {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            // A `Router` is a tower `Service`; hyper wants its own `Service` trait.
            let service = TowerToHyperService::new(app.clone());
            let conn = builder
                .serve_connection(CorioIo::new(stream), service)
                .into_owned();
            drop(corio::spawn(async move {
                if let Err(e) = conn.await {
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
