//! Support for the tests that need real services: Amazon DynamoDB Local, a KMS and Secrets
//! Manager emulator (moto), tables made from `template.yaml` itself (so tests and deployment
//! cannot drift), and the repository's paths.
//!
//! DynamoDB Local is reached at `DYNAMODB_ENDPOINT` and the emulator at `AWS_EMULATOR_ENDPOINT`
//! when set (`make test` starts both for the whole run); otherwise each test binary starts its own
//! from `.tools/`, installed by `scripts/tools.sh`. Nothing here is ever skipped: without them the
//! tests fail and say why.

pub mod app_api;
pub mod aws_emulator;
pub mod cli;
pub mod custodian_api;
pub mod dynamodb_local;
pub use events;
pub mod local_api;
pub mod network;
pub mod postgres;
pub mod proxy;
pub mod runtime_api;
pub mod template;

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tools/local-aws sits two folders down")
        .to_path_buf()
}

/// A name no other test run uses, for tables and client ids.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Settings every local client shares: the functions' timeouts and retries, a region, and
/// credentials the local services accept (they check the shape, not the value).
pub async fn local_sdk_config() -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region("us-east-1")
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "tests",
        ));
    custodian_backup::aws::sdk_config(loader).await
}

/// Starts `command` (given a free port) under a shell that stops it when this process exits,
/// and waits until the port accepts connections. Returns `http://127.0.0.1:<port>`.
pub fn start_watched(name: &str, command: impl FnOnce(u16) -> String) -> String {
    use std::net::{TcpListener, TcpStream};
    use std::process::{Command, Stdio};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let script = format!(
        "{command} >/dev/null 2>&1 & server=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $server",
        command = command(port),
        parent = std::process::id(),
    );
    let watchdog = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("starting {name}: {error}"));
    // Kept for the life of the test process; each shell ends itself after this process exits.
    static WATCHDOGS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());
    WATCHDOGS.lock().expect("watchdog list").push(watchdog);
    let address = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(&address).is_err() {
        assert!(
            Instant::now() < deadline,
            "{name} did not start on {address} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://{address}")
}

use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::audit_key::AuditKey;
use custodian_backup::config::HistoryRetention;
use custodian_backup::config::Tables;
use custodian_backup::domain::{Backup, Stored};
use custodian_backup::kms::ShareKey;
use custodian_backup::store::ShareWriter;
use custodian_backup::store::dynamodb::item::client_and_slot;
use custodian_backup::store::dynamodb::{DynamoDbStore, Item, StoredShare, schema};

/// A store on fresh, empty tables in DynamoDB Local, made from `template.yaml`, sealing shares
/// with a fresh key in the KMS emulator.
pub struct Fixture {
    pub client: aws_sdk_dynamodb::Client,
    pub tables: Tables,
    pub store: DynamoDbStore,
    /// ARN of this fixture's KMS key.
    pub key_id: String,
    /// ARN of this fixture's audit (HMAC) key.
    pub audit_key_id: String,
    /// The DynamoDB Local the tables are in.
    pub dynamodb_endpoint: String,
    /// The same key, for opening what the store sealed.
    key: ShareKey,
}

/// The malloc setting `template.yaml` gives every function (`tests/it/deployed.rs` checks they agree),
/// so the memory measured here is the memory deployed.
pub const GLIBC_TUNABLES: &str = "glibc.malloc.mmap_threshold=131072";

impl Fixture {
    /// Tables as deployed by default: history kept forever.
    pub async fn new() -> Self {
        Self::with_retention(HistoryRetention::FOREVER).await
    }

    pub async fn with_retention(history_retention: HistoryRetention) -> Self {
        Self::on(dynamodb_local::endpoint(), history_retention).await
    }

    /// A fixture on the DynamoDB Local at `dynamodb_endpoint` (one a test started itself).
    pub async fn on(dynamodb_endpoint: &str, history_retention: HistoryRetention) -> Self {
        let client = dynamodb_local::client_for(dynamodb_endpoint).await;
        let tables = Tables {
            shares: unique("shares"),
            history: unique("history"),
            audit: unique("audit"),
            history_retention,
        };
        template::create_table(&client, &template::table("SharesTable"), &tables.shares).await;
        template::create_table(&client, &template::table("HistoryTable"), &tables.history).await;
        template::create_table(&client, &template::table("AuditTable"), &tables.audit).await;
        let key_id = aws_emulator::create_share_key().await;
        let audit_key_id = Self::stack_audit_key().await;
        let store = DynamoDbStore::new(
            client.clone(),
            tables.clone(),
            Self::share_key(&key_id).await,
        )
        .signing_audit(Some(Self::audit_key(&audit_key_id).await));
        Self {
            client,
            tables,
            store,
            key: Self::share_key(&key_id).await,
            key_id,
            audit_key_id,
            dynamodb_endpoint: dynamodb_endpoint.to_owned(),
        }
    }

