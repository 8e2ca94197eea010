//! asyncio's datagram endpoints: [`create_datagram_endpoint`], [`DatagramProtocol`],
//! [`DatagramTransport`] — the UDP counterpart of [`create_server`](super::create_server).

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{self, SocketAddr};
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use super::addr::{resolve, ToSocketAddrs};
use crate::driver::poll_evented::PollEvented;
use crate::driver::Direction;
use crate::lazy;

/// Receive buffer size: larger than the largest UDP payload (65 507 bytes over IPv4,
/// 65 527 over IPv6), so no datagram is truncated.
const RECV_BUF: usize = 64 * 1024;

/// Callbacks for one datagram endpoint, asyncio's `asyncio.DatagramProtocol`.
///
/// Made once by the factory given to [`create_datagram_endpoint`]. Callbacks run one at
/// a time on the endpoint's task (except [`connection_made`](DatagramProtocol::connection_made),
/// which runs on the task that creates the endpoint, before it is returned):
/// `connection_made` once, then [`datagram_received`](DatagramProtocol::datagram_received)
/// and [`error_received`](DatagramProtocol::error_received) any number of times, then
/// [`connection_lost`](DatagramProtocol::connection_lost) exactly once. Callbacks are
/// synchronous: spawn a task (with a clone of the transport) for async work.
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use corio_runtime::net::{DatagramProtocol, DatagramTransport};
///
/// struct Echo;
/// impl DatagramProtocol for Echo {
///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, t: &DatagramTransport) {
///         let _ = t.sendto(data, Some(addr));
///     }
/// }
/// ```
pub trait DatagramProtocol: Send + 'static {
    /// The endpoint is ready; keep a clone of `transport` if needed later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use corio_runtime::net::{DatagramProtocol, DatagramTransport};
    /// struct Hello;
    /// impl DatagramProtocol for Hello {
    ///     fn connection_made(&mut self, transport: &DatagramTransport) {
    ///         let _ = transport.sendto(b"hello", None); // to the connected peer
    ///     }
    ///     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
    /// }
    /// ```
    fn connection_made(&mut self, transport: &DatagramTransport) {
        let _ = transport;
    }

    /// A datagram arrived from `addr` (one call per datagram, boundaries preserved).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use corio_runtime::net::{DatagramProtocol, DatagramTransport};
    /// struct Upper;
    /// impl DatagramProtocol for Upper {
    ///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, t: &DatagramTransport) {
    ///         let _ = t.sendto(&data.to_ascii_uppercase(), Some(addr));
    ///     }
    /// }
    /// ```
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, transport: &DatagramTransport);

    /// A send or receive failed (e.g. `ConnectionRefused` on a connected endpoint after the
    /// peer's host answered "port unreachable"). The endpoint stays open; a datagram whose
    /// send failed is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use corio_runtime::net::{DatagramProtocol, DatagramTransport};
    /// struct Logged;
    /// impl DatagramProtocol for Logged {
    ///     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
    ///     fn error_received(&mut self, error: std::io::Error) {
    ///         eprintln!("datagram error: {error}");
    ///     }
    /// }
    /// ```
    fn error_received(&mut self, error: io::Error) {
        let _ = error;
    }

    /// The endpoint is closed: `None` after [`close`](DatagramTransport::close) (once the
    /// buffered datagrams were sent) or [`abort`](DatagramTransport::abort), `Some(error)`
    /// if the endpoint's task ended for another reason (the runtime shut down). Called
    /// exactly once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use corio_runtime::net::{DatagramProtocol, DatagramTransport};
    /// struct Done;
    /// impl DatagramProtocol for Done {
    ///     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
    ///     fn connection_lost(&mut self, error: Option<std::io::Error>) {
    ///         assert!(error.is_none(), "closed by close()");
    ///     }
    /// }
    /// ```
    fn connection_lost(&mut self, error: Option<io::Error>) {
        let _ = error;
    }
}

