//! hyper 1.x on corio: hyper's runtime traits (`hyper::rt::{Read, Write, Executor,
//! Timer}`) over corio's streams, [`spawn`](crate::spawn) and timers.
//!
//! Named after hyper-util's `TokioIo`, `TokioExecutor` and `TokioTimer`, so code written
//! for hyper on tokio moves over by renaming:
//!
//! - [`CorioIo`] wraps a corio [`TcpStream`], [`UnixStream`] or owned half (reads go
//!   straight into hyper's uninitialised buffer), or any other futures-io stream (a TLS
//!   stream, an in-memory pipe; its reads zero-fill the buffer first, as every futures-io
//!   adapter must).
//! - [`CorioExecutor`] runs hyper's background tasks (HTTP/2 streams, the connection
//!   driver of a client) with [`spawn`](crate::spawn).
//! - [`CorioTimer`] drives hyper's timeouts (`header_read_timeout`, HTTP/2 keep-alive)
//!   with [`sleep`](crate::sleep).
//!
//! Needs the `hyper` feature.
//!
//! # Examples
//!
//! A hello-world HTTP/1 server: each connection on its own task, hyper's timeouts on
//! corio's timers. (It needs hyper's `server` and `http1` features, which `corio::hyper`
//! does not turn on; the same code runs as the `hyper_server` example of the
//! `corio-hyper-examples` package, with HTTP/2 and graceful shutdown.)
//!
//! ```ignore
//! use corio::hyper::{CorioIo, CorioTimer};
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{service::service_fn, Request, Response};
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from("Hello, World!"))))
//! }
//!
//! #[corio::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = corio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         drop(corio::spawn(async move {
//!             let conn = hyper::server::conn::http1::Builder::new()
//!                 .timer(CorioTimer::new())
//!                 .serve_connection(CorioIo::new(stream), service_fn(hello));
//!             if let Err(e) = conn.await {
//!                 eprintln!("connection: {e}");
//!             }
//!         }));
//!     }
//! }
//! ```
//!
//! hyper's traits directly: bytes written through one end of a socket pair and read
//! from the other, both as hyper sees them.
//!
//! ```
//! use corio::hyper::CorioIo;
//! use std::future::poll_fn;
//! use std::mem::MaybeUninit;
//! use std::pin::Pin;
//!
//! # corio::run(async {
//! let (a, b) = corio::net::UnixStream::pair()?;
//! let (mut a, mut b) = (CorioIo::new(a), CorioIo::new(b));
//! let n = poll_fn(|cx| hyper::rt::Write::poll_write(Pin::new(&mut a), cx, b"GET /")).await?;
//! assert_eq!(n, 5);
//! let mut storage = [MaybeUninit::uninit(); 16];
//! let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
//! poll_fn(|cx| hyper::rt::Read::poll_read(Pin::new(&mut b), cx, buf.unfilled())).await?;
//! assert_eq!(buf.filled(), b"GET /");
//! # std::io::Result::Ok(()) }).unwrap();
//! ```
//!
//! [`TcpStream`]: crate::net::TcpStream
//! [`UnixStream`]: crate::net::UnixStream

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use corio_runtime::net::hyper_io::{poll_read_zeroed, PollReadCursor};
use corio_runtime::net::{tcp, unix, TcpStream, UnixStream};
use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;

/// A corio or futures-io stream as hyper's `hyper::rt::Read` and `hyper::rt::Write`
/// (hyper-util's `TokioIo`, for corio).
///
/// `CorioIo<T>` implements `Read` for any futures-io `AsyncRead + Unpin + 'static` and
/// `Write` for any `AsyncWrite + Unpin + 'static`. corio's own [`TcpStream`],
/// [`UnixStream`] and their owned halves are recognised by type (a comparison of
/// constant `TypeId`s, folded away when `CorioIo<T>` is compiled): they read straight
/// into hyper's uninitialised buffer and write vectored (`writev(2)`). Every other stream
/// reads into a zero-filled buffer and writes one buffer at a time.
///
/// # Examples
///
/// ```
/// use corio::hyper::CorioIo;
/// # corio::run(async {
/// let (a, b) = corio::net::UnixStream::pair()?;
/// let io = CorioIo::new(a);
/// assert!(hyper::rt::Write::is_write_vectored(&io)); // writev(2) on corio's sockets
/// let a = io.into_inner();
/// # drop((a, b));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// [`TcpStream`]: crate::net::TcpStream
/// [`UnixStream`]: crate::net::UnixStream
pub struct CorioIo<T> {
    inner: T,
}

