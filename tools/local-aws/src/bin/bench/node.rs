//! The Node.js peer: `tools/node-anchor` (Node 20, AWS SDK for JavaScript v3, the shape of AWS's
//! own Node samples) doing the same calls, started through the same Runtime API harness against
//! the same emulators, so each Rust figure has a peer measured in the same run.

use crate::cold::ColdStarts;
use crate::requests::{body, share, status};
use crate::{METHODS, as_deployed};
use local_aws::events::rest_event;
use local_aws::runtime_api::Function;
use local_aws::{Fixture, repo_root, unique};
use std::time::{Duration, Instant};

/// The warm Rust functions the peer's warm requests alternate with, request by request, so that
/// both meet the emulators in the same state (they slow down and speed up over a run).
pub struct Beside<'a> {
    pub backup: &'a Function,
    pub fetch: &'a Function,
    /// A client with one share stored through `backup`.
    pub fetched: &'a str,
}

/// The peer's cold starts and warm latencies, and the Rust functions' beside them.
pub struct Peer {
    pub cold: ColdStarts,
    pub backup_new: Vec<Duration>,
    pub fetch_one: Vec<Duration>,
    pub rust_backup_new: Vec<Duration>,
    pub rust_fetch_one: Vec<Duration>,
    /// Peak RSS of the warm process after its run.
    pub rss_kib: u64,
}

/// `cold_starts` fresh processes (each storing a new share first), then `requests` warm new
/// shares and fetches of one, after `warmup` of each, each next to the same request to `rust`.
pub async fn measure(
    secret_arn: &str,
    rust: Beside<'_>,
    cold_starts: usize,
    warmup: usize,
    requests: usize,
) -> Peer {
    let bootstrap = repo_root().join(".tools/node-anchor/bootstrap");
    assert!(
        bootstrap.exists(),
        "{} is missing: scripts/tools.sh node-anchor installs it",
        bootstrap.display()
    );
    // Tables and a key of its own: its history items are keyed its own way.
    let f = Fixture::new().await;
    // On the network, NODE_EXTRA_CA_CERTS: Node's own trust variable, for the CA Rust trusts.
    let mut env = as_deployed(&f, secret_arn);
    // Deployed as AWS's samples deploy it: no malloc setting of ours.
    env.retain(|(name, _)| *name != "GLIBC_TUNABLES");
    let mut cold = ColdStarts::default();
    for _ in 0..cold_starts {
        let function = Function::start(&bootstrap, &env).await;
        let client = unique("node-cold");
        let event = rest_event("/backup", &body(&client, METHODS[0], &share(&client, 0)));
        let ready = function.ready_after().await;
        let answer = function.invoke(&event.to_string()).await;
        cold.first.push(function.started.elapsed());
        cold.ready.push(ready);
        assert_eq!(status(&answer), 200, "{answer:?}");
    }
    let function = Function::start(&bootstrap, &env).await;
    let fetched = unique("node-fetch");
    let event = rest_event("/backup", &body(&fetched, METHODS[0], &share(&fetched, 0)));
    assert_eq!(status(&function.invoke(&event.to_string()).await), 200);
    let mut peer = Peer {
        cold,
        backup_new: Vec::new(),
        fetch_one: Vec::new(),
        rust_backup_new: Vec::new(),
        rust_fetch_one: Vec::new(),
        rss_kib: 0,
    };
    for i in 0..warmup + requests {
        let new = |prefix: &str| {
            let client = unique(prefix);
            rest_event("/backup", &body(&client, METHODS[0], &share(&client, 0)))
        };
        let fetch = |client: &str| rest_event("/backup/fetch", &body(client, "", ""));
        for (function, event, latencies) in [
            (&function, new("node-new"), &mut peer.backup_new),
            (rust.backup, new("rust-new"), &mut peer.rust_backup_new),
            (&function, fetch(&fetched), &mut peer.fetch_one),
            (rust.fetch, fetch(rust.fetched), &mut peer.rust_fetch_one),
        ] {
            let started = Instant::now();
            let answer = function.invoke(&event.to_string()).await;
            let took = started.elapsed();
            assert_eq!(status(&answer), 200, "{answer:?}");
            if i >= warmup {
                latencies.push(took);
            }
        }
    }
    peer.rss_kib = function.peak_rss_kib()[0];
    peer
}
