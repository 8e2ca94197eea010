//! Subprocesses (asyncio's `create_subprocess_exec` / `create_subprocess_shell`): a
//! [`Command`] builder shaped like std's, and a [`Child`] whose exit and pipes are awaited
//! on the runtime's reactor.
//!
//! asyncio → corio:
//! - `await asyncio.create_subprocess_exec("ls", "-l", stdout=PIPE)` →
//!   `Command::new("ls").arg("-l").stdout(Stdio::piped()).spawn()?`
//! - `await asyncio.create_subprocess_shell("ls | wc -l")` →
//!   `Command::new("sh").arg("-c").arg("ls | wc -l").spawn()?`
//! - `await proc.communicate()` → [`Child::wait_with_output`]; `await proc.wait()` →
//!   [`Child::wait`]; `proc.returncode` → [`Child::try_wait`] (`Some` once exited);
//!   `proc.kill()` → [`Child::start_kill`] (or `kill().await`, which also waits);
//!   `proc.pid` → [`Child::id`].
//!
//! How the exit is observed: on Linux through a pidfd registered with the reactor (it
//! becomes readable when the child exits; then the child is reaped with
//! `waitpid(WNOHANG)`). Where `pidfd_open` is missing (kernels before 5.3, other Unix
//! systems) the fallback polls `waitpid(WNOHANG)` on corio timers, backing off from 1 ms
//! to 50 ms. Either way no worker thread ever blocks on a child. No zombie is left
//! behind: a [`Child`] dropped before its exit was collected is reaped in the background
//! (and killed first with [`Command::kill_on_drop`]).
//!
//! `spawn` registers the pipes and the exit watch with the runtime it is called in, so it
//! panics outside a runtime; [`Command::output`] and [`Command::status`] are lazy futures
//! that spawn when first polled. The pipes belong to that runtime (like sockets); the
//! exit watch follows whichever runtime awaits the child.
//!
//! # Examples
//!
//! ```
//! # corio_runtime::run(async {
//! use corio_runtime::process::Command;
//! let out = Command::new("sh").arg("-c").arg("echo hello; exit 3").output().await?;
//! assert_eq!(out.stdout, b"hello\n");
//! assert_eq!(out.status.code(), Some(3));
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

mod pipe;
mod reap;

use std::ffi::OsStr;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::panic::Location;
use std::path::Path;
use std::pin::pin;
use std::task::Poll;

pub use std::process::{ExitStatus, Output, Stdio};

pub use pipe::{ChildStderr, ChildStdin, ChildStdout};

use crate::driver::{self, Driver};
use crate::lazy;
use crate::loom::Arc;
use crate::runtime::Handle;
use reap::Reaper;

/// A process builder with std's shape (`std::process::Command`), whose children are
/// awaited on the corio runtime.
///
/// By default `spawn` and `status` inherit stdin, stdout and stderr; `output` pipes
/// stdout and stderr (to capture them) and gives the child a null stdin — unless they
/// were set explicitly, as std does.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::process::{Command, Stdio};
/// let mut child = Command::new("echo")
///     .arg("hello")
///     .stdout(Stdio::piped())
///     .spawn()?;
/// let out = child.wait_with_output().await?;
/// assert_eq!(out.stdout, b"hello\n");
/// assert!(out.status.success());
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
    /// Watch children by polling even where a pidfd is available (tests of the fallback).
    #[cfg(test)]
    force_polling: bool,
}

