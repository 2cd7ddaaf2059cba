//! A deployed-like network on loopback, for `make bench`'s `BENCH_NETWORK=deployed`: each
//! emulator behind a TLS endpoint whose certificate comes from a local CA, reached over a link
//! that delays every byte each way, as an in-Region call to AWS is.
//!
//! This kernel has no `sch_netem` (`CONFIG_NET_SCH_NETEM` is not set), so the delay is a relay in
//! front of the TLS endpoint: each direction's bytes are written `delay` after they arrived, so
//! bytes in flight overlap as on a wire instead of queueing behind each other. A new connection
//! also pays the TCP handshake's round trip before its first byte arrives. Threads and
//! `std::thread::sleep` (about 0.1 ms late here) rather than tokio's timer, whose 1 ms ticks
//! would add up to a millisecond per hop.

use hyper::body::Incoming;
use hyper::header::CONNECTION;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// TLS as AWS's endpoints offer it to the SDK: TLS 1.3 with rustls' default key exchange groups
/// (X25519MLKEM768 first), HTTP/1.1.
pub fn server_config(certificate: &Path, key: &Path) -> Arc<ServerConfig> {
    let chain = CertificateDer::pem_file_iter(certificate)
        .expect("the endpoint's certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("PEM certificates");
    let key = PrivateKeyDer::from_pem_file(key).expect("the endpoint's key");
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a certificate and its key");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Serves HTTPS on a free loopback port, each request forwarded to `target` (`host:port`) over
/// plain HTTP; logs each handshake's protocol and key exchange group. Returns the port.
///
/// It ends HTTP, not only TLS: moto's server closes every connection after one answer
/// (werkzeug's "Connection: close"), where AWS's endpoints keep them open. Forwarding each request
/// keeps the client's connection as AWS would, so a second call pays no second handshake.
pub async fn tls_endpoint(name: &'static str, target: String, config: Arc<ServerConfig>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let port = listener.local_addr().expect("bound").port();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let (acceptor, target) = (acceptor.clone(), target.clone());
            tokio::spawn(async move {
                let _ = inbound.set_nodelay(true);
                let Ok(tls) = acceptor.accept(inbound).await else {
                    return;
                };
                let (_, session) = tls.get_ref();
                eprintln!(
                    "handshake {name} {:?} {:?}",
                    session.protocol_version(),
                    session.negotiated_key_exchange_group().map(|g| g.name())
                );
                let forward = service_fn(move |request| forward(target.clone(), request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), forward)
                    .await;
            });
        }
    });
    port
}

/// One request to `target` on a connection of its own, the answer passed back without its
/// `Connection: close`.
async fn forward(
    target: String,
    request: Request<Incoming>,
) -> Result<Response<Incoming>, Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(&target).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut response = sender.send_request(request).await?;
    response.headers_mut().remove(CONNECTION);
    Ok(response)
}

/// Listens on a free loopback port and relays each connection to `127.0.0.1:target` with
/// `delay` each way. Returns the port.
pub fn delayed_link(target: u16, delay: Duration) -> u16 {
    Link::to(target, delay).port
}

/// A relay as [`delayed_link`] makes, which also counts the connections it accepted: the tests
/// see through it which connections a function opens, and when.
pub struct Link {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Link {
    pub fn to(target: u16, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("bound").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        std::thread::spawn(move || serve_link(listener, target, delay, &counter));
        Self { port, accepted }
    }

    /// `http://127.0.0.1:{port}`, for an `AWS_ENDPOINT_URL_*` variable.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

fn serve_link(listener: TcpListener, target: u16, delay: Duration, accepted_count: &AtomicUsize) {
    for inbound in listener.incoming().flatten() {
        accepted_count.fetch_add(1, Ordering::SeqCst);
        let accepted = Instant::now();
        let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)) else {
            continue;
        };
        let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
        let (Ok(inbound_copy), Ok(outbound_copy)) = (inbound.try_clone(), outbound.try_clone())
        else {
            continue;
        };
        // The client's first byte could leave only after SYN and SYN-ACK crossed the link.
        relay(inbound, outbound, delay, accepted + 2 * delay);
        relay(outbound_copy, inbound_copy, delay, accepted);
    }
}

/// Copies `from` to `to`, each read written `delay` after it arrived (and not before
/// `earliest` + `delay`); the end of `from` is passed on the same way.
fn relay(mut from: TcpStream, mut to: TcpStream, delay: Duration, earliest: Instant) {
    let (held, due) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = from.read(&mut buffer).unwrap_or(0);
            let at = Instant::now().max(earliest) + delay;
            if held.send((at, buffer[..read].to_vec())).is_err() || read == 0 {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        for (at, bytes) in due {
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if bytes.is_empty() || to.write_all(&bytes).is_err() {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
        }
    });
}

/// The round trip the link adds, measured: `samples` one-byte exchanges with an echo server
/// behind it, each on an open connection. Returns the median.
pub fn measured_round_trip(delay: Duration, samples: usize) -> Duration {
    let echo = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let echo_port = echo.local_addr().expect("bound").port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = echo.accept() {
            let _ = stream.set_nodelay(true);
            let mut byte = [0u8; 1];
            while stream.read_exact(&mut byte).is_ok() && stream.write_all(&byte).is_ok() {}
        }
    });
    let mut stream = TcpStream::connect(("127.0.0.1", delayed_link(echo_port, delay)))
        .expect("the link accepts");
    stream.set_nodelay(true).expect("nodelay");
    let mut times: Vec<Duration> = (0..samples + 1)
        .map(|_| {
            let started = Instant::now();
            let mut byte = [7u8; 1];
            stream.write_all(&byte).expect("write");
            stream.read_exact(&mut byte).expect("echo");
            started.elapsed()
        })
        .skip(1) // the first pays the connection's handshake round trip
        .collect();
    times.sort();
    times[times.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_delays_each_way_and_counts_its_connections() {
        // Lower bounds only: a slow machine can add time, never take it away.
        let delay = Duration::from_millis(5);
        assert!(measured_round_trip(delay, 3) >= 2 * delay);

        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = echo.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in echo.incoming().flatten() {
                let mut byte = [0u8; 1];
                while stream.read_exact(&mut byte).is_ok() && stream.write_all(&byte).is_ok() {}
            }
        });
        let link = Link::to(target, delay);
        assert_eq!(link.connections(), 0);
        for expected in 1..=2 {
            let started = Instant::now();
            let mut stream = TcpStream::connect(("127.0.0.1", link.port)).unwrap();
            let mut byte = [7u8; 1];
            stream.write_all(&byte).unwrap();
            stream.read_exact(&mut byte).unwrap();
            assert_eq!(byte, [7]);
            // The TCP handshake's round trip, then the byte's.
            assert!(started.elapsed() >= 4 * delay, "{:?}", started.elapsed());
            assert_eq!(link.connections(), expected);
        }
    }
}