impl<T> CorioIo<T> {
    /// Wraps `io`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// # let l = corio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = corio::net::TcpStream::connect(l.local_addr()?).await?;
    /// let io = corio::hyper::CorioIo::new(stream); // ready for hyper's `serve_connection`
    /// # drop(io);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn new(io: T) -> CorioIo<T> {
        CorioIo { inner: io }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// # let l = corio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let io = corio::hyper::CorioIo::new(corio::net::TcpStream::connect(l.local_addr()?).await?);
    /// assert_eq!(io.inner().peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// let (a, mut b) = corio::net::UnixStream::pair()?;
    /// let mut io = corio::hyper::CorioIo::new(a);
    /// io.inner_mut().write_all(b"raw").await?;
    /// let mut buf = [0; 3];
    /// b.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"raw");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// let (a, _b) = corio::net::UnixStream::pair()?;
    /// let a: corio::net::UnixStream = corio::hyper::CorioIo::new(a).into_inner();
    /// # drop(a);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for CorioIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CorioIo").field(&self.inner).finish()
    }
}

impl<T: AsyncRead + Unpin + 'static> hyper::rt::Read for CorioIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let inner = &mut self.get_mut().inner;
        match corio_reader(inner) {
            Some(stream) => stream.poll_read_cursor(cx, buf),
            None => poll_read_zeroed(Pin::new(inner), cx, buf),
        }
    }
}

/// `io` as one of corio's own readable streams, if it is one.
fn corio_reader<T: 'static>(io: &T) -> Option<&dyn PollReadCursor> {
    let io: &dyn Any = io;
    if let Some(s) = io.downcast_ref::<TcpStream>() {
        Some(s)
    } else if let Some(s) = io.downcast_ref::<tcp::OwnedReadHalf>() {
        Some(s)
    } else if let Some(s) = io.downcast_ref::<UnixStream>() {
        Some(s)
    } else if let Some(s) = io.downcast_ref::<unix::OwnedReadHalf>() {
        Some(s)
    } else {
        None
    }
}

/// Whether `T` is one of corio's own writable streams (they write vectored).
fn is_corio_writer<T: 'static>() -> bool {
    let t = TypeId::of::<T>();
    t == TypeId::of::<TcpStream>()
        || t == TypeId::of::<tcp::OwnedWriteHalf>()
        || t == TypeId::of::<UnixStream>()
        || t == TypeId::of::<unix::OwnedWriteHalf>()
}

impl<T: AsyncWrite + Unpin + 'static> hyper::rt::Write for CorioIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        // futures-io cannot say whether a stream writes vectored; hyper then flattens.
        is_corio_writer::<T>()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// A futures-io stream that [`CorioIo`] treats as a plain futures-io stream even when it
/// is one of corio's own: reads zero-fill hyper's buffer and writes are not vectored.
/// [`CorioIo::new`] takes any futures-io stream directly; this wrapper only turns the
/// fast path for corio's streams off (to compare the two, or to test the generic path).
///
/// # Examples
///
/// ```
/// use corio::hyper::{CorioIo, FuturesIo};
/// # corio::run(async {
/// // Any futures-io type: here one of corio's streams, to keep the example short.
/// let (a, _b) = corio::net::UnixStream::pair()?;
/// let io = CorioIo::new(FuturesIo::new(a));
/// assert!(!hyper::rt::Write::is_write_vectored(&io));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct FuturesIo<T> {
    inner: T,
}

