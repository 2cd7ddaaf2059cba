//! The Lambda runtime loop every function runs: lambda_http's adapter, with [`super::guard`] in
//! front of it, and the metrics flushed after each invocation.

use super::guard::guard;
use super::metrics;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, Error, LambdaEvent, Request, Response, Service, service_fn};
use lambda_runtime::layers::TracingLayer;
use metrics_cloudwatch_embedded::lambda::MetricsLayer;
use std::convert::Infallible;
use std::future::Future;

pub use super::guard::{BODY_NOT_BASE64, URI_NOT_VALID, request_from_event};

/// Runs `handler` for every invocation until the Lambda environment shuts down, printing the
/// invocation's metrics (see [`super::metrics`]) after each, under the stack `stack_name`.
pub async fn serve<F, Fut>(stack_name: &str, handler: F) -> Result<(), Error>
where
    F: FnMut(Request) -> Fut + Send,
    Fut: Future<Output = Result<Response<Body>, Infallible>> + Send,
{
    let collector = metrics::install(stack_name.to_owned())?;
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
