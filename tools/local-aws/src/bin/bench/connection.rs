//! What opening a connection costs on the bench's network: a new client's first call to each
//! service the functions call, next to its second on the connection the first opened.

use crate::METHODS;
use crate::raw::{Raw, s};
use aws_sdk_kms::types::DataKeySpec;
use local_aws::{Fixture, aws_emulator};
use std::time::{Duration, Instant};

/// A new client's first call and its second (on the connection the first opened), for each
/// service the functions call: the difference is what a connection costs on this network.
pub struct Setup {
    pub service: &'static str,
    pub first: Vec<Duration>,
    pub second: Vec<Duration>,
}

pub async fn measure(f: &Fixture, raw: &Raw, secret_arn: &str, samples: usize) -> Vec<Setup> {
    let mut setups: Vec<Setup> = [
        "DynamoDB GetItem",
        "KMS GenerateDataKey",
        "Secrets Manager GetSecretValue",
    ]
    .into_iter()
    .map(|service| Setup {
        service,
        first: Vec::new(),
        second: Vec::new(),
    })
    .collect();
    for _ in 0..samples {
        let fresh = raw.fresh(f).await;
        let secrets = aws_emulator::secrets_client().await;
        for setup in &mut setups {
            for times in [&mut setup.first, &mut setup.second] {
                let started = Instant::now();
                match setup.service {
                    "DynamoDB GetItem" => {
                        fresh
                            .dynamodb
                            .get_item()
                            .table_name(&fresh.shares)
                            .key("clientId", s("none"))
                            .key("backupMethod", s(METHODS[0]))
                            .send()
                            .await
                            .expect("GetItem");
                    }
                    "KMS GenerateDataKey" => {
                        fresh
                            .kms
                            .generate_data_key()
                            .key_id(&fresh.key_id)
                            .key_spec(DataKeySpec::Aes256)
                            .send()
                            .await
                            .expect("GenerateDataKey");
                    }
                    _ => {
                        secrets
                            .get_secret_value()
                            .secret_id(secret_arn)
                            .send()
                            .await
                            .expect("GetSecretValue");
                    }
                }
                times.push(started.elapsed());
            }
        }
    }
    setups
}
