//! `create_datagram_endpoint`: echo round trips, callback order, buffered sends flushed
//! on `close`, `connection_lost` exactly once, `error_received` for "port unreachable",
//! address checks, laziness.

mod common;
use common::{run_within, LIMIT};

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio_runtime::net::{
    create_datagram_endpoint, DatagramProtocol, DatagramTransport, UdpSocket,
};
use corio_runtime::{sleep, wait_for};
use futures::channel::mpsc;
use futures::StreamExt;

struct Echo;

impl DatagramProtocol for Echo {
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, t: &DatagramTransport) {
        t.sendto(data, Some(addr)).unwrap();
    }
}

/// What a recording protocol saw, in order.
#[derive(Debug, PartialEq)]
enum Event {
    Made,
    Datagram(Vec<u8>, SocketAddr),
    Error(io::ErrorKind),
    Lost(Option<io::ErrorKind>),
}

struct Recorder(mpsc::UnboundedSender<Event>);

impl DatagramProtocol for Recorder {
    fn connection_made(&mut self, _t: &DatagramTransport) {
        let _ = self.0.unbounded_send(Event::Made);
    }
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, _t: &DatagramTransport) {
        let _ = self.0.unbounded_send(Event::Datagram(data.to_vec(), addr));
    }
    fn error_received(&mut self, error: io::Error) {
        let _ = self.0.unbounded_send(Event::Error(error.kind()));
    }
    fn connection_lost(&mut self, error: Option<io::Error>) {
        let _ = self.0.unbounded_send(Event::Lost(error.map(|e| e.kind())));
    }
}

fn recorder() -> (impl FnOnce() -> Recorder, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded();
    (move || Recorder(tx), rx)
}

#[test]
fn transport_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug>() {}
    check::<DatagramTransport>();
}

#[test]
fn echo_round_trip_between_two_endpoints() {
    run_within(LIMIT, async {
        let server = create_datagram_endpoint(|| Echo, Some("127.0.0.1:0"), None)
            .await
            .unwrap();
        assert_eq!(server.peer_addr(), None);
        let (factory, mut events) = recorder();
        let client = create_datagram_endpoint(factory, None, Some(server.local_addr()))
            .await
            .unwrap();
        assert_eq!(client.peer_addr(), Some(server.local_addr()));
        assert_ne!(client.local_addr().port(), 0);
        // connection_made ran before the transport was returned.
        assert_eq!(events.try_recv().ok(), Some(Event::Made));
        for msg in [&b"one"[..], b"", b"three"] {
            client.sendto(msg, None).unwrap();
            assert_eq!(
                events.next().await,
                Some(Event::Datagram(msg.to_vec(), server.local_addr()))
            );
        }
        // A big datagram arrives whole.
        let big = vec![7u8; 60_000];
        client.sendto(&big, Some(server.local_addr())).unwrap();
        assert_eq!(
            events.next().await,
            Some(Event::Datagram(big, server.local_addr()))
        );
        client.close();
        assert_eq!(events.next().await, Some(Event::Lost(None)));
        server.close();
    });
}

