//! [`StreamWriter`]: asyncio's writer; `write` never waits, a flusher task sends the rest.
//!
//! `write` first tries the socket directly when nothing is queued (the common case: the
//! kernel takes it all and no task is involved). What the kernel does not take is
//! queued, and a flusher task is spawned that sends the queue as the socket becomes
//! writable, then carries out a requested `write_eof` or `close`, and ends.
//!
//! Why this neither reorders, loses nor strands bytes, and why `drain` is always woken:
//!
//! 1. The queue, the flags and the wakers live under one mutex, and the socket is only
//!    written while it is held: directly by `write` only when the queue is empty, by the
//!    flusher only from the queue's head. So bytes reach the kernel in `write` order.
//! 2. Invariant: the queue is non-empty ⇒ `flushing` (a flusher task exists). `write`
//!    makes the queue non-empty and, in the same critical section, spawns a flusher if
//!    `flushing` was false; the flusher clears `flushing` only in the critical section in
//!    which it found the queue empty (or the connection lost, which empties it). So every
//!    queued byte has a flusher that will send it, and when `flushing` is false a
//!    `write_eof`/`close` can shut the socket down at once: nothing is queued.
//! 3. The flusher waits only on the socket's writability (the reactor wakes it); it never
//!    waits with an empty queue, because it ends instead.
//! 4. `paused` is set in the critical section that grows the queue above the high-water
//!    mark and cleared, with the waiters taken, in the one that brings it down to the
//!    low-water mark (or ends the flusher). A `drain` that saw `paused` registered its
//!    waker under the mutex before that clearing, so it is woken.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::net::server::ConnGuard;
use crate::net::stream;
use crate::net::{tcp, unix};
use crate::runtime::Handle;

/// [`StreamWriter::drain`] waits while more than this many bytes are queued (asyncio's
/// default high-water mark, 64 KiB, the same as [`Transport`](crate::net::Transport)'s)...
const HIGH_WATER: usize = crate::net::WRITE_HIGH_WATER;
/// ... until the queue is down to this (asyncio's low-water mark, a quarter of it).
const LOW_WATER: usize = HIGH_WATER / 4;

/// The socket a [`StreamWriter`] writes to.
enum Sink {
    Tcp(tcp::OwnedWriteHalf),
    Unix(unix::OwnedWriteHalf),
}

impl Sink {
    /// One non-blocking write, bypassing readiness (the flusher handles `WouldBlock`).
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Tcp(s) => {
                let mut sock: &std::net::TcpStream = s.io_ref().get_ref();
                sock.write(buf)
            }
            Sink::Unix(s) => {
                let mut sock: &std::os::unix::net::UnixStream = s.io_ref().get_ref();
                sock.write(buf)
            }
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Sink::Tcp(s) => stream::poll_write(s.io_ref(), cx, buf),
            Sink::Unix(s) => stream::poll_write(s.io_ref(), cx, buf),
        }
    }

    fn shutdown(&self, how: Shutdown) {
        // Errors (e.g. ENOTCONN after the peer reset) leave nothing to do.
        let _ = match self {
            Sink::Tcp(s) => s.io_ref().get_ref().shutdown(how),
            Sink::Unix(s) => s.io_ref().get_ref().shutdown(how),
        };
    }
}

/// An `io::Error` kept so it can be handed out again by every later `drain`.
struct LostError {
    kind: io::ErrorKind,
    os: Option<i32>,
    message: String,
}

impl LostError {
    fn new(e: &io::Error) -> LostError {
        LostError {
            kind: e.kind(),
            os: e.raw_os_error(),
            message: e.to_string(),
        }
    }

    fn to_error(&self) -> io::Error {
        match self.os {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(self.kind, self.message.clone()),
        }
    }
}

#[derive(Default)]
struct State {
    /// Queued bytes are `queue[sent..]`.
    queue: Vec<u8>,
    sent: usize,
    /// A flusher task exists (see the module docs).
    flushing: bool,
    /// Set above the high-water mark, cleared at the low-water mark; `drain` waits on it.
    paused: bool,
    /// `write_eof` was called / has shut the write direction down.
    eof: bool,
    eof_done: bool,
    /// `close` was called / the socket is shut down (cleanly or after an error).
    closing: bool,
    closed: bool,
    error: Option<LostError>,
    flusher: Option<Waker>,
    /// `drain` and `wait_closed` callers.
    waiters: Vec<Waker>,
}

