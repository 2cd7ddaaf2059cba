//! The client-share API end to end, as an app meets it: the real `client-backup-shares` binary
//! behind the local stand-in of API Gateway's JWT authorizer (development tokens), on tables made
//! from `template.yaml`'s client-share tables in DynamoDB Local, sealing under its own key in the
//! KMS emulator.

use crate::support::put_row;
use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::config::{HistoryRetention, Tables};
use custodian_backup::domain::Backup;
use custodian_backup::store::ShareWriter;
use local_aws::app_api::{self, DEV_ISSUER, dev_token, sign};
use local_aws::cli::custody_with;
use local_aws::events::iam_event;
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, aws_emulator, dynamodb_local, template, unique};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The client-share tables and key of one stack, and the API in front of its function.
struct App {
    tables: Tables,
    key_id: String,
    base: String,
    function: Arc<Function>,
    http: reqwest::Client,
}

impl App {
    async fn start() -> Self {
        let client = dynamodb_local::client().await;
        let tables = Tables {
            shares: unique("client-shares"),
            history: unique("client-history"),
            audit: unique("client-audit"),
            history_retention: HistoryRetention::FOREVER,
        };
        for (logical_id, name) in [
            ("ClientBackupSharesTable", &tables.shares),
            ("ClientBackupShareHistoryTable", &tables.history),
            ("ClientBackupShareAuditTable", &tables.audit),
        ] {
            template::create_table(&client, &template::table(logical_id), name).await;
        }
        let key_id = aws_emulator::create_share_key().await;
        let function = Arc::new(
            Function::start(
                &binary("client-backup-shares"),
                &env(&tables, &key_id, true),
            )
            .await,
        );
        let base = app_api::serve(function.clone(), 0).await;
        Self {
            tables,
            key_id,
            base,
            function,
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("the local API answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
        )
    }

    async fn put(&self, token: &str, method: &str, body: Value) -> (u16, Value) {
        let path = format!("/client-backup-shares/{method}");
        self.call("PUT", &path, Some(token), Some(body.to_string()))
            .await
    }

    async fn get(&self, token: &str, method: &str) -> (u16, Value) {
        self.call(
            "GET",
            &format!("/client-backup-shares/{method}"),
            Some(token),
            None,
        )
        .await
    }

    async fn items(&self, table: &str) -> Vec<aws_sdk_dynamodb::types::AttributeValue> {
        let client = dynamodb_local::client().await;
        let page = client.scan().table_name(table).send().await.unwrap();
        page.items()
            .iter()
            .flat_map(|item| item.values().cloned())
            .collect()
    }
}

/// The environment `template.yaml` gives the client-share function, on these tables and key.
fn env<'a>(tables: &'a Tables, key_id: &'a str, client_kind: bool) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("SHARES_TABLE", tables.shares.as_str()),
        ("HISTORY_TABLE", tables.history.as_str()),
        ("AUDIT_TABLE", tables.audit.as_str()),
        ("SHARE_KEY_ID", key_id),
        ("HISTORY_RETENTION_DAYS", "0"),
        ("OWNER_CLAIM", "sub"),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local::endpoint()),
        ("AWS_ENDPOINT_URL_KMS", aws_emulator::endpoint()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
    ];
    if client_kind {
        env.push(("SHARE_KIND", "client"));
    }
    env.extend(dynamodb_local::LOCAL_CREDENTIALS);
    env
}

/// The `clientId` an app user's shares are stored under (`domain/client_owner.rs`).
fn app_owner(user: &str) -> String {
    format!("app {DEV_ISSUER} sub {user}")
}

fn token(user: &str) -> String {
    dev_token(user, Duration::from_secs(600))
}

/// Base64 as the SDK's cipherText is, with a non-ASCII tail to prove bytes are kept exactly.
const CIPHER_TEXT: &str = "c2VjcmV0LWNsaWVudC1iYWNrdXAtc2hhcmU+/+/=é☃";

