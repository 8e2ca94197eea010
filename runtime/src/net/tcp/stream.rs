//! The TCP connection: [`TcpStream`], its connect, reads and writes.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{self, Shutdown, SocketAddr};
use std::panic::Location;

use socket2::{Domain, Protocol, Socket, Type};

use super::split::{self, OwnedReadHalf, OwnedWriteHalf};
use crate::driver::poll_evented::PollEvented;
use crate::driver::Driver;
use crate::lazy;
use crate::loom::Arc;
use crate::net::addr::{each_addr, ToSocketAddrs};
use crate::net::stream::{self, impl_futures_io};

/// A TCP connection. `Send + Sync + Unpin`; implements `futures_io::AsyncRead` and
/// `AsyncWrite`.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{TcpListener, TcpStream};
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = TcpStream::connect(listener.local_addr()?).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpStream {
    io: PollEvented<net::TcpStream>,
}

crate::net::impl_as_fd!(TcpStream);

impl TcpStream {
    /// Opens a connection to `addr` (non-blocking connect; host names are resolved off the
    /// workers). With several addresses, each is tried in turn.
    ///
    /// Errors: `ConnectionRefused` when nobody listens, and whatever else the OS reports.
    ///
    /// Lazy: nothing happens until the future is awaited, so
    /// `rt.block_on(TcpStream::connect(addr))` works; the stream belongs to the runtime
    /// that first polls the future.
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
    /// use corio_runtime::net::{TcpListener, TcpStream};
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// let stream = TcpStream::connect(addr).await?;
    /// assert_eq!(stream.peer_addr()?, addr);
    /// drop(listener);
    /// let err = TcpStream::connect(addr).await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn connect<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpStream>> {
        let created = Location::caller();
        async move {
            let driver = lazy::driver("corio::net::TcpStream::connect", created);
            each_addr(addr, |a| connect_addr(driver.clone(), a)).await
        }
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
    /// let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let s = std::net::TcpStream::connect(l.local_addr()?)?;
    /// let s = corio_runtime::net::TcpStream::from_std(s)?;
    /// assert_eq!(s.peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            io: PollEvented::new(stream, "corio::net::TcpStream::from_std")?,
        })
    }

    /// Deregisters the stream and returns the std one (still non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let s = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// let std_s = s.into_std()?;
    /// std_s.set_nonblocking(false)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// Reads into `buf`; `Ok(0)` means the peer closed its write half (EOF).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let (mut s, _) = l.accept().await?;
    /// s.write_all(b"hi").await?;
    /// drop(s);
    /// let mut buf = [0; 8];
    /// assert_eq!(c.read(&mut buf).await?, 2);
    /// assert_eq!(c.read(&mut buf).await?, 0); // EOF
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
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let (mut s, _) = l.accept().await?;
    /// s.write_all(b"abc").await?;
    /// let mut buf = [0; 3];
    /// c.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"abc");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        stream::read_exact(&self.io, buf).await
    }

    /// Writes some of `buf`, returning how many bytes were written.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let n = c.write(b"hello").await?;
    /// assert!(n > 0);
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
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// c.write_all(b"hello").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(&self.io, buf).await
    }

    /// Flushes: a no-op (writes go straight to the kernel), kept for asyncio's `drain`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// c.write_all(b"x").await?;
    /// c.flush().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the write half: the peer reads EOF; reading from this side still works.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let (mut s, _) = l.accept().await?;
    /// c.shutdown().await?;
    /// assert_eq!(s.read(&mut [0; 4]).await?, 0);
    /// s.write_all(b"still open").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.shutdown_write()
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let c = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// assert_eq!(c.peer_addr()?, l.local_addr()?);
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
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let c = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// assert!(c.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let c = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// c.set_nodelay(true)?;
    /// assert!(c.nodelay()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let c = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// c.set_nodelay(false)?;
    /// assert!(!c.nodelay()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Splits the stream into a read half and a write half that can move to different
    /// tasks. Dropping the write half closes the write direction (like [`shutdown`]).
    ///
    /// [`shutdown`]: TcpStream::shutdown
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let c = TcpStream::connect(l.local_addr()?).await?;
    /// let (mut s, _) = l.accept().await?;
    /// let (mut rd, mut wr) = c.into_split();
    /// wr.write_all(b"x").await?;
    /// let mut b = [0; 1];
    /// s.read_exact(&mut b).await?;
    /// s.write_all(b"y").await?;
    /// rd.read_exact(&mut b).await?;
    /// assert_eq!(&b, b"y");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

impl TcpStream {
    /// A stream around an already registered socket (an accepted connection).
    pub(super) fn from_evented(io: PollEvented<net::TcpStream>) -> TcpStream {
        TcpStream { io }
    }

    pub(crate) fn io_ref(&self) -> &PollEvented<net::TcpStream> {
        &self.io
    }

    /// Closes the write direction (`shutdown`, `AsyncWrite::poll_close`).
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)
    }
}

async fn connect_addr(driver: Arc<Driver>, addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    let res = socket.connect(&addr.into());
    let std_stream: net::TcpStream = socket.into();
    let io = if res.is_ok() {
        PollEvented::with_driver(driver, std_stream)?
    } else {
        PollEvented::new_connecting(driver, std_stream)?
    };
    if let Err(e) = res {
        stream::finish_connect(&io, e, |s| s.take_error(), |s| s.peer_addr().is_ok()).await?;
    }
    Ok(TcpStream { io })
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

impl_futures_io!(AsyncRead for TcpStream);
impl_futures_io!(AsyncWrite for TcpStream);
