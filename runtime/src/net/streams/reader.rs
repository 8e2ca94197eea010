//! [`StreamReader`]: asyncio's buffered reader (`readline`, `readuntil`, `readexactly`)
//! over a socket or any `futures_io::AsyncRead`.
//!
//! Bytes flow socket → one buffer owned by the reader → the `Vec` handed to the caller:
//! one copy in user space. The buffer holds `buf[start..end]`; when the space after
//! `end` runs short the unread bytes (a partial line) move to the front, and the buffer
//! grows only while a separator search needs more room. A search gives up with
//! [`ReadError::LimitOverrun`] once it has scanned more than the limit without finding
//! the separator, so the buffer never grows past about twice the limit: a stream
//! without newlines cannot make `readline` buffer without bound.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use crate::net::stream;
use crate::net::{tcp, unix, TcpStream, UnixStream};

/// The default limit of [`StreamReader::set_limit`] (asyncio's `_DEFAULT_LIMIT`).
const DEFAULT_LIMIT: usize = 64 * 1024;
/// The buffer's first size.
const INITIAL: usize = 16 * 1024;
/// The least free space a read into the buffer is offered.
const MIN_READ: usize = 4 * 1024;
/// An emptied buffer larger than this is released instead of kept.
const KEEP_AT_MOST: usize = 1024 * 1024;
/// `read(n)` with an empty buffer and `n` at least this reads straight into the result.
const DIRECT_READ: usize = 16 * 1024;
/// The largest single read of `read(n)` (so `read(usize::MAX)` does not allocate it all).
const MAX_READ: usize = 256 * 1024;

/// The error of [`StreamReader::readuntil`] and [`StreamReader::readexactly`].
///
/// `From<ReadError> for io::Error` keeps the `ReadError` as the error's inner value
/// (kind `UnexpectedEof` for `Incomplete`, `InvalidData` for `LimitOverrun`), so `?`
/// works in functions returning `io::Result`, and
/// [`StreamReader::readline`]'s `io::Error` can be downcast back.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{ReadError, StreamReader};
/// let mut r = StreamReader::new(&b"abc"[..]);
/// match r.readexactly(5).await {
///     Err(ReadError::Incomplete { partial }) => assert_eq!(partial, b"abc"),
///     other => panic!("{other:?}"),
/// }
/// # });
/// ```
#[derive(Debug)]
pub enum ReadError {
    /// The stream ended first (asyncio's `IncompleteReadError`); `partial` holds the bytes
    /// read before the end (they are consumed).
    Incomplete {
        /// The bytes read before the end of the stream.
        partial: Vec<u8>,
    },
    /// The separator was not found within the limit (asyncio's `LimitOverrunError`).
    /// Nothing is consumed: the data stays buffered and readable (with `read`,
    /// `readexactly(consumed)`, ...). `consumed` is the number of bytes to consume
    /// to get past the overrun, as asyncio reports it.
    LimitOverrun {
        /// How many buffered bytes were scanned (or precede the separator).
        consumed: usize,
    },
    /// An I/O error from the underlying stream.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Incomplete { partial } => write!(
                f,
                "stream ended after {} bytes, before the expected data",
                partial.len()
            ),
            ReadError::LimitOverrun { consumed } => write!(
                f,
                "separator not found within the stream limit ({consumed} bytes scanned)"
            ),
            ReadError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> io::Error {
        match e {
            ReadError::Io(e) => e,
            e @ ReadError::Incomplete { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, e),
            e @ ReadError::LimitOverrun { .. } => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

/// Where a [`StreamReader`] reads from: corio's own sockets directly, anything else
/// through `futures_io::AsyncRead`.
enum Source {
    Tcp(tcp::OwnedReadHalf),
    Unix(unix::OwnedReadHalf),
    Other(Box<dyn futures_io::AsyncRead + Send + Unpin>),
}

impl Source {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Source::Tcp(s) => stream::poll_read(s.io_ref(), cx, buf),
            Source::Unix(s) => stream::poll_read(s.io_ref(), cx, buf),
            Source::Other(r) => futures_io::AsyncRead::poll_read(Pin::new(r), cx, buf),
        }
    }
}

