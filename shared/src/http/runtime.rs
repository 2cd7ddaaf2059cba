//! The Lambda runtime loop every function runs: lambda_http's adapter, with one guard in front.
//!
//! The guard fixes two things in lambda_http's reading of an event:
//! - it panics on an `isBase64Encoded` body that is not base64 (it decodes with `expect`), which
//!   API Gateway would turn into a bare 502. The guard removes such a body and marks the request,
//!   so the handler answers 400 instead;
//! - for a REST event it lets `headers` (the last value of each) overwrite `multiValueHeaders`
//!   (every value), so a repeated `X-Webhook-Secret` would look like one. The guard keeps every
//!   value, so a repeated secret is refused as it should be;
//! - it builds each request's URI from the raw query string, the `Host` and `X-Forwarded-Proto`
//!   headers and the path, and panics (`expect`, `unwrap`) when they do not make one: with
//!   `panic = "abort"` one such request would end the process. The guard checks them the same way
//!   first, drops what would not parse (a header it does not need, or the query string) and marks
//!   the request, so a query the client-share API cannot read gets a 400 and a webhook still
//!   stores its share.

use super::metrics;
use crate::config;
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use lambda_http::http::header::{HOST, HeaderMap, HeaderName};
use lambda_http::http::{HeaderValue, Uri};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, Error, LambdaEvent, Request, Response, Service, service_fn};
use lambda_runtime::layers::TracingLayer;
use metrics_cloudwatch_embedded::lambda::MetricsLayer;
use std::convert::Infallible;
use std::future::Future;

/// Set by the guard alone (any copy a caller sends is removed): the body was marked base64 but
/// was not, and has been dropped.
pub const BODY_NOT_BASE64: &str = "x-custodian-backup-body-not-base64";

/// Set by the guard alone: the request's query string (or its path) would not make a URI and was
/// dropped.
pub const URI_NOT_VALID: &str = "x-custodian-backup-uri-not-valid";

const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

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
    let (headers, body, encoded, uri) = match &mut payload {
        LambdaRequest::ApiGatewayV1(event) => {
            event.multi_value_headers.remove(BODY_NOT_BASE64);
            event.multi_value_headers.remove(URI_NOT_VALID);
            for name in event.multi_value_headers.keys() {
                event.headers.remove(name);
            }
            // lambda_http merges the two maps: the guard looks at what the handler will see.
            let mut merged = event.multi_value_headers.clone();
            merged.extend(event.headers.clone());
            let uri = UriParts {
                headers: merged,
                domain_name: event.request_context.domain_name.clone(),
                stage: event.request_context.stage.clone(),
                path: event.path.clone().unwrap_or_default(),
                // Built from the parsed parameters, which lambda_http encodes itself.
                raw_query: None,
            };
            (
                &mut event.headers,
                &mut event.body,
                &mut event.is_base64_encoded,
                Some(uri),
            )
        }
        LambdaRequest::ApiGatewayV2(event) => {
            let uri = UriParts {
                headers: event.headers.clone(),
                domain_name: event.request_context.domain_name.clone(),
                stage: event.request_context.stage.clone(),
                path: event.raw_path.clone().unwrap_or_default(),
                raw_query: event.raw_query_string.clone(),
            };
            (
                &mut event.headers,
                &mut event.body,
                &mut event.is_base64_encoded,
                Some(uri),
            )
        }
        _ => return payload,
    };
    headers.remove(BODY_NOT_BASE64);
    headers.remove(URI_NOT_VALID);
    if *encoded
        && body
            .as_deref()
            .is_some_and(|text| BASE64_STANDARD.decode(text).is_err())
    {
        *body = None;
        *encoded = false;
        headers.insert(BODY_NOT_BASE64, HeaderValue::from_static("true"));
    }
    match uri.map(UriParts::repair) {
        Some(repair) if repair != Repair::default() => apply(payload, repair),
        _ => payload,
    }
}

/// What lambda_http builds a request's URI from.
struct UriParts {
    headers: HeaderMap,
    domain_name: Option<String>,
    stage: Option<String>,
    path: String,
    raw_query: Option<String>,
}

/// What the guard drops so that the URI builds.
#[derive(Debug, Default, PartialEq, Eq)]
struct Repair {
    forwarded_proto: bool,
    host: bool,
    path: bool,
    query: bool,
}

