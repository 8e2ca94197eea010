//! The Unix stream connection: [`UnixStream`], its connect, reads and writes.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::panic::Location;
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use super::split::{self, OwnedReadHalf, OwnedWriteHalf};
use crate::driver::poll_evented::PollEvented;
use crate::lazy;
use crate::net::stream::{self, impl_futures_io};

/// A Unix stream connection. `Send + Sync + Unpin`; implements `futures_io::AsyncRead`
/// and `AsyncWrite`.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// let (mut a, mut b) = corio_runtime::net::UnixStream::pair()?;
/// a.write_all(b"ok").await?;
/// let mut buf = [0; 2];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ok");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixStream {
    io: PollEvented<net::UnixStream>,
}

crate::net::impl_as_fd!(UnixStream);

impl UnixStream {
    /// Connects to the socket at `path` (non-blocking connect).
    ///
    /// Errors: `NotFound` if nothing is at `path`, `ConnectionRefused` if nobody listens.
    ///
    /// Lazy: nothing happens until the future is awaited; the stream belongs to the
    /// runtime that first polls the future.
    ///
    /// # Panics
    ///
    /// Polling the future outside a corio runtime panics before any socket is created;
    /// the message names the line that called `connect`. Building it never panics.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let err = corio_runtime::net::UnixStream::connect("/nonexistent/corio.sock").await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn connect<P: AsRef<Path>>(path: P) -> impl Future<Output = io::Result<UnixStream>> {
        let created = Location::caller();
        async move {
            let driver = lazy::driver("corio::net::UnixStream::connect", created);
            let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
            socket.set_nonblocking(true)?;
            let res = socket.connect(&SockAddr::unix(path)?);
            let std_stream: net::UnixStream = socket.into();
            let e = match res {
                Ok(()) => {
                    return Ok(UnixStream {
                        io: PollEvented::with_driver(driver, std_stream)?,
                    })
                }
                Err(e)
                    if e.kind() != io::ErrorKind::WouldBlock
                        && e.raw_os_error() != in_progress() =>
                {
                    return Err(e)
                }
                Err(e) => e,
            };
            let io = PollEvented::new_connecting(driver, std_stream)?;
            stream::finish_connect(&io, e, |s| s.take_error(), |s| s.peer_addr().is_ok()).await?;
            Ok(UnixStream { io })
        }
    }

    /// A connected pair of streams (`socketpair`).
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (mut a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// b.write_all(b"x").await?;
    /// assert_eq!(a.read(&mut [0; 1]).await?, 1);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        const WHAT: &str = "corio::net::UnixStream::pair";
        Ok((
            UnixStream::from_std_named(a, WHAT)?,
            UnixStream::from_std_named(b, WHAT)?,
        ))
    }

    /// Wraps a connected std stream, switching it to non-blocking mode.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = corio_runtime::net::UnixStream::from_std(a)?;
    /// # drop(a);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std_named(stream, "corio::net::UnixStream::from_std")
    }

    /// [`UnixStream::from_std`], naming `what` in the panic outside a runtime.
    #[track_caller]
    fn from_std_named(stream: net::UnixStream, what: &str) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            io: PollEvented::new(stream, what)?,
        })
    }

    /// Deregisters the stream and returns the std one (still non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// let std_a = a.into_std()?;
    /// std_a.set_nonblocking(false)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// Reads into `buf`; `Ok(0)` at EOF.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (mut a, b) = corio_runtime::net::UnixStream::pair()?;
    /// drop(b);
    /// assert_eq!(a.read(&mut [0; 4]).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        stream::read(&self.io, buf).await
    }

    /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the stream ends first.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (mut a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// b.write_all(b"abc").await?;
    /// let mut buf = [0; 3];
    /// a.read_exact(&mut buf).await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        stream::read_exact(&self.io, buf).await
    }

    /// Writes some of `buf`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (_a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// assert_eq!(b.write(b"abc").await?, 3);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        stream::write(&self.io, buf).await
    }

    /// Writes all of `buf`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (_a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// b.write_all(b"abc").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(&self.io, buf).await
    }

    /// A no-op flush (writes go straight to the kernel).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (_a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// b.flush().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the write half; the peer reads EOF.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (mut a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// b.shutdown().await?;
    /// assert_eq!(a.read(&mut [0; 1]).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.shutdown_write()
    }

    /// The peer's address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// assert!(a.peer_addr()?.is_unnamed());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// assert!(a.local_addr()?.is_unnamed());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Splits the stream into a read half and a write half that can move to different
    /// tasks. Dropping the write half closes the write direction.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// let (mut rd, mut wr) = a.into_split();
    /// wr.write_all(b"to b").await?;
    /// let mut buf = [0; 4];
    /// b.read_exact(&mut buf).await?;
    /// b.write_all(b"to a").await?;
    /// rd.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"to a");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

/// `EINPROGRESS` (std has no stable `ErrorKind` for it). Unix-domain sockets on Linux
/// report `EAGAIN` (`WouldBlock`) when the backlog is full instead; BSDs may report
/// `EINPROGRESS`.
fn in_progress() -> Option<i32> {
    Some(rustix::io::Errno::INPROGRESS.raw_os_error())
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

impl UnixStream {
    /// A stream around an already registered socket (an accepted connection).
    pub(super) fn from_evented(io: PollEvented<net::UnixStream>) -> UnixStream {
        UnixStream { io }
    }

    pub(crate) fn io_ref(&self) -> &PollEvented<net::UnixStream> {
        &self.io
    }

    /// Closes the write direction (`shutdown`, `AsyncWrite::poll_close`).
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)
    }
}

impl_futures_io!(AsyncRead for UnixStream);
impl_futures_io!(AsyncWrite for UnixStream);