/// The sending side of a datagram endpoint, asyncio's `DatagramTransport`.
///
/// `Clone + Send + Sync`. [`sendto`](DatagramTransport::sendto) never blocks: the
/// datagram is queued and sent, in order, by the endpoint's task. The endpoint runs until
/// [`close`](DatagramTransport::close) or [`abort`](DatagramTransport::abort) (dropping
/// every handle does not stop it, as in asyncio, where the event loop keeps it).
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use std::net::SocketAddr;
/// use corio_runtime::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport, UdpSocket};
/// struct Silent;
/// impl DatagramProtocol for Silent {
///     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
/// }
/// let peer = UdpSocket::bind("127.0.0.1:0").await?;
/// let t = create_datagram_endpoint(|| Silent, None, Some(peer.local_addr()?)).await?;
/// t.sendto(b"one", None)?;
/// t.sendto(b"two", None)?;
/// let mut buf = [0; 8];
/// assert_eq!(peer.recv(&mut buf).await?, 3);
/// assert_eq!(peer.recv(&mut buf).await?, 3);
/// t.close();
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct DatagramTransport {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    local: SocketAddr,
    peer: Option<SocketAddr>,
}

#[derive(Default)]
struct State {
    /// Datagrams queued by `sendto` and not yet sent, with their destination (`None`: the
    /// connected peer).
    queue: VecDeque<(Vec<u8>, Option<SocketAddr>)>,
    /// Payload bytes in `queue`.
    queued_bytes: usize,
    closing: bool,
    /// The endpoint's task, to be woken by `sendto`, `close` and `abort`.
    waker: Option<Waker>,
}