#[tokio::test]
async fn an_app_stores_and_fetches_its_own_client_backup_share_byte_for_byte_and_nobody_elses() {
    let app = App::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let body = json!({ "cipherText": CIPHER_TEXT, "backupSharePairId": "bsp_1" });
    assert_eq!(
        app.put(&token(&alice), "PASSWORD", body.clone()).await,
        (200, json!({ "result": "created" }))
    );
    assert_eq!(
        app.put(&token(&alice), "PASSWORD", body).await.1["result"],
        "unchanged"
    );
    let (status, got) = app.get(&token(&alice), "PASSWORD").await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["cipherText"], CIPHER_TEXT);
    assert_eq!(got["backupMethod"], "PASSWORD");
    assert_eq!(got["backupSharePairId"], "bsp_1");
    assert!(
        got["storedAt"]
            .as_str()
            .is_some_and(|at| at.starts_with("20")),
        "{got}"
    );

    // Another user's token never reaches alice's share; no token, a forged or expired one never
    // reaches the function at all.
    let (status, answer) = app.get(&token(&bob), "PASSWORD").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let expired = dev_token(&alice, Duration::ZERO);
    let forged = sign(
        &json!({ "alg": "none" }),
        &json!({ "sub": alice, "iss": app_api::DEV_ISSUER, "aud": app_api::DEV_AUDIENCE, "exp": u64::MAX }),
    );
    for refused in [
        None,
        Some(expired.as_str()),
        Some(forged.as_str()),
        Some("not-a-token"),
    ] {
        let (status, _) = app
            .call("GET", "/client-backup-shares/PASSWORD", refused, None)
            .await;
        assert_eq!(status, 401, "{refused:?}");
    }

    // The same pair again replaces it, the old one kept in history; a new pair never does.
    let replaced = json!({ "cipherText": "c2Vjb25k", "backupSharePairId": "bsp_1" });
    assert_eq!(
        app.put(&token(&alice), "PASSWORD", replaced).await.1["result"],
        "replaced"
    );
    let second_pair = json!({ "cipherText": "cGFpcjI=", "backupSharePairId": "bsp_2" });
    assert_eq!(
        app.put(&token(&alice), "PASSWORD", second_pair).await.1["result"],
        "created"
    );
    let of_pair = |pair: &str| format!("/client-backup-shares/PASSWORD?backupSharePairId={pair}");
    let (status, got) = app
        .call("GET", &of_pair("bsp_1"), Some(&token(&alice)), None)
        .await;
    assert_eq!(
        (status, got["cipherText"].as_str()),
        (200, Some("c2Vjb25k"))
    );
    let (status, got) = app
        .call("GET", &of_pair("bsp_9"), Some(&token(&alice)), None)
        .await;
    assert_eq!(
        (status, got["error"]["code"].as_str()),
        (404, Some("not_found")),
        "never another pair's"
    );
    let (status, got) = app.get(&token(&alice), "PASSWORD").await;
    assert_eq!(
        (status, got["backupSharePairId"].as_str()),
        (200, Some("bsp_2")),
        "the newest"
    );
    assert_eq!(
        app.put(
            &token(&alice),
            "ICLOUD",
            json!({ "cipherText": "aWNsb3Vk" })
        )
        .await
        .0,
        200
    );
    let (status, listed) = app
        .call("GET", "/client-backup-shares", Some(&token(&alice)), None)
        .await;
    assert_eq!(status, 200);
    let slots: Vec<(&str, Option<&str>)> = listed["clientBackupShares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["backupMethod"].as_str().unwrap(),
                entry["backupSharePairId"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        slots,
        [
            ("ICLOUD", None),
            ("PASSWORD", Some("bsp_2")),
            ("PASSWORD", Some("bsp_1"))
        ]
    );
    assert!(
        !listed.to_string().contains("c2Vj") && !listed.to_string().contains("cipherText"),
        "{listed}"
    );
    let mut operator = env(&app.tables, &app.key_id, true);
    operator.push(("AWS_ENDPOINT_URL_STS", aws_emulator::endpoint()));
    let history = custody_with(
        &operator,
        &[
            "--json",
            "history",
            &app_owner(&alice),
            "PASSWORD",
            "--pair",
            "bsp_1",
        ],
    );
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert_eq!(
        history.json()["shares"].as_array().unwrap().len(),
        2,
        "{}",
        history.stdout
    );

    // Sealed at rest: no cipherText in any item, current or kept; nothing in the logs.
    for table in [&app.tables.shares, &app.tables.history] {
        for value in app.items(table).await {
            if let AttributeValue::S(text) = value {
                assert!(
                    !text.contains("c2VjcmV0") && !text.contains("c2Vjb25k"),
                    "{text}"
                );
            }
        }
    }
    let logs = app
        .function
        .output_when(|logs| logs.matches("\"message\":\"request\"").count() >= 7)
        .await;
    assert!(!logs.contains("c2Vj"), "a cipherText in the logs:\n{logs}");
}

