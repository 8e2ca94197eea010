//! The child's standard streams: non-blocking pipes on the runtime's reactor
//! ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`]).

use std::fs::File;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::driver::poll_evented::PollEvented;
use crate::driver::{Direction, Driver};
use crate::loom::Arc;

/// One end of a pipe, non-blocking and registered with a reactor.
#[derive(Debug)]
struct Pipe {
    io: PollEvented<File>,
}

impl Pipe {
    fn new(fd: OwnedFd, driver: &Arc<Driver>) -> io::Result<Pipe> {
        rustix::io::ioctl_fionbio(&fd, true)?;
        Ok(Pipe {
            io: PollEvented::with_driver(driver.clone(), File::from(fd))?,
        })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_transfer(cx, Direction::Read, buf.len(), |mut f| f.read(buf))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_transfer(cx, Direction::Write, buf.len(), |mut f| f.write(buf))
    }

    /// Deregisters the pipe and switches it back to blocking mode, for another process.
    fn into_owned_fd(self) -> io::Result<OwnedFd> {
        let fd = OwnedFd::from(self.io.into_inner());
        rustix::io::ioctl_fionbio(&fd, false)?;
        Ok(fd)
    }

    async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    async fn read_exact(&self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the pipe closed before the buffer was filled",
                    ))
                }
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    async fn read_to_end(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        /// Cuts `buf` back to the bytes actually read, also when the future is dropped.
        struct Filled<'a> {
            buf: &'a mut Vec<u8>,
            len: usize,
        }
        impl Drop for Filled<'_> {
            fn drop(&mut self) {
                self.buf.truncate(self.len);
            }
        }
        let start = buf.len();
        let mut filled = Filled { len: start, buf };
        loop {
            if filled.buf.capacity() - filled.len < 4096 {
                let grow = (filled.len - start).clamp(8192, 1 << 20);
                filled.buf.reserve(grow);
            }
            let cap = filled.buf.capacity();
            filled.buf.resize(cap, 0);
            let from = filled.len;
            match poll_fn(|cx| self.poll_read(cx, &mut filled.buf[from..])).await? {
                0 => return Ok(filled.len - start),
                n => filled.len += n,
            }
        }
    }

    async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was closed")
}

/// The write end of the child's stdin (`Stdio::piped()`), `Send + Sync + Unpin`;
/// implements `futures_io::AsyncWrite`. Dropping it (or `AsyncWriteExt::close`) closes the
/// pipe, so the child reads EOF.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::process::{Command, Stdio};
/// let mut child = Command::new("cat")
///     .stdin(Stdio::piped())
///     .stdout(Stdio::piped())
///     .spawn()?;
/// let mut stdin = child.stdin.take().unwrap();
/// stdin.write_all(b"meow").await?;
/// drop(stdin); // EOF for cat
/// let out = child.wait_with_output().await?;
/// assert_eq!(out.stdout, b"meow");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct ChildStdin {
    /// `None` once closed through `AsyncWrite::poll_close`.
    pipe: Option<Pipe>,
}

impl ChildStdin {
    pub(crate) fn new(stdin: std::process::ChildStdin, driver: &Arc<Driver>) -> io::Result<Self> {
        Ok(ChildStdin {
            pipe: Some(Pipe::new(stdin.into(), driver)?),
        })
    }

    fn pipe(&self) -> io::Result<&Pipe> {
        self.pipe.as_ref().ok_or_else(closed)
    }