impl DatagramTransport {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self, mut st: MutexGuard<'_, State>) {
        let waker = st.waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Queues `data` as one datagram to `addr`, or to the connected peer if `addr` is
    /// `None`; never blocks (asyncio's `sendto(data, addr)`).
    ///
    /// Errors of the send itself (e.g. a datagram too large) go to
    /// [`DatagramProtocol::error_received`]. Once the transport is closing, datagrams are
    /// dropped silently, like [`Transport::write`](super::Transport::write).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `addr` is `None` on an endpoint without a remote address, or is
    /// another address than the connected peer's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use corio_runtime::net::{DatagramProtocol, DatagramTransport};
    /// struct Echo;
    /// impl DatagramProtocol for Echo {
    ///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, t: &DatagramTransport) {
    ///         t.sendto(data, Some(addr)).expect("an unconnected endpoint takes any address");
    ///     }
    /// }
    /// ```
    pub fn sendto(&self, data: &[u8], addr: Option<SocketAddr>) -> io::Result<()> {
        match (self.shared.peer, addr) {
            (Some(peer), Some(a)) if a != peer => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("invalid address {a}: this endpoint is connected to {peer}"),
                ))
            }
            (None, None) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "sendto needs an address: this endpoint has no remote address",
                ))
            }
            _ => {}
        }
        let mut st = self.lock();
        if st.closing {
            return Ok(());
        }
        let to = if self.shared.peer.is_some() {
            None
        } else {
            addr
        };
        st.queued_bytes += data.len();
        st.queue.push_back((data.to_vec(), to));
        self.wake(st);
        Ok(())
    }

    /// Closes the endpoint once the queued datagrams are sent; stops receiving at once.
    /// [`DatagramProtocol::connection_lost`] is then called with `None`. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use corio_runtime::net::{DatagramProtocol, DatagramTransport};
    /// struct OneShot;
    /// impl DatagramProtocol for OneShot {
    ///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, t: &DatagramTransport) {
    ///         let _ = t.sendto(data, Some(addr));
    ///         t.close(); // the reply is still sent
    ///         assert!(t.is_closing());
    ///     }
    /// }
    /// ```
    pub fn close(&self) {
        let mut st = self.lock();
        st.closing = true;
        self.wake(st);
    }

    /// Closes the endpoint at once, dropping the queued datagrams (asyncio's `abort()`);
    /// [`DatagramProtocol::connection_lost`] is then called with `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use std::net::SocketAddr;
    /// # use corio_runtime::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport};
    /// # struct P;
    /// # impl DatagramProtocol for P {
    /// #     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
    /// # }
    /// let t = create_datagram_endpoint(|| P, None, Some("127.0.0.1:9")).await?;
    /// t.sendto(b"never sent", None)?;
    /// t.abort();
    /// assert_eq!(t.get_write_buffer_size(), 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn abort(&self) {
        let mut st = self.lock();
        st.closing = true;
        st.queue.clear();
        st.queued_bytes = 0;
        self.wake(st);
    }

    /// True once [`close`](DatagramTransport::close) or [`abort`](DatagramTransport::abort)
    /// was called.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use std::net::SocketAddr;
    /// # use corio_runtime::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport};
    /// # struct P;
    /// # impl DatagramProtocol for P {
    /// #     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
    /// # }
    /// let t = create_datagram_endpoint(|| P, Some("127.0.0.1:0"), None).await?;
    /// assert!(!t.is_closing());
    /// t.close();
    /// assert!(t.is_closing());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn is_closing(&self) -> bool {
        self.lock().closing
    }

    /// The endpoint's local address (asyncio's `get_extra_info('sockname')`).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use std::net::SocketAddr;
    /// # use corio_runtime::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport};
    /// # struct P;
    /// # impl DatagramProtocol for P {
    /// #     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
    /// # }
    /// let t = create_datagram_endpoint(|| P, Some("127.0.0.1:0"), None).await?;
    /// assert_ne!(t.local_addr().port(), 0);
    /// # t.close();
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// The connected peer (the `remote_addr` given to [`create_datagram_endpoint`]), or
    /// `None` (asyncio's `get_extra_info('peername')`).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use std::net::SocketAddr;
    /// # use corio_runtime::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport};
    /// # struct P;
    /// # impl DatagramProtocol for P {
    /// #     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
    /// # }
    /// let t = create_datagram_endpoint(|| P, None, Some("127.0.0.1:9")).await?;
    /// assert_eq!(t.peer_addr(), Some("127.0.0.1:9".parse().unwrap()));
    /// # t.close();
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.shared.peer
    }

    /// Payload bytes queued by [`sendto`](DatagramTransport::sendto) and not yet sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use std::net::SocketAddr;
    /// # use corio_runtime::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport};
    /// # struct P;
    /// # impl DatagramProtocol for P {
    /// #     fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
    /// # }
    /// let t = create_datagram_endpoint(|| P, None, Some("127.0.0.1:9")).await?;
    /// t.sendto(b"12345", None)?; // queued; the endpoint's task has not run yet
    /// assert!(t.get_write_buffer_size() <= 5);
    /// # t.close();
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn get_write_buffer_size(&self) -> usize {
        self.lock().queued_bytes
    }
}

impl fmt::Debug for DatagramTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramTransport")
            .field("local", &self.shared.local)
            .field("peer", &self.shared.peer)
            .field("closing", &self.is_closing())
            .finish()
    }
}

