//! Runs every workload on corio, tokio, smol and async-std in interleaved rounds and prints a
//! markdown table of medians and ratios; also bytes per pending task (a child process per
//! runtime) and HTTP hello-world under `wrk` (a server child process per runtime).
//!
//! ```text
//! cargo run --release -p corio-benches --bin report                 # full
//! cargo run --release -p corio-benches --bin report -- --quick      # quick
//! cargo run --release -p corio-benches --bin report -- --only sync  # one area
//! ```
//!
//! `--only` takes an area (`runtime`, `sync`, `blocking`, `time`, `net`), one workload
//! (`blocking/to_thread_500x10ms`), `memory` or `http`; `--runtime corio` keeps only that
//! runtime's variants (for profiling one runtime under `perf` or `valgrind`), and
//! `--runtime corio,smol` only those (to see how two runtimes interleave);
//! `--http-rounds N` sets the number of wrk rounds per runtime (default 3). Each round runs every workload on every runtime, rotating which runtime goes
//! first, so drift and noise from other processes hit all runtimes alike; the table shows
//! the median over rounds of the mean time per iteration.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corio_benches::stats::{self, Row};
use corio_benches::{all_workloads, Workload};

const PENDING_TASKS: usize = 200_000;

struct Config {
    rounds: usize,
    target: Duration,
    wrk_seconds: u32,
    http_rounds: usize,
    only: Option<String>,
    /// `--runtime a,b`: only these runtimes' variants and HTTP servers.
    runtimes: Option<Vec<String>>,
    /// `--raw`: also print one `raw` line per median, for scripts.
    raw: bool,
}

fn main() {
    corio_benches::blocking::cold_child_main();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--child-mem") => return child_mem(&args[1]),
        Some("--http-server") => return corio_benches::http::serve(&args[1]),
        _ => {}
    }
    // async-std reads its thread count once, on first use: set it before any thread exists.
    corio_benches::runtimes::async_std();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let runtime = args
        .iter()
        .position(|a| a == "--runtime")
        .and_then(|i| args.get(i + 1).cloned());
    let http_rounds = args
        .iter()
        .position(|a| a == "--http-rounds")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--http-rounds takes a number"));
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--rounds takes a number"));
    let raw = args.iter().any(|a| a == "--raw");
    let cfg = Config {
        rounds: rounds.unwrap_or(if quick { 7 } else { 25 }),
        target: Duration::from_millis(if quick { 50 } else { 250 }),
        wrk_seconds: if quick { 3 } else { 5 },
        http_rounds: http_rounds.unwrap_or(if quick { 1 } else { 3 }),
        only,
        runtimes: runtime
            .as_deref()
            .map(|r| r.split(',').map(String::from).collect()),
        raw,
    };

    let started = Instant::now();
    println!(
        "corio benchmark report: {} rounds, {} worker threads per runtime, {} CPUs\n",
        cfg.rounds,
        corio_benches::WORKERS,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut workloads: Vec<Workload> = all_workloads()
        .into_iter()
        .filter(|w| {
            cfg.only
                .as_deref()
                .is_none_or(|o| o == w.group || o == format!("{}/{}", w.group, w.name))
        })
        .collect();
    if let Some(keep) = &cfg.runtimes {
        // For profiling one runtime's variant on its own (no table ratios then), or a few.
        for w in &mut workloads {
            w.variants.retain(|v| keep.iter().any(|k| k == v.runtime));
        }
    }
    if !workloads.is_empty() {
        println!("Median time per iteration (± half the interquartile range); ratios below 1.00 mean corio is faster.\n");
        let rows = measure(&mut workloads, &cfg);
        print!("{}", stats::table(&rows));
        if cfg.raw {
            for r in &rows {
                for (rt, median, _) in &r.medians {
                    println!("raw {}/{} {rt} {}", r.group, r.name, median.as_nanos());
                }
            }
        }
    }

    if cfg.only.is_none() || cfg.only.as_deref() == Some("memory") {
        println!("\n### Bytes per pending task ({PENDING_TASKS} tasks awaiting `pending()`)\n");
        println!("| runtime | bytes/task |\n|---|---|");
        for rt in ["corio", "tokio", "smol", "async-std"] {
            match run_child_mem(rt) {
                Ok(b) => println!("| {rt} | {b:.0} |"),
                Err(e) => println!("| {rt} | error: {e} |"),
            }
        }
    }
    if cfg.only.is_none() || cfg.only.as_deref() == Some("http") {
        http_section(&cfg);
    }
    println!("\n(report took {:.0} s)", started.elapsed().as_secs_f64());
}