impl<T> FuturesIo<T> {
    /// Wraps a futures-io stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = corio::hyper::FuturesIo::new(futures::io::Cursor::new(Vec::<u8>::new()));
    /// # drop(io);
    /// ```
    pub fn new(io: T) -> FuturesIo<T> {
        FuturesIo { inner: io }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = corio::hyper::FuturesIo::new(futures::io::Cursor::new(vec![1u8]));
    /// assert_eq!(io.inner().get_ref(), &[1]);
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut io = corio::hyper::FuturesIo::new(futures::io::Cursor::new(vec![1u8]));
    /// io.inner_mut().get_mut().push(2);
    /// assert_eq!(io.inner().get_ref(), &[1, 2]);
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = corio::hyper::FuturesIo::new(futures::io::Cursor::new(vec![1u8]));
    /// assert_eq!(io.into_inner().into_inner(), vec![1]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for FuturesIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FuturesIo").field(&self.inner).finish()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for FuturesIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FuturesIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// hyper's `hyper::rt::Executor` on corio: each future hyper hands over (an HTTP/2
/// stream, a client connection's background work) becomes a detached corio task, run
/// with [`spawn`](crate::spawn) on the current runtime (hyper-util's `TokioExecutor`).
///
/// Must be used inside a corio runtime (hyper calls it from the connection's task).
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
/// # corio::run(async {
/// let (tx, rx) = corio::sync::oneshot::channel();
/// corio::hyper::CorioExecutor::new().execute(async move { tx.send(7).unwrap() });
/// assert_eq!(rx.await, Ok(7));
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CorioExecutor {
    _private: (),
}

impl CorioExecutor {
    /// An executor spawning onto the current corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use hyper::rt::Executor;
    /// # corio::run(async {
    /// let (tx, rx) = corio::sync::oneshot::channel();
    /// corio::hyper::CorioExecutor::new().execute(async move { tx.send("ran").unwrap() });
    /// assert_eq!(rx.await, Ok("ran"));
    /// # });
    /// ```
    pub fn new() -> CorioExecutor {
        CorioExecutor { _private: () }
    }
}

impl<F> hyper::rt::Executor<F> for CorioExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        // Dropping the handle detaches the task: it runs to completion on its own.
        drop(crate::spawn(fut));
    }
}

/// hyper's `hyper::rt::Timer` on corio's timers (hyper-util's `TokioTimer`): hyper's
/// sleeps are corio [`Sleep`](crate::Sleep)s, and `reset` moves a sleep's deadline in
/// place instead of allocating a new one.
///
/// # Examples
///
/// ```
/// use hyper::rt::Timer;
/// use std::time::{Duration, Instant};
/// # corio::run(async {
/// let timer = corio::hyper::CorioTimer::new();
/// let start = Instant::now();
/// let mut nap = timer.sleep(Duration::from_secs(3600));
/// timer.reset(&mut nap, Instant::now() + Duration::from_millis(5));
/// nap.await;
/// assert!(start.elapsed() < Duration::from_secs(3600));
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CorioTimer {
    _private: (),
}

impl CorioTimer {
    /// A timer on the current corio runtime's clock (bound when a sleep is first polled).
    ///
    /// # Examples
    ///
    /// ```
    /// use hyper::rt::Timer;
    /// use std::time::{Duration, Instant};
    /// # corio::run(async {
    /// let start = Instant::now();
    /// corio::hyper::CorioTimer::new().sleep(Duration::from_millis(10)).await;
    /// assert!(start.elapsed() >= Duration::from_millis(10));
    /// # });
    /// ```
    pub fn new() -> CorioTimer {
        CorioTimer { _private: () }
    }
}

impl hyper::rt::Timer for CorioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(CorioSleep {
            inner: crate::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(CorioSleep {
            inner: crate::sleep_until(deadline),
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<CorioSleep>() {
            Some(s) => s.get_mut().inner.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A corio [`Sleep`](crate::Sleep) as a `hyper::rt::Sleep` (`Send + Sync + Unpin`).
#[derive(Debug)]
struct CorioSleep {
    inner: crate::Sleep,
}

impl Future for CorioSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().inner).poll(cx)
    }
}

impl hyper::rt::Sleep for CorioSleep {}
