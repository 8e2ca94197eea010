//! Byte-stream operations shared by TCP and Unix streams and their halves.

use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

use crate::driver::poll_evented::PollEvented;
use crate::driver::Direction;

/// Implements `futures_io::AsyncRead` or `AsyncWrite` for one of the byte-stream types
/// (TCP and Unix streams and their owned halves), which all forward to the functions of
/// this module.
///
/// `impl_futures_io!(AsyncRead for T)` needs `T::io_ref(&self) -> &PollEvented<_>`;
/// `impl_futures_io!(AsyncWrite for T)` also needs `T::shutdown_write(&mut self) ->
/// io::Result<()>` for `poll_close`. Flushing is a no-op: writes go straight to the
/// kernel. The types are `Unpin`, so the pinned receiver is used as `&mut`.
macro_rules! impl_futures_io {
    (AsyncRead for $ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream::poll_read(self.io_ref(), cx, buf)
            }
        }
    };
    (AsyncWrite for $ty:ty) => {
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream::poll_write(self.io_ref(), cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream::poll_write_vectored(self.io_ref(), cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.get_mut().shutdown_write())
            }
        }
    };
}
pub(crate) use impl_futures_io;

/// A byte-stream socket: can its reads say how many bytes they left behind?
pub(crate) trait StreamSocket: AsRawFd {
    /// Reads can ask the kernel for the bytes left in the receive queue (`TCP_INQ`), so a
    /// read that fills its buffer exactly need not be followed by one failing with
    /// `EAGAIN` before the task waits.
    const ASKS_BYTES_LEFT: bool;
}

impl StreamSocket for std::net::TcpStream {
    const ASKS_BYTES_LEFT: bool = crate::net::tcp::inq::SUPPORTED;
}

impl StreamSocket for std::os::unix::net::UnixStream {
    const ASKS_BYTES_LEFT: bool = false;
}

pub(crate) fn poll_read<T>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    T: StreamSocket,
    for<'a> &'a T: Read,
{
    if T::ASKS_BYTES_LEFT {
        return io.poll_read_asking_bytes_left(cx, buf);
    }
    let len = buf.len();
    io.poll_transfer(cx, Direction::Read, len, |s| {
        let mut s = s;
        s.read(buf)
    })
}

pub(crate) fn poll_write<T>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>>
where
    T: AsRawFd,
    for<'a> &'a T: Write,
{
    io.poll_transfer(cx, Direction::Write, buf.len(), |s| {
        let mut s = s;
        s.write(buf)
    })
}

pub(crate) fn poll_write_vectored<T>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    T: AsRawFd,
    for<'a> &'a T: Write,
{
    let len = bufs.iter().map(|b| b.len()).sum();
    io.poll_transfer(cx, Direction::Write, len, |s| {
        let mut s = s;
        s.write_vectored(bufs)
    })
}

pub(crate) async fn read<T>(io: &PollEvented<T>, buf: &mut [u8]) -> io::Result<usize>
where
    T: StreamSocket,
    for<'a> &'a T: Read,
{
    poll_fn(|cx| poll_read(io, cx, buf)).await
}

pub(crate) async fn read_exact<T>(io: &PollEvented<T>, mut buf: &mut [u8]) -> io::Result<()>
where
    T: StreamSocket,
    for<'a> &'a T: Read,
{
    while !buf.is_empty() {
        let n = read(io, buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stream ended before the buffer was filled",
            ));
        }
        buf = &mut buf[n..];
    }
    Ok(())
}

pub(crate) async fn write<T>(io: &PollEvented<T>, buf: &[u8]) -> io::Result<usize>
where
    T: AsRawFd,
    for<'a> &'a T: Write,
{
    poll_fn(|cx| poll_write(io, cx, buf)).await
}

pub(crate) async fn write_all<T>(io: &PollEvented<T>, mut buf: &[u8]) -> io::Result<()>
where
    T: AsRawFd,
    for<'a> &'a T: Write,
{
    while !buf.is_empty() {
        let n = write(io, buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// Completes a non-blocking `connect` that returned `err`: waits until the socket is
/// writable, then reports the connection's outcome. `connected` tells whether the socket
/// has a peer (e.g. `peer_addr().is_ok()`). `io` must have been registered with
/// [`PollEvented::new_connecting`], so its write side waits for the poller's report.
pub(crate) async fn finish_connect<T: AsRawFd>(
    io: &PollEvented<T>,
    err: io::Error,
    take_error: impl Fn(&T) -> io::Result<Option<io::Error>>,
    connected: impl Fn(&T) -> bool,
) -> io::Result<()> {
    poll_fn(|cx| io.poll_ready(cx, Direction::Write)).await?;
    if let Some(e) = take_error(io.get_ref())? {
        return Err(e);
    }
    if connected(io.get_ref()) {
        Ok(())
    } else {
        // Writable without a peer or a pending error: `connect` failed synchronously
        // with `err` (it was not an "in progress" code).
        Err(err)
    }
}