fn measure(workloads: &mut [Workload], cfg: &Config) -> Vec<Row> {
    // Calibrate iterations per sample so each sample takes about `target`.
    let mut iters: Vec<Vec<u64>> = Vec::new();
    for w in workloads.iter_mut() {
        let mut per_variant = Vec::new();
        for v in &mut w.variants {
            let once = (v.run)(1).max(Duration::from_micros(1));
            let n = (cfg.target.as_secs_f64() / once.as_secs_f64()).clamp(1.0, 10_000.0);
            per_variant.push(n as u64);
        }
        iters.push(per_variant);
    }
    // Interleaved rounds: corio, tokio, smol, async-std, corio, … so drift hits all alike.
    let mut samples: Vec<Vec<Vec<Duration>>> = workloads
        .iter()
        .map(|w| vec![Vec::new(); w.variants.len()])
        .collect();
    for round in 0..cfg.rounds {
        eprintln!("round {}/{}", round + 1, cfg.rounds);
        for (wi, w) in workloads.iter_mut().enumerate() {
            let len = w.variants.len();
            for k in 0..len {
                let vi = (round + k) % len;
                let n = iters[wi][vi];
                let total = (w.variants[vi].run)(n);
                samples[wi][vi].push(total / n as u32);
            }
        }
    }
    workloads
        .iter()
        .zip(samples)
        .map(|(w, s)| Row {
            group: w.group,
            name: w.name,
            medians: w
                .variants
                .iter()
                .zip(s)
                .map(|(v, xs)| {
                    let (median, spread) = stats::median_spread(&xs);
                    (v.runtime, median, spread)
                })
                .collect(),
        })
        .collect()
}

/// Resident set size of this process in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn child_mem(rt: &str) {
    use std::future::pending;
    let settle = Duration::from_millis(500);
    let per_task = match rt {
        "corio" => {
            let rt = corio_benches::runtimes::new_corio();
            rt.block_on(async {});
            let before = rss();
            for _ in 0..PENDING_TASKS {
                drop(rt.spawn(pending::<()>()));
            }
            std::thread::sleep(settle);
            (rss() as f64 - before as f64) / PENDING_TASKS as f64
        }
        "tokio" => {
            let rt = corio_benches::runtimes::new_tokio();
            rt.block_on(async {});
            let before = rss();
            for _ in 0..PENDING_TASKS {
                drop(rt.spawn(pending::<()>()));
            }
            std::thread::sleep(settle);
            (rss() as f64 - before as f64) / PENDING_TASKS as f64
        }
        "smol" => {
            let ex = corio_benches::runtimes::smol();
            smol::block_on(ex.spawn(async {}));
            let before = rss();
            for _ in 0..PENDING_TASKS {
                ex.spawn(pending::<()>()).detach();
            }
            std::thread::sleep(settle);
            (rss() as f64 - before as f64) / PENDING_TASKS as f64
        }
        "async-std" => {
            corio_benches::runtimes::async_std();
            let before = rss();
            for _ in 0..PENDING_TASKS {
                drop(async_std::task::spawn(pending::<()>()));
            }
            std::thread::sleep(settle);
            (rss() as f64 - before as f64) / PENDING_TASKS as f64
        }
        other => panic!("unknown runtime {other}"),
    };
    println!("{per_task}");
    // Skip the shutdown of 200 000 tasks: only the number matters.
    std::process::exit(0);
}

fn run_child_mem(rt: &str) -> Result<f64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args(["--child-mem", rt])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("{e}"))
}