/// The reading side of a connection, asyncio's `StreamReader`, from
/// [`open_connection`](crate::net::open_connection) and
/// [`start_server`](crate::net::start_server), or built over any
/// `futures_io::AsyncRead` with [`StreamReader::new`].
///
/// Every method that reads is cancel-safe except [`read_to_end`](StreamReader::read_to_end):
/// dropping its future loses no data, which stays buffered for the next call.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::StreamReader;
/// let mut r = StreamReader::new(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"[..]);
/// assert_eq!(r.readline().await?, b"GET / HTTP/1.1\r\n");
/// assert_eq!(r.readuntil(b"\r\n\r\n").await?, b"Host: x\r\n\r\n");
/// assert_eq!(r.read_to_end().await?, b"body");
/// assert!(r.at_eof());
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct StreamReader {
    src: Source,
    /// Initialized storage; the unread bytes are `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// How many bytes from `start` on a pending separator search has already scanned
    /// (so a long line is not rescanned from its beginning after every read), and the
    /// separator it searched for.
    scanned: usize,
    scan_sep: Vec<u8>,
    eof: bool,
    limit: usize,
}

impl StreamReader {
    /// A reader over any `futures_io::AsyncRead` (a pipe, a child's stdout, a TLS stream,
    /// a byte slice), with the default limit of 64 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let mut r = corio_runtime::net::StreamReader::new(&b"one\ntwo\n"[..]);
    /// assert_eq!(r.readline().await?, b"one\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn new<R>(reader: R) -> StreamReader
    where
        R: futures_io::AsyncRead + Send + Unpin + 'static,
    {
        StreamReader::from_source(Source::Other(Box::new(reader)))
    }

    fn from_source(src: Source) -> StreamReader {
        StreamReader {
            src,
            buf: Vec::new(),
            start: 0,
            end: 0,
            scanned: 0,
            scan_sep: Vec::new(),
            eof: false,
            limit: DEFAULT_LIMIT,
        }
    }

    /// Sets the limit of [`readuntil`](StreamReader::readuntil) and
    /// [`readline`](StreamReader::readline) (asyncio's `limit=`, 64 KiB by default): a
    /// separator not found within this many bytes is a [`ReadError::LimitOverrun`].
    ///
    /// # Panics
    ///
    /// Panics if `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{ReadError, StreamReader};
    /// let mut r = StreamReader::new(&b"0123456789\n"[..]);
    /// r.set_limit(4);
    /// assert!(matches!(r.readuntil(b"\n").await, Err(ReadError::LimitOverrun { .. })));
    /// assert_eq!(r.read(4).await?, b"0123"); // still buffered
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn set_limit(&mut self, limit: usize) {
        assert!(limit > 0, "StreamReader limit must be positive");
        self.limit = limit;
    }