impl State {
    fn queued(&self) -> usize {
        self.queue.len() - self.sent
    }

    /// Takes the wakers of `drain`/`wait_closed` callers, to wake after unlocking.
    fn take_waiters(&mut self) -> Vec<Waker> {
        std::mem::take(&mut self.waiters)
    }

    /// The connection is lost: drop the queue, remember the error.
    fn fail(&mut self, e: &io::Error) {
        if self.error.is_none() {
            self.error = Some(LostError::new(e));
        }
        self.queue = Vec::new();
        self.sent = 0;
        self.paused = false;
        self.closed = true;
    }
}

struct Shared {
    sink: Sink,
    state: Mutex<State>,
    handle: Handle,
    /// For a connection of a stream server: keeps it counted as open until the writer
    /// is dropped and the flusher has finished (dropped last, after the socket's write
    /// direction is shut down).
    _conn: Option<ConnGuard>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// With the queue empty: carries out a pending `close` or `write_eof`.
    fn finish_if_requested(&self, st: &mut State) {
        if st.closing && !st.closed {
            self.sink.shutdown(Shutdown::Both);
            st.closed = true;
        } else if st.eof && !st.eof_done && !st.closed {
            self.sink.shutdown(Shutdown::Write);
            st.eof_done = true;
        }
    }
}

/// The writing side of a connection, asyncio's `StreamWriter`, from
/// [`open_connection`](crate::net::open_connection) and
/// [`start_server`](crate::net::start_server).
///
/// [`write`](StreamWriter::write) never waits: what the socket does not take at once is
/// queued and sent in the background, so written bytes go out even if nobody calls
/// [`drain`](StreamWriter::drain). `drain` is the flow control: it waits while the
/// queue is above 64 KiB. Dropping the writer sends what is queued, then closes the
/// write direction (the peer sees the end of the stream; the reader stays usable).
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{open_connection, start_server};
/// let server = start_server(|mut r, w| async move {
///     while let Ok(line) = r.readline().await {
///         if line.is_empty() { break; }
///         w.write(&line);
///         if w.drain().await.is_err() { break; }
///     }
/// }, "127.0.0.1:0").await?;
/// let (mut r, w) = open_connection(server.local_addr()).await?;
/// w.write(b"ping\n");
/// w.drain().await?;
/// assert_eq!(r.readline().await?, b"ping\n");
/// server.close();
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct StreamWriter {
    shared: Arc<Shared>,
}

impl StreamWriter {
    fn new(sink: Sink, handle: Handle, conn: Option<ConnGuard>) -> StreamWriter {
        StreamWriter {
            shared: Arc::new(Shared {
                sink,
                state: Mutex::new(State::default()),
                handle,
                _conn: conn,
            }),
        }
    }

    pub(crate) fn tcp(
        half: tcp::OwnedWriteHalf,
        handle: Handle,
        conn: Option<ConnGuard>,
    ) -> StreamWriter {
        StreamWriter::new(Sink::Tcp(half), handle, conn)
    }

    pub(crate) fn unix(
        half: unix::OwnedWriteHalf,
        handle: Handle,
        conn: Option<ConnGuard>,
    ) -> StreamWriter {
        StreamWriter::new(Sink::Unix(half), handle, conn)
    }

