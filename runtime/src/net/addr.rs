//! Address arguments: [`ToSocketAddrs`] and name resolution off the runtime's workers.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Anything that names one or more socket addresses: a `SocketAddr`, an `(ip, port)`
/// pair, `"host:port"`, `("host", port)`, a slice of addresses, or a reference to any of
/// them.
///
/// Literal addresses are used as they are; host names are resolved with the system
/// resolver on a blocking thread, never on a runtime worker. The trait is sealed.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::TcpListener;
/// let a = TcpListener::bind("127.0.0.1:0").await?;
/// let b = TcpListener::bind(("127.0.0.1", 0)).await?;
/// let c = TcpListener::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await?;
/// let d = TcpListener::bind("localhost:0").await?; // resolved off the workers
/// # drop((a, b, c, d));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use super::*;

    /// What an address argument turns into without blocking.
    #[derive(Debug)]
    pub enum Resolve {
        /// Literal addresses.
        Done(Vec<SocketAddr>),
        /// A `host:port` string to resolve.
        Lookup(String),
    }

    /// The sealed half of [`super::ToSocketAddrs`].
    pub trait ToSocketAddrsPriv {
        /// Converts without blocking.
        fn to_resolve(&self) -> io::Result<Resolve>;
    }
}

use sealed::{Resolve, ToSocketAddrsPriv};

macro_rules! literal {
    ($($t:ty),*) => {$(
        impl ToSocketAddrs for $t {}
        impl ToSocketAddrsPriv for $t {
            fn to_resolve(&self) -> io::Result<Resolve> {
                Ok(Resolve::Done(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}
literal!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16),
    ([u8; 16], u16),
    ([u16; 8], u16)
);

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_resolve(&self) -> io::Result<Resolve> {
        match self.parse::<SocketAddr>() {
            Ok(a) => Ok(Resolve::Done(vec![a])),
            Err(_) => Ok(Resolve::Lookup(self.to_owned())),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_resolve(&self) -> io::Result<Resolve> {
        self.as_str().to_resolve()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_resolve(&self) -> io::Result<Resolve> {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Ok(Resolve::Done(vec![SocketAddr::new(ip, port)])),
            Err(_) => Ok(Resolve::Lookup(format!("{host}:{port}"))),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_resolve(&self) -> io::Result<Resolve> {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn to_resolve(&self) -> io::Result<Resolve> {
        Ok(Resolve::Done(self.to_vec()))
    }
}

impl<const N: usize> ToSocketAddrs for [SocketAddr; N] {}
impl<const N: usize> ToSocketAddrsPriv for [SocketAddr; N] {
    fn to_resolve(&self) -> io::Result<Resolve> {
        Ok(Resolve::Done(self.to_vec()))
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {}
impl ToSocketAddrsPriv for Vec<SocketAddr> {
    fn to_resolve(&self) -> io::Result<Resolve> {
        Ok(Resolve::Done(self.clone()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolve(&self) -> io::Result<Resolve> {
        (**self).to_resolve()
    }
}

/// Resolves `addr` to its socket addresses (host names off the workers).
pub(crate) async fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    let addrs = match addr.to_resolve()? {
        Resolve::Done(v) => v,
        Resolve::Lookup(host) => lookup_host(host).await?,
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// Tries `f` on each address in turn; the first success wins, else the last error.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, mut f: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in resolve(addr).await? {
        match f(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve returns at least one address"))
}

/// Runs the system resolver on the blocking pool (never on a runtime worker).
async fn lookup_host(host: String) -> io::Result<Vec<SocketAddr>> {
    corio_blocking::to_thread(move || {
        std::net::ToSocketAddrs::to_socket_addrs(&host).map(Iterator::collect)
    })
    .await
}
