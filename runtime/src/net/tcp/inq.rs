//! `TCP_INQ` (Linux): a TCP read that also tells how many bytes are left in the socket's
//! receive queue, so a read that fills its buffer exactly can tell "drained" from "more
//! to come" without a second read that fails with `EAGAIN`.
//!
//! Used by `PollEvented::poll_read_inq` once a stream's read has filled its buffer: the
//! option is switched on then (one `setsockopt` per stream that needs it; streams whose
//! reads always come back short never pay for it) and later reads go through `recvmsg(2)`
//! with a control buffer for the count.

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::io;
    use std::mem::{self, MaybeUninit};
    use std::os::fd::RawFd;

    /// The kernel can report the bytes left after a read.
    pub(crate) const SUPPORTED: bool = true;

    /// Control buffer for one `int` message, aligned for `cmsghdr`.
    #[repr(C, align(8))]
    struct Control([MaybeUninit<u8>; 32]);

    /// Switches `TCP_INQ` on for `fd`; false if the kernel refuses (older than 4.18).
    pub(crate) fn enable(fd: RawFd) -> bool {
        let one: libc::c_int = 1;
        // SAFETY: `fd` is an open socket owned by the caller; the option value is a live
        // `c_int` whose size is passed.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_TCP,
                libc::TCP_INQ,
                (&one as *const libc::c_int).cast(),
                mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        r == 0
    }

    /// Reads into `buf` (`recvmsg(2)`); returns the bytes read and, when the kernel
    /// attached it, how many bytes were left in the receive queue after this read.
    pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<usize>)> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control = Control([MaybeUninit::uninit(); 32]);
        // SAFETY: `msghdr` is plain old data; all zeroes is an empty header.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        msg.msg_controllen = mem::size_of::<Control>() as _;
        // SAFETY: `msg` points at `iov` (which covers `buf`, live and writable for its
        // length) and at `control` (live for its length); both outlive the call.
        let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut left = None;
        // SAFETY: the CMSG_* walk stays inside the control buffer the kernel filled: it
        // reads `msg.msg_controllen`, which the kernel set to the bytes it wrote.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_TCP && (*c).cmsg_type == libc::TCP_CM_INQ {
                    let v: libc::c_int = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    left = usize::try_from(v).ok();
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok((n as usize, left))
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::io;
    use std::os::fd::RawFd;

    /// The kernel cannot report the bytes left after a read.
    pub(crate) const SUPPORTED: bool = false;

    pub(crate) fn enable(_fd: RawFd) -> bool {
        false
    }

    pub(crate) fn recv(_fd: RawFd, _buf: &mut [u8]) -> io::Result<(usize, Option<usize>)> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

pub(crate) use imp::{enable, recv, SUPPORTED};