impl Command {
    /// A command running `program` (looked up in `PATH` if it has no `/`), with no
    /// arguments, the parent's environment and working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let status = corio_runtime::process::Command::new("true").status().await?;
    /// assert!(status.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let out = Command::new("echo").arg("a b").output().await?;
    /// assert_eq!(out.stdout, b"a b\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let out = Command::new("echo").args(["-n", "x", "y"]).output().await?;
    /// assert_eq!(out.stdout, b"x y");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let out = Command::new("sh").args(["-c", "echo $GREETING"])
    ///     .env("GREETING", "hi")
    ///     .output()
    ///     .await?;
    /// assert_eq!(out.stdout, b"hi\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn env<K, V>(&mut self, key: K, val: V) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let out = Command::new("sh").args(["-c", "echo $A$B"])
    ///     .envs([("A", "1"), ("B", "2")])
    ///     .output()
    ///     .await?;
    /// assert_eq!(out.stdout, b"12\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let out = Command::new("sh").args(["-c", "echo ${A-unset}"])
    ///     .env("A", "1")
    ///     .env_remove("A")
    ///     .output()
    ///     .await?;
    /// assert_eq!(out.stdout, b"unset\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Clears the child's environment (only variables set afterwards are passed).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let out = Command::new("/usr/bin/env").env_clear().env("ONLY", "me").output().await?;
    /// assert_eq!(out.stdout, b"ONLY=me\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let out = Command::new("pwd").current_dir("/").output().await?;
    /// assert_eq!(out.stdout, b"/\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Configures the child's stdin: `Stdio::piped()` gives [`Child::stdin`],
    /// `Stdio::null()`, `Stdio::inherit()`, or any file descriptor (`Stdio::from`).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::{Command, Stdio};
    /// let child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    /// assert!(child.stdin.is_some());
    /// let status = child.wait_with_output().await?.status; // stdin closed: cat ends
    /// assert!(status.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Configures the child's stdout (`Stdio::piped()` gives [`Child::stdout`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::{Command, Stdio};
    /// // Not captured: output() leaves an explicit setting alone.
    /// let out = Command::new("echo").arg("gone").stdout(Stdio::null()).output().await?;
    /// assert!(out.stdout.is_empty());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Configures the child's stderr (`Stdio::piped()` gives [`Child::stderr`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::{Command, Stdio};
    /// let out = Command::new("sh").args(["-c", "echo err >&2"])
    ///     .stderr(Stdio::piped())
    ///     .output()
    ///     .await?;
    /// assert_eq!(out.stderr, b"err\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// With `true`, dropping a [`Child`] of this command whose exit was not collected yet
    /// sends it SIGKILL (it is reaped in the background either way). Off by default: a
    /// dropped child keeps running, as with std and asyncio.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let child = Command::new("sleep").arg("30").kill_on_drop(true).spawn()?;
    /// let pid = child.id().unwrap();
    /// drop(child); // killed now, reaped in the background
    /// # let _ = pid;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The std command inside, e.g. for `std::os::unix::process::CommandExt` options
    /// (`uid`, `gid`, `process_group`, `pre_exec`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cmd = corio_runtime::process::Command::new("ls");
    /// cmd.arg("-l");
    /// assert_eq!(cmd.as_std().get_program(), "ls");
    /// assert_eq!(cmd.as_std().get_args().collect::<Vec<_>>(), ["-l"]);
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The std command inside, mutably. Setting stdio through it counts as unset for
    /// [`Command::output`]'s defaults; use [`Command::stdout`] and friends instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use std::os::unix::process::CommandExt;
    /// use corio_runtime::process::Command;
    /// let mut cmd = Command::new("sh");
    /// cmd.args(["-c", "ps -o pgid= -p $$"]);
    /// cmd.as_std_mut().process_group(0); // the child leads a new process group
    /// let child = cmd.stdout(std::process::Stdio::piped()).spawn()?;
    /// let pid = child.id().unwrap();
    /// let out = child.wait_with_output().await?;
    /// assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child (asyncio: `create_subprocess_exec`). Its pipes and its exit are watched by
    /// the current runtime.
    ///
    /// Errors: `NotFound` if the program does not exist, `PermissionDenied` if it is not
    /// executable, and whatever else `fork`/`exec` report.
    ///
    /// # Panics
    ///
    /// Outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let mut child = Command::new("sleep").arg("0.01").spawn()?;
    /// assert!(child.id().is_some());
    /// assert!(child.wait().await?.success());
    ///
    /// let err = Command::new("/no/such/program").spawn().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        if cfg!(any(loom, shuttle)) {
            driver::unavailable_under_loom("corio::process::Command::spawn");
        }
        let driver = driver::current("corio::process::Command::spawn");
        self.spawn_on(&driver)
    }

    fn spawn_on(&mut self, driver: &Arc<Driver>) -> io::Result<Child> {
        reap::reap_orphans();
        let mut std_child = self.std.spawn()?;
        let stdin = std_child.stdin.take();
        let stdout = std_child.stdout.take();
        let stderr = std_child.stderr.take();
        #[cfg(test)]
        let force_polling = self.force_polling;
        #[cfg(not(test))]
        let force_polling = false;
        let mut reaper = Reaper::new(std_child, driver, force_polling);
        let pipes = (|| {
            Ok::<_, io::Error>((
                stdin.map(|p| ChildStdin::new(p, driver)).transpose()?,
                stdout.map(|p| ChildStdout::new(p, driver)).transpose()?,
                stderr.map(|p| ChildStderr::new(p, driver)).transpose()?,
            ))
        })();
        match pipes {
            Ok((stdin, stdout, stderr)) => Ok(Child {
                stdin,
                stdout,
                stderr,
                pid: reaper.id(),
                status: None,
                reaper: Some(reaper),
                kill_on_drop: self.kill_on_drop,
            }),
            Err(e) => {
                // A child whose pipes could not be set up is of no use to anyone: stop it
                // (the reaper's drop hands it to the orphan list if it is not gone yet).
                let _ = reaper.kill();
                let _ = reaper.try_wait();
                Err(e)
            }
        }
    }

    /// Runs the command and collects its exit status and its whole stdout and stderr
    /// (asyncio: `create_subprocess_exec` + `communicate()`). Unless set explicitly, stdout and
    /// stderr are piped and stdin is null (as with std's `output`).
    ///
    /// Lazy: the child is spawned when the future is first polled, on the runtime that
    /// polls it. Polling it outside a runtime panics, naming the line that called
    /// `output`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::process::Command;
    /// let mut cmd = Command::new("sh");
    /// cmd.args(["-c", "echo out; echo err >&2; exit 2"]);
    /// let fut = cmd.output(); // nothing runs yet
    /// let out = corio_runtime::run(fut).unwrap();
    /// assert_eq!(out.stdout, b"out\n");
    /// assert_eq!(out.stderr, b"err\n");
    /// assert_eq!(out.status.code(), Some(2));
    /// ```
    #[track_caller]
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> + '_ {
        let created = Location::caller();
        async move {
            let driver = lazy::driver("corio::process::Command::output", created);
            let (stdin, stdout, stderr) = (self.stdin_set, self.stdout_set, self.stderr_set);
            if !stdin {
                self.std.stdin(Stdio::null());
            }
            if !stdout {
                self.std.stdout(Stdio::piped());
            }
            if !stderr {
                self.std.stderr(Stdio::piped());
            }
            let child = self.spawn_on(&driver);
            // Back to the defaults of `spawn` for the next use of this command.
            if !stdin {
                self.std.stdin(Stdio::inherit());
            }
            if !stdout {
                self.std.stdout(Stdio::inherit());
            }
            if !stderr {
                self.std.stderr(Stdio::inherit());
            }
            child?.wait_with_output().await
        }
    }

    /// Runs the command and waits for its exit status; stdio is inherited unless set
    /// (pipes set up with `Stdio::piped()` are closed at once).
    ///
    /// Lazy like [`Command::output`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let status = Command::new("sh").args(["-c", "exit 7"]).status().await?;
    /// assert_eq!(status.code(), Some(7));
    /// assert!(!status.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + '_ {
        let created = Location::caller();
        async move {
            let driver = lazy::driver("corio::process::Command::status", created);
            let mut child = self.spawn_on(&driver)?;
            drop(child.stdout.take());
            drop(child.stderr.take());
            child.wait().await
        }
    }

    #[cfg(test)]
    fn force_polling(&mut self) -> &mut Command {
        self.force_polling = true;
        self
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std command (its stdio settings count as set for [`Command::output`] only
    /// if made through this type).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let mut std_cmd = std::process::Command::new("echo");
    /// std_cmd.arg("from std");
    /// let out = corio_runtime::process::Command::from(std_cmd).output().await?;
    /// assert_eq!(out.stdout, b"from std\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
            #[cfg(test)]
            force_polling: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish_non_exhaustive()
    }
}