    /// Queues `data` to be sent and returns at once (asyncio's `write`); a background task
    /// sends what the socket does not take immediately. Ignored after
    /// [`write_eof`](StreamWriter::write_eof) or [`close`](StreamWriter::close), or once
    /// the connection is lost (then [`drain`](StreamWriter::drain) reports the error).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let (a, b) = corio_runtime::net::UnixStream::pair()?;
    /// # let (_r, w) = corio_runtime::net::unix_streams(a);
    /// # let mut peer = corio_runtime::net::StreamReader::from(b);
    /// w.write(b"hello ");
    /// w.write(b"world\n"); // no await: both are on their way
    /// assert_eq!(peer.readline().await?, b"hello world\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let shared = &*self.shared;
        let mut st = shared.lock();
        if st.closing || st.eof || st.closed {
            return;
        }
        let mut rest = data;
        if st.queued() == 0 {
            match shared.sink.try_write(data) {
                Ok(n) => rest = &data[n..],
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    st.fail(&e);
                    let waiters = st.take_waiters();
                    drop(st);
                    waiters.into_iter().for_each(Waker::wake);
                    return;
                }
            }
            if rest.is_empty() {
                return;
            }
        }
        st.queue.extend_from_slice(rest);
        if st.queued() > HIGH_WATER {
            st.paused = true;
        }
        let waker = self.start_flusher(&mut st);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Makes sure a flusher runs for a non-empty queue: spawns one, or returns the waker
    /// of the running one.
    fn start_flusher(&self, st: &mut State) -> Option<Waker> {
        if st.flushing {
            return st.flusher.take();
        }
        st.flushing = true;
        let shared = self.shared.clone();
        drop(self.shared.handle.spawn(async move {
            poll_fn(|cx| flush(&shared, cx)).await;
        }));
        None
    }

    /// Writes each buffer in turn, like [`write`](StreamWriter::write) (asyncio's
    /// `writelines`).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let (a, b) = corio_runtime::net::UnixStream::pair()?;
    /// # let (_r, w) = corio_runtime::net::unix_streams(a);
    /// # let mut peer = corio_runtime::net::StreamReader::from(b);
    /// w.writelines([&b"a\n"[..], b"b\n"]);
    /// assert_eq!(peer.readexactly(4).await?, b"a\nb\n");
    /// # Ok::<(), corio_runtime::net::ReadError>(()) }).unwrap();
    /// ```
    pub fn writelines<I>(&self, bufs: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        for b in bufs {
            self.write(b.as_ref());
        }
    }

    /// Waits until the queue is small enough to write more (asyncio's `drain`): if more
    /// than 64 KiB are queued it waits until the queue is down to 16 KiB; otherwise it
    /// returns at once. Once the connection is lost it returns the error (for a
    /// connection closed with [`close`](StreamWriter::close), `ConnectionReset`).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let (a, b) = corio_runtime::net::UnixStream::pair()?;
    /// # let (_r, w) = corio_runtime::net::unix_streams(a);
    /// # let mut peer = corio_runtime::net::StreamReader::from(b);
    /// # let reader = corio_runtime::spawn(async move { peer.read_to_end().await });
    /// for _ in 0..100 {
    ///     w.write(&[b'x'; 10_000]);
    ///     w.drain().await?; // never more than ~64 KiB queued
    /// }
    /// # drop(w);
    /// # assert_eq!(reader.await.unwrap()?.len(), 1_000_000);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn drain(&self) -> io::Result<()> {
        poll_fn(|cx| {
            let mut st = self.shared.lock();
            if let Some(e) = &st.error {
                return Poll::Ready(Err(e.to_error()));
            }
            if st.closed {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "connection closed",
                )));
            }
            if !st.paused {
                return Poll::Ready(Ok(()));
            }
            if !st.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                st.waiters.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// Closes the write direction once everything queued is sent (asyncio's
    /// `write_eof`): the peer reads the end of the stream and can still send to us.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let (a, b) = corio_runtime::net::UnixStream::pair()?;
    /// let (mut r, w) = corio_runtime::net::unix_streams(a);
    /// let (mut peer_r, peer_w) = corio_runtime::net::unix_streams(b);
    /// w.write(b"request");
    /// w.write_eof();
    /// assert_eq!(peer_r.read_to_end().await?, b"request"); // the peer sees the end
    /// peer_w.write(b"reply");
    /// drop(peer_w);
    /// assert_eq!(r.read_to_end().await?, b"reply"); // and can still answer
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn write_eof(&self) {
        let mut st = self.shared.lock();
        if st.eof || st.closing || st.closed {
            return;
        }
        st.eof = true;
        if !st.flushing {
            self.shared.finish_if_requested(&mut st);
        } else if let Some(w) = st.flusher.take() {
            drop(st);
            w.wake();
        }
    }

    /// Whether [`write_eof`](StreamWriter::write_eof) is supported: always true for TCP
    /// and Unix sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// let (_r, w) = corio_runtime::net::unix_streams(a);
    /// assert!(w.can_write_eof());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Closes the connection once everything queued is sent (asyncio's `close`); returns
    /// at once. Both directions are shut down then, so a pending read on this
    /// connection's reader sees the end of the stream. Await
    /// [`wait_closed`](StreamWriter::wait_closed) to know when it happened.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let (a, b) = corio_runtime::net::UnixStream::pair()?;
    /// # let (_r, w) = corio_runtime::net::unix_streams(a);
    /// # let mut peer = corio_runtime::net::StreamReader::from(b);
    /// w.write(b"last words");
    /// w.close();
    /// assert!(w.is_closing());
    /// w.wait_closed().await;
    /// assert_eq!(peer.read_to_end().await?, b"last words");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn close(&self) {
        let mut st = self.shared.lock();
        if st.closing || st.closed {
            return;
        }
        st.closing = true;
        if st.flushing {
            let waker = st.flusher.take();
            drop(st);
            if let Some(w) = waker {
                w.wake();
            }
            return;
        }
        self.shared.finish_if_requested(&mut st);
        let waiters = st.take_waiters();
        drop(st);
        waiters.into_iter().for_each(Waker::wake);
    }

    /// True once [`close`](StreamWriter::close) was called or the connection is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// let (_r, w) = corio_runtime::net::unix_streams(a);
    /// assert!(!w.is_closing());
    /// w.close();
    /// assert!(w.is_closing());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn is_closing(&self) -> bool {
        let st = self.shared.lock();
        st.closing || st.closed
    }

    /// Waits until the connection is closed: after [`close`](StreamWriter::close) has
    /// sent the queue and shut the socket down, or once the connection is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let (a, _b) = corio_runtime::net::UnixStream::pair()?;
    /// let (_r, w) = corio_runtime::net::unix_streams(a);
    /// w.close();
    /// w.wait_closed().await;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn wait_closed(&self) {
        poll_fn(|cx| {
            let mut st = self.shared.lock();
            if st.closed {
                return Poll::Ready(());
            }
            if !st.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                st.waiters.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// The peer's address (asyncio's `get_extra_info('peername')`). For a Unix-socket
    /// connection, which has no IP address, an `Unsupported` error.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{open_connection, TcpListener};
    /// let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_r, w) = open_connection(l.local_addr()?).await?;
    /// assert_eq!(w.peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.shared.sink {
            Sink::Tcp(s) => s.peer_addr(),
            Sink::Unix(_) => Err(no_ip()),
        }
    }

    /// The local address (asyncio's `get_extra_info('sockname')`). For a Unix-socket
    /// connection, an `Unsupported` error.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{open_connection, TcpListener};
    /// let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_r, w) = open_connection(l.local_addr()?).await?;
    /// assert!(w.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.shared.sink {
            Sink::Tcp(s) => s.local_addr(),
            Sink::Unix(_) => Err(no_ip()),
        }
    }
}

