//! A stand-in for Portal's Custodian API, for `reconcile`'s tests: `GET
//! /api/v3/custodians/me/clients?cursor=&take=` with the documented shapes (Portal's
//! `reference/custodian-api/v3-endpoints.md`): `results` of clients with their wallets' backup
//! share pairs, `metadata.cursor` the id of the page's last client while more follow, `take` at
//! most 100, a bearer Custodian API key (401 otherwise), and faults to inject: a rate limit (429
//! with `Retry-After`) and a page that fails (500).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub struct CustodianApi {
    pub base: String,
    state: Arc<Stand>,
}

#[derive(Default)]
struct Stand {
    key: String,
    clients: Mutex<Vec<Value>>,
    /// Every this-many requests one is refused with 429 (0: never).
    rate_limit_every: AtomicUsize,
    /// The page after this cursor fails with 500, every time.
    failing_cursor: Mutex<Option<String>>,
    requests: AtomicUsize,
}

/// A client as Portal lists it: one SECP256K1 wallet with `pairs` as (id, backupMethod without
/// the curve, createdAt, status).
pub fn client(id: &str, pairs: &[(&str, &str, &str, &str)]) -> Value {
    let pairs: Vec<Value> = pairs
        .iter()
        .map(|(pair, method, created_at, status)| {
            json!({ "backupMethod": method, "createdAt": created_at, "id": pair, "status": status })
        })
        .collect();
    json!({
        "createdAt": "2026-01-01T00:00:00.000Z", "custodian": { "id": "custodianId", "name": "Local" },
        "ejectedAt": null, "environment": { "id": "environmentId", "name": "Development" },
        "id": id, "isAccountAbstracted": false, "metadata": { "namespaces": {} },
        "wallets": [{
            "createdAt": "2026-01-01T00:00:00.000Z", "curve": "SECP256K1", "id": format!("wallet-{id}"),
            "backupSharePairs": pairs, "signingSharePairs": [], "publicKey": "{}",
        }],
    })
}

impl CustodianApi {
    /// Serves `clients` on a free loopback port to callers with `key`.
    pub async fn serve(key: &str, clients: Vec<Value>) -> Self {
        let state = Arc::new(Stand {
            key: key.to_owned(),
            clients: Mutex::new(clients),
            ..Stand::default()
        });
        let app = Router::new()
            .route("/api/v3/custodians/me/clients", get(list))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("bound"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, state }
    }

    /// Refuses one request in every `every` with 429 from now on.
    pub fn rate_limit_every(&self, every: usize) {
        self.state.rate_limit_every.store(every, Ordering::SeqCst);
    }

    /// The page after `cursor` fails with 500 (`None`: no page fails).
    pub fn fail_after(&self, cursor: Option<&str>) {
        *self.state.failing_cursor.lock().unwrap() = cursor.map(str::to_owned);
    }

    /// Requests answered so far, refused ones included.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

async fn list(
    State(stand): State<Arc<Stand>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let count = stand.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let bearer = format!("Bearer {}", stand.key);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str()) {
        return (StatusCode::UNAUTHORIZED, "{}").into_response();
    }
    let every = stand.rate_limit_every.load(Ordering::SeqCst);
    if every > 0 && count.is_multiple_of(every) {
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], "{}").into_response();
    }
    let cursor = query.get("cursor").cloned();
    if cursor.is_some() && *stand.failing_cursor.lock().unwrap() == cursor {
        return (StatusCode::INTERNAL_SERVER_ERROR, "{}").into_response();
    }
    let take = query
        .get("take")
        .and_then(|take| take.parse::<usize>().ok())
        .unwrap_or(100);
    if !(1..=100).contains(&take) {
        return (StatusCode::BAD_REQUEST, "{}").into_response();
    }
    let clients = stand.clients.lock().unwrap();
    let start = match &cursor {
        None => 0,
        Some(cursor) => match clients
            .iter()
            .position(|client| client["id"] == cursor.as_str())
        {
            Some(last) => last + 1,
            None => return (StatusCode::BAD_REQUEST, "{}").into_response(),
        },
    };
    let page: Vec<Value> = clients.iter().skip(start).take(take).cloned().collect();
    let next = (start + page.len() < clients.len())
        .then(|| page.last().map(|client| client["id"].clone()))
        .flatten();
    let body = json!({
        "results": page,
        "metadata": { "cursor": next, "take": take, "total": clients.len() },
    });
    (StatusCode::OK, body.to_string()).into_response()
}