/// lambda_http builds a request's URI from the raw query string and panics when they make none;
/// with `panic = "abort"` that would end the process. Each such query is a 400 from the real
/// binary, which answers the next request as before.
#[tokio::test]
async fn a_query_string_that_makes_no_uri_is_a_400_and_the_function_lives_on() {
    let app = App::start().await;
    let dave = unique("dave");
    let body = json!({ "cipherText": CIPHER_TEXT, "backupSharePairId": "bsp_1" });
    assert_eq!(app.put(&token(&dave), "PASSWORD", body).await.0, 200);
    let get = |query: &str| {
        let mut event: Value =
            serde_json::from_str(&local_aws::events::event("client-share-get.json")).unwrap();
        event["rawQueryString"] = query.into();
        let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
        claims["sub"] = dave.as_str().into();
        claims["iss"] = DEV_ISSUER.into();
        event.to_string()
    };
    let answer = |outcome: Result<Value, Value>| {
        let response = outcome.expect("an answer, not a function error");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        (response["statusCode"].as_u64().unwrap(), body)
    };
    for query in [
        "backupSharePairId=bsp 1",
        "backupSharePairId=\"bsp_1\"",
        "backupSharePairId=<bsp_1>",
        "backupSharePairId=bsp_1\u{0}",
        "backupSharePairId=bsp_1\u{7f}",
        "a=\n&backupSharePairId=bsp_1",
    ] {
        let (status, body) = answer(app.function.invoke(&get(query)).await);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_query")),
            "{query:?}"
        );
        assert!(body.get("cipherText").is_none());
    }
    for (query, status, code) in [
        ("backupSharePairId=", 400, Some("empty_field")),
        (
            "backupSharePairId=a&backupSharePairId=b",
            400,
            Some("duplicate_field"),
        ),
        ("backupSharePairId=%1F", 400, Some("invalid_character")),
        ("backupSharePairId=bsp_2", 404, Some("not_found")),
        ("backupSharePairId=bsp_1\\", 404, Some("not_found")),
        ("backupSharePairId=bsp%5F1", 200, None),
    ] {
        let (got, body) = answer(app.function.invoke(&get(query)).await);
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, code),
            "{query:?}: {body}"
        );
    }
}

#[tokio::test]
async fn a_bad_body_gets_a_clear_error_and_nothing_is_stored() {
    let app = App::start().await;
    let user = unique("carol");
    let cases = [
        (json!({ "cipherText": "" }).to_string(), 400, "empty_field"),
        (json!({ "cipherText": 42 }).to_string(), 400, "wrong_type"),
        (json!({}).to_string(), 400, "missing_field"),
        ("{\"cipherText\": \"cut".to_owned(), 400, "malformed_json"),
        (
            json!({ "cipherText": "a".repeat(65 * 1024) }).to_string(),
            413,
            "cipher_text_too_large",
        ),
        (
            json!({ "cipherText": "a".repeat(300 * 1024) }).to_string(),
            413,
            "payload_too_large",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = app
            .call(
                "PUT",
                "/client-backup-shares/PASSWORD",
                Some(&token(&user)),
                Some(body),
            )
            .await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
        assert!(
            !answer.to_string().contains("aaaa"),
            "the error echoes the body"
        );
    }
    let (_, listed) = app
        .call("GET", "/client-backup-shares", Some(&token(&user)), None)
        .await;
    assert_eq!(listed["clientBackupShares"], json!([]));
    assert!(app.items(&app.tables.shares).await.is_empty());
}

#[tokio::test]
async fn a_share_stored_without_a_method_answers_for_any_method_and_says_so() {
    let app = App::start().await;
    let user = unique("dave");
    assert_eq!(
        app.put(
            &token(&user),
            "UNKNOWN",
            json!({ "cipherText": "bGVnYWN5" })
        )
        .await
        .0,
        200
    );
    let (status, got) = app.get(&token(&user), "GDRIVE").await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        (
            got["backupMethod"].as_str(),
            got["requestedBackupMethod"].as_str()
        ),
        (Some("UNKNOWN"), Some("GDRIVE"))
    );
    assert_eq!(got["cipherText"], "bGVnYWN5");
}