/// A running (or exited) child process (asyncio's `Process`).
///
/// Dropping a `Child` neither waits nor kills (unless [`Command::kill_on_drop`]): the
/// child keeps running and is reaped in the background once it exits, so it never stays
/// a zombie.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::process::{Command, Stdio};
/// let mut child = Command::new("sh")
///     .args(["-c", "read name; echo hello $name"])
///     .stdin(Stdio::piped())
///     .stdout(Stdio::piped())
///     .spawn()?;
/// child.stdin.as_mut().unwrap().write_all(b"corio\n").await?;
/// let out = child.wait_with_output().await?;
/// assert_eq!(out.stdout, b"hello corio\n");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct Child {
    /// The child's stdin, if it was set to `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was set to `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was set to `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
    pid: u32,
    /// The exit status, once collected.
    status: Option<ExitStatus>,
    /// `None` only while dropping.
    reaper: Option<Reaper>,
    kill_on_drop: bool,
}

impl Child {
    fn reaper(&mut self) -> &mut Reaper {
        self.reaper.as_mut().expect("corio: Child used after drop")
    }

    /// The child's pid (asyncio: `proc.pid`), or `None` once its exit status was collected (the pid
    /// may then belong to another process).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let mut child = corio_runtime::process::Command::new("true").spawn()?;
    /// assert!(child.id().is_some());
    /// child.wait().await?;
    /// assert_eq!(child.id(), None);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn id(&self) -> Option<u32> {
        self.status.is_none().then_some(self.pid)
    }

    fn collected(&mut self, status: ExitStatus) -> ExitStatus {
        if self.status.is_none() {
            self.status = Some(status);
            reap::reap_orphans();
        }
        status
    }

    /// Waits for the child to exit (asyncio: `proc.wait()`) and returns its status; later calls
    /// return the same status. The child's stdin is closed first, so a child reading it
    /// sees EOF instead of waiting forever.
    ///
    /// Cancel-safe: dropping the future loses nothing; wait again later.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use std::time::Duration;
    /// use corio_runtime::process::Command;
    /// let mut child = Command::new("sleep").arg("0.2").spawn()?;
    /// // A wait cut short by a timeout loses nothing.
    /// let early = corio_runtime::wait_for(child.wait(), Duration::from_millis(10)).await;
    /// assert!(early.is_err());
    /// assert!(child.wait().await?.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = poll_fn(|cx| self.reaper().poll_wait(cx)).await?;
        Ok(self.collected(status))
    }

    /// The exit status if the child has exited (reaping it) (asyncio: `proc.returncode`), `None`
    /// while it runs. Never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::Command;
    /// let mut child = Command::new("sleep").arg("5").spawn()?;
    /// assert!(child.try_wait()?.is_none());
    /// child.kill().await?;
    /// assert!(child.try_wait()?.is_some());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        Ok(self.reaper().try_wait()?.map(|s| self.collected(s)))
    }

    /// Waits for the exit while reading all of stdout and stderr (asyncio: `proc.communicate()`).
    /// Both pipes are read concurrently, so a child filling one of them while the other is
    /// being read never deadlocks. Stdin is closed first; pipes that were not piped come
    /// back empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::{Command, Stdio};
    /// // 1 MiB on each pipe: far beyond what a pipe buffers.
    /// let child = Command::new("sh")
    ///     .args(["-c", "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2"])
    ///     .stdout(Stdio::piped())
    ///     .stderr(Stdio::piped())
    ///     .spawn()?;
    /// let out = child.wait_with_output().await?;
    /// assert_eq!((out.stdout.len(), out.stderr.len()), (1 << 20, 1 << 20));
    /// assert!(out.status.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let mut stdout_pipe = self.stdout.take();
        let mut stderr_pipe = self.stderr.take();
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        {
            let mut read_out = pin!(async {
                match stdout_pipe.as_mut() {
                    Some(p) => p.read_to_end(&mut stdout).await.map(drop),
                    None => Ok(()),
                }
            });
            let mut read_err = pin!(async {
                match stderr_pipe.as_mut() {
                    Some(p) => p.read_to_end(&mut stderr).await.map(drop),
                    None => Ok(()),
                }
            });
            let (mut out_done, mut err_done) = (false, false);
            poll_fn(|cx| {
                if !out_done {
                    if let Poll::Ready(r) = read_out.as_mut().poll(cx) {
                        r?;
                        out_done = true;
                    }
                }
                if !err_done {
                    if let Poll::Ready(r) = read_err.as_mut().poll(cx) {
                        r?;
                        err_done = true;
                    }
                }
                if out_done && err_done {
                    Poll::Ready(Ok::<_, io::Error>(()))
                } else {
                    Poll::Pending
                }
            })
            .await?;
        }
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Sends SIGKILL (asyncio: `proc.kill()`) and returns without waiting. `InvalidInput` if the
    /// child's exit was already collected (its pid may belong to someone else by now).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use std::os::unix::process::ExitStatusExt;
    /// use corio_runtime::process::Command;
    /// let mut child = Command::new("sleep").arg("30").spawn()?;
    /// child.start_kill()?;
    /// let status = child.wait().await?;
    /// assert_eq!(status.signal(), Some(9));
    /// let err = child.start_kill().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid argument: can't kill an exited process",
            ));
        }
        self.reaper().kill()
    }

    /// Sends SIGKILL and waits for the child to exit.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use std::os::unix::process::ExitStatusExt;
    /// use corio_runtime::process::Command;
    /// let mut child = Command::new("sleep").arg("30").spawn()?;
    /// child.kill().await?;
    /// assert_eq!(child.try_wait()?.and_then(|s| s.signal()), Some(9));
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid)
            .field("status", &self.status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut reaper) = self.reaper.take() else {
            return;
        };
        if self.status.is_some() {
            return;
        }
        if let Ok(Some(_)) = reaper.try_wait() {
            return;
        }
        if self.kill_on_drop {
            let _ = reaper.kill();
        }
        // Still running (or not reaped yet): a detached task waits for the exit and reaps
        // it. Without a live runtime the reaper's own drop puts it on the orphan list.
        let live = driver::with_current(|d| !d.is_shutdown()).unwrap_or(false);
        if let (true, Some(handle)) = (live, Handle::try_current()) {
            let name = format!("corio::process reaper of pid {}", self.pid);
            let wait = async move {
                let _ = poll_fn(|cx| reaper.poll_wait(cx)).await;
            };
            drop(
                crate::task::Builder::new()
                    .name(name)
                    .spawn_on(wait, &handle),
            );
        }
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests;
