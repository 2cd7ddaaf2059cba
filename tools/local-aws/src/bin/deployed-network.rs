//! `deployed-network --certificate C --key K --delay-ms D NAME=http://127.0.0.1:PORT...`: puts
//! each emulator behind TLS and a delayed link (see `local_aws::network`), prints one
//! `NAME=https://localhost:PORT` line per emulator, then `ready`, and serves until killed.
//! `scripts/bench.sh` runs it for `BENCH_NETWORK=deployed`.

use local_aws::network::{delayed_link, measured_round_trip, server_config, tls_endpoint};
use std::path::PathBuf;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut certificate, mut key, mut delay_ms, mut targets) = (None, None, 1.0, Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--certificate" => certificate = args.next().map(PathBuf::from),
            "--key" => key = args.next().map(PathBuf::from),
            "--delay-ms" => {
                delay_ms = args
                    .next()
                    .and_then(|d| d.parse().ok())
                    .expect("--delay-ms takes milliseconds, e.g. 1 or 0.5")
            }
            target => targets.push(target.to_owned()),
        }
    }
    let config = server_config(&certificate.expect("--certificate"), &key.expect("--key"));
    let delay = Duration::from_secs_f64(delay_ms / 1000.0);
    for target in targets {
        let (name, url) = target
            .split_once('=')
            .expect("targets are NAME=http://127.0.0.1:PORT");
        let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
        let address = url.trim_start_matches("http://").to_owned();
        let tls = tls_endpoint(name, address, config.clone()).await;
        println!("{name}=https://localhost:{}", delayed_link(tls, delay));
    }
    let round_trip = measured_round_trip(delay, 200);
    println!("round-trip-ms={:.3}", round_trip.as_secs_f64() * 1000.0);
    println!("ready");
    std::future::pending::<()>().await;
}
