//! Failures inside `gather` (asyncio's `return_exceptions=True`).
//!
//! Seed: 001 "gather() 异常处理": B fails, A and C still return. In Rust a failure is
//! usually an `Err` value, so gathering `Result`s already is `return_exceptions=True`;
//! a task that *panics* is caught too and shows up as `TaskError::Panicked`.

async fn risky(name: &'static str) -> Result<String, String> {
    if name == "B" {
        return Err("B failed!".to_string());
    }
    Ok(format!("{name} ok"))
}

async fn risky_panics(name: &'static str) -> String {
    if name == "B" {
        panic!("B failed!");
    }
    format!("{name} ok")
}

#[corio::main]
async fn main() {
    println!("-- errors as values --");
    for r in corio::gather([risky("A"), risky("B"), risky("C")]).await {
        match r {
            Ok(v) => println!("OK: {v}"),
            Err(e) => println!("Error: {e}"),
        }
    }

    println!("-- panics in tasks --");
    let tasks = ["A", "B", "C"].map(|name| corio::spawn(risky_panics(name)));
    for r in corio::gather(tasks).await {
        match r {
            Ok(v) => println!("OK: {v}"),
            Err(e) if e.is_panic() => {
                let payload = e.into_panic();
                let msg = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("<panic>");
                println!("Error: {msg}");
            }
            Err(e) => println!("Error: {e}"),
        }
    }

    println!("-- try_gather: the first error wins, the rest are dropped --");
    match corio::try_gather([risky("A"), risky("B"), risky("C")]).await {
        Ok(all) => println!("all ok: {all:?}"),
        Err(e) => println!("Error: {e}"),
    }
}