    /// The current limit (see [`set_limit`](StreamReader::set_limit)).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = corio_runtime::net::StreamReader::new(&b""[..]);
    /// assert_eq!(r.limit(), 64 * 1024);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// True once the stream has ended and every buffered byte was read (asyncio's
    /// `at_eof()`).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let mut r = corio_runtime::net::StreamReader::new(&b"x"[..]);
    /// assert!(!r.at_eof());
    /// assert_eq!(r.read(10).await?, b"x");
    /// assert_eq!(r.read(10).await?, b""); // the end
    /// assert!(r.at_eof());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn at_eof(&self) -> bool {
        self.eof && self.start == self.end
    }

    /// The bytes read from the stream and not yet returned.
    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Hands out the first `n` buffered bytes (the one copy of the read path).
    fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.buf[self.start..self.start + n].to_vec();
        self.consume(n);
        out
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.scanned = self.scanned.saturating_sub(n);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > KEEP_AT_MOST {
                self.buf = Vec::new();
            }
        }
    }

    /// Reads once from the source into the buffer: `Ok(0)` at the end of the stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        if self.buf.len() - self.end < MIN_READ {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < MIN_READ.max(self.buf.len() / 4) {
                let size = (self.buf.len() * 2).max(INITIAL);
                self.buf.resize(size, 0);
            }
        }
        let n = ready!(self.src.poll_read(cx, &mut self.buf[self.end..]))?;
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Poll::Ready(Ok(n))
    }

    /// Reads up to `n` bytes: what is buffered, or else what one read of the stream
    /// returns; it does not wait for `n` bytes. An empty result means the end of the
    /// stream (or `n == 0`). asyncio's `read(n)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let mut r = corio_runtime::net::StreamReader::new(&b"hello"[..]);
    /// assert_eq!(r.read(2).await?, b"he");
    /// assert_eq!(r.read(100).await?, b"llo");
    /// assert!(r.read(100).await?.is_empty());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read(&mut self, n: usize) -> io::Result<Vec<u8>> {
        poll_fn(|cx| self.poll_read_up_to(cx, n)).await
    }

    fn poll_read_up_to(&mut self, cx: &mut Context<'_>, n: usize) -> Poll<io::Result<Vec<u8>>> {
        if n == 0 {
            return Poll::Ready(Ok(Vec::new()));
        }
        if self.start == self.end && !self.eof && n >= DIRECT_READ {
            // Nothing buffered: read straight into the result, skipping the buffer.
            let mut out = vec![0; n.min(MAX_READ)];
            let got = ready!(self.src.poll_read(cx, &mut out))?;
            if got == 0 {
                self.eof = true;
            }
            out.truncate(got);
            return Poll::Ready(Ok(out));
        }
        while self.start == self.end && !self.eof {
            ready!(self.poll_fill(cx))?;
        }
        let len = (self.end - self.start).min(n);
        Poll::Ready(Ok(self.take(len)))
    }

    /// Reads until the end of the stream (asyncio's `read(-1)`). Not cancel-safe: what it
    /// read is lost if its future is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let mut r = corio_runtime::net::StreamReader::new(&b"all of it"[..]);
    /// assert_eq!(r.read_to_end().await?, b"all of it");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        let mut out = self.take(self.end - self.start);
        if self.eof {
            return Ok(out);
        }
        let mut len = out.len();
        loop {
            if out.len() - len < MIN_READ {
                out.resize((out.len() * 2).max(len + INITIAL), 0);
            }
            let n = poll_fn(|cx| self.src.poll_read(cx, &mut out[len..])).await?;
            if n == 0 {
                self.eof = true;
                out.truncate(len);
                return Ok(out);
            }
            len += n;
        }
    }

    /// Reads one line, ending with `b"\n"` (asyncio's `readline`). At the end of the
    /// stream it returns the last, unterminated bytes, then empty vectors.
    ///
    /// Errors: a line longer than the [limit](StreamReader::set_limit) is an
    /// `io::Error` of kind `InvalidData` wrapping [`ReadError::LimitOverrun`]; unlike
    /// asyncio, which discards the line, the data stays buffered and readable.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let mut r = corio_runtime::net::StreamReader::new(&b"a\nb"[..]);
    /// assert_eq!(r.readline().await?, b"a\n");
    /// assert_eq!(r.readline().await?, b"b");
    /// assert_eq!(r.readline().await?, b"");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn readline(&mut self) -> io::Result<Vec<u8>> {
        poll_fn(|cx| self.poll_readline(cx)).await
    }

    fn poll_readline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Vec<u8>>> {
        Poll::Ready(match ready!(self.poll_readuntil(cx, b"\n")) {
            Ok(line) => Ok(line),
            Err(ReadError::Incomplete { partial }) => Ok(partial),
            Err(e) => Err(e.into()),
        })
    }

    /// Reads up to and including `separator` (asyncio's `readuntil`).
    ///
    /// Errors: [`ReadError::Incomplete`] with everything that was left if the stream ends
    /// first; [`ReadError::LimitOverrun`] if the separator is not within the
    /// [limit](StreamReader::set_limit) (nothing is consumed then);
    /// [`ReadError::Io`] with `InvalidInput` for an empty separator.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{ReadError, StreamReader};
    /// let mut r = StreamReader::new(&b"key=value;rest"[..]);
    /// assert_eq!(r.readuntil(b"=").await?, b"key=");
    /// assert_eq!(r.readuntil(b";").await?, b"value;");
    /// match r.readuntil(b";").await {
    ///     Err(ReadError::Incomplete { partial }) => assert_eq!(partial, b"rest"),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), ReadError>(()) }).unwrap();
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, ReadError> {
        poll_fn(|cx| self.poll_readuntil(cx, separator)).await
    }

    fn poll_readuntil(
        &mut self,
        cx: &mut Context<'_>,
        sep: &[u8],
    ) -> Poll<Result<Vec<u8>, ReadError>> {
        if sep.is_empty() {
            return Poll::Ready(Err(ReadError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "separator must not be empty",
            ))));
        }
        if self.scan_sep != sep {
            self.scan_sep.clear();
            self.scan_sep.extend_from_slice(sep);
            self.scanned = 0;
        }
        loop {
            let buffered = self.buffered();
            if buffered.len() >= sep.len() {
                let from = self.scanned;
                let found = if let [byte] = sep {
                    memchr::memchr(*byte, &buffered[from..])
                } else {
                    memchr::memmem::find(&buffered[from..], sep)
                };
                if let Some(i) = found {
                    let at = from + i;
                    if at > self.limit {
                        self.scanned = at;
                        return Poll::Ready(Err(ReadError::LimitOverrun { consumed: at }));
                    }
                    let line = self.take(at + sep.len());
                    self.scanned = 0;
                    return Poll::Ready(Ok(line));
                }
                // A separator may still straddle the last `sep.len() - 1` bytes.
                self.scanned = buffered.len() + 1 - sep.len();
                if self.scanned > self.limit {
                    return Poll::Ready(Err(ReadError::LimitOverrun {
                        consumed: self.scanned,
                    }));
                }
            }
            if self.eof {
                let partial = self.take(self.end - self.start);
                return Poll::Ready(Err(ReadError::Incomplete { partial }));
            }
            ready!(self.poll_fill(cx))?;
        }
    }

    /// Reads exactly `n` bytes (asyncio's `readexactly`).
    ///
    /// Errors: [`ReadError::Incomplete`] with the bytes that were left if the stream ends
    /// first. Cancel-safe: the bytes wait in the reader's buffer until all `n` are there.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::StreamReader;
    /// let mut r = StreamReader::new(&[0, 3, b'a', b'b', b'c'][..]);
    /// let len = r.readexactly(2).await?;
    /// let body = r.readexactly(usize::from(u16::from_be_bytes([len[0], len[1]]))).await?;
    /// assert_eq!(body, b"abc");
    /// # Ok::<(), corio_runtime::net::ReadError>(()) }).unwrap();
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        poll_fn(|cx| self.poll_readexactly(cx, n)).await
    }

    fn poll_readexactly(
        &mut self,
        cx: &mut Context<'_>,
        n: usize,
    ) -> Poll<Result<Vec<u8>, ReadError>> {
        loop {
            if self.end - self.start >= n {
                return Poll::Ready(Ok(self.take(n)));
            }
            if self.eof {
                let partial = self.take(self.end - self.start);
                return Poll::Ready(Err(ReadError::Incomplete { partial }));
            }
            // Make room for all `n` bytes at once, so they arrive in as few reads as the
            // stream allows.
            if self.buf.len() - self.start < n {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if self.buf.len() < n {
                    self.buf.resize(n.max(INITIAL), 0);
                }
            }
            ready!(self.poll_fill(cx))?;
        }
    }

    /// The lines of the stream, each with its `b"\n"` (the last one may lack it), as a
    /// `futures_core::Stream` (asyncio's `async for line in reader`). It ends after the
    /// last line or after the first error.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use futures::StreamExt;
    /// let mut r = corio_runtime::net::StreamReader::new(&b"a\nb\nc"[..]);
    /// let lines: Vec<_> = r.lines().map(|l| l.unwrap()).collect().await;
    /// assert_eq!(lines, [&b"a\n"[..], b"b\n", b"c"]);
    /// # });
    /// ```
    pub fn lines(&mut self) -> Lines<'_> {
        Lines {
            reader: self,
            done: false,
        }
    }
}

