//! The `events/` fixtures and what each must answer.

/// The development secret in the fixtures, printed by `make run`.
pub const DEV_SECRET: &str = "local-dev-secret-change-me";

/// (file, route, expected status) of every `events/` file, in the order to run them (fetches after
/// the backups they read), from the table in `events/README.md`.
pub fn expected_statuses() -> Vec<(String, String, u16)> {
    let table = std::fs::read_to_string(crate::repo_root().join("events/README.md"))
        .expect("events/README.md");
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

pub fn event(file: &str) -> String {
    std::fs::read_to_string(crate::repo_root().join("events").join(file)).expect("event file")
}

use serde_json::Value;

/// A REST API (payload 1.0) event as API Gateway sends Portal's call: `fetch.json`'s headers,
/// secret included, with `path` and `body`.
pub fn rest_event(path: &str, body: &str) -> Value {
    let mut event: Value = serde_json::from_str(&event("fetch.json")).expect("fetch.json");
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
    let mut event: Value =
        serde_json::from_str(&event("client-share-put.json")).expect("client-share-put.json");
    let path = format!("/client-backup-shares/{backup_method}");
    let route = format!("{method} /client-backup-shares/{{backupMethod}}");
    event["rawPath"] = path.clone().into();
    event["routeKey"] = route.clone().into();
    event["requestContext"]["routeKey"] = route.into();
    event["requestContext"]["http"]["method"] = method.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["pathParameters"] = serde_json::json!({ "backupMethod": backup_method });
    match user {
        Some(user) => event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = user.into(),
        None => {
            event["requestContext"]
                .as_object_mut()
                .expect("a request context")
                .remove("authorizer");
        }
    }
    match body {
        Some(body) => event["body"] = body.into(),
        None => {
            event.as_object_mut().expect("an event").remove("body");
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
    let mut event: Value = serde_json::from_str(&event("eject.json")).expect("eject.json");
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
