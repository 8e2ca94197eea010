//! Subprocesses: asyncio's `create_subprocess_shell` / `create_subprocess_exec`,
//! `communicate()`, `returncode`, reading a child's stdout line by line, and `kill()`.
//!
//! The story of asyncio's subprocess docs: two shell commands run at once (`ls /zzz` fails,
//! `sleep 1; echo "hello"` succeeds; together ≈1 s, not 2 s), then `ls` as a plain exec,
//! a child whose lines are printed as they arrive, a child that is killed, and a program
//! that does not exist.
use std::time::{Duration, Instant};

use corio::net::StreamReader;
use corio::process::{Command, Stdio};
use futures::StreamExt;

// asyncio: proc = await asyncio.create_subprocess_shell(cmd, stdout=PIPE, stderr=PIPE)
//          stdout, stderr = await proc.communicate()
async fn run(cmd: &str) -> std::io::Result<()> {
    let child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = child.wait_with_output().await?;

    // proc.returncode: the exit code, or minus the signal that killed the child.
    let code = out.status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        -out.status.signal().unwrap_or(0)
    });
    println!("[{cmd:?} exited with {code}]");
    if !out.stdout.is_empty() {
        print!("[stdout]\n{}", String::from_utf8_lossy(&out.stdout));
    }
    if !out.stderr.is_empty() {
        print!("[stderr]\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

#[corio::main]
async fn main() -> std::io::Result<()> {
    // Two shells at once (asyncio.gather(run('ls /zzz'), run('sleep 1; echo "hello"'))).
    let start = Instant::now();
    for result in corio::gather([run("ls /zzz"), run("sleep 1; echo \"hello\"")]).await {
        result?;
    }
    println!("both took {:.1}s", start.elapsed().as_secs_f64());

    // create_subprocess_exec: no shell, the program and its arguments.
    let dir = std::env::temp_dir().join(format!("corio-subprocess-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(dir.join(name), name)?;
    }
    let out = Command::new("ls").arg(&dir).output().await?;
    print!("ls:\n{}", String::from_utf8_lossy(&out.stdout));
    println!("ls exited with {:?}", out.status.code());
    std::fs::remove_dir_all(&dir)?;

    // Line by line, as the child writes them (asyncio: async for line in proc.stdout).
    let start = Instant::now();
    let mut child = Command::new("sh")
        .args([
            "-c",
            "for i in 1 2 3; do echo \"tick $i\"; sleep 0.3; done; exit 4",
        ])
        .stdout(Stdio::piped())
        .spawn()?;
    // asyncio: `async for line in proc.stdout` — a StreamReader over the pipe.
    let mut stdout = StreamReader::from(child.stdout.take().expect("stdout was piped"));
    let mut lines = stdout.lines();
    while let Some(line) = lines.next().await {
        let line = String::from_utf8_lossy(&line?).trim_end().to_string();
        println!("{:.1}s {line}", start.elapsed().as_secs_f64());
    }
    println!("the ticker exited with {:?}", child.wait().await?.code());

    // proc.kill(): SIGKILL, then wait (the exit status says which signal).
    let mut child = Command::new("sleep").arg("30").spawn()?;
    corio::sleep(Duration::from_millis(100)).await;
    child.kill().await?;
    let status = child.wait().await?;
    {
        use std::os::unix::process::ExitStatusExt;
        println!("sleep 30 was killed by signal {:?}", status.signal());
    }

    // A program that does not exist: spawn fails with NotFound (Python: FileNotFoundError).
    match Command::new("no-such-program-here").spawn() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("no-such-program-here: not found")
        }
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
