//! Handler behaviour against the in-memory store: statuses, bodies and logs as Portal meets them,
//! and every `events/` fixture. Storage itself is proven against DynamoDB Local in `tests/`.

mod bad_bodies;
mod eject;
mod events;
mod logs;
mod requests;

use super::{backup, fetch};
use crate::secret::Authenticator;
use crate::secret::WebhookSecrets;
use crate::store::memory::MemoryStore;
use lambda_http::http;
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::io::Write;

pub const SECRET: &str = "SECRET_CANARY_3f9a1c7e-portal-dashboard";
pub const SHARE: &str = r#"{"share":"SHARE_CANARY_0x5f3c9d","bks":{"x":"é☃\n\"q\""}}"#;

pub fn secrets() -> Authenticator {
    WebhookSecrets::new(Some(SecretString::from(SECRET.to_owned())), None).into()
}

pub fn post() -> http::request::Builder {
    http::Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .header("x-webhook-secret", SECRET)
}

pub fn request(builder: http::request::Builder, body: impl Into<Body>) -> Request {
    builder.body(body.into()).expect("valid test request")
}

pub fn backup_body(client_id: &str, backup_method: Option<&str>, share: &str) -> String {
    let mut body = json!({ "clientId": client_id, "share": share });
    if let Some(method) = backup_method {
        body["backupMethod"] = method.into();
    }
    body.to_string()
}

pub async fn call_backup(store: &MemoryStore, request: Request) -> (u16, Value) {
    let response = backup(store, &secrets(), request)
        .await
        .expect("infallible");
    decode(response)
}

pub async fn call_fetch(store: &MemoryStore, request: Request) -> (u16, Value) {
    let response = fetch(store, &secrets(), request).await.expect("infallible");
    decode(response)
}

pub fn decode(response: Response<Body>) -> (u16, Value) {
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: &[u8] = response.body().as_ref();
    (
        response.status().as_u16(),
        serde_json::from_slice(body).expect("JSON body"),
    )
}

pub async fn store_share(
    store: &MemoryStore,
    client_id: &str,
    method: Option<&str>,
    share: &str,
) -> Value {
    let body = backup_body(client_id, method, share);
    let (status, reply) = call_backup(store, request(post(), body)).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

pub async fn fetched(store: &MemoryStore, client_id: &str) -> Value {
    let body = json!({ "clientId": client_id }).to_string();
    let (status, reply) = call_fetch(store, request(post(), body)).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

thread_local! {
    static CAPTURED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Appends to this thread's capture buffer.
struct ThreadBuffer;

impl Write for ThreadBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURED.with(|captured| captured.borrow_mut().extend_from_slice(bytes));
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures everything logged on this thread while `run` runs. One global subscriber at TRACE
/// (a per-test default subscriber races with tracing's callsite cache across test threads);
/// each `#[tokio::test]` runs on its own thread, so each test reads only its own lines.
pub async fn captured_logs<F: std::future::Future<Output = ()>>(run: F) -> String {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| ThreadBuffer)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    });
    CAPTURED.with(|captured| captured.borrow_mut().clear());
    run.await;
    String::from_utf8(CAPTURED.with(|captured| captured.take())).unwrap()
}