    /// Writes some of `buf` into the pipe, waiting while it is full; returns how many
    /// bytes were written. `BrokenPipe` once the child closed its end.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::{Command, Stdio};
    /// let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
    /// let stdin = child.stdin.as_mut().unwrap();
    /// let n = stdin.write(b"hello").await?;
    /// assert!(n > 0);
    /// child.wait().await?; // closes stdin first, so cat ends
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pipe()?.write(buf).await
    }

    /// Writes all of `buf`, waiting while the pipe is full.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::{Command, Stdio};
    /// let mut child = Command::new("wc").arg("-c")
    ///     .stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    /// // 1 MiB: far more than a pipe holds, so this waits for wc to read.
    /// let data = vec![b'x'; 1 << 20];
    /// let mut stdin = child.stdin.take().unwrap();
    /// let writer = async move { stdin.write_all(&data).await };
    /// let mut stdout = child.stdout.take().unwrap();
    /// let reader = async move {
    ///     let mut out = Vec::new();
    ///     stdout.read_to_end(&mut out).await.map(|_| out)
    /// };
    /// let (written, out) = futures::join!(writer, reader);
    /// written?;
    /// assert_eq!(String::from_utf8_lossy(&out?).trim(), "1048576");
    /// assert!(child.wait().await?.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.pipe()?.write_all(buf).await
    }

    /// Deregisters the pipe and returns its file descriptor in blocking mode (e.g. for
    /// `Stdio::from`). Fails if the pipe was already closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::{Command, Stdio};
    /// let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
    /// let fd = child.stdin.take().unwrap().into_owned_fd()?;
    /// let mut file = std::fs::File::from(fd);
    /// std::io::Write::write_all(&mut file, b"blocking write")?;
    /// drop(file);
    /// assert!(child.wait().await?.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_owned_fd(mut self) -> io::Result<OwnedFd> {
        self.pipe.take().ok_or_else(closed)?.into_owned_fd()
    }
}

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().pipe() {
            Ok(pipe) => pipe.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the pipe.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        drop(self.get_mut().pipe.take());
        Poll::Ready(Ok(()))
    }
}

macro_rules! read_end {
    ($(#[$doc:meta])* $name:ident, $std:ty, $which:ident, $what:literal, $cmd:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            pipe: Pipe,
        }

        impl $name {
            pub(crate) fn new(pipe: $std, driver: &Arc<Driver>) -> io::Result<Self> {
                Ok($name {
                    pipe: Pipe::new(pipe.into(), driver)?,
                })
            }

            #[doc = concat!("Reads some of the child's ", $what, " into `buf`, waiting until")]
            /// something is there; `Ok(0)` is EOF (the child, and every process it shared the
            /// pipe with, closed its end).
            ///
            /// # Examples
            ///
            /// ```
            /// # corio_runtime::run(async {
            /// use corio_runtime::process::{Command, Stdio};
            #[doc = concat!("let mut child = Command::new(\"sh\").args([\"-c\", \"", $cmd, "\"])")]
            #[doc = concat!("    .", stringify!($which), "(Stdio::piped()).spawn()?;")]
            #[doc = concat!("let pipe = child.", stringify!($which), ".as_mut().unwrap();")]
            /// let mut buf = [0; 16];
            /// let mut got = Vec::new();
            /// loop {
            ///     let n = pipe.read(&mut buf).await?;
            ///     if n == 0 { break; }
            ///     got.extend_from_slice(&buf[..n]);
            /// }
            /// assert_eq!(got, b"hi\n");
            /// child.wait().await?;
            /// # std::io::Result::Ok(()) }).unwrap();
            /// ```
            pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.pipe.read(buf).await
            }

            /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the pipe closes first.
            ///
            /// # Examples
            ///
            /// ```
            /// # corio_runtime::run(async {
            /// use corio_runtime::process::{Command, Stdio};
            #[doc = concat!("let mut child = Command::new(\"sh\").args([\"-c\", \"", $cmd, "\"])")]
            #[doc = concat!("    .", stringify!($which), "(Stdio::piped()).spawn()?;")]
            #[doc = concat!("let pipe = child.", stringify!($which), ".as_mut().unwrap();")]
            /// let mut buf = [0; 2];
            /// pipe.read_exact(&mut buf).await?;
            /// assert_eq!(&buf, b"hi");
            /// let mut more = [0; 8];
            /// let err = pipe.read_exact(&mut more).await.unwrap_err();
            /// assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
            /// child.wait().await?;
            /// # std::io::Result::Ok(()) }).unwrap();
            /// ```
            pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
                self.pipe.read_exact(buf).await
            }

            /// Reads until EOF, appending to `buf`; returns how many bytes were read.
            /// Cancel-safe: if the future is dropped, `buf` holds what was read so far.
            ///
            /// # Examples
            ///
            /// ```
            /// # corio_runtime::run(async {
            /// use corio_runtime::process::{Command, Stdio};
            #[doc = concat!("let mut child = Command::new(\"sh\").args([\"-c\", \"", $cmd, "\"])")]
            #[doc = concat!("    .", stringify!($which), "(Stdio::piped()).spawn()?;")]
            /// let mut out = Vec::new();
            #[doc = concat!("child.", stringify!($which), ".as_mut().unwrap().read_to_end(&mut out).await?;")]
            /// assert_eq!(out, b"hi\n");
            /// child.wait().await?;
            /// # std::io::Result::Ok(()) }).unwrap();
            /// ```
            pub async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
                self.pipe.read_to_end(buf).await
            }

            /// Deregisters the pipe and returns its file descriptor in blocking mode, e.g.
            /// to make it another child's stdin with `Stdio::from`.
            ///
            /// # Examples
            ///
            /// ```
            /// # corio_runtime::run(async {
            /// use corio_runtime::process::{Command, Stdio};
            #[doc = concat!("let mut first = Command::new(\"sh\").args([\"-c\", \"", $cmd, "\"])")]
            #[doc = concat!("    .", stringify!($which), "(Stdio::piped()).spawn()?;")]
            #[doc = concat!("let fd = first.", stringify!($which), ".take().unwrap().into_owned_fd()?;")]
            /// let out = Command::new("tr").arg("a-z").arg("A-Z")
            ///     .stdin(Stdio::from(fd))
            ///     .output()
            ///     .await?;
            /// assert_eq!(out.stdout, b"HI\n");
            /// first.wait().await?;
            /// # std::io::Result::Ok(()) }).unwrap();
            /// ```
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                self.pipe.into_owned_fd()
            }
        }

        impl futures_io::AsyncRead for $name {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.pipe.poll_read(cx, buf)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.io.get_ref().as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.io.get_ref().as_fd()
            }
        }
    };
}