impl From<TcpStream> for StreamReader {
    /// A reader over a whole [`TcpStream`] (its write half is closed when the reader is
    /// dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{StreamReader, TcpListener, TcpStream};
    /// let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let mut r = StreamReader::from(l.accept().await?.0);
    /// c.write_all(b"hi\n").await?;
    /// assert_eq!(r.readline().await?, b"hi\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn from(stream: TcpStream) -> StreamReader {
        StreamReader::from(stream.into_split().0)
    }
}

impl From<tcp::OwnedReadHalf> for StreamReader {
    /// A reader over the read half of a [`TcpStream`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{StreamReader, TcpListener, TcpStream};
    /// let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// let (mut s, _) = l.accept().await?;
    /// s.write_all(b"x\n").await?;
    /// assert_eq!(StreamReader::from(rd).readline().await?, b"x\n");
    /// # wr.shutdown().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn from(half: tcp::OwnedReadHalf) -> StreamReader {
        StreamReader::from_source(Source::Tcp(half))
    }
}

impl From<UnixStream> for StreamReader {
    /// A reader over a whole [`UnixStream`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// let mut r = corio_runtime::net::StreamReader::from(a);
    /// b.write_all(b"hi\n").await?;
    /// assert_eq!(r.readline().await?, b"hi\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn from(stream: UnixStream) -> StreamReader {
        StreamReader::from(stream.into_split().0)
    }
}

