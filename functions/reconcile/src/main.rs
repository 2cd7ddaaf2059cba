//! Lambda function for the scheduled reconcile (optional: on when `PortalApiKeySecretArn` is
//! set): EventBridge invokes it every hour, and each invocation checks a share of Portal's
//! clients against the custodian shares held here (see `custodian_backup::reconcile_job`).

use custodian_backup::domain::envelope::ShareKind;
use custodian_backup::reconcile_job::ReconcileJob;
use custodian_backup::{app, aws, http::metrics};
use lambda_runtime::layers::TracingLayer;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use metrics_cloudwatch_embedded::lambda::MetricsLayer;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    app::init_tracing();
    let aws = aws::sdk_config_from_env().await;
    let served = app::served_from_env(ShareKind::Custodian).await?;
    let job = ReconcileJob::from_env(served.store, &aws).await?;
    let collector = metrics::install(served.stack_name)?;
    let handler = service_fn(|event: LambdaEvent<Value>| {
        let job = &job;
        async move {
            let ran = job.run(event.context.deadline()).await?;
            Ok::<_, Error>(serde_json::json!({ "ran": format!("{ran:?}") }))
        }
    });
    lambda_runtime::Runtime::new(handler)
        .layer(TracingLayer::new())
        .layer(MetricsLayer::new(collector))
        .run()
        .await
}
