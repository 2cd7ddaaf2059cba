//! The Lambda runtime loop every function runs: lambda_http's adapter, with one guard in front.
//!
//! The guard fixes two things in lambda_http's reading of an event:
//! - it panics on an `isBase64Encoded` body that is not base64 (it decodes with `expect`), which
//!   API Gateway would turn into a bare 502. The guard removes such a body and marks the request,
//!   so the handler answers 400 instead;
//! - for a REST event it lets `headers` (the last value of each) overwrite `multiValueHeaders`
//!   (every value), so a repeated `X-Webhook-Secret` would look like one. The guard keeps every
//!   value, so a repeated secret is refused as it should be.

use super::metrics;
use crate::config;
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use lambda_http::http::HeaderValue;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, Error, LambdaEvent, Request, Response, Service, service_fn};
use lambda_runtime::layers::TracingLayer;
use metrics_cloudwatch_embedded::lambda::MetricsLayer;
use std::convert::Infallible;
use std::future::Future;

/// Set by the guard alone (any copy a caller sends is removed): the body was marked base64 but
/// was not, and has been dropped.
pub const BODY_NOT_BASE64: &str = "x-custodian-backup-body-not-base64";

/// Runs `handler` for every invocation until the Lambda environment shuts down, printing the
/// invocation's metrics (see [`super::metrics`]) after each.
pub async fn serve<F, Fut>(handler: F) -> Result<(), Error>
where
    F: FnMut(Request) -> Fut + Send,
    Fut: Future<Output = Result<Response<Body>, Infallible>> + Send,
{
    let collector = metrics::install(config::stack_name())?;
    let mut adapter = Adapter::from(service_fn(handler));
    let guarded = service_fn(move |event: LambdaEvent<LambdaRequest>| {
        let LambdaEvent { payload, context } = event;
        adapter.call(LambdaEvent::new(guard(payload), context))
    });
    lambda_runtime::Runtime::new(guarded)
        .layer(TracingLayer::new())
        .layer(MetricsLayer::new(collector))
        .run()
        .await
}

/// An API Gateway event as the handler sees it, with the guard applied: what `serve` does to
/// each event, for tests that start from `events/` files.
pub fn request_from_event(event: &str) -> Result<Request, serde_json::Error> {
    serde_json::from_str::<LambdaRequest>(event).map(|payload| guard(payload).into())
}

fn guard(mut payload: LambdaRequest) -> LambdaRequest {
    let (headers, body, encoded) = match &mut payload {
        LambdaRequest::ApiGatewayV1(event) => {
            event.multi_value_headers.remove(BODY_NOT_BASE64);
            for name in event.multi_value_headers.keys() {
                event.headers.remove(name);
            }
            (
                &mut event.headers,
                &mut event.body,
                &mut event.is_base64_encoded,
            )
        }
        LambdaRequest::ApiGatewayV2(event) => (
            &mut event.headers,
            &mut event.body,
            &mut event.is_base64_encoded,
        ),
        _ => return payload,
    };
    headers.remove(BODY_NOT_BASE64);
    if *encoded
        && body
            .as_deref()
            .is_some_and(|text| BASE64_STANDARD.decode(text).is_err())
    {
        *body = None;
        *encoded = false;
        headers.insert(BODY_NOT_BASE64, HeaderValue::from_static("true"));
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rest_event(body: &str, encoded: bool, extra_header: Option<&str>) -> String {
        let mut headers = json!({ "content-type": "application/json" });
        if let Some(name) = extra_header {
            headers[name] = "true".into();
        }
        let multi: serde_json::Map<_, _> = headers
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        json!({
            "httpMethod": "POST", "path": "/backup", "resource": "/backup", "body": body,
            "isBase64Encoded": encoded, "headers": headers, "multiValueHeaders": multi,
            "requestContext": { "stage": "v1", "httpMethod": "POST", "accountId": "1", "resourcePath": "/backup" },
        })
        .to_string()
    }

    #[test]
    fn a_body_that_is_not_base64_is_dropped_and_marked_instead_of_panicking() {
        let request = request_from_event(&rest_event("not*base64!", true, None)).unwrap();
        assert!(request.headers().contains_key(BODY_NOT_BASE64));
        assert!(request.body().is_empty());
    }

    #[test]
    fn a_valid_base64_body_is_decoded() {
        let request = request_from_event(&rest_event("eyJhIjoxfQ==", true, None)).unwrap();
        assert!(!request.headers().contains_key(BODY_NOT_BASE64));
        assert_eq!(request.body().as_ref(), br#"{"a":1}"#);
    }

    #[test]
    fn a_repeated_header_keeps_every_value() {
        let mut event: serde_json::Value =
            serde_json::from_str(&rest_event("{}", false, None)).unwrap();
        event["headers"]["x-webhook-secret"] = "second".into();
        event["multiValueHeaders"]["x-webhook-secret"] = json!(["first", "second"]);
        let request = request_from_event(&event.to_string()).unwrap();
        let values: Vec<_> = request
            .headers()
            .get_all("x-webhook-secret")
            .iter()
            .collect();
        assert_eq!(values, ["first", "second"]);
        assert_eq!(request.headers()["content-type"], "application/json");
    }

    #[test]
    fn headers_without_multi_value_headers_are_kept() {
        let mut event: serde_json::Value =
            serde_json::from_str(&rest_event("{}", false, None)).unwrap();
        event["multiValueHeaders"] = json!({});
        let request = request_from_event(&event.to_string()).unwrap();
        assert_eq!(request.headers()["content-type"], "application/json");
    }

    #[test]
    fn a_caller_cannot_send_the_mark_itself() {
        let request =
            request_from_event(&rest_event(r#"{"a":1}"#, false, Some(BODY_NOT_BASE64))).unwrap();
        assert!(!request.headers().contains_key(BODY_NOT_BASE64));
        assert_eq!(request.body().as_ref(), br#"{"a":1}"#);
    }
}
