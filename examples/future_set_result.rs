//! asyncio's `loop.create_future()` / `fut.set_result(v)` is corio's `oneshot` channel.
//!
//! Seed: 004 "Future对象": a future nobody completes waits forever (here: bounded by a
//! timeout so the example ends); a future completed by another task after 3 s yields
//! its value.
use std::time::Duration;

use corio::sync::oneshot;

async fn done(fu: oneshot::Sender<&'static str>) {
    corio::sleep(Duration::from_secs(3)).await;
    let _ = fu.send("10089"); // fut.set_result("10089")
}

#[corio::main]
async fn main() {
    // A future with no result "waits forever"; we give up after 1 s to end the example.
    let (_never_set, fu) = oneshot::channel::<&'static str>();
    match corio::wait_for(fu, Duration::from_secs(1)).await {
        Ok(r) => println!("r: {r:?}"),
        Err(_) => println!("no result yet: awaiting this future would wait forever"),
    }

    // Another task sets the result; main awaits it.
    let (tx, fu) = oneshot::channel();
    let _setter = corio::spawn(done(tx)); // runs on its own; we await the future, not the task
    let r = fu.await.expect("the sender was dropped");
    println!("r: {r}");
}