impl From<unix::OwnedReadHalf> for StreamReader {
    /// A reader over the read half of a [`UnixStream`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// let (rd, _wr) = a.into_split();
    /// b.write_all(b"hi\n").await?;
    /// assert_eq!(corio_runtime::net::StreamReader::from(rd).readline().await?, b"hi\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn from(half: unix::OwnedReadHalf) -> StreamReader {
        StreamReader::from_source(Source::Unix(half))
    }
}

#[cfg(unix)]
impl From<crate::process::ChildStdout> for StreamReader {
    /// A reader over a child's standard output [asyncio: `proc.stdout`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use std::process::Stdio;
    /// use corio_runtime::net::StreamReader;
    /// use corio_runtime::process::Command;
    /// let mut child = Command::new("printf").arg("a\\nb\\n").stdout(Stdio::piped()).spawn()?;
    /// let mut out = StreamReader::from(child.stdout.take().unwrap());
    /// assert_eq!(out.readline().await?, b"a\n");
    /// assert_eq!(out.readline().await?, b"b\n");
    /// assert!(child.wait().await?.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn from(stdout: crate::process::ChildStdout) -> StreamReader {
        StreamReader::new(stdout)
    }
}

#[cfg(unix)]
impl From<crate::process::ChildStderr> for StreamReader {
    /// A reader over a child's standard error [asyncio: `proc.stderr`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use std::process::Stdio;
    /// use corio_runtime::net::StreamReader;
    /// use corio_runtime::process::Command;
    /// let mut child = Command::new("sh").args(["-c", "echo oops >&2"]).stderr(Stdio::piped()).spawn()?;
    /// let mut err = StreamReader::from(child.stderr.take().unwrap());
    /// assert_eq!(err.read_to_end().await?, b"oops\n");
    /// assert!(child.wait().await?.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn from(stderr: crate::process::ChildStderr) -> StreamReader {
        StreamReader::new(stderr)
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let src = match self.src {
            Source::Tcp(_) => "tcp",
            Source::Unix(_) => "unix",
            Source::Other(_) => "AsyncRead",
        };
        f.debug_struct("StreamReader")
            .field("source", &src)
            .field("buffered", &(self.end - self.start))
            .field("eof", &self.eof)
            .field("limit", &self.limit)
            .finish()
    }
}

/// The lines of a [`StreamReader`], from [`StreamReader::lines`]: a
/// `futures_core::Stream<Item = io::Result<Vec<u8>>>`.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use futures::StreamExt;
/// let mut r = corio_runtime::net::StreamReader::new(&b"x\ny\n"[..]);
/// let mut lines = r.lines();
/// while let Some(line) = lines.next().await {
///     print!("{}", String::from_utf8_lossy(&line?));
/// }
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Lines<'a> {
    reader: &'a mut StreamReader,
    done: bool,
}

impl Stream for Lines<'_> {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match ready!(this.reader.poll_readline(cx)) {
            Ok(line) if line.is_empty() => {
                this.done = true;
                Poll::Ready(None)
            }
            Ok(line) => Poll::Ready(Some(Ok(line))),
            Err(e) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

impl fmt::Debug for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lines")
            .field("reader", &self.reader)
            .field("done", &self.done)
            .finish()
    }
}
