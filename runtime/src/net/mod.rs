//! Networking: TCP, UDP and Unix sockets on the runtime's reactor, asyncio's
//! low-level server API ([`create_server`], [`Protocol`], [`Transport`]) and its
//! high-level streams ([`open_connection`], [`start_server`], [`StreamReader`],
//! [`StreamWriter`]).
//!
//! Every socket is non-blocking and registered with the runtime's poller; an operation
//! is tried first and only waits for readiness after `WouldBlock`. The async
//! constructors (`bind`, `connect`, [`create_server`]) are lazy like every corio future:
//! the socket belongs to the runtime that first polls the future, so
//! `rt.block_on(TcpStream::connect(addr))` works, and only a poll outside every runtime
//! panics (naming the constructor and the line that called it). The synchronous
//! `from_std` and `UnixStream::pair` register at once, so they panic when called outside
//! a runtime. A socket can be used from any task of its runtime; a stream accepted by a
//! listener belongs to the listener's runtime.
//!
//! # Examples
//!
//! An echo round trip:
//!
//! ```
//! # corio_runtime::run(async {
//! use corio_runtime::net::{TcpListener, TcpStream};
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let mut client = TcpStream::connect(listener.local_addr()?).await?;
//! let (mut server, _) = listener.accept().await?;
//! client.write_all(b"echo").await?;
//! let mut buf = [0; 4];
//! server.read_exact(&mut buf).await?;
//! server.write_all(&buf).await?;
//! client.read_exact(&mut buf).await?;
//! assert_eq!(&buf, b"echo");
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

mod addr;
mod datagram;
#[cfg(feature = "hyper")]
#[doc(hidden)]
pub mod hyper_io;
mod options;
mod server;
mod stream;
mod streams;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::ToSocketAddrs;
pub use datagram::{create_datagram_endpoint, DatagramProtocol, DatagramTransport};
pub use options::ServerOptions;
pub use server::{
    create_server, create_server_with, Protocol, Server, Transport, WRITE_HIGH_WATER,
};
pub use streams::{
    open_connection, open_unix_connection, start_server, start_server_with, start_unix_server,
    tcp_streams, unix_streams, Lines, ReadError, StreamReader, StreamWriter,
};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

/// `AsRawFd` and `AsFd` for a socket type whose `io` field is a `PollEvented` socket: the
/// descriptor, for `setsockopt` through socket2/rustix/libc and the like. (Closing it or
/// switching it to blocking mode behind corio's back is the caller's problem, as with
/// every borrowed descriptor.)
macro_rules! impl_as_fd {
    ($($ty:ty),*) => {$(
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }
    )*};
}
pub(crate) use impl_as_fd;

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests;
