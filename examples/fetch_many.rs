//! Fetching many URLs: one after another vs concurrently, against the example's own local
//! web service (never the internet).
//!
//! Seeds: 001 "aiohttp" (fetch_all: status per URL), "asyncio.Semaphore" (50 URLs, at most
//! 10 at once), "实际案例" (sync vs async, prints 同步/异步/加速比); 002 test1 (sequential:
//! 3 s) vs test2/test4 (concurrent: 1 s).
#[path = "common/web.rs"]
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use corio::sync::Semaphore;

const URLS: usize = 20;

async fn fetch_all(addr: SocketAddr, paths: &[&str]) -> Vec<(String, u16)> {
    let fetches = paths.iter().map(|path| async move {
        let resp = web::get(addr, path).await.expect("request failed");
        (path.to_string(), resp.status)
    });
    corio::gather(fetches).await
}

async fn fetch_with_limit(addr: SocketAddr, path: String, sem: Arc<Semaphore>) -> String {
    let _permit = sem.acquire().await; // at most 10 requests at once
    web::get(addr, &path).await.expect("request failed").body
}

fn sync_fetch_all(addr: SocketAddr) {
    for n in 0..URLS {
        web::get_blocking(addr, &format!("/get?n={n}")).expect("request failed");
    }
}

async fn async_fetch_all(addr: SocketAddr) {
    let sem = Arc::new(Semaphore::new(10));
    corio::gather((0..URLS).map(|n| fetch_with_limit(addr, format!("/get?n={n}"), sem.clone())))
        .await;
}

fn main() {
    let rt = corio::Runtime::new().expect("build the runtime");
    let addr = rt.block_on(web::start()).expect("start the web service");

    rt.block_on(async {
        println!("-- 002 test1: one after another --");
        let start = Instant::now();
        for _ in 0..3 {
            println!("响应内容 {}", web::get(addr, "/").await.unwrap().body);
        }
        println!("耗时: {:.2}s", start.elapsed().as_secs_f64());

        println!("-- 002 test4: concurrently --");
        let start = Instant::now();
        let rets = corio::gather((0..3).map(|id| async move {
            println!("响应内容 {}", web::get(addr, "/").await.unwrap().body);
            id
        }))
        .await;
        println!("{rets:?}");
        println!("耗时: {:.2}s", start.elapsed().as_secs_f64());

        println!("-- 001 fetch_all --");
        for (url, status) in fetch_all(addr, &["/get", "/status/200", "/status/404"]).await {
            println!("{status} - {url}");
        }

        println!("-- 001 Semaphore(10) over 50 URLs --");
        let sem = Arc::new(Semaphore::new(10));
        let results = corio::gather(
            (0..50).map(|i| fetch_with_limit(addr, format!("/get?n={i}"), sem.clone())),
        )
        .await;
        println!("获取了 {} 个响应", results.len());
    });

    println!("-- 001 实际案例: sync vs async, {URLS} URLs --");
    // Sync: plain blocking std I/O from this thread, one request at a time.
    let t0 = Instant::now();
    sync_fetch_all(addr);
    let sync_time = t0.elapsed().as_secs_f64();
    println!("同步: {sync_time:.2}s");

    let t0 = Instant::now();
    rt.block_on(async_fetch_all(addr));
    let async_time = t0.elapsed().as_secs_f64();
    println!("异步: {async_time:.2}s");
    println!("加速比: {:.1}x", sync_time / async_time);
}
