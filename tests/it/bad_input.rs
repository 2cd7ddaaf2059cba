//! Hostile requests against the real binaries: each gets its documented 4xx with a JSON error
//! that names the problem, nothing panics, nothing is echoed, and nothing stored changes.
//!
//! The requests target a client that already has shares, so one wrongly accepted would show as a
//! changed table.

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use local_aws::events::{DEV_SECRET, rest_event, set_header};
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, unique};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// In every stored share and in no response or log.
const CANARY: &str = "c4n4ry-share-0x5f3c";

struct Case {
    category: Category,
    name: &'static str,
    route: Route,
    event: Value,
    status: u64,
    code: &'static str,
}

/// What a hostile request gets wrong; each is one test below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Category {
    MalformedJson,
    NotAnObject,
    WrongTypes,
    MissingAndEmpty,
    Sizes,
    ControlCharacters,
    RepeatedFields,
    Secret,
    Base64,
    Methods,
}

#[derive(Clone, Copy, PartialEq)]
enum Route {
    Backup,
    Fetch,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Self::Backup => "/backup",
            Self::Fetch => "/backup/fetch",
        }
    }
}

/// Builds the cases for `client`, who already has shares.
fn cases(client: &str) -> Vec<Case> {
    let share = format!("{CANARY}-replacement");
    let valid = json!({ "clientId": client, "backupMethod": "GDRIVE-SECP256K1", "share": share });
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body.to_string()
    };
    let without = |field: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(field);
        body.to_string()
    };
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let valid = valid.to_string();

    let mut cases = Vec::new();
    let category = std::cell::Cell::new(Category::MalformedJson);
    let mut add = |name, route: Route, event: Value, status, code| {
        cases.push(Case {
            category: category.get(),
            name,
            route,
            event,
            status,
            code,
        });
    };
    let body = |route: Route, text: &str| rest_event(route.path(), text);
    let b = Route::Backup;
    let f = Route::Fetch;

    // Malformed and truncated JSON.
    category.set(Category::MalformedJson);
    for (name, text) in [
        ("empty body", String::new()),
        ("whitespace only", " \n\t ".into()),
        ("a lone brace", "{".into()),
        ("truncated mid-string", valid[..valid.len() / 2].into()),
        (
            "truncated before the closing brace",
            valid[..valid.len() - 1].into(),
        ),
        ("trailing comma", valid.replacen('}', ",}", 1)),
        ("single quotes", valid.replace('"', "'")),
        (
            "unquoted keys",
            format!("{{clientId: \"{client}\", share: \"x\"}}"),
        ),
        ("trailing garbage", format!("{valid} garbage")),
        ("two objects", format!("{valid}{valid}")),
        ("a NUL byte", "\u{0}".into()),
        ("a byte-order mark", format!("\u{feff}{valid}")),
        ("a comment", format!("/* hi */ {valid}")),
        (
            "NaN",
            format!("{{\"clientId\": NaN, \"share\": \"{share}\"}}"),
        ),
        (
            "share nested 10,000 deep",
            format!(
                "{{\"clientId\": \"{client}\", \"share\": {}}}",
                nested(10_000)
            ),
        ),
        (
            "a lone surrogate",
            with("clientId", "PLACEHOLDER".into()).replace("PLACEHOLDER", "\\ud800"),
        ),
        (
            "an invalid escape",
            with("share", "PLACEHOLDER".into()).replace("PLACEHOLDER", "\\x41"),
        ),
        (
            "a raw newline in a string",
            with("share", "PLACEHOLDER".into()).replace("PLACEHOLDER", "a\nb"),
        ),
        (
            "a raw NUL in a string",
            with("share", "PLACEHOLDER".into()).replace("PLACEHOLDER", "a\u{0}b"),
        ),
        (
            "a number too large",
            format!("{{\"clientId\": 1e999999, \"share\": \"{share}\"}}"),
        ),
    ] {
        add(name, b, body(b, &text), 400, "malformed_json");
    }
    add(
        "null body",
        b,
        json_body(b, Value::Null),
        400,
        "malformed_json",
    );
    add("empty fetch body", f, body(f, ""), 400, "malformed_json");
    add(
        "truncated fetch body",
        f,
        body(f, &format!("{{\"clientId\": \"{client}")),
        400,
        "malformed_json",
    );

    // Valid JSON, but not an object.
    category.set(Category::NotAnObject);
    for (name, text) in [
        ("an array", "[]"),
        (
            "an array holding the object",
            "[{\"clientId\": \"x\", \"share\": \"y\"}]",
        ),
        ("a string", "\"a share\""),
        ("a number", "42"),
        ("null", "null"),
        ("true", "true"),
    ] {
        add(name, b, body(b, text), 400, "not_an_object");
    }
    add(
        "fetch with an array",
        f,
        body(f, "[]"),
        400,
        "not_an_object",
    );

    // Wrong types.
    category.set(Category::WrongTypes);
    for (name, field, value) in [
        ("clientId a number", "clientId", json!(42)),
        ("clientId an object", "clientId", json!({ "id": client })),
        ("clientId an array", "clientId", json!([client])),
        ("clientId a boolean", "clientId", json!(true)),
        ("share a number", "share", json!(12345)),
        ("share an object", "share", json!({ "share": share })),
        ("share an array", "share", json!([share])),
        ("backupMethod a number", "backupMethod", json!(1)),
        ("backupMethod an object", "backupMethod", json!({})),
    ] {
        add(name, b, body(b, &with(field, value)), 400, "wrong_type");
    }
    add(
        "fetch clientId a number",
        f,
        body(f, "{\"clientId\": 7}"),
        400,
        "wrong_type",
    );

    // Missing and empty fields.
    category.set(Category::MissingAndEmpty);
    add(
        "no clientId",
        b,
        body(b, &without("clientId")),
        400,
        "missing_field",
    );
    add(
        "clientId null",
        b,
        body(b, &with("clientId", Value::Null)),
        400,
        "missing_field",
    );
    add(
        "no share",
        b,
        body(b, &without("share")),
        400,
        "missing_field",
    );
    add(
        "share null",
        b,
        body(b, &with("share", Value::Null)),
        400,
        "missing_field",
    );
    add("an empty object", b, body(b, "{}"), 400, "missing_field");
    add(
        "fetch without clientId",
        f,
        body(f, "{}"),
        400,
        "missing_field",
    );
    add(
        "empty clientId",
        b,
        body(b, &with("clientId", "".into())),
        400,
        "empty_field",
    );
    add(
        "blank clientId",
        b,
        body(b, &with("clientId", " \t ".into())),
        400,
        "empty_field",
    );
    add(
        "empty share",
        b,
        body(b, &with("share", "".into())),
        400,
        "empty_field",
    );
    add(
        "fetch empty clientId",
        f,
        body(f, "{\"clientId\": \"\"}"),
        400,
        "empty_field",
    );

    // Sizes.
    category.set(Category::Sizes);
    add(
        "clientId of 257 bytes",
        b,
        body(b, &with("clientId", "c".repeat(257).into())),
        400,
        "field_too_long",
    );
    add(
        "clientId of 200 KB",
        b,
        body(b, &with("clientId", "c".repeat(200_000).into())),
        400,
        "field_too_long",
    );
    add(
        "backupMethod of 10 KB",
        b,
        body(b, &with("backupMethod", "M".repeat(10_000).into())),
        400,
        "field_too_long",
    );
    add(
        "fetch clientId of 1 KB",
        f,
        body(f, &json!({ "clientId": "c".repeat(1024) }).to_string()),
        400,
        "field_too_long",
    );
    add(
        "a 300 KB share",
        b,
        body(b, &with("share", "s".repeat(300_000).into())),
        413,
        "payload_too_large",
    );
    add(
        "a 2 MB body of whitespace",
        b,
        body(b, &format!("{}{valid}", " ".repeat(2_000_000))),
        413,
        "payload_too_large",
    );

    // Control characters in identifiers.
    category.set(Category::ControlCharacters);
    for (name, field, value) in [
        ("NUL in clientId", "clientId", format!("{client}\u{0}")),
        ("newline in clientId", "clientId", format!("{client}\nx")),
        (
            "escape in backupMethod",
            "backupMethod",
            "GDRIVE\u{1b}[31m".to_owned(),
        ),
        ("DEL in clientId", "clientId", format!("{client}\u{7f}")),
        (
            "C1 control in backupMethod",
            "backupMethod",
            "GDRIVE\u{85}".to_owned(),
        ),
    ] {
        add(
            name,
            b,
            body(b, &with(field, value.into())),
            400,
            "invalid_character",
        );
    }

    // Repeated fields.
    category.set(Category::RepeatedFields);
    let repeated = |field: &str| valid.replacen('{', &format!("{{\"{field}\": \"other\", "), 1);
    add(
        "clientId twice",
        b,
        body(b, &repeated("clientId")),
        400,
        "duplicate_field",
    );
    add(
        "share twice",
        b,
        body(b, &repeated("share")),
        400,
        "duplicate_field",
    );
    add(
        "backupMethod twice",
        b,
        body(b, &repeated("backupMethod")),
        400,
        "duplicate_field",
    );

    // The secret.
    category.set(Category::Secret);
    for (name, values) in [
        ("no secret", &[][..]),
        ("a wrong secret", &["not-the-secret"][..]),
        ("the secret twice", &[DEV_SECRET, DEV_SECRET][..]),
        (
            "the secret and a wrong one",
            &["not-the-secret", DEV_SECRET][..],
        ),
        (
            "the secret with a trailing space",
            &["local-dev-secret-change-me "][..],
        ),
        ("the secret's prefix", &["local-dev-secret"][..]),
        ("an empty secret", &[""][..]),
        ("non-ASCII secret", &["sécret-☃"][..]),
    ] {
        for route in [b, f] {
            let mut event = body(route, &valid);
            set_header(&mut event, "X-Webhook-Secret", values);
            add(name, route, event, 401, "unauthorized");
        }
    }
    let giant = "s".repeat(16 * 1024);
    let mut event = body(b, &valid);
    set_header(&mut event, "X-Webhook-Secret", &[&giant]);
    add("a 16 KB secret", b, event, 401, "unauthorized");
    let mut event = body(b, &valid);
    set_header(&mut event, "X-Webhook-Secret", &[]);
    set_header(
        &mut event,
        "Authorization",
        &[&format!("Bearer {DEV_SECRET}")],
    );
    add(
        "the secret as a bearer token",
        b,
        event,
        401,
        "unauthorized",
    );
    let mut event = body(b, &with("X-Webhook-Secret", DEV_SECRET.into()));
    set_header(&mut event, "X-Webhook-Secret", &[]);
    add("the secret in the body", b, event, 401, "unauthorized");
    let mut event = http_api_event(b, &valid);
    event["headers"]["x-webhook-secret"] = format!("{DEV_SECRET},{DEV_SECRET}").into();
    add(
        "HTTP API: the secret twice, comma-joined",
        b,
        event,
        401,
        "unauthorized",
    );

    // Base64 bodies.
    category.set(Category::Base64);
    for (name, text) in [
        ("base64 that is not base64", "not*base64!"),
        ("base64 with line breaks", "eyJjbGll\nbnRJZCI6"),
        ("URL-safe base64", "eyJ-_w"),
    ] {
        let mut event = body(b, text);
        event["isBase64Encoded"] = true.into();
        add(name, b, event, 400, "invalid_base64");
    }
    for (name, bytes) in [
        ("base64 of invalid UTF-8", vec![0xff, 0xfe, b'{', b'}']),
        (
            "base64 of gzip bytes",
            vec![0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00],
        ),
    ] {
        let mut event = body(b, &BASE64_STANDARD.encode(bytes));
        event["isBase64Encoded"] = true.into();
        add(name, b, event, 400, "malformed_json");
    }
    let mut text = valid.clone().into_bytes();
    text.splice(10..10, [0xc3, 0x28]);
    let mut event = body(b, &BASE64_STANDARD.encode(text));
    event["isBase64Encoded"] = true.into();
    add(
        "base64 of JSON with an invalid UTF-8 sequence",
        b,
        event,
        400,
        "malformed_json",
    );

    // Methods.
    category.set(Category::Methods);
    for (name, method, route) in [
        ("GET /backup", "GET", b),
        ("PUT /backup", "PUT", b),
        ("DELETE /backup", "DELETE", b),
        ("GET /backup/fetch", "GET", f),
    ] {
        let mut event = body(route, &valid);
        event["httpMethod"] = method.into();
        event["requestContext"]["httpMethod"] = method.into();
        add(name, route, event, 405, "method_not_allowed");
    }
    cases
}