fn http_section(cfg: &Config) {
    println!(
        "\n### HTTP hello-world under `wrk -t1 -c64 -d{}s` (loopback), {} round(s)\n",
        cfg.wrk_seconds, cfg.http_rounds
    );
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk is not installed: run benches/report.sh, which installs it.");
        return;
    }
    // Pairs compared round by round: (raw corio, raw tokio) and (corio+hyper, tokio+hyper).
    let all = ["corio", "tokio", "corio+hyper", "tokio+hyper"];
    let runtimes: Vec<&str> = all
        .into_iter()
        .filter(|rt| {
            cfg.runtimes
                .as_ref()
                .is_none_or(|k| k.iter().any(|k| k == rt))
        })
        .collect();
    let mut results: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); runtimes.len()];
    for round in 0..cfg.http_rounds {
        eprintln!("http round {}/{}", round + 1, cfg.http_rounds);
        for k in 0..runtimes.len() {
            let i = (round + k) % runtimes.len();
            match http_run(runtimes[i], cfg.wrk_seconds) {
                Ok(r) => results[i].push(r),
                Err(e) => println!("{}: error: {e}", runtimes[i]),
            }
        }
    }
    println!(
        "| runtime | requests/s (median) | min–max | server CPU µs/request (median) | of which user |"
    );
    println!("|---|---|---|---|---|");
    let mut raw_http = Vec::new();
    for (rt, rs) in runtimes.iter().zip(&results) {
        if rs.is_empty() {
            continue;
        }
        let med = |f: fn(&(f64, f64, f64)) -> f64| {
            let mut xs: Vec<f64> = rs.iter().map(f).collect();
            xs.sort_by(f64::total_cmp);
            (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
        };
        let (rps, lo, hi) = med(|r| r.0);
        let (cpu, _, _) = med(|r| r.1);
        let (user, _, _) = med(|r| r.2);
        println!("| {rt} | {rps:.0} | {lo:.0}–{hi:.0} | {cpu:.2} | {user:.2} |");
        if cfg.raw {
            raw_http.push(format!(
                "raw http/{rt} rps {rps:.0}\nraw http/{rt} cpu {cpu:.4}"
            ));
        }
    }
    for line in raw_http {
        println!("{line}");
    }
    // Host noise moves both runtimes together within a round (they run back to back), so
    // the per-round ratio is steadier than the ratio of the medians.
    let pairs: &[(usize, usize)] = if runtimes.len() == all.len() {
        &[(0, 1), (2, 3)]
    } else {
        &[]
    };
    for &(a, b) in pairs {
        let n = results[a].len().min(results[b].len());
        if n != cfg.http_rounds || n == 0 {
            continue;
        }
        let ratios = |f: fn(&(f64, f64, f64)) -> f64| {
            let mut xs: Vec<f64> = (0..n)
                .map(|k| f(&results[a][k]) / f(&results[b][k]))
                .collect();
            xs.sort_by(f64::total_cmp);
            (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
        };
        let (rps, rlo, rhi) = ratios(|r| r.0);
        let (cpu, clo, chi) = ratios(|r| r.1);
        let (user, ulo, uhi) = ratios(|r| r.2);
        println!(
            "\nPer-round {}/{}, median (min–max): requests/s {rps:.2} ({rlo:.2}–{rhi:.2}), \
             CPU per request {cpu:.2} ({clo:.2}–{chi:.2}), user CPU per request {user:.2} \
             ({ulo:.2}–{uhi:.2}).",
            runtimes[a], runtimes[b]
        );
    }
}

/// Clock ticks of (user, system) CPU time used so far by process `pid`.
fn cpu_ticks(pid: u32) -> Result<(u64, u64), String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the `(comm)`: state is field 3; utime and stime are fields 14 and 15.
    let after = &stat[stat.rfind(')').ok_or("bad stat")? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields[11].parse().map_err(|_| "utime")?;
    let stime: u64 = fields[12].parse().map_err(|_| "stime")?;
    Ok((utime, stime))
}

/// One wrk run against a fresh `rt` server: requests/s, server CPU µs per request and its
/// user-space part.
fn http_run(rt: &str, seconds: u32) -> Result<(f64, f64, f64), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["--http-server", rt])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let port: u16 = line
        .trim()
        .parse()
        .map_err(|_| format!("bad port {line:?}"))?;
    let result = (|| {
        let before = cpu_ticks(child.id())?;
        let out = Command::new("wrk")
            .args(["-t1", "-c64", &format!("-d{seconds}s")])
            .arg(format!("http://127.0.0.1:{port}/"))
            .output()
            .map_err(|e| e.to_string())?;
        let after = cpu_ticks(child.id())?;
        let text = String::from_utf8_lossy(&out.stdout);
        let rps: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .ok_or_else(|| format!("no Requests/sec in wrk output: {text}"))?
            .trim()
            .parse()
            .map_err(|_| "bad Requests/sec")?;
        let requests: f64 = text
            .lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or("no request count")?;
        if let Some(errors) = text
            .lines()
            .find(|l| l.contains("Socket errors") || l.contains("Non-2xx"))
        {
            return Err(format!("wrk saw errors: {}", errors.trim()));
        }
        let tick_us = 1e6 / clock_ticks_per_second();
        let per_request = |ticks: u64| ticks as f64 * tick_us / requests.max(1.0);
        let user_us = per_request(after.0 - before.0);
        let cpu_us = user_us + per_request(after.1 - before.1);
        Ok((rps, cpu_us, user_us))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