#[tokio::test]
async fn a_put_onto_a_row_that_does_not_read_stores_the_new_cipher_text() {
    let app = App::start().await;
    let user = unique("frank");
    let body = |text: &str| json!({ "cipherText": text });
    assert_eq!(
        app.put(&token(&user), "PASSWORD", body("Zmlyc3Q=")).await.0,
        200
    );
    // A newer sealFormat left behind by a rolled-back deployment.
    let client = dynamodb_local::client().await;
    let mut row = client
        .scan()
        .table_name(&app.tables.shares)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|item| {
            item["clientId"]
                .as_s()
                .is_ok_and(|owner| owner.contains(&user))
        })
        .cloned()
        .expect("the stored row");
    row.insert("sealFormat".into(), AttributeValue::N("99".into()));
    put_row(&client, &app.tables.shares, row).await;
    assert_eq!(
        app.put(&token(&user), "PASSWORD", body("c2Vjb25k")).await,
        (200, json!({ "result": "replaced_unreadable" }))
    );
    let (status, got) = app.get(&token(&user), "PASSWORD").await;
    assert_eq!(
        (status, got["cipherText"].as_str()),
        (200, Some("c2Vjb25k"))
    );
    let kept = client
        .scan()
        .table_name(&app.tables.history)
        .send()
        .await
        .unwrap();
    assert_eq!(
        kept.items().len(),
        1,
        "the unreadable row is kept in history"
    );
}

#[tokio::test]
async fn a_share_stored_under_a_bare_owner_before_the_upgrade_is_bound_to_its_user_by_custody() {
    let app = App::start().await;
    let user = unique("grace");
    // As 0.3.0 stored it: under the token's bare `sub`.
    let key =
        custodian_backup::kms::ShareKey::new(aws_emulator::kms_client().await, app.key_id.clone())
            .of_kind(custodian_backup::domain::envelope::ShareKind::Client);
    let before = custodian_backup::store::dynamodb::DynamoDbStore::new(
        dynamodb_local::client().await,
        app.tables.clone(),
        key,
    );
    let body = json!({ "clientId": user, "backupMethod": "PASSWORD", "share": CIPHER_TEXT, "backupSharePairId": "bsp_1" });
    before
        .put_share(&Backup::from_json(body.to_string().as_bytes()).unwrap())
        .await
        .unwrap();
    let (status, _) = app.get(&token(&user), "PASSWORD").await;
    assert_eq!(status, 404, "a bare owner is no user's until bound");

    let audit_key = aws_emulator::create_audit_key().await;
    let mut operator = env(&app.tables, &app.key_id, true);
    operator.push(("AWS_ENDPOINT_URL_STS", aws_emulator::endpoint()));
    operator.push(("AUDIT_KEY_ID", &audit_key));
    let args = [
        "--json",
        "client-owners",
        "--app-issuer",
        DEV_ISSUER,
        "--reason",
        "upgrade",
    ];
    let bound = custody_with(&operator, &args);
    assert_eq!(bound.code, 0, "{}{}", bound.stdout, bound.stderr);
    assert_eq!(bound.json()["bound"], 1, "{}", bound.stdout);
    let (status, got) = app.get(&token(&user), "PASSWORD").await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["cipherText"], CIPHER_TEXT, "byte for byte");
    assert_eq!(got["backupSharePairId"], "bsp_1");

    let again = custody_with(&operator, &args);
    assert_eq!((again.code, again.json()["bound"].as_u64()), (0, Some(0)));
    assert_eq!(again.json()["alreadyBound"], 1);
    // The bare row is kept in its history, and the move is audited under it.
    let history = custody_with(
        &operator,
        &["--json", "history", &user, "PASSWORD", "--pair", "bsp_1"],
    );
    assert_eq!(
        history.json()["shares"][0]["current"],
        false,
        "{}",
        history.stdout
    );
    let audit = custody_with(
        &operator,
        &["--json", "audit", &user, "PASSWORD", "--pair", "bsp_1"],
    );
    assert_eq!(
        audit.json()["records"][0]["action"],
        "move-owner",
        "{}",
        audit.stdout
    );
    assert!(!bound.stdout.contains("c2Vj") && !bound.stderr.contains("c2Vj"));
}

