//! Unix domain sockets: [`UnixListener`] and [`UnixStream`].

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use socket2::{Domain, SockAddr, Socket, Type};

use super::stream;
use crate::driver::poll_evented::PollEvented;
use crate::driver::Direction;

/// A Unix stream socket server.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{UnixListener, UnixStream};
/// let dir = std::env::temp_dir().join(format!("corio-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("listener.sock");
/// # let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path).await?;
/// let mut client = UnixStream::connect(&path).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// server.read_exact(&mut buf).await?;
/// # std::fs::remove_file(&path)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to the filesystem `path` (which must not exist yet: `AddrInUse`).
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let path = std::env::temp_dir().join(format!("corio-doc-bind-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let l = corio_runtime::net::UnixListener::bind(&path).await?;
    /// let again = corio_runtime::net::UnixListener::bind(&path).await.unwrap_err();
    /// assert_eq!(again.kind(), std::io::ErrorKind::AddrInUse);
    /// # drop(l); std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::from_std(net::UnixListener::bind(path)?)
    }

    /// Wraps a std listener, switching it to non-blocking mode.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let path = std::env::temp_dir().join(format!("corio-doc-fs-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let std_l = std::os::unix::net::UnixListener::bind(&path)?;
    /// let l = corio_runtime::net::UnixListener::from_std(std_l)?;
    /// # drop(l); std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(listener, "corio::net::UnixListener")?,
        })
    }

    /// Deregisters the listener and returns the std one (still non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let path = std::env::temp_dir().join(format!("corio-doc-is-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let l = corio_runtime::net::UnixListener::bind(&path).await?;
    /// let std_l = l.into_std()?;
    /// # drop(std_l); std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// Accepts a connection.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{UnixListener, UnixStream};
    /// let path = std::env::temp_dir().join(format!("corio-doc-acc-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let l = UnixListener::bind(&path).await?;
    /// let _c = UnixStream::connect(&path).await?;
    /// let (_s, _addr) = l.accept().await?;
    /// # std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for an incoming connection.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{UnixListener, UnixStream};
    /// let path = std::env::temp_dir().join(format!("corio-doc-pa-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let l = UnixListener::bind(&path).await?;
    /// let _c = UnixStream::connect(&path).await?;
    /// let (_s, _addr) = std::future::poll_fn(|cx| l.poll_accept(cx)).await?;
    /// # std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (s, addr) = std::task::ready!(self.io.poll_io(cx, Direction::Read, |l| l.accept()))?;
        s.set_nonblocking(true)?;
        let io = PollEvented::new(s, "corio::net::UnixListener::accept")?;
        Poll::Ready(Ok((UnixStream { io }, addr)))
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let path = std::env::temp_dir().join(format!("corio-doc-la-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let l = corio_runtime::net::UnixListener::bind(&path).await?;
    /// assert_eq!(l.local_addr()?.as_pathname(), Some(path.as_path()));
    /// # std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

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

impl UnixStream {
    /// Connects to the socket at `path` (non-blocking connect).
    ///
    /// Errors: `NotFound` if nothing is at `path`, `ConnectionRefused` if nobody listens.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let err = corio_runtime::net::UnixStream::connect("/nonexistent/corio.sock").await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        let res = socket.connect(&SockAddr::unix(path)?);
        let std_stream: net::UnixStream = socket.into();
        const WHAT: &str = "corio::net::UnixStream::connect";
        let e = match res {
            Ok(()) => {
                return Ok(UnixStream {
                    io: PollEvented::new(std_stream, WHAT)?,
                })
            }
            Err(e)
                if e.kind() != io::ErrorKind::WouldBlock && e.raw_os_error() != in_progress() =>
            {
                return Err(e)
            }
            Err(e) => e,
        };
        let io = PollEvented::new_connecting(std_stream, WHAT)?;
        stream::finish_connect(&io, e, |s| s.take_error(), |s| s.peer_addr().is_ok()).await?;
        Ok(UnixStream { io })
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
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
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
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            io: PollEvented::new(stream, "corio::net::UnixStream")?,
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
        self.io.get_ref().shutdown(Shutdown::Write)
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
        let inner = Arc::new(self);
        (
            OwnedReadHalf {
                inner: inner.clone(),
            },
            OwnedWriteHalf {
                inner,
                shutdown_on_drop: true,
            },
        )
    }
}

/// The read half of a [`UnixStream`], from [`UnixStream::into_split`].
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// let (a, mut b) = corio_runtime::net::UnixStream::pair()?;
/// let (mut rd, _wr) = a.into_split();
/// b.write_all(b"x").await?;
/// assert_eq!(rd.read(&mut [0; 1]).await?, 1);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct OwnedReadHalf {
    inner: Arc<UnixStream>,
}

/// The write half of a [`UnixStream`], from [`UnixStream::into_split`]. Dropping it
/// closes the write direction.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// let (a, mut b) = corio_runtime::net::UnixStream::pair()?;
/// let (_rd, wr) = a.into_split();
/// drop(wr);
/// assert_eq!(b.read(&mut [0; 1]).await?, 0);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct OwnedWriteHalf {
    inner: Arc<UnixStream>,
    shutdown_on_drop: bool,
}

impl OwnedReadHalf {
    /// Reads into `buf`; `Ok(0)` at EOF.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, b) = corio_runtime::net::UnixStream::pair()?;
    /// let (mut rd, _wr) = a.into_split();
    /// drop(b);
    /// assert_eq!(rd.read(&mut [0; 1]).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        stream::read(&self.inner.io, buf).await
    }

    /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the stream ends first.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// let (mut rd, _wr) = a.into_split();
    /// b.write_all(b"ab").await?;
    /// let mut buf = [0; 2];
    /// rd.read_exact(&mut buf).await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        stream::read_exact(&self.inner.io, buf).await
    }
}

impl OwnedWriteHalf {
    /// Writes some of `buf`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// let (_rd, mut wr) = a.into_split();
    /// assert_eq!(wr.write(b"abc").await?, 3);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        stream::write(&self.inner.io, buf).await
    }

    /// Writes all of `buf`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// let (_rd, mut wr) = a.into_split();
    /// wr.write_all(b"abc").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(&self.inner.io, buf).await
    }

    /// A no-op flush.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// let (_rd, mut wr) = a.into_split();
    /// wr.flush().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the write direction now.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let (a, mut b) = corio_runtime::net::UnixStream::pair()?;
    /// let (_rd, mut wr) = a.into_split();
    /// wr.shutdown().await?;
    /// assert_eq!(b.read(&mut [0; 1]).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.shutdown_on_drop = false;
        self.inner.io.get_ref().shutdown(Shutdown::Write)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.io.get_ref().shutdown(Shutdown::Write);
        }
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&*self.inner).finish()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&*self.inner).finish()
    }
}

impl futures_io::AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.inner.io, cx, buf)
    }
}

impl futures_io::AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.inner.io, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shutdown_on_drop = false;
        Poll::Ready(self.inner.io.get_ref().shutdown(Shutdown::Write))
    }
}

/// `EINPROGRESS` on this OS (std has no stable `ErrorKind` for it and corio-runtime does
/// not depend on libc). Unix-domain sockets on Linux report `EAGAIN` (`WouldBlock`) when
/// the backlog is full instead; BSDs may report `EINPROGRESS`.
fn in_progress() -> Option<i32> {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        Some(115)
    } else if cfg!(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    )) {
        Some(36)
    } else {
        None
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

impl futures_io::AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.io, cx, buf)
    }
}

impl futures_io::AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.io, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(&self.io, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.io.get_ref().shutdown(Shutdown::Write))
    }
}
