//! Reads into hyper's uninitialised read buffer (`hyper::rt::ReadBufCursor`): straight
//! from corio's sockets, or from any futures-io reader after zero-filling. The safe
//! building blocks of `corio::hyper::CorioIo`, which lives in the `unsafe`-free facade.
//!
//! # Why the `unsafe` here is sound
//!
//! `ReadBufCursor` has two unsafe operations: `as_mut` (the caller must not de-initialise
//! bytes that may be initialised) and `advance(n)` (the caller promises that `n` more
//! bytes, from the start of the unfilled part, are initialised). Both functions below
//! only ever *write* bytes into the slice `as_mut` returns, and advance by a count `n`
//! that is proven initialised:
//!
//! - [`PollReadCursor`] on a corio stream: `recv(2)` into the `&mut [MaybeUninit<u8>]`
//!   writes at most its length and returns how many bytes it wrote, from the start; `n`
//!   is that count. Nothing is zero-filled: the kernel writes the bytes it returns.
//!   (`recv` rather than `read`: on a socket both do the same, but `read` first goes
//!   through the file layer, which costs about 10 % more per call.)
//! - [`poll_read_zeroed`] on any futures-io reader: every byte of the unfilled part is
//!   set to 0 first, so all of it is initialised, and the reader's count is checked
//!   against the slice's length (a safe `AsyncRead` may return any number; a count past
//!   the end is an error, not undefined behaviour).

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use hyper::rt::ReadBufCursor;

use crate::driver::poll_evented::PollEvented;
use crate::driver::Direction;
use crate::net::{tcp, unix, TcpStream, UnixStream};

/// A corio stream that reads straight into hyper's uninitialised buffer. Implemented by
/// [`TcpStream`], [`UnixStream`] and their owned read halves; `corio::hyper::CorioIo`
/// uses it.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::hyper_io::PollReadCursor;
/// use corio_runtime::net::UnixStream;
/// let (mut a, b) = UnixStream::pair()?;
/// a.write_all(b"hi").await?;
/// let mut storage = [std::mem::MaybeUninit::uninit(); 8];
/// let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
/// std::future::poll_fn(|cx| b.poll_read_cursor(cx, buf.unfilled())).await?;
/// assert_eq!(buf.filled(), b"hi");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait PollReadCursor {
    /// Reads into the unfilled part of `cursor` and advances it by the bytes read (none
    /// at EOF).
    fn poll_read_cursor(
        &self,
        cx: &mut Context<'_>,
        cursor: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>>;
}

fn poll_read_uninit<T>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    mut cursor: ReadBufCursor<'_>,
) -> Poll<io::Result<()>>
where
    T: AsRawFd + AsFd,
{
    // SAFETY: the slice is only written to, by `read(2)` below; no byte is de-initialised.
    let buf = unsafe { cursor.as_mut() };
    let len = buf.len();
    let n = ready!(io.poll_transfer(cx, Direction::Read, len, |s| {
        // SAFETY: `buf` is valid for writes of `len` bytes for the whole call, and
        // `recv(2)` writes at most `len` bytes into it.
        let r = unsafe { libc::recv(s.as_raw_fd(), buf.as_mut_ptr().cast(), len, 0) };
        match usize::try_from(r) {
            Ok(n) => Ok(n),
            Err(_) => Err(io::Error::last_os_error()),
        }
    }))?;
    // SAFETY: `recv(2)` returned `n <= len` and wrote the first `n` bytes of the unfilled
    // part: they are initialised.
    unsafe { cursor.advance(n) };
    Poll::Ready(Ok(()))
}

macro_rules! impl_poll_read_cursor {
    ($($ty:ty),*) => {$(
        impl PollReadCursor for $ty {
            fn poll_read_cursor(
                &self,
                cx: &mut Context<'_>,
                cursor: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_uninit(self.io_ref(), cx, cursor)
            }
        }
    )*};
}
impl_poll_read_cursor!(
    TcpStream,
    tcp::OwnedReadHalf,
    UnixStream,
    unix::OwnedReadHalf
);

/// Reads from any futures-io reader into `cursor`: zero-fills the unfilled part, reads
/// into it and advances by the count read. A count larger than the buffer is an
/// `InvalidData` error.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::hyper_io::poll_read_zeroed;
/// let mut reader: &[u8] = b"hello";
/// let mut storage = [std::mem::MaybeUninit::uninit(); 8];
/// let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
/// let mut reader = std::pin::Pin::new(&mut reader);
/// std::future::poll_fn(|cx| poll_read_zeroed(reader.as_mut(), cx, buf.unfilled())).await?;
/// assert_eq!(buf.filled(), b"hello");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub fn poll_read_zeroed<R>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    mut cursor: ReadBufCursor<'_>,
) -> Poll<io::Result<()>>
where
    R: futures_io::AsyncRead + ?Sized,
{
    // SAFETY: the slice is only written to (zeros, then whatever the reader writes into
    // an initialised `&mut [u8]`); no byte is de-initialised.
    let uninit = unsafe { cursor.as_mut() };
    let buf: &mut [u8] = uninit_fill_zero(uninit);
    let len = buf.len();
    let n = ready!(reader.poll_read(cx, buf))?;
    if n > len {
        return Poll::Ready(Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "AsyncRead::poll_read returned more bytes than the buffer holds",
        )));
    }
    // SAFETY: all `len` bytes of the unfilled part were zero-filled, and `n <= len`.
    unsafe { cursor.advance(n) };
    Poll::Ready(Ok(()))
}

/// Writes 0 to every byte of `buf` and returns it as initialised bytes.
fn uninit_fill_zero(buf: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    for b in buf.iter_mut() {
        b.write(0);
    }
    // SAFETY: every element was just written; `MaybeUninit<u8>` and `u8` have the same
    // layout, so the initialised slice may be viewed as `&mut [u8]` for the same lifetime.
    unsafe { &mut *(buf as *mut [MaybeUninit<u8>] as *mut [u8]) }
}
