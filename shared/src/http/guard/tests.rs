//! The guard against the events that would make lambda_http panic, or hide a repeated header.

use super::*;
use lambda_http::RequestExt;
use serde_json::json;

/// Portal's `/backup` from `events/fetch.json`, with `body` (base64 if `encoded`) and, if named,
/// a header a caller added.
fn rest_event(body: &str, encoded: bool, extra_header: Option<&str>) -> String {
    let mut event = events::rest_event("/backup", body);
    event["isBase64Encoded"] = encoded.into();
    if let Some(name) = extra_header {
        events::set_header(&mut event, name, &["true"]);
    }
    event.to_string()
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
    events::set_header(&mut event, "x-webhook-secret", &["first", "second"]);
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
        serde_json::from_str(&events::event("client-share-get.json")).unwrap();
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
