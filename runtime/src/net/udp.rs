//! UDP: [`UdpSocket`].

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{self, SocketAddr};
use std::panic::Location;
use std::task::{Context, Poll};

use super::addr::{each_addr, resolve, ToSocketAddrs};
use crate::driver::poll_evented::PollEvented;
use crate::driver::Direction;
use crate::lazy;

/// A UDP socket. Methods take `&self`, so one socket can be shared (e.g. in an `Arc`)
/// by a sending and a receiving task.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::UdpSocket;
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UdpSocket {
    io: PollEvented<net::UdpSocket>,
}

crate::net::impl_as_fd!(UdpSocket);

impl UdpSocket {
    /// Binds a socket to `addr` (the first address that binds wins).
    ///
    /// Lazy: nothing happens until the future is awaited; the socket belongs to the
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
    /// let s = corio_runtime::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert_ne!(s.local_addr()?.port(), 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn bind<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<UdpSocket>> {
        let created = Location::caller();
        async move {
            let driver = lazy::driver("corio::net::UdpSocket::bind", created);
            let socket = each_addr(addr, |a| async move { net::UdpSocket::bind(a) }).await?;
            socket.set_nonblocking(true)?;
            Ok(UdpSocket {
                io: PollEvented::with_driver(driver, socket)?,
            })
        }
    }

    /// Wraps a std socket, switching it to non-blocking mode.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let std_s = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let s = corio_runtime::net::UdpSocket::from_std(std_s)?;
    /// # drop(s);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollEvented::new(socket, "corio::net::UdpSocket::from_std")?,
        })
    }

    /// Deregisters the socket and returns the std one (still non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let s = corio_runtime::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let addr = s.local_addr()?;
    /// assert_eq!(s.into_std()?.local_addr()?, addr);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// Sends a datagram to `target`; returns the bytes sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// assert_eq!(a.send_to(b"hey", b.local_addr()?).await?, 3);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(target).await?[0];
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Polls to send a datagram to `target`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let to = a.local_addr()?;
    /// std::future::poll_fn(|cx| a.poll_send_to(cx, b"me", to)).await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
    }

    /// Receives a datagram: its length and sender. A datagram longer than `buf` is
    /// truncated.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.send_to(b"self", a.local_addr()?).await?;
    /// let mut buf = [0; 8];
    /// let (n, from) = a.recv_from(&mut buf).await?;
    /// assert_eq!((n, from), (4, a.local_addr()?));
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls to receive a datagram.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.send_to(b"x", a.local_addr()?).await?;
    /// let mut buf = [0; 8];
    /// let (n, _) = std::future::poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
    /// assert_eq!(n, 1);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }

    /// Sets the default peer for [`send`](UdpSocket::send) and filters
    /// [`recv`](UdpSocket::recv) to datagrams from it. Tries each resolved address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// assert_eq!(a.peer_addr()?, b.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let s = self.io.get_ref();
        each_addr(addr, |a| async move { s.connect(a) }).await
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// b.connect(a.local_addr()?).await?;
    /// a.send(b"hi").await?;
    /// let mut buf = [0; 4];
    /// assert_eq!(b.recv(&mut buf).await?, 2);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Write, |s| s.send(buf))).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(a.local_addr()?).await?;
    /// a.send(b"loop").await?;
    /// let mut buf = [0; 8];
    /// assert_eq!(a.recv(&mut buf).await?, 4);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))).await
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let s = corio_runtime::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert!(s.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` before [`connect`](UdpSocket::connect)).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let s = corio_runtime::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert_eq!(s.peer_addr().unwrap_err().kind(), std::io::ErrorKind::NotConnected);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
