//! The Enclave MPC API's variant: the customer's backend, a SigV4 caller, names the client in
//! the path; nobody else can, and an app function never takes the path's word.

use super::*;

/// A REST API event of the Enclave MPC API's routes, as API Gateway sends it after IAM
/// authorization (`caller` `None`: a route wired without it).
fn backend_event(
    method: &str,
    client_id: &str,
    backup_method: Option<&str>,
    body: Option<&str>,
    caller: Option<&str>,
) -> Request {
    let mut resource = "/clients/{clientId}/client-backup-shares".to_owned();
    let mut parameters = vec![("clientId", client_id)];
    if let Some(m) = backup_method {
        resource.push_str("/{backupMethod}");
        parameters.push(("backupMethod", m));
    }
    let event = events::iam_event(method, &resource, &parameters, caller, body);
    request_from_event(&event.to_string()).unwrap()
}

const BACKEND: &str = "arn:aws:sts::123456789012:assumed-role/wallet-backend/worker";

#[tokio::test]
async fn the_backend_names_the_client_in_the_path_only_as_a_sigv4_caller() {
    let store = MemoryStore::default();
    let backend = Callers::Backend;
    let answer = |response: Response<Body>| {
        let status = response.status().as_u16();
        let Body::Text(text) = response.body() else {
            panic!("a text body")
        };
        (status, serde_json::from_str::<Value>(text).unwrap())
    };
    let body = r#"{"cipherText": "enclave-ct"}"#;
    let put = backend_event("PUT", "cli_1", Some("PASSWORD"), Some(body), Some(BACKEND));
    let (status, got) = answer(client_backup_shares(&store, &backend, put).await.unwrap());
    assert_eq!((status, got["result"].as_str()), (200, Some("created")));
    let get = backend_event("GET", "cli_1", Some("PASSWORD"), None, Some(BACKEND));
    let (status, got) = answer(client_backup_shares(&store, &backend, get).await.unwrap());
    assert_eq!(
        (status, got["cipherText"].as_str()),
        (200, Some("enclave-ct"))
    );
    let list = backend_event("GET", "cli_1", None, None, Some(BACKEND));
    let (_, listed) = answer(client_backup_shares(&store, &backend, list).await.unwrap());
    assert_eq!(listed["clientBackupShares"][0]["backupMethod"], "PASSWORD");

    // Without a SigV4 caller, or with a token instead, the path names nobody.
    let unsigned = backend_event("GET", "cli_1", Some("PASSWORD"), None, None);
    let with_token = event(
        "GET",
        Some("PASSWORD"),
        None,
        Some(json!({ "sub": "cli_1" })),
    );
    for request in [unsigned, with_token] {
        let (status, got) = answer(
            client_backup_shares(&store, &backend, request)
                .await
                .unwrap(),
        );
        assert_eq!(
            (status, got["error"]["code"].as_str()),
            (403, Some("no_caller_identity"))
        );
        assert!(got.get("cipherText").is_none());
    }
    // An app function never takes the owner from the path, signed or not.
    let signed = backend_event("GET", "cli_1", Some("PASSWORD"), None, Some(BACKEND));
    let (status, got) = call(&store, signed).await;
    assert_eq!(
        (status, got["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
}

#[test]
fn callers_come_from_the_environment_and_an_unknown_value_is_refused() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    };
    let sub = Callers::App {
        owner_claim: "sub".into(),
    };
    assert_eq!(Callers::from_lookup(env(&[])).unwrap(), sub);
    let uid = Callers::App {
        owner_claim: "uid".into(),
    };
    assert_eq!(
        Callers::from_lookup(env(&[("OWNER_CLAIM", "uid")])).unwrap(),
        uid
    );
    let backend = env(&[("CLIENT_SHARE_CALLERS", "backend")]);
    assert_eq!(Callers::from_lookup(backend).unwrap(), Callers::Backend);
    let unknown = env(&[("CLIENT_SHARE_CALLERS", "everyone")]);
    let refused = Callers::from_lookup(unknown).unwrap_err().to_string();
    assert!(refused.contains("CLIENT_SHARE_CALLERS"), "{refused}");
    assert!(
        !refused.contains("everyone"),
        "the value is never echoed: {refused}"
    );
}
