//! The Node.js peer: `tools/node-anchor` (Node 20, AWS SDK for JavaScript v3, the shape of AWS's
//! own Node samples) doing the same calls, started through the same Runtime API harness against
//! the same emulators, so each Rust figure has a peer measured in the same run.

use crate::{ColdStarts, METHODS, as_deployed, body, share, status};
use local_aws::events::rest_event;
use local_aws::runtime_api::Function;
use local_aws::{Fixture, repo_root, unique};
use std::time::{Duration, Instant};

/// The peer's cold starts and warm latencies.
pub struct Peer {
    pub cold: ColdStarts,
    pub backup_new: Vec<Duration>,
    pub fetch_one: Vec<Duration>,
    /// Peak RSS of the warm process after its run.
    pub rss_kib: u64,
}

/// `cold_starts` fresh processes (each storing a new share first), then `requests` warm new
/// shares and fetches of one, after `warmup` of each.
pub async fn measure(secret_arn: &str, cold_starts: usize, warmup: usize, requests: usize) -> Peer {
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
        rss_kib: 0,
    };
    for i in 0..warmup + requests {
        let client = unique("node-new");
        let new = rest_event("/backup", &body(&client, METHODS[0], &share(&client, 0)));
        let fetch = rest_event("/backup/fetch", &body(&fetched, "", ""));
        for (event, latencies) in [(new, &mut peer.backup_new), (fetch, &mut peer.fetch_one)] {
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