/// Creates a UDP endpoint served by a protocol from `factory`, asyncio's
/// `loop.create_datagram_endpoint(protocol_factory, local_addr, remote_addr)`.
///
/// `local_addr`: the address to bind (port 0 picks a free port); if `None`, an ephemeral
/// port on the unspecified address of `remote_addr`'s family. `remote_addr`: if given, the
/// socket is connected to it: only its datagrams are received, `sendto(data, None)`
/// sends to it, and errors such as "port unreachable" reach
/// [`DatagramProtocol::error_received`]. One of the two is required (`InvalidInput`
/// otherwise, as asyncio refuses it without an address family).
///
/// [`DatagramProtocol::connection_made`] runs before the transport is returned; the
/// endpoint then runs as a task of the runtime that awaited this future until
/// [`DatagramTransport::close`]. Like every corio future it is lazy: building it binds
/// nothing (and does not call `factory`).
///
/// # Panics
///
/// Polling the future outside a corio runtime panics before any socket is created; the
/// message names `create_datagram_endpoint` and the line that called it.
///
/// # Examples
///
/// A UDP echo server and a client talking to it:
///
/// ```
/// # corio_runtime::run(async {
/// use std::net::SocketAddr;
/// use corio_runtime::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport};
///
/// struct Echo;
/// impl DatagramProtocol for Echo {
///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, t: &DatagramTransport) {
///         let _ = t.sendto(data, Some(addr));
///     }
/// }
/// struct Client(Option<corio_sync::oneshot::Sender<Vec<u8>>>);
/// impl DatagramProtocol for Client {
///     fn datagram_received(&mut self, data: &[u8], _: SocketAddr, t: &DatagramTransport) {
///         if let Some(tx) = self.0.take() {
///             let _ = tx.send(data.to_vec());
///         }
///         t.close();
///     }
/// }
///
/// let server = create_datagram_endpoint(|| Echo, Some("127.0.0.1:0"), None).await?;
/// let (tx, rx) = corio_sync::oneshot::channel();
/// let client =
///     create_datagram_endpoint(move || Client(Some(tx)), None, Some(server.local_addr())).await?;
/// client.sendto(b"Hello World!", None)?;
/// assert_eq!(rx.await.unwrap(), b"Hello World!");
/// server.close();
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn create_datagram_endpoint<P, F, A>(
    factory: F,
    local_addr: Option<A>,
    remote_addr: Option<A>,
) -> impl Future<Output = io::Result<DatagramTransport>>
where
    P: DatagramProtocol,
    F: FnOnce() -> P,
    A: ToSocketAddrs,
{
    let created = Location::caller();
    async move {
        const WHAT: &str = "corio::net::create_datagram_endpoint";
        let handle = lazy::handle(WHAT, created);
        let driver = lazy::driver(WHAT, created);
        let remote = match remote_addr {
            Some(a) => Some(resolve(a).await?),
            None => None,
        };
        let locals = match (local_addr, &remote) {
            (Some(a), _) => resolve(a).await?,
            (None, Some(r)) => {
                let any = |a: &SocketAddr| -> SocketAddr {
                    if a.is_ipv4() {
                        (net::Ipv4Addr::UNSPECIFIED, 0).into()
                    } else {
                        (net::Ipv6Addr::UNSPECIFIED, 0).into()
                    }
                };
                let mut v: Vec<SocketAddr> = r.iter().map(any).collect();
                v.dedup();
                v
            }
            (None, None) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "create_datagram_endpoint needs local_addr or remote_addr",
                ))
            }
        };
        let (socket, peer) = bind_and_connect(&locals, remote.as_deref())?;
        socket.set_nonblocking(true)?;
        let local = socket.local_addr()?;
        let io = PollEvented::with_driver(driver, socket)?;
        let transport = DatagramTransport {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                local,
                peer,
            }),
        };
        let mut proto = factory();
        proto.connection_made(&transport);
        drop(handle.spawn(run_endpoint(io, proto, transport.clone())));
        Ok(transport)
    }
}

/// Binds the first local address that works and connects it to the first remote address
/// of the same family; the last error if none does.
fn bind_and_connect(
    locals: &[SocketAddr],
    remotes: Option<&[SocketAddr]>,
) -> io::Result<(net::UdpSocket, Option<SocketAddr>)> {
    let mut last = None;
    for local in locals {
        let socket = match net::UdpSocket::bind(local) {
            Ok(s) => s,
            Err(e) => {
                last = Some(e);
                continue;
            }
        };
        let Some(remotes) = remotes else {
            return Ok((socket, None));
        };
        for remote in remotes.iter().filter(|r| r.is_ipv4() == local.is_ipv4()) {
            match socket.connect(remote) {
                Ok(()) => return Ok((socket, Some(*remote))),
                Err(e) => last = Some(e),
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "local_addr and remote_addr have no address family in common",
        )
    }))
}