read_end!(
    /// The read end of the child's stdout (`Stdio::piped()`), `Send + Sync + Unpin`;
    /// implements `futures_io::AsyncRead`, so `futures::io::BufReader::new(stdout).lines()`
    /// streams it line by line.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use futures::{AsyncBufReadExt, StreamExt};
    /// use corio_runtime::process::{Command, Stdio};
    /// let mut child = Command::new("sh")
    ///     .args(["-c", "echo one; echo two"])
    ///     .stdout(Stdio::piped())
    ///     .spawn()?;
    /// let stdout = child.stdout.take().unwrap();
    /// let lines: Vec<String> = futures::io::BufReader::new(stdout)
    ///     .lines()
    ///     .map(|l| l.unwrap())
    ///     .collect()
    ///     .await;
    /// assert_eq!(lines, ["one", "two"]);
    /// assert!(child.wait().await?.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ChildStdout,
    std::process::ChildStdout,
    stdout,
    "stdout",
    "echo hi"
);

read_end!(
    /// The read end of the child's stderr (`Stdio::piped()`), `Send + Sync + Unpin`;
    /// implements `futures_io::AsyncRead`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::process::{Command, Stdio};
    /// let mut child = Command::new("sh")
    ///     .args(["-c", "echo oops >&2"])
    ///     .stderr(Stdio::piped())
    ///     .spawn()?;
    /// let mut err = Vec::new();
    /// child.stderr.as_mut().unwrap().read_to_end(&mut err).await?;
    /// assert_eq!(err, b"oops\n");
    /// child.wait().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ChildStderr,
    std::process::ChildStderr,
    stderr,
    "stderr",
    "echo hi >&2"
);