/// The two halves never mix: a custodian share in the client tables does not open as a client
/// share (the kind is bound into every envelope), and the client-share function refuses to start
/// unless configured for the client half.
#[tokio::test]
async fn a_custodian_share_never_comes_out_of_the_client_share_api() {
    let f = Fixture::new().await;
    let user = unique("erin");
    // Under the very clientId the app user's shares are stored under.
    let body = json!({ "clientId": app_owner(&user), "backupMethod": "PASSWORD", "share": "{\"share\":\"0x5f3c-custodian\"}" });
    f.store
        .put_share(&Backup::from_json(body.to_string().as_bytes()).unwrap())
        .await
        .unwrap();
    let function = Arc::new(
        Function::start(
            &binary("client-backup-shares"),
            &env(&f.tables, &f.key_id, true),
        )
        .await,
    );
    let base = app_api::serve(function, 0).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/client-backup-shares/PASSWORD"))
        .bearer_auth(token(&user))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 500);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("stored_share_unreadable") && !text.contains("0x5f3c"),
        "{text}"
    );

    let custodian_configured = Function::start(
        &binary("client-backup-shares"),
        &env(&f.tables, &f.key_id, false),
    )
    .await;
    let logs = custodian_configured
        .output_when(|logs| logs.contains("SHARE_KIND"))
        .await;
    assert!(
        logs.contains("this function serves client backup shares"),
        "{logs}"
    );
}

