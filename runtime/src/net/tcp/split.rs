//! The owned halves of a [`TcpStream`]: [`OwnedReadHalf`] and [`OwnedWriteHalf`].

use std::fmt;
use std::io;
use std::net::{self, Shutdown, SocketAddr};
use std::sync::Arc;

use super::TcpStream;
use crate::driver::poll_evented::PollEvented;
use crate::net::stream::{self, impl_futures_io};

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// # use corio_runtime::net::{TcpListener, TcpStream};
/// # let l = TcpListener::bind("127.0.0.1:0").await?;
/// let (mut rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
/// let (mut s, _) = l.accept().await?;
/// s.write_all(b"z").await?;
/// let mut b = [0; 1];
/// assert_eq!(rd.read(&mut b).await?, 1);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping it closes
/// the write direction.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// # use corio_runtime::net::{TcpListener, TcpStream};
/// # let l = TcpListener::bind("127.0.0.1:0").await?;
/// let (_rd, wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
/// let (mut s, _) = l.accept().await?;
/// drop(wr); // closes the write direction
/// assert_eq!(s.read(&mut [0; 1]).await?, 0);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

impl OwnedReadHalf {
    /// Reads into `buf`; `Ok(0)` at EOF. See [`TcpStream::read`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (mut rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// drop(l.accept().await?); // the server side closes at once
    /// assert_eq!(rd.read(&mut [0; 8]).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        stream::read(self.io_ref(), buf).await
    }

    /// Reads exactly `buf.len()` bytes. See [`TcpStream::read_exact`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (mut rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// l.accept().await?.0.write_all(b"ab").await?;
    /// let mut b = [0; 2];
    /// rd.read_exact(&mut b).await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        stream::read_exact(self.io_ref(), buf).await
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert_eq!(rd.peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert!(rd.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedWriteHalf {
    /// Writes some of `buf`. See [`TcpStream::write`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert!(wr.write(b"abc").await? > 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        stream::write(self.io_ref(), buf).await
    }

    /// Writes all of `buf`. See [`TcpStream::write_all`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// wr.write_all(b"abc").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(self.io_ref(), buf).await
    }

    /// A no-op flush. See [`TcpStream::flush`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// wr.flush().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the write direction now. See [`TcpStream::shutdown`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// let (mut s, _) = l.accept().await?;
    /// wr.shutdown().await?;
    /// assert_eq!(s.read(&mut [0; 1]).await?, 0);
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
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert_eq!(wr.peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert!(wr.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Splits `stream` into its two halves ([`TcpStream::into_split`]).
pub(super) fn into_split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let inner = Arc::new(stream);
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

impl OwnedReadHalf {
    pub(crate) fn io_ref(&self) -> &PollEvented<net::TcpStream> {
        self.inner.io_ref()
    }
}

impl OwnedWriteHalf {
    fn io_ref(&self) -> &PollEvented<net::TcpStream> {
        self.inner.io_ref()
    }

    /// Closes the write direction now rather than on drop (`shutdown`, `poll_close`).
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown_on_drop = false;
        self.inner.io_ref().get_ref().shutdown(Shutdown::Write)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.io_ref().get_ref().shutdown(Shutdown::Write);
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

impl_futures_io!(AsyncRead for OwnedReadHalf);
impl_futures_io!(AsyncWrite for OwnedWriteHalf);