#[test]
fn close_flushes_queued_datagrams_then_reports_lost_once() {
    run_within(LIMIT, async {
        let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let lost = Arc::new(AtomicUsize::new(0));
        struct CountLost(Arc<AtomicUsize>);
        impl DatagramProtocol for CountLost {
            fn datagram_received(&mut self, _: &[u8], _: SocketAddr, _: &DatagramTransport) {}
            fn connection_lost(&mut self, error: Option<io::Error>) {
                assert!(error.is_none(), "{error:?}");
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let counter = lost.clone();
        let t = create_datagram_endpoint(
            move || CountLost(counter),
            None,
            Some(sink.local_addr().unwrap()),
        )
        .await
        .unwrap();
        for i in 0..100u32 {
            t.sendto(&i.to_be_bytes(), None).unwrap();
        }
        t.close();
        t.close();
        assert!(t.is_closing());
        // Ignored once closing.
        t.sendto(b"late", None).unwrap();
        let mut buf = [0u8; 16];
        for i in 0..100u32 {
            let n = sink.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &i.to_be_bytes());
        }
        while lost.load(Ordering::SeqCst) == 0 {
            sleep(Duration::from_millis(5)).await;
        }
        sleep(Duration::from_millis(50)).await;
        assert_eq!(lost.load(Ordering::SeqCst), 1);
        assert_eq!(t.get_write_buffer_size(), 0);
        let nothing = wait_for(sink.recv(&mut buf), Duration::from_millis(100)).await;
        assert!(nothing.is_err(), "a datagram sent after close went out");
    });
}

#[test]
fn abort_drops_queued_datagrams() {
    run_within(LIMIT, async {
        let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (factory, mut events) = recorder();
        let t = create_datagram_endpoint(factory, None, Some(sink.local_addr().unwrap()))
            .await
            .unwrap();
        assert_eq!(events.next().await, Some(Event::Made));
        // The endpoint's task runs only when this task yields: all of this is queued.
        for _ in 0..10 {
            t.sendto(b"x", None).unwrap();
        }
        t.abort();
        assert_eq!(events.next().await, Some(Event::Lost(None)));
        let mut buf = [0u8; 4];
        let nothing = wait_for(sink.recv(&mut buf), Duration::from_millis(100)).await;
        assert!(nothing.is_err(), "aborted datagrams were sent");
    });
}

#[test]
fn port_unreachable_reaches_error_received_on_a_connected_endpoint() {
    run_within(LIMIT, async {
        // A port with nobody listening: bind one, note it, close it.
        let closed: SocketAddr = {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap()
        };
        let (factory, mut events) = recorder();
        let t = create_datagram_endpoint(factory, None, Some(closed))
            .await
            .unwrap();
        assert_eq!(events.next().await, Some(Event::Made));
        // Linux reports the ICMP "port unreachable" on the connected socket as
        // ECONNREFUSED; the endpoint stays open after it.
        t.sendto(b"anyone?", None).unwrap();
        let ev = wait_for(events.next(), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(ev, Some(Event::Error(io::ErrorKind::ConnectionRefused)));
        assert!(!t.is_closing());
        t.sendto(b"still there?", None).unwrap();
        let ev = wait_for(events.next(), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(ev, Some(Event::Error(io::ErrorKind::ConnectionRefused)));
        t.close();
        assert_eq!(events.next().await, Some(Event::Lost(None)));
    });
}

#[test]
fn a_connected_endpoint_only_receives_from_its_peer() {
    run_within(LIMIT, async {
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (factory, mut events) = recorder();
        let t = create_datagram_endpoint(factory, None, Some(peer.local_addr().unwrap()))
            .await
            .unwrap();
        assert_eq!(events.next().await, Some(Event::Made));
        stranger.send_to(b"spam", t.local_addr()).await.unwrap();
        peer.send_to(b"ham", t.local_addr()).await.unwrap();
        assert_eq!(
            events.next().await,
            Some(Event::Datagram(b"ham".to_vec(), peer.local_addr().unwrap()))
        );
        t.close();
        assert_eq!(events.next().await, Some(Event::Lost(None)));
    });
}

#[test]
fn sendto_checks_the_address_against_the_endpoint() {
    run_within(LIMIT, async {
        let (factory, _events) = recorder();
        let unconnected = create_datagram_endpoint(factory, Some("127.0.0.1:0"), None)
            .await
            .unwrap();
        let err = unconnected.sendto(b"to whom?", None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let (factory, _events2) = recorder();
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let connected = create_datagram_endpoint(factory, None, Some(peer))
            .await
            .unwrap();
        let other: SocketAddr = "127.0.0.1:10".parse().unwrap();
        let err = connected.sendto(b"x", Some(other)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
        connected.sendto(b"x", Some(peer)).unwrap();
        unconnected.close();
        connected.close();
    });
}

#[test]
fn no_address_at_all_is_invalid_input() {
    run_within(LIMIT, async {
        let called = Arc::new(Mutex::new(false));
        let flag = called.clone();
        let err = create_datagram_endpoint(
            move || {
                *flag.lock().unwrap() = true;
                Echo
            },
            None::<SocketAddr>,
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(
            !*called.lock().unwrap(),
            "factory called for a failed endpoint"
        );
    });
}

#[test]
fn building_outside_a_runtime_is_lazy_and_polling_there_panics() {
    let fut = create_datagram_endpoint(|| Echo, Some("127.0.0.1:0"), None);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(fut)
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("create_datagram_endpoint"), "{msg}");
    assert!(msg.contains("net_datagram.rs"), "{msg}");
    // And the same future type works when awaited inside a runtime.
    let fut = create_datagram_endpoint(|| Echo, Some("127.0.0.1:0"), None);
    let t = corio_runtime::run(fut).unwrap();
    assert_ne!(t.local_addr().port(), 0);
}

/// A connected `UdpSocket` that got "port unreachable" reports it once, then waits for
/// the next datagram instead of spinning on `WouldBlock`.
#[test]
fn udp_socket_recv_after_port_unreachable_waits_again() {
    run_within(LIMIT, async {
        let closed: SocketAddr = {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap()
        };
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(closed).await.unwrap();
        let mut buf = [0u8; 16];
        for _ in 0..2 {
            a.send(b"anyone?").await.unwrap();
            let err = wait_for(a.recv(&mut buf), Duration::from_secs(5))
                .await
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
            let nothing = wait_for(a.recv(&mut buf), Duration::from_millis(100)).await;
            assert!(nothing.is_err(), "{nothing:?}");
        }
    });
}

#[test]
fn a_failed_send_reaches_error_received_and_the_endpoint_goes_on() {
    run_within(LIMIT, async {
        let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = sink.local_addr().unwrap();
        let (factory, mut events) = recorder();
        let t = create_datagram_endpoint(factory, Some("127.0.0.1:0"), None)
            .await
            .unwrap();
        assert_eq!(events.next().await, Some(Event::Made));
        // Larger than any UDP payload: the send fails with EMSGSIZE.
        t.sendto(&vec![0u8; 70_000], Some(to)).unwrap();
        t.sendto(b"after", Some(to)).unwrap();
        match events.next().await {
            Some(Event::Error(_)) => {}
            other => panic!("expected error_received, got {other:?}"),
        }
        let mut buf = [0u8; 16];
        let (n, from) = sink.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"after"[..], t.local_addr()));
        t.close();
        assert_eq!(events.next().await, Some(Event::Lost(None)));
    });
}