    /// A handle on `key_id` in the KMS emulator, as the functions make theirs.
    pub async fn share_key(key_id: &str) -> ShareKey {
        ShareKey::new(aws_emulator::kms_client().await, key_id.to_owned())
    }

    /// A second store on these tables and keys whose audit records take their time from `clock`
    /// (an operator's laptop whose clock is off).
    pub async fn store_with_clock(&self, clock: fn() -> std::time::SystemTime) -> DynamoDbStore {
        DynamoDbStore::new(
            self.client.clone(),
            self.tables.clone(),
            Self::share_key(&self.key_id).await,
        )
        .signing_audit(Some(Self::audit_key(&self.audit_key_id).await))
        .with_clock(clock)
    }

    /// One audit key for every fixture of a test process, as a stack keeps its `AuditKey` through
    /// a table restore: records written before a restore still verify after it.
    async fn stack_audit_key() -> String {
        static KEY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
        KEY.get_or_init(aws_emulator::create_audit_key)
            .await
            .clone()
    }

    /// A handle on the audit key `key_id` in the KMS emulator.
    pub async fn audit_key(key_id: &str) -> AuditKey {
        AuditKey::new(aws_emulator::kms_client().await, key_id.to_owned())
    }

    /// The environment `template.yaml` gives both functions, pointed at these tables in DynamoDB
    /// Local and this key in the KMS emulator, with JSON logs and malloc as in AWS.
    pub fn function_env<'a>(&'a self, secret: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![
            ("WEBHOOK_SECRET", secret),
            ("SHARE_KEY_ID", self.key_id.as_str()),
            ("AUDIT_KEY_ID", self.audit_key_id.as_str()),
            ("SHARES_TABLE", self.tables.shares.as_str()),
            ("HISTORY_TABLE", self.tables.history.as_str()),
            ("AUDIT_TABLE", self.tables.audit.as_str()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.dynamodb_endpoint.as_str()),
            ("AWS_ENDPOINT_URL_KMS", aws_emulator::endpoint()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws_emulator::endpoint()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("GLIBC_TUNABLES", GLIBC_TUNABLES),
        ];
        env.extend(dynamodb_local::LOCAL_CREDENTIALS);
        env
    }

    /// The share a stored item (current or history) holds, opened with this fixture's key.
    pub async fn share_in(&self, item: &Item) -> String {
        let (client_id, slot) = client_and_slot(item).expect("a valid clientId and slot");
        let sealed = StoredShare::from_item(item).expect("a sealed share").sealed;
        let owner = slot.owner(&client_id);
        let share = self
            .key
            .open(owner, &sealed)
            .await
            .expect("the share opens");
        share.expose_secret().to_owned()
    }

    /// Stores a `/backup` body as the release before pairs (0.2.0) did: in its method's pair-less
    /// slot whatever pair it names, with the body's `backupSharePairId` kept beside the share.
    /// What `sam deploy` of this release finds in the tables.
    pub async fn put_before_pairs(&self, body: &serde_json::Value) -> Stored {
        let mut backup = Backup::from_json(body.to_string().as_bytes()).expect("a valid backup");
        backup.backup_share_pair_id = None;
        let stored = self.store.put_share(&backup).await.expect("stored");
        if let Some(pair_id) = body["backupSharePairId"].as_str() {
            let text = |value: &str| AttributeValue::S(value.to_owned());
            self.client
                .update_item()
                .table_name(&self.tables.shares)
                .key(schema::CLIENT_ID, text(backup.client_id.as_str()))
                .key(schema::BACKUP_METHOD, text(backup.backup_method.as_str()))
                .update_expression("SET #pair = :pair")
                .expression_attribute_names("#pair", schema::BACKUP_SHARE_PAIR_ID)
                .expression_attribute_values(":pair", text(pair_id))
                .send()
                .await
                .expect("the pair id set");
        }
        stored
    }

    /// Every item of a table, as DynamoDB holds it, every page. Tests only: the functions may
    /// never Scan.
    pub async fn scan(&self, table: &str) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }
}