/// What the endpoint's task does next.
enum Step {
    Received(usize, SocketAddr),
    Error(io::Error),
    Closed,
    /// The runtime shut down under the endpoint.
    Lost(io::Error),
}

/// Calls `connection_lost` exactly once, even if the endpoint's task is dropped.
struct Lifecycle<P: DatagramProtocol> {
    proto: P,
    lost: bool,
}

impl<P: DatagramProtocol> Lifecycle<P> {
    fn lost(&mut self, error: Option<io::Error>) {
        if !self.lost {
            self.lost = true;
            self.proto.connection_lost(error);
        }
    }
}

impl<P: DatagramProtocol> Drop for Lifecycle<P> {
    fn drop(&mut self) {
        if !self.lost && !std::thread::panicking() {
            self.lost(Some(io::Error::other(
                "datagram endpoint task dropped (runtime shut down)",
            )));
        }
    }
}

/// The endpoint's task: sends what `sendto` queued, in order, and hands received
/// datagrams and errors to the protocol, until closed.
async fn run_endpoint<P: DatagramProtocol>(
    io: PollEvented<net::UdpSocket>,
    proto: P,
    transport: DatagramTransport,
) {
    let mut life = Lifecycle { proto, lost: false };
    let mut rbuf = vec![0u8; RECV_BUF];
    let result = loop {
        let step = poll_fn(|cx| {
            // Send the queued datagrams. The datagram stays queued until its send
            // completes, so the lock is not held across the poll of the next one.
            loop {
                let mut st = transport.lock();
                let Some((data, to)) = st.queue.front() else {
                    if st.closing {
                        return Poll::Ready(Step::Closed);
                    }
                    if !st.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        st.waker = Some(cx.waker().clone());
                    }
                    break;
                };
                let sent = io.poll_io(cx, Direction::Write, |s| match to {
                    Some(a) => s.send_to(data, a),
                    None => s.send(data),
                });
                match sent {
                    Poll::Pending => {
                        // Wake also on `close`/`abort`, while waiting for writability.
                        st.waker = Some(cx.waker().clone());
                        break;
                    }
                    Poll::Ready(r) => {
                        let (data, _) = st.queue.pop_front().expect("front was Some");
                        st.queued_bytes -= data.len();
                        drop(st);
                        if let Err(e) = r {
                            if io.driver().is_shutdown() {
                                return Poll::Ready(Step::Lost(e));
                            }
                            return Poll::Ready(Step::Error(e));
                        }
                    }
                }
            }
            if transport.is_closing() {
                // `abort` emptied the queue after the check above, or `close` waits for
                // the queue to drain (a send is pending).
                return if transport.lock().queue.is_empty() {
                    Poll::Ready(Step::Closed)
                } else {
                    Poll::Pending
                };
            }
            match io.poll_io(cx, Direction::Read, |s| s.recv_from(&mut rbuf)) {
                Poll::Ready(Ok((n, from))) => Poll::Ready(Step::Received(n, from)),
                Poll::Ready(Err(e)) if io.driver().is_shutdown() => Poll::Ready(Step::Lost(e)),
                Poll::Ready(Err(e)) => Poll::Ready(Step::Error(e)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        match step {
            Step::Received(n, from) => life.proto.datagram_received(&rbuf[..n], from, &transport),
            Step::Error(e) => life.proto.error_received(e),
            Step::Closed => break None,
            Step::Lost(e) => break Some(e),
        }
    };
    {
        let mut st = transport.lock();
        st.closing = true;
        st.queue.clear();
        st.queued_bytes = 0;
        st.waker = None;
    }
    drop(io);
    life.lost(result);
}