impl UriParts {
    /// Checks the parts as lambda_http 1.x's `build_request_uri` joins them (`Url::parse`, then
    /// `http::Uri`), dropping one at a time until they make a URI.
    fn repair(self) -> Repair {
        let mut repair = Repair::default();
        let proto = self.headers.get(FORWARDED_PROTO).map(HeaderValue::to_str);
        if proto.is_some_and(|proto| !matches!(proto, Ok("http" | "https"))) {
            repair.forwarded_proto = true;
        }
        let path = match self.stage.as_deref() {
            None | Some("$default") => self.path.clone(),
            Some(stage) if self.path.starts_with(&format!("/{stage}/")) => self.path.clone(),
            Some(stage) => format!("/{stage}{}", self.path),
        };
        let host = self.headers.get(HOST).and_then(|host| host.to_str().ok());
        let with_host = host.or(self.domain_name.as_deref());
        let mut base = with_host.and_then(|host| base_uri(&format!("https://{host}{path}")));
        if with_host.is_some() && base.is_none() {
            repair.host = true;
        }
        if base.is_none() {
            base = base_uri(&format!("http://localhost{path}"));
        }
        let base = base.unwrap_or_else(|| {
            repair.path = true;
            "/".to_owned()
        });
        let query = self.raw_query.filter(|query| !query.is_empty());
        if query.is_some_and(|query| Uri::try_from(format!("{base}?{query}")).is_err()) {
            repair.query = true;
        }
        repair
    }
}

/// The URI lambda_http would start from, if it builds.
fn base_uri(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    Uri::try_from(url.as_str()).ok()?;
    Some(url.to_string())
}

fn apply(mut payload: LambdaRequest, repair: Repair) -> LambdaRequest {
    let (headers, domain_name, path) = match &mut payload {
        LambdaRequest::ApiGatewayV1(event) => {
            event.multi_value_headers.remove(FORWARDED_PROTO);
            if repair.host {
                event.multi_value_headers.remove(HOST);
            }
            (
                &mut event.headers,
                &mut event.request_context.domain_name,
                &mut event.path,
            )
        }
        LambdaRequest::ApiGatewayV2(event) => {
            if repair.query {
                event.raw_query_string = None;
                event.query_string_parameters = Default::default();
            }
            (
                &mut event.headers,
                &mut event.request_context.domain_name,
                &mut event.raw_path,
            )
        }
        _ => return payload,
    };
    if repair.forwarded_proto {
        headers.remove(FORWARDED_PROTO);
    }
    if repair.host {
        headers.remove(HOST);
        *domain_name = None;
    }
    if repair.path {
        *path = Some("/".to_owned());
    }
    if repair.path || repair.query {
        headers.insert(URI_NOT_VALID, HeaderValue::from_static("true"));
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;
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

    fn http_api_get(query: &str, host: &str, proto: &str) -> String {
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/client-share-get.json")).unwrap();
        event["rawQueryString"] = query.into();
        event["headers"]["host"] = host.into();
        event["headers"]["x-forwarded-proto"] = proto.into();
        event.to_string()
    }

    const HOST: &str = "def456.execute-api.us-east-1.amazonaws.com";

    #[test]
    fn a_query_string_that_makes_no_uri_is_dropped_and_marked_instead_of_panicking() {
        for query in [
            "backupSharePairId=a b",
            "backupSharePairId=\"a\"",
            "backupSharePairId=<a>",
            "backupSharePairId=a\u{0}",
            "backupSharePairId=a\u{7f}",
        ] {
            let event = http_api_get(query, HOST, "https");
            let unguarded = std::panic::catch_unwind(|| lambda_http::request::from_str(&event));
            assert!(unguarded.is_err(), "lambda_http panics on {query:?}");
            let request = request_from_event(&event).unwrap();
            assert!(request.headers().contains_key(URI_NOT_VALID), "{query:?}");
            assert!(request.query_string_parameters().is_empty(), "{query:?}");
        }
    }

    #[test]
    fn a_query_string_that_makes_a_uri_is_kept() {
        for query in [
            "backupSharePairId=bsp_1",
            "backupSharePairId=a%20b&x=%ZZ",
            "a=[1]",
            "x=%",
            "backupSharePairId=é",
            "x=`{|}`",
        ] {
            let request = request_from_event(&http_api_get(query, HOST, "https")).unwrap();
            assert!(!request.headers().contains_key(URI_NOT_VALID), "{query:?}");
        }
        let request = request_from_event(&http_api_get("backupSharePairId=a%20b", HOST, "https"));
        let parameters = request.unwrap().query_string_parameters();
        assert_eq!(parameters.first("backupSharePairId"), Some("a b"));
    }

    #[test]
    fn a_host_or_forwarded_proto_that_makes_no_uri_is_dropped() {
        for (host, proto) in [
            ("a b", "https"),
            ("[::", "https"),
            (HOST, "ht tp"),
            (HOST, ""),
        ] {
            let event = http_api_get("", host, proto);
            let unguarded = std::panic::catch_unwind(|| lambda_http::request::from_str(&event));
            assert!(
                unguarded.is_err(),
                "lambda_http panics on {host:?} {proto:?}"
            );
            let request = request_from_event(&event).unwrap();
            assert!(!request.headers().contains_key(URI_NOT_VALID));
            assert_eq!(request.uri().path(), "/client-backup-shares/PASSWORD");
        }
    }

    #[test]
    fn a_caller_cannot_send_the_mark_itself() {
        let request =
            request_from_event(&rest_event(r#"{"a":1}"#, false, Some(BODY_NOT_BASE64))).unwrap();
        assert!(!request.headers().contains_key(BODY_NOT_BASE64));
        assert_eq!(request.body().as_ref(), br#"{"a":1}"#);
    }
}
