//! The guard in front of lambda_http's reading of each API Gateway event, which fixes three
//! things:
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

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use lambda_http::Request;
use lambda_http::http::header::{HOST, HeaderMap, HeaderName};
use lambda_http::http::{HeaderValue, Uri};
use lambda_http::request::LambdaRequest;

/// Set by the guard alone (any copy a caller sends is removed): the body was marked base64 but
/// was not, and has been dropped.
pub const BODY_NOT_BASE64: &str = "x-custodian-backup-body-not-base64";

/// Set by the guard alone: the request's query string (or its path) would not make a URI and was
/// dropped.
pub const URI_NOT_VALID: &str = "x-custodian-backup-uri-not-valid";

const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// An API Gateway event as the handler sees it, with the guard applied: what `serve` does to
/// each event, for tests that start from `events/` files.
pub fn request_from_event(event: &str) -> Result<Request, serde_json::Error> {
    serde_json::from_str::<LambdaRequest>(event).map(|payload| guard(payload).into())
}

pub(super) fn guard(mut payload: LambdaRequest) -> LambdaRequest {
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
mod tests;
