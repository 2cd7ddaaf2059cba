//! Runs a real Lambda binary as Lambda does: the process polls a Lambda Runtime API for events
//! and posts back responses. This module is that API, on loopback, one per function process.

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// Lambda's quota for a synchronous invocation's response payload: 6 MB.
pub const LAMBDA_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// How long one invocation may take before the test fails (Portal waits 10 s).
const INVOKE_TIMEOUT: Duration = Duration::from_secs(20);

type Outcome = Result<Value, Value>;

struct Api {
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Bytes)>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<String>>,
    /// When a process first asked for an event: the end of its init.
    first_poll: Mutex<Option<Instant>>,
}

/// One or more processes of a function polling one Runtime API, as Lambda runs concurrent
/// instances: each process takes one event at a time. The processes are killed on drop.
pub struct Function {
    processes: Vec<Process>,
    queue: mpsc::UnboundedSender<(String, Bytes)>,
    api: Arc<Api>,
    pub started: Instant,
}

struct Process {
    child: Mutex<Child>,
    /// Its stdout and stderr: its logs.
    output: Arc<Mutex<Vec<u8>>>,
}

/// The debug build of the Lambda binary (or the `custody` CLI) `name`, built by `make test`
/// before the tests run.
/// Refuses a binary older than the code it is built from, so a test never runs stale code.
pub fn binary(name: &str) -> std::path::PathBuf {
    binary_of("debug", name)
}

/// The build of `name` in the target folder `profile` (`release` for `make bench`), checked for
/// staleness as [`binary`] does.
pub fn binary_of(profile: &str, name: &str) -> std::path::PathBuf {
    let root = crate::repo_root();
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), Into::into);
    let binary = target.join(profile).join(name);
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `make test` (it builds the binaries first)",
                binary.display()
            )
        });
    // Only what the binary is built from, as cargo's dep-info lists it (test-only modules of the
    // shared crate are not, and cargo relinks nothing for them), plus the manifests.
    let dep_info = std::fs::read_to_string(binary.with_extension("d")).unwrap_or_default();
    // With dep-info, exactly cargo's view: a manifest or lock file change that leaves the binary
    // as it was relinks nothing, and one that does not is rebuilt by cargo anyway.
    let sources = dep_info
        .split_once(": ")
        .map(|(_, deps)| {
            deps.split_whitespace()
                .map(std::path::PathBuf::from)
                .collect()
        })
        .unwrap_or_else(|| {
            vec![
                root.join("shared"),
                root.join("functions"),
                root.join("custody"),
                root.join("Cargo.toml"),
                root.join("Cargo.lock"),
            ]
        });
    let newest_source = sources.iter().flat_map(|path| newest(path)).max();
    assert!(
        newest_source.is_none_or(|source| source <= built),
        "{} is older than its sources: run `make test` (or `cargo build --workspace --all-targets`)",
        binary.display()
    );
    binary
}

fn newest(path: &std::path::Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|entry| newest(&entry.path()))
        .max()
}

impl Function {
    /// Starts `binary` with `env` (on top of a cleared environment) and Lambda's own variables.
    pub async fn start(binary: &std::path::Path, env: &[(&str, &str)]) -> Self {
        Self::start_pool(binary, env, 1).await
    }

