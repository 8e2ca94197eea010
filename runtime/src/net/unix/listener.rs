//! The Unix listener: [`UnixListener`] binds a path, accepts and hands out [`UnixStream`]s.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::panic::Location;
use std::path::Path;
use std::task::{Context, Poll};

use super::UnixStream;
use crate::driver::poll_evented::PollEvented;
use crate::driver::Direction;
use crate::lazy;

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

crate::net::impl_as_fd!(UnixListener);

impl UnixListener {
    /// Binds a listener to the filesystem `path` (which must not exist yet: `AddrInUse`).
    ///
    /// Lazy: nothing happens until the future is awaited; the listener belongs to the
    /// runtime that first polls the future.
    ///
    /// # Panics
    ///
    /// Polling the future outside a corio runtime panics before any socket is created;
    /// the message names the line that called `bind`. Building it never panics.
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
    #[track_caller]
    pub fn bind<P: AsRef<Path>>(path: P) -> impl Future<Output = io::Result<UnixListener>> {
        let created = Location::caller();
        async move {
            let driver = lazy::driver("corio::net::UnixListener::bind", created);
            let listener = net::UnixListener::bind(path)?;
            listener.set_nonblocking(true)?;
            Ok(UnixListener {
                io: PollEvented::with_driver(driver, listener)?,
            })
        }
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
            io: PollEvented::new(listener, "corio::net::UnixListener::from_std")?,
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
        // The connection belongs to the listener's runtime, whoever polls.
        let io = PollEvented::with_driver(self.io.driver().clone(), s)?;
        Poll::Ready(Ok((UnixStream::from_evented(io), addr)))
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
