//! Who is calling, as API Gateway authenticated them before the function ran: a SigV4 caller
//! (IAM authorization) or an app user (a JWT authorizer's verified claims). Never a header or a
//! body value, which the caller could write.

use lambda_http::Request;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// The SigV4 caller API Gateway authenticated: REST APIs put it in `identity.userArn`, HTTP APIs
/// in `authorizer.iam.userArn`.
pub(super) fn caller_arn(request: &Request) -> Option<String> {
    let arn = match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context.identity.user_arn.clone(),
        RequestContext::ApiGatewayV2(context) => context
            .authorizer
            .as_ref()
            .and_then(|authorizer| authorizer.iam.as_ref())
            .and_then(|iam| iam.user_arn.clone()),
        _ => None,
    };
    arn.filter(|arn| arn.starts_with("arn:"))
}

/// The value of `name` among the claims of the token an HTTP API's JWT authorizer verified.
pub(super) fn token_claim(request: &Request, name: &str) -> Option<String> {
    let RequestContext::ApiGatewayV2(context) = request.request_context_ref()? else {
        return None;
    };
    let jwt = context.authorizer.as_ref()?.jwt.as_ref()?;
    jwt.claims
        .get(name)
        .filter(|value| !value.trim().is_empty())
        .cloned()
}
