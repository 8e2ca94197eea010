//! The seeds' local test web service (002 `web.py`): `/` and `/random` each answer after
//! 1 s, with `{"msg": "ok"}` and `{"msg": <random>}`.
//!
//! Serves on 127.0.0.1:8000 (or the address in `CORIO_EXAMPLE_ADDR`) until interrupted,
//! or for `CORIO_EXAMPLE_SECONDS` seconds when that is set.
#[path = "common/mod.rs"]
mod common;
#[path = "common/web.rs"]
mod web;

use corio::net::TcpListener;

#[corio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("CORIO_EXAMPLE_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("serving on http://{}", listener.local_addr()?);
    match common::example_seconds() {
        Some(limit) => {
            let _ = corio::wait_for(web::serve(listener), limit).await;
            println!("stopping after {:.1}s", limit.as_secs_f64());
        }
        None => web::serve(listener).await,
    }
    Ok(())
}
