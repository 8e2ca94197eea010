//! The owned halves of a [`UnixStream`]: [`OwnedReadHalf`] and [`OwnedWriteHalf`].

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net;
use std::sync::Arc;

use super::UnixStream;
use crate::driver::poll_evented::PollEvented;
use crate::net::stream::{self, impl_futures_io};

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
        stream::read(self.io_ref(), buf).await
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
        stream::read_exact(self.io_ref(), buf).await
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
        stream::write(self.io_ref(), buf).await
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
        stream::write_all(self.io_ref(), buf).await
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
        self.shutdown_write()
    }
}

/// Splits `stream` into its two halves ([`UnixStream::into_split`]).
pub(super) fn into_split(stream: UnixStream) -> (OwnedReadHalf, OwnedWriteHalf) {
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
    pub(crate) fn io_ref(&self) -> &PollEvented<net::UnixStream> {
        self.inner.io_ref()
    }
}

impl OwnedWriteHalf {
    fn io_ref(&self) -> &PollEvented<net::UnixStream> {
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