fn no_ip() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "a Unix-socket connection has no IP address",
    )
}

/// The flusher task's body: sends the queue, then carries out a requested `write_eof`
/// or `close`, and ends (clearing `flushing`) once the queue is empty.
fn flush(shared: &Shared, cx: &mut Context<'_>) -> Poll<()> {
    let mut st = shared.lock();
    let mut wake = Vec::new();
    let done = loop {
        if st.closed {
            break true;
        }
        if st.queued() == 0 {
            st.queue.clear();
            st.sent = 0;
            shared.finish_if_requested(&mut st);
            break true;
        }
        let res = {
            let State { queue, sent, .. } = &mut *st;
            shared.sink.poll_write(cx, &queue[*sent..])
        };
        match res {
            Poll::Ready(Ok(n)) => {
                st.sent += n;
                if st.sent >= HIGH_WATER && st.sent * 2 >= st.queue.len() {
                    let sent = st.sent;
                    st.queue.drain(..sent);
                    st.sent = 0;
                }
                if st.paused && st.queued() <= LOW_WATER {
                    st.paused = false;
                    wake.append(&mut st.waiters);
                }
            }
            Poll::Ready(Err(e)) => {
                st.fail(&e);
                break true;
            }
            Poll::Pending => {
                st.flusher = Some(cx.waker().clone());
                break false;
            }
        }
    };
    if done {
        st.flushing = false;
        st.flusher = None;
        st.paused = false;
        wake.append(&mut st.waiters);
    }
    drop(st);
    wake.into_iter().for_each(Waker::wake);
    if done {
        Poll::Ready(())
    } else {
        Poll::Pending
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("StreamWriter")
            .field(
                "sink",
                &match self.shared.sink {
                    Sink::Tcp(_) => "tcp",
                    Sink::Unix(_) => "unix",
                },
            )
            .field("queued", &st.queued())
            .field("closing", &st.closing)
            .field("closed", &st.closed)
            .finish()
    }
}