/// A REST event whose `body` is `value` (e.g. `null`, as API Gateway sends an empty body).
fn json_body(route: Route, value: Value) -> Value {
    let mut event = rest_event(route.path(), "");
    event["body"] = value;
    event
}

/// An HTTP API (payload 2.0) event from `fetch-http-api-v2.json`.
fn http_api_event(route: Route, body: &str) -> Value {
    let mut event: Value =
        serde_json::from_str(&local_aws::events::event("fetch-http-api-v2.json")).unwrap();
    let path = route.path();
    event["routeKey"] = format!("POST {path}").into();
    event["requestContext"]["routeKey"] = format!("POST {path}").into();
    event["rawPath"] = format!("/v1{path}").into();
    event["requestContext"]["http"]["path"] = format!("/v1{path}").into();
    event["body"] = body.into();
    event
}

/// Sends every hostile request of `category` to the real binaries, which already hold shares for
/// the client: each must get its documented status and code, and nothing stored may change.
async fn every_request_of(category: Category) {
    let f = Fixture::new().await;
    let env = f.function_env(DEV_SECRET);
    let backup = Function::start(&binary("backup"), &env).await;
    let fetch = Function::start(&binary("backup-fetch"), &env).await;
    let client = unique("cli");
    for method in ["GDRIVE-SECP256K1", "GDRIVE-ED25519"] {
        let body = json!({ "clientId": client, "backupMethod": method, "share": format!("{CANARY}-{method}") });
        let response = backup
            .invoke(&rest_event("/backup", &body.to_string()).to_string())
            .await
            .expect("a response");
        assert_eq!(response["statusCode"], 200, "{response}");
    }
    let snapshot = (
        f.scan(&f.tables.shares).await,
        f.scan(&f.tables.history).await,
    );

    let cases: Vec<Case> = cases(&client)
        .into_iter()
        .filter(|case| case.category == category)
        .collect();
    assert!(cases.len() >= 3, "only {} {category:?} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let function = match case.route {
            Route::Backup => &backup,
            Route::Fetch => &fetch,
        };
        let outcome = function.invoke(&case.event.to_string()).await;
        let problem = check(case, &outcome);
        let after = (
            f.scan(&f.tables.shares).await,
            f.scan(&f.tables.history).await,
        );
        if let Some(problem) = problem {
            failures.push(format!("{}: {problem}", case.name));
        } else if after != snapshot {
            failures.push(format!("{}: the stored shares changed", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // Still serving, and still holding exactly what it held.
    let body = json!({ "clientId": client }).to_string();
    let response = fetch
        .invoke(&rest_event("/backup/fetch", &body).to_string())
        .await
        .expect("a response");
    assert_eq!(response["statusCode"], 200);
    // Every request's line read, or the checks below would pass on a log not yet read.
    let requests = |route: Route| cases.iter().filter(|case| case.route == route).count();
    let lines = |expected: usize| {
        move |logs: &str| logs.matches("\"message\":\"request\"").count() >= expected
    };
    let backup_logs = backup.output_when(lines(requests(Route::Backup))).await;
    let fetch_logs = fetch.output_when(lines(requests(Route::Fetch) + 1)).await;
    let logs = format!("{backup_logs}{fetch_logs}");
    assert!(!logs.contains("panicked"), "a panic:\n{logs}");
    assert!(!logs.contains(CANARY), "logs hold a share:\n{logs}");
    assert!(!logs.contains(DEV_SECRET), "logs hold the secret:\n{logs}");
    println!(
        "{} {category:?} requests: each got its documented status and code; nothing stored changed",
        cases.len()
    );
}

#[test]
fn the_hostile_suite_covers_every_category_with_many_cases() {
    let cases = cases("cli");
    assert!(cases.len() >= 90, "only {} cases", cases.len());
    for category in CATEGORIES {
        assert!(
            cases.iter().any(|case| case.category == category),
            "{category:?}"
        );
    }
}

const CATEGORIES: [Category; 10] = [
    Category::MalformedJson,
    Category::NotAnObject,
    Category::WrongTypes,
    Category::MissingAndEmpty,
    Category::Sizes,
    Category::ControlCharacters,
    Category::RepeatedFields,
    Category::Secret,
    Category::Base64,
    Category::Methods,
];

#[tokio::test]
async fn malformed_and_truncated_json_is_a_400_that_changes_nothing() {
    every_request_of(Category::MalformedJson).await;
}

#[tokio::test]
async fn json_that_is_not_an_object_is_a_400_that_changes_nothing() {
    every_request_of(Category::NotAnObject).await;
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_400_naming_it() {
    every_request_of(Category::WrongTypes).await;
}

#[tokio::test]
async fn a_missing_or_empty_field_is_a_400_naming_it() {
    every_request_of(Category::MissingAndEmpty).await;
}

#[tokio::test]
async fn oversized_fields_and_bodies_are_refused_and_change_nothing() {
    every_request_of(Category::Sizes).await;
}

#[tokio::test]
async fn control_characters_in_identifiers_are_a_400() {
    every_request_of(Category::ControlCharacters).await;
}

#[tokio::test]
async fn a_repeated_field_is_a_400_naming_it() {
    every_request_of(Category::RepeatedFields).await;
}

#[tokio::test]
async fn every_wrong_missing_or_repeated_secret_is_the_same_401() {
    every_request_of(Category::Secret).await;
}

#[tokio::test]
async fn a_body_marked_base64_that_is_not_is_a_400_never_a_panic() {
    every_request_of(Category::Base64).await;
}

#[tokio::test]
async fn a_method_other_than_post_is_a_405() {
    every_request_of(Category::Methods).await;
}

/// What is wrong with the answer to `case`, if anything.
fn check(case: &Case, outcome: &Result<Value, Value>) -> Option<String> {
    let response = match outcome {
        Ok(response) => response,
        Err(error) => return Some(format!("function error instead of a response: {error}")),
    };
    let status = response["statusCode"].as_u64();
    let Some(text) = response["body"].as_str() else {
        return Some(format!("no text body: {response}"));
    };
    let Ok(body) = serde_json::from_str::<Value>(text) else {
        return Some(format!("body is not JSON: {text}"));
    };
    let code = body["error"]["code"].as_str();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    if status != Some(case.status) || code != Some(case.code) {
        return Some(format!(
            "expected {} {}, got {status:?} {code:?}: {message}",
            case.status, case.code
        ));
    }
    if message.len() < 10 {
        return Some(format!("no message that names the problem: {text}"));
    }
    if text.contains(CANARY) || text.contains(DEV_SECRET) || text.contains("not-the-secret") {
        return Some(format!("the response echoes a share or secret: {text}"));
    }
    None
}

#[tokio::test]
async fn portal_is_never_refused_for_a_harmless_quirk() {
    let f = Fixture::new().await;
    let env = f.function_env(DEV_SECRET);
    let backup = Function::start(&binary("backup"), &env).await;
    let fetch = Function::start(&binary("backup-fetch"), &env).await;
    let client = unique("cli");
    let share = |n: usize| format!("{CANARY}-quirk-{n}");
    let stored = |body: String, content_types: &[&str]| {
        let mut event = rest_event("/backup", &body);
        set_header(&mut event, "Content-Type", content_types);
        event
    };
    let valid = |n: usize| json!({ "clientId": client, "backupMethod": format!("M{n}"), "share": share(n) });
    let with_pair = |n: usize, pair: Value| {
        let mut body = valid(n);
        body["backupSharePairId"] = pair;
        body.to_string()
    };
    let quirks = [
        ("text/plain", stored(valid(0).to_string(), &["text/plain"])),
        (
            "form encoding",
            stored(valid(1).to_string(), &["application/x-www-form-urlencoded"]),
        ),
        (
            "multipart",
            stored(valid(2).to_string(), &["multipart/form-data; boundary=x"]),
        ),
        ("an empty content type", stored(valid(3).to_string(), &[""])),
        (
            "JSON and text",
            stored(valid(4).to_string(), &["application/json", "text/plain"]),
        ),
        (
            "backupSharePairId a number",
            stored(with_pair(5, json!(7)), &["application/json"]),
        ),
        (
            "backupSharePairId of 300 bytes",
            stored(with_pair(6, "p".repeat(300).into()), &["application/json"]),
        ),
        (
            "carriage return in backupSharePairId",
            stored(with_pair(7, "bsp\r1".into()), &["application/json"]),
        ),
        (
            "backupSharePairId twice",
            stored(
                valid(8).to_string().replacen(
                    '{',
                    "{\"backupSharePairId\":\"a\",\"backupSharePairId\":\"b\",",
                    1,
                ),
                &["application/json"],
            ),
        ),
    ];
    for (name, event) in &quirks {
        let response = backup.invoke(&event.to_string()).await.expect("a response");
        assert_eq!(response["statusCode"], 200, "{name}: {response}");
    }
    let mut event = http_api_event(Route::Fetch, &json!({ "clientId": client }).to_string());
    event["headers"]["content-type"] = "text/xml".into();
    let response = fetch.invoke(&event.to_string()).await.expect("a response");
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let returned: BTreeSet<&str> = body["backupShares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|share| share.as_str().unwrap())
        .collect();
    let sent: Vec<String> = (0..quirks.len()).map(share).collect();
    assert_eq!(
        returned,
        sent.iter().map(String::as_str).collect(),
        "every share stored"
    );
    // No pair id that was refused reached the table.
    let items = f.scan(&f.tables.shares).await;
    assert!(
        items
            .iter()
            .all(|item| !item.contains_key("backupSharePairId"))
    );

    let logs = backup
        .output_when(|logs| {
            logs.matches("\"message\":\"request\"").count() >= quirks.len()
                && logs.matches("\"OddContentTypes\"").count() >= 5
        })
        .await;
    assert_eq!(
        logs.matches("\"content_type\":\"other\"").count(),
        5,
        "{logs}"
    );
    for code in [
        "wrong_type",
        "field_too_long",
        "invalid_character",
        "duplicate_field",
    ] {
        assert!(
            logs.contains(&format!("\"dropped_pair_id\":\"{code}\"")),
            "{code}: {logs}"
        );
    }
    assert!(logs.contains("OddContentTypes"), "counted: {logs}");
    assert!(
        !logs.contains(CANARY) && !logs.contains(DEV_SECRET),
        "{logs}"
    );
}