/// The Enclave MPC API's variant: the customer's backend, a SigV4 caller, names the client in
/// the path. The real binary as `BackendClientBackupSharesFunction` runs it, through the Lambda
/// Runtime API with REST events as API Gateway sends them after IAM authorization.
#[tokio::test]
async fn the_customers_backend_stores_and_fetches_a_clients_share_only_as_a_signed_caller() {
    let app = App::start().await;
    let mut backend_env = env(&app.tables, &app.key_id, true);
    backend_env.push(("CLIENT_SHARE_CALLERS", "backend"));
    let backend = Function::start(&binary("client-backup-shares"), &backend_env).await;
    let caller = "arn:aws:sts::123456789012:assumed-role/enclave-backend/worker";
    let (client, other) = (unique("cli"), unique("cli"));
    let request = |method: &str,
                   client: &str,
                   backup_method: Option<&str>,
                   body: Option<Value>,
                   signed: bool| {
        let mut resource = "/clients/{clientId}/client-backup-shares".to_owned();
        let mut parameters = vec![("clientId", client)];
        if let Some(m) = backup_method {
            resource.push_str("/{backupMethod}");
            parameters.push(("backupMethod", m));
        }
        let body = body.map(|body| body.to_string());
        let caller = signed.then_some(caller);
        iam_event(method, &resource, &parameters, caller, body.as_deref()).to_string()
    };
    let answer = |outcome: Result<Value, Value>| {
        let response = outcome.expect("no function error");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        (response["statusCode"].as_u64().unwrap(), body)
    };
    let per_curve = [
        ("PASSWORD-SECP256K1", CIPHER_TEXT),
        ("PASSWORD-ED25519", "ZWQyNTUxOQ=="),
    ];
    for (method, cipher_text) in per_curve {
        let body = json!({ "cipherText": cipher_text, "backupSharePairId": "bsp_9" });
        let put = request("PUT", &client, Some(method), Some(body), true);
        assert_eq!(answer(backend.invoke(&put).await).1["result"], "created");
    }
    for (method, cipher_text) in per_curve {
        let (status, got) = answer(
            backend
                .invoke(&request("GET", &client, Some(method), None, true))
                .await,
        );
        assert_eq!(
            (status, got["cipherText"].as_str()),
            (200, Some(cipher_text)),
            "{got}"
        );
    }
    let (_, listed) = answer(
        backend
            .invoke(&request("GET", &client, None, None, true))
            .await,
    );
    assert_eq!(
        listed["clientBackupShares"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(!listed.to_string().contains("cipherText"), "{listed}");
    let replaced = json!({ "cipherText": "cmVwbGFjZWQ=", "backupSharePairId": "bsp_9" });
    let put = request(
        "PUT",
        &client,
        Some("PASSWORD-ED25519"),
        Some(replaced),
        true,
    );
    assert_eq!(answer(backend.invoke(&put).await).1["result"], "replaced");

    let get_other = request("GET", &other, Some("PASSWORD-SECP256K1"), None, true);
    let (status, got) = answer(backend.invoke(&get_other).await);
    assert_eq!(
        (status, got["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    for unsigned in [
        request("GET", &client, Some("PASSWORD-SECP256K1"), None, false),
        request(
            "PUT",
            &client,
            Some("PASSWORD-SECP256K1"),
            Some(json!({ "cipherText": "bad" })),
            false,
        ),
    ] {
        let (status, got) = answer(backend.invoke(&unsigned).await);
        assert_eq!(
            (status, got["error"]["code"].as_str()),
            (403, Some("no_caller_identity"))
        );
        assert!(got.get("cipherText").is_none());
    }
    let (_, still) = answer(
        backend
            .invoke(&request(
                "GET",
                &client,
                Some("PASSWORD-SECP256K1"),
                None,
                true,
            ))
            .await,
    );
    assert_eq!(
        still["cipherText"], CIPHER_TEXT,
        "an unsigned PUT changed nothing"
    );

    let mut operator = env(&app.tables, &app.key_id, true);
    operator.push(("AWS_ENDPOINT_URL_STS", aws_emulator::endpoint()));
    let history = custody_with(
        &operator,
        &[
            "--json",
            "history",
            &format!("backend {client}"),
            "PASSWORD-ED25519",
            "--pair",
            "bsp_9",
        ],
    );
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert_eq!(
        history.json()["shares"].as_array().unwrap().len(),
        2,
        "{}",
        history.stdout
    );
    let logs = backend
        .output_when(|logs| logs.matches("\"message\":\"request\"").count() >= 10)
        .await;
    assert!(
        !logs.contains("c2Vj") && !logs.contains("ZWQy"),
        "a cipherText in the logs:\n{logs}"
    );
    assert!(
        logs.contains(caller),
        "the log line names the caller:\n{logs}"
    );
}

#[tokio::test]
async fn client_shares_come_in_from_portals_postgres_schema_and_each_user_gets_their_own() {
    let app = App::start().await;
    let (url, db) = local_aws::postgres::portal_database().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    // The app's tokens name a user by `username`. Bob's share is in the table Portal's own guide
    // describes (`UserBackupShare`, from before pairs: no pair column).
    db.batch_execute(
        r#"CREATE TABLE "UserBackupShare" (
             "backupMethod" TEXT NOT NULL DEFAULT 'UNKNOWN',
             "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
             "id" TEXT PRIMARY KEY,
             "cipherText" TEXT NOT NULL,
             "userId" INTEGER NOT NULL REFERENCES "User"("id"))"#,
    )
    .await
    .unwrap();
    for (id, username) in [(1, &alice), (2, &bob)] {
        local_aws::postgres::add_user(&db, id, Some(username)).await;
    }
    db.execute(
        r#"INSERT INTO "ClientBackupShare" ("id", "userId", "backupMethod", "backupSharePairId", "cipherText") VALUES ('k1', 1, 'PASSWORD', 'bsp_1', $1)"#,
        &[&CIPHER_TEXT],
    )
    .await
    .unwrap();
    db.execute(
        r#"INSERT INTO "UserBackupShare" ("id", "userId", "cipherText") VALUES ('u1', 2, 'Ym9iJ3MgY2lwaGVyIHRleHQ=')"#,
        &[],
    )
    .await
    .unwrap();

    let audit_key = aws_emulator::create_audit_key().await;
    let mut operator = env(&app.tables, &app.key_id, true);
    operator.push(("AWS_ENDPOINT_URL_STS", aws_emulator::endpoint()));
    operator.push(("AUDIT_KEY_ID", &audit_key));
    let import = |extra: &[&str]| {
        let mut args = vec![
            "--json",
            "import",
            "--from-postgres",
            &url,
            "--client-shares",
        ];
        args.extend(extra);
        custody_with(&operator, &args)
    };
    let no_owner_column = import(&["--app-issuer", DEV_ISSUER]);
    assert_eq!(no_owner_column.code, 2, "{}", no_owner_column.stdout);
    let by_username = ["--app-issuer", DEV_ISSUER, "--owner-from", "User.username"];
    let run = import(&by_username);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["current"], 1, "{}", run.stdout);
    let guide = [&by_username[..], &["--share-table", "UserBackupShare"]].concat();
    let run = import(&guide);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let (status, got) = app.get(&token(&alice), "PASSWORD").await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["cipherText"], CIPHER_TEXT, "byte for byte");
    assert_eq!(got["backupSharePairId"], "bsp_1");
    // Bob's legacy row is his UNKNOWN share: what any method falls back to, never alice's.
    let (status, got) = app.get(&token(&bob), "PASSWORD").await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["cipherText"], "Ym9iJ3MgY2lwaGVyIHRleHQ=");
    let verified = import(&[&by_username[..], &["--verify"]].concat());
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    assert_eq!(verified.json()["same"], 1, "{}", verified.stdout);
}
