//! The client-share API as a deployed stack serves it, on loopback: an HTTP API (payload 2.0) with
//! a JWT authorizer in front of the real `client-backup-shares` binary. The authorizer here
//! verifies development tokens (HS256, signed with [`DEV_TOKEN_KEY`]) the way API Gateway's
//! verifies the issuer's: signature, `iss`, `aud`, `exp`; then passes the claims in the event.
//! Development only: the deployed stack's authorizer is API Gateway's, with the issuer's keys.

use crate::runtime_api::Function;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::prelude::BASE64_URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The development issuer and audience, as `ClientSharesJwtIssuer` and `ClientSharesJwtAudience`
/// would name a real one.
pub const DEV_ISSUER: &str = "https://dev-issuer.localhost/";
pub const DEV_AUDIENCE: &str = "local-wallet-app";
/// The key development tokens are signed with: public, so never trust a token of this issuer.
pub const DEV_TOKEN_KEY: &[u8] = b"development tokens only - never deployed";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// A development token for `user` (its `sub`), valid for `lifetime`.
pub fn dev_token(user: &str, lifetime: Duration) -> String {
    let now = now_secs();
    let claims = json!({
        "sub": user, "iss": DEV_ISSUER, "aud": DEV_AUDIENCE,
        "iat": now, "exp": now + lifetime.as_secs(),
    });
    sign(&json!({ "alg": "HS256", "typ": "JWT" }), &claims)
}

/// A token with exactly these header and claims, signed with the development key.
pub fn sign(header: &Value, claims: &Value) -> String {
    let part = |value: &Value| BASE64_URL_SAFE_NO_PAD.encode(value.to_string());
    let signed = format!("{}.{}", part(header), part(claims));
    let mut mac = HmacSha256::new_from_slice(DEV_TOKEN_KEY).expect("any key length");
    mac.update(signed.as_bytes());
    let signature = BASE64_URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

/// The claims of a valid development token, as API Gateway passes them (every value a string);
/// `None` for anything its JWT authorizer would refuse.
pub fn verify(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decode = |part: &str| -> Option<Value> {
        serde_json::from_slice(&BASE64_URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    if decode(header)?["alg"] != "HS256" {
        return None;
    }
    let mut mac = HmacSha256::new_from_slice(DEV_TOKEN_KEY).expect("any key length");
    mac.update(format!("{header}.{claims}").as_bytes());
    mac.verify_slice(&BASE64_URL_SAFE_NO_PAD.decode(signature).ok()?)
        .ok()?;
    let claims = decode(claims)?;
    let audience_matches = match &claims["aud"] {
        Value::String(aud) => aud == DEV_AUDIENCE,
        Value::Array(auds) => auds.iter().any(|aud| aud == DEV_AUDIENCE),
        _ => false,
    };
    let expired = claims["exp"].as_u64().is_none_or(|exp| exp <= now_secs());
    if claims["iss"] != DEV_ISSUER || !audience_matches || expired {
        return None;
    }
    let stringified = claims.as_object()?.iter().map(|(name, value)| {
        let text = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        (name.clone(), Value::String(text))
    });
    Some(stringified.collect())
}

/// Serves the three routes on `127.0.0.1:port` (0: any free port); returns the base URL.
pub async fn serve(function: Arc<Function>, port: u16) -> String {
    let app = Router::new().fallback(route).with_state(function);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn route(
    State(function): State<Arc<Function>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let backup_method = path.strip_prefix("/client-backup-shares/");
    let route_key = match (method.as_str(), backup_method) {
        ("PUT" | "GET", Some(method_name))
            if !method_name.is_empty() && !method_name.contains('/') =>
        {
            format!("{method} /client-backup-shares/{{backupMethod}}")
        }
        ("GET", None) if path == "/client-backup-shares" => "GET /client-backup-shares".to_owned(),
        // What an HTTP API answers for a route it does not have.
        _ => return (StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#).into_response(),
    };
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(claims) = token.and_then(verify) else {
        // API Gateway's JWT authorizer refuses before any function runs.
        return (StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#).into_response();
    };
    let event = http_api_event(
        &method,
        &uri,
        &route_key,
        backup_method,
        &headers,
        &body,
        claims,
    );
    match function.invoke(&event.to_string()).await {
        Ok(response) => http_response(&response),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"message":"Internal Server Error"}"#,
        )
            .into_response(),
    }
}

fn http_api_event(
    method: &Method,
    uri: &Uri,
    route_key: &str,
    backup_method: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
    claims: Map<String, Value>,
) -> Value {
    let headers: Map<String, Value> = headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.to_string(), Value::from(value))
        })
        .collect();
    let (path, raw_query) = (uri.path(), uri.query().unwrap_or_default());
    let mut event = json!({
        "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1",
            "domainPrefix": "local", "requestId": crate::unique("request"), "routeKey": route_key,
            "stage": "$default", "time": "", "timeEpoch": now_secs() * 1000,
            "http": { "method": method.as_str(), "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "" },
            "authorizer": { "jwt": { "claims": claims, "scopes": null } },
        },
        "isBase64Encoded": false,
    });
    if let Some(backup_method) = backup_method {
        event["pathParameters"] = json!({ "backupMethod": backup_method });
    }
    if !body.is_empty() {
        event["body"] = String::from_utf8_lossy(body).into_owned().into();
    }
    event
}

/// An HTTP API (payload 2.0) proxy response as an HTTP answer.
fn http_response(proxy: &Value) -> Response {
    let status = proxy["statusCode"]
        .as_u64()
        .and_then(|status| StatusCode::from_u16(status as u16).ok());
    let mut response = proxy["body"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
        .into_response();
    *response.status_mut() = status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.clear();
    for (name, value) in proxy["headers"].as_object().into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::try_from(name.as_str()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            headers.append(name, value);
        }
    }
    response
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_development_token_verifies_and_anything_else_does_not() {
        let token = dev_token("alice", Duration::from_secs(60));
        let claims = verify(&token).expect("valid");
        assert_eq!(claims["sub"], "alice");
        let header = json!({ "alg": "HS256", "typ": "JWT" });
        let now = now_secs();
        let claims = |iss: &str, aud: &str, exp: u64| json!({ "sub": "a", "iss": iss, "aud": aud, "exp": exp });
        for refused in [
            sign(
                &header,
                &claims("https://elsewhere/", DEV_AUDIENCE, now + 60),
            ),
            sign(&header, &claims(DEV_ISSUER, "another-app", now + 60)),
            sign(&header, &claims(DEV_ISSUER, DEV_AUDIENCE, now - 1)),
            sign(
                &json!({ "alg": "none" }),
                &claims(DEV_ISSUER, DEV_AUDIENCE, now + 60),
            ),
            {
                let last = if token.ends_with('A') { "B" } else { "A" };
                format!("{}{last}", &token[..token.len() - 1])
            },
            "not.a.token".to_owned(),
        ] {
            assert!(verify(&refused).is_none(), "{refused}");
        }
    }
}