    /// Starts `processes` instances of `binary`, all taking events from one queue.
    pub async fn start_pool(
        binary: &std::path::Path,
        env: &[(&str, &str)],
        processes: usize,
    ) -> Self {
        let (queue, events) = mpsc::unbounded_channel();
        let api = Arc::new(Api {
            events: tokio::sync::Mutex::new(events),
            waiting: Mutex::default(),
            init_error: Mutex::default(),
            first_poll: Mutex::default(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            // Lambda's limit on a synchronous response, where axum's default is 2 MB.
            .layer(DefaultBodyLimit::max(LAMBDA_RESPONSE_BYTES))
            .with_state(api.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("bound address").to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let started = Instant::now();
        let processes = (0..processes)
            .map(|_| Process::spawn(binary, env, &address))
            .collect();
        Self {
            processes,
            queue,
            api,
            started,
        }
    }

    /// How long the first process took from its start to its first poll for an event (its init),
    /// waiting up to 10 s for it.
    pub async fn ready_after(&self) -> Duration {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(polled) = *self.api.first_poll.lock().unwrap() {
                return polled - self.started;
            }
            assert!(
                Instant::now() < deadline,
                "no poll within 10 s:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Sends one event and waits for the function's answer: `Ok(response)` or `Err(error)`.
    pub async fn invoke(&self, event: &str) -> Outcome {
        self.invoke_within(event, INVOKE_TIMEOUT)
            .await
            .unwrap_or_else(|| {
                panic!(
                    "no answer within {INVOKE_TIMEOUT:?}; init error: {:?}; output:\n{}",
                    self.api.init_error.lock().unwrap(),
                    self.output()
                )
            })
    }

    /// Sends one event; `None` if no answer came within `limit` (the process was killed, say).
    pub async fn invoke_within(&self, event: &str, limit: Duration) -> Option<Outcome> {
        let id = crate::unique("request");
        let (answer, answered) = oneshot::channel();
        self.api.waiting.lock().unwrap().insert(id.clone(), answer);
        self.queue
            .send((id, Bytes::from(event.to_owned())))
            .expect("runtime API is up");
        let outcome = tokio::time::timeout(limit, answered).await.ok()?;
        Some(outcome.expect("answer channel"))
    }

    /// Kills every process at once (SIGKILL), wherever it is: as when Lambda's sandbox dies.
    pub fn kill(&self) {
        for process in &self.processes {
            let mut child = process.child.lock().unwrap();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Peak resident memory (VmHWM) of each live process, in KiB, where `/proc` tells it.
    pub fn peak_rss_kib(&self) -> Vec<u64> {
        self.processes
            .iter()
            .filter_map(|process| {
                let pid = process.child.lock().unwrap().id();
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
                let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .collect()
    }

    /// The output once `complete` holds for it, or after 5 s: a line written just before a
    /// response may still be in the pipe when the response arrives.
    pub async fn output_when(&self, complete: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let output = self.output();
            if complete(&output) || Instant::now() > deadline {
                return output;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything the processes wrote to stdout and stderr so far (their logs), one process
    /// after another.
    pub fn output(&self) -> String {
        self.processes
            .iter()
            .map(|process| String::from_utf8_lossy(&process.output.lock().unwrap()).into_owned())
            .collect()
    }
}

impl Process {
    fn spawn(binary: &std::path::Path, env: &[(&str, &str)], runtime_api: &str) -> Self {
        let name = binary.file_name().unwrap().to_string_lossy().into_owned();
        let mut child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || collect(stream, &output));
        }
        Self {
            child: Mutex::new(child),
            output,
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        self.kill();
    }
}

fn collect(mut stream: Box<dyn Read + Send>, output: &Mutex<Vec<u8>>) {
    let mut buffer = [0u8; 8192];
    while let Ok(read @ 1..) = stream.read(&mut buffer) {
        output.lock().unwrap().extend_from_slice(&buffer[..read]);
    }
}

async fn next(State(api): State<Arc<Api>>) -> Result<(HeaderMap, Bytes), StatusCode> {
    api.first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    // The queue closes when the test drops the function; a process still polling then fails.
    let (id, event) = api
        .events
        .lock()
        .await
        .recv()
        .await
        .ok_or(StatusCode::GONE)?;
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(8);
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("header value"));
    };
    set("lambda-runtime-aws-request-id", id);
    set(
        "lambda-runtime-deadline-ms",
        deadline.as_millis().to_string(),
    );
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:test".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
    );
    Ok((headers, event))
}

async fn respond(State(api): State<Arc<Api>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(
        &api,
        &id,
        Ok(serde_json::from_slice(&body).unwrap_or(Value::Null)),
    )
}

async fn fail(State(api): State<Arc<Api>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(
        &api,
        &id,
        Err(serde_json::from_slice(&body).unwrap_or(Value::Null)),
    )
}

fn answer(api: &Api, id: &str, outcome: Outcome) -> StatusCode {
    if let Some(waiter) = api.waiting.lock().unwrap().remove(id) {
        let _ = waiter.send(outcome);
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<Arc<Api>>, body: Bytes) -> StatusCode {
    *api.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}
