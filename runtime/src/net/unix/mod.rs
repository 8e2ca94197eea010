//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and its owned halves
//! ([`OwnedReadHalf`], [`OwnedWriteHalf`]).

mod listener;
mod split;
mod stream;

pub use listener::UnixListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf};
pub use stream::UnixStream;
