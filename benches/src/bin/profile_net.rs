//! Fixed-size runs for counting instructions and system calls (`valgrind --tool=callgrind`,
//! `strace -c -f`), which repeat exactly where timings on a shared machine do not.
//!
//! ```text
//! profile_net http-load <port> <conns> <requests per conn>   # client for a `report --http-server`
//! profile_net echo <corio|tokio|smol> <rounds> <iterations>  # 50 connections × rounds × 64 B
//! profile_net line-echo <corio|tokio|async-std> <iterations>  # streams_line_echo_50x200x64B
//! ```
//!
//! Run each twice with different sizes and subtract: start-up and connection set-up cancel,
//! what remains is the cost per request or per round trip.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> usize {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("argument {i} must be a number"))
    };
    match args.first().map(String::as_str) {
        Some("http-load") => {
            let n = corio_benches::http::load(num(1) as u16, num(2), num(3)).expect("load");
            println!("{n} requests");
        }
        Some("line-echo") => {
            let rt = args.get(1).expect("runtime");
            let mut w = corio_benches::streams::workloads()
                .into_iter()
                .next()
                .expect("the line echo workload");
            let v = w
                .variants
                .iter_mut()
                .find(|v| v.runtime == rt)
                .expect("unknown runtime");
            let before = corio_benches::runtimes::corio().handle().metrics();
            let took = (v.run)(num(2) as u64);
            println!("{} on {rt}: {took:?}", w.name);
            if rt == "corio" {
                let after = corio_benches::runtimes::corio().handle().metrics();
                for (i, (a, b)) in after.per_worker.iter().zip(&before.per_worker).enumerate() {
                    println!(
                        "  worker {i}: polls {} parks {} steals {}",
                        a.polls - b.polls,
                        a.parks - b.parks,
                        a.steals - b.steals
                    );
                }
            }
        }
        Some("echo") => {
            let rt = args.get(1).expect("runtime");
            let name = format!("tcp_echo_50x{}x64B", num(2));
            let mut w = corio_benches::net::workloads()
                .into_iter()
                .find(|w| w.name == name)
                .unwrap_or_else(|| panic!("no workload {name}"));
            let v = w
                .variants
                .iter_mut()
                .find(|v| v.runtime == rt)
                .expect("unknown runtime");
            let took = (v.run)(num(3) as u64);
            println!("{name} on {rt}: {took:?}");
        }
        _ => panic!(
            "usage: profile_net http-load <port> <conns> <reqs> | echo <rt> <rounds> <iters> \
             | line-echo <rt> <iters>"
        ),
    }
}
