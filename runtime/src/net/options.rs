//! [`ServerOptions`]: how a listening socket is set up before it binds (asyncio's
//! `reuse_port=` argument of `create_server` / `start_server`).

/// Options for a listening TCP socket, passed by value to
/// [`TcpListener::bind_with`](crate::net::TcpListener::bind_with),
/// [`create_server_with`](crate::net::create_server_with) and
/// [`start_server_with`](crate::net::start_server_with).
///
/// Every option is off by default, so `ServerOptions::new()` binds exactly like
/// [`TcpListener::bind`](crate::net::TcpListener::bind).
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{ServerOptions, TcpListener};
/// let opts = ServerOptions::new().reuse_port(true);
/// let a = TcpListener::bind_with("127.0.0.1:0", opts.clone()).await?;
/// // A second socket may bind the same port: the kernel balances connections.
/// let b = TcpListener::bind_with(a.local_addr()?, opts).await?;
/// assert_eq!(a.local_addr()?, b.local_addr()?);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    pub(crate) reuse_port: bool,
}

impl ServerOptions {
    /// The defaults: every option off.
    ///
    /// # Examples
    ///
    /// ```
    /// let opts = corio_runtime::net::ServerOptions::new();
    /// assert!(!opts.is_reuse_port());
    /// ```
    pub fn new() -> ServerOptions {
        ServerOptions::default()
    }

    /// Sets `SO_REUSEPORT` before binding (asyncio's `reuse_port=True`): several sockets,
    /// in one process or in several, may then listen on the same address and port, and
    /// the kernel spreads incoming connections over them (on Linux, by a hash of the
    /// connection's addresses). Every socket sharing the port must set it. Binding fails
    /// with `Unsupported` on a platform without `SO_REUSEPORT`.
    ///
    /// # Examples
    ///
    /// ```
    /// let opts = corio_runtime::net::ServerOptions::new().reuse_port(true);
    /// assert!(opts.is_reuse_port());
    /// ```
    pub fn reuse_port(mut self, on: bool) -> ServerOptions {
        self.reuse_port = on;
        self
    }

    /// Whether [`reuse_port`](ServerOptions::reuse_port) is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!corio_runtime::net::ServerOptions::default().is_reuse_port());
    /// ```
    pub fn is_reuse_port(&self) -> bool {
        self.reuse_port
    }
}
