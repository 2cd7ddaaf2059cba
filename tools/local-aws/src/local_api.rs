//! API Gateway (REST API, payload 1.0) in front of the real function processes, on loopback:
//! an HTTP request becomes the proxy event a deployed stack would send, and the function's proxy
//! response becomes the HTTP answer. Lets anything that speaks HTTP, like the Portal simulator,
//! call the real binaries.

use crate::runtime_api::Function;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use serde_json::{Map, Value, json};
use std::sync::Arc;

struct Routes {
    backup: Arc<Function>,
    fetch: Arc<Function>,
}

/// Serves `POST /backup` and `POST /backup/fetch`; returns the base URL.
pub async fn serve(backup: Arc<Function>, fetch: Arc<Function>) -> String {
    let app = Router::new()
        .fallback(route)
        .with_state(Arc::new(Routes { backup, fetch }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn route(
    State(routes): State<Arc<Routes>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let function = match (method.as_str(), uri.path()) {
        ("POST", "/backup") => &routes.backup,
        ("POST", "/backup/fetch") => &routes.fetch,
        // What a REST API answers for a route it does not have.
        _ => {
            return (
                StatusCode::FORBIDDEN,
                r#"{"message":"Missing Authentication Token"}"#,
            )
                .into_response();
        }
    };
    let event = proxy_event(&method, uri.path(), &headers, &body);
    match function.invoke(&event.to_string()).await {
        Ok(response) => http_response(&response),
        // A function error: API Gateway answers 502.
        Err(_) => (
            StatusCode::BAD_GATEWAY,
            r#"{"message":"Internal server error"}"#,
        )
            .into_response(),
    }
}

fn proxy_event(method: &Method, path: &str, headers: &HeaderMap, body: &Bytes) -> Value {
    let mut single = Map::new();
    let mut multi = Map::new();
    for (name, value) in headers {
        let value = Value::from(String::from_utf8_lossy(value.as_bytes()).into_owned());
        single.insert(name.to_string(), value.clone());
        multi
            .entry(name.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(value);
    }
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok(text) => (Value::from(text), false),
        // API Gateway sends a non-UTF-8 body base64-encoded.
        Err(_) => (Value::from(BASE64_STANDARD.encode(body)), true),
    };
    json!({
        "resource": path, "path": path, "httpMethod": method.as_str(),
        "headers": single, "multiValueHeaders": multi,
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "stage": "v1", "resourcePath": path,
            "httpMethod": method.as_str(), "path": format!("/v1{path}"), "protocol": "HTTP/1.1",
            "requestId": crate::unique("request"), "identity": { "sourceIp": "127.0.0.1" },
        },
        "body": body, "isBase64Encoded": encoded,
    })
}

fn http_response(proxy: &Value) -> Response {
    let status = proxy["statusCode"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(s as u16).ok());
    let mut response = proxy["body"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
        .into_response();
    *response.status_mut() = status.unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response.headers_mut();
    headers.clear();
    for (name, values) in proxy["multiValueHeaders"].as_object().into_iter().flatten() {
        for value in values
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
    }
    response
}
