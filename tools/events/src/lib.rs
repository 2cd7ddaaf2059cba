//! The `events/` fixtures and what each must answer, and the requests every test builds from
//! them: one builder per event shape, each starting from a fixture file, so that a test's request
//! is the one API Gateway sends with only what the test names changed.

use serde_json::{Value, json};
use std::path::PathBuf;

/// The development secret in the fixtures, printed by `make run`.
pub const DEV_SECRET: &str = "local-dev-secret-change-me";

/// (file, route, expected status) of every `events/` file, in the order to run them (fetches after
/// the backups they read), from the table in `events/README.md`.
pub fn expected_statuses() -> Vec<(String, String, u16)> {
    let table = std::fs::read_to_string(events_dir().join("README.md")).expect("events/README.md");
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let file = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let status = cells.get(3)?.parse().ok()?;
            Some((file.to_owned(), cells[2].to_owned(), status))
        })
        .collect()
}

/// The repository's `events/` folder.
pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

/// The text of `events/<file>`.
pub fn event(file: &str) -> String {
    std::fs::read_to_string(events_dir().join(file)).expect("event file")
}

fn fixture(file: &str) -> Value {
    serde_json::from_str(&event(file)).expect("an event fixture is JSON")
}

/// A REST API (payload 1.0) event as API Gateway sends Portal's call: `fetch.json`'s headers,
/// secret included, with `path` and `body`.
pub fn rest_event(path: &str, body: &str) -> Value {
    let mut event = fixture("fetch.json");
    event["path"] = path.into();
    event["resource"] = path.into();
    event["requestContext"]["resourcePath"] = path.into();
    event["body"] = body.into();
    event
}

/// Sets header `name` to `values` in a REST event, replacing any spelling of it: every value in
/// `multiValueHeaders`, the last in `headers`, as API Gateway does. No values removes it.
pub fn set_header(event: &mut Value, name: &str, values: &[&str]) {
    for map in ["headers", "multiValueHeaders"] {
        if let Some(headers) = event[map].as_object_mut() {
            headers.retain(|key, _| !key.eq_ignore_ascii_case(name));
        }
    }
    if let Some(last) = values.last() {
        event["headers"][name] = (*last).into();
        event["multiValueHeaders"][name] = values.to_vec().into();
    }
}

/// An HTTP API (payload 2.0) event of the client-share API as API Gateway sends it after its JWT
/// authorizer verified `user`'s token (`None`: no authorizer claims): `client-share-put.json`'s
/// shape, for `PUT` or `GET` of one share.
pub fn client_share_event(
    method: &str,
    user: Option<&str>,
    backup_method: &str,
    body: Option<&str>,
) -> Value {
    let claims = user.map(|user| {
        let mut claims =
            fixture("client-share-put.json")["requestContext"]["authorizer"]["jwt"]["claims"]
                .take();
        claims["sub"] = user.into();
        claims
    });
    app_event(method, Some(backup_method), claims, body)
}

/// An HTTP API (payload 2.0) event of the client-share API from `client-share-put.json`: `method`
/// on one share (`backup_method`) or the list (`None`), with the verified token's `claims`
/// exactly (`None`: a route wired without the authorizer), and `body` if any.
pub fn app_event(
    method: &str,
    backup_method: Option<&str>,
    claims: Option<Value>,
    body: Option<&str>,
) -> Value {
    let mut event = fixture("client-share-put.json");
    let (path, route) = match backup_method {
        Some(m) => (
            format!("/client-backup-shares/{m}"),
            format!("{method} /client-backup-shares/{{backupMethod}}"),
        ),
        None => (
            "/client-backup-shares".to_owned(),
            format!("{method} /client-backup-shares"),
        ),
    };
    event["rawPath"] = path.clone().into();
    event["routeKey"] = route.clone().into();
    event["requestContext"]["routeKey"] = route.into();
    event["requestContext"]["http"]["method"] = method.into();
    event["requestContext"]["http"]["path"] = path.into();
    let object = event.as_object_mut().expect("an event");
    match backup_method {
        Some(m) => {
            object.insert("pathParameters".into(), json!({ "backupMethod": m }));
        }
        None => {
            object.remove("pathParameters");
        }
    }
    match body {
        Some(body) => {
            object.insert("body".into(), body.into());
        }
        None => {
            object.remove("body");
        }
    }
    let context = event["requestContext"].as_object_mut().expect("a context");
    match claims {
        Some(claims) => context["authorizer"]["jwt"]["claims"] = claims,
        None => {
            context.remove("authorizer");
        }
    }
    event
}

/// A REST API (payload 1.0) event of an IAM-authorized route (eject, the backend's client-share
/// routes) as API Gateway sends it after SigV4: `eject.json`'s shape, for `method` on `resource`
/// (`/clients/{clientId}/custodian-shares/{backupMethod}`) with each `{name}` filled in from
/// `parameters`, signed by `caller` (`None`: no caller identity), with `body` if any.
pub fn iam_event(
    method: &str,
    resource: &str,
    parameters: &[(&str, &str)],
    caller: Option<&str>,
    body: Option<&str>,
) -> Value {
    let mut event = fixture("eject.json");
    let path = parameters
        .iter()
        .fold(resource.to_owned(), |path, (name, value)| {
            path.replace(&format!("{{{name}}}"), value)
        });
    event["httpMethod"] = method.into();
    event["path"] = path.clone().into();
    event["resource"] = resource.into();
    event["pathParameters"] = parameters
        .iter()
        .map(|(name, value)| ((*name).to_owned(), Value::from(*value)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    event["body"] = body.map_or(Value::Null, Value::from);
    let context = &mut event["requestContext"];
    context["httpMethod"] = method.into();
    context["path"] = format!("/v1{path}").into();
    context["resourcePath"] = resource.into();
    context["identity"]["userArn"] = caller.map_or(Value::Null, Value::from);
    event
}
