//! A TCP proxy that counts one API operation's requests on the wire, whatever the connection
//! reuse: how tests and the bench prove what a function did (or did not) call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A TCP proxy to `target` (`http://host:port`) counting `needle` in what clients send: the
/// requests of one API operation, whatever the connection reuse.
pub async fn counting_proxy(target: &str, needle: &'static [u8]) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let target = target.trim_start_matches("http://").to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let outbound = tokio::net::TcpStream::connect(&target).await.unwrap();
            let (mut from_client, mut to_client) = inbound.into_split();
            let (mut from_server, mut to_server) = outbound.into_split();
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let mut tail: Vec<u8> = Vec::new();
                while let Ok(n) = from_client.read(&mut buffer).await {
                    if n == 0 || to_server.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                    // What straddles two reads is matched once, with the previous read's tail.
                    tail.extend_from_slice(&buffer[..n]);
                    let found = tail.windows(needle.len()).filter(|w| *w == needle).count();
                    counted.fetch_add(found, Ordering::Relaxed);
                    let keep = tail.len().min(needle.len() - 1);
                    tail.drain(..tail.len() - keep);
                }
            });
            tokio::spawn(async move { tokio::io::copy(&mut from_server, &mut to_client).await });
        }
    });
    (format!("http://{address}"), calls)
}
