//! `custody`: the operator's day-2 jobs on stored custodian backup shares, run with the
//! operator's own AWS credentials (or against DynamoDB Local and a KMS emulator).
//!
//! No command prints a share except `export`, and only with `--print-share`; `export` and
//! `restore` write an audit record (the caller's IAM ARN from STS) before they act.

mod cli;
mod client_owners;
mod export_all;
mod from_export;
mod import;
mod pair_ids;
mod portable;
mod reconcile;
mod render;
mod reseal;
mod sweep;

use clap::Parser;
use cli::{Cli, Command};
use custodian_backup::domain::custody::{
    Actor, CustodyError, ExpectCurrent, Kept, Reseal, Restored, Via,
};
use custodian_backup::domain::{BackupMethod, BackupSharePairId, ClientId, Owner};
use custodian_backup::portal_api::PortalApi;
use custodian_backup::store::dynamodb::DynamoDbStore;
use custodian_backup::store::{Custody, ShareExporter};
use custodian_backup::{app, aws};
use render::Output;
use secrecy::SecretString;
use std::process::ExitCode;

/// Exit codes scripts can rely on (listed in `--help` and the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Configuration = 1,
    Usage = 2,
    NotFound = 3,
    ConfirmationMissing = 4,
    Unavailable = 5,
    Integrity = 6,
    CurrentChanged = 7,
    DumpCorrupt = 8,
    LoadConflict = 9,
    /// `reconcile` found completed pairs whose custodian share is not held here.
    Unrecoverable = 10,
    /// Portal's Custodian API refused the key or did not answer (retries spent).
    PortalApi = 11,
    /// `import` could not import some rows (each named, with the reason).
    ImportIncomplete = 12,
    /// `import --verify` found rows that are not what their slot serves.
    ImportMismatch = 13,
}

/// A failed command: its exit code, a stable code and a message without data.
pub struct Failure {
    pub exit: Exit,
    pub code: &'static str,
    pub message: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Warnings (a retried call, say) on stderr, so stdout stays the command's output.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    let output = Output { json: cli.json };
    match run(cli.command, &output).await {
        Ok(()) => ExitCode::SUCCESS,
        // `reconcile` printed its findings already: the verdict goes to stderr beside them.
        Err(failure) if failure.exit == Exit::Unrecoverable => {
            eprintln!("custody: {}", failure.message);
            ExitCode::from(failure.exit as u8)
        }
        Err(failure) => {
            output.failure(&failure);
            ExitCode::from(failure.exit as u8)
        }
    }
}

async fn run(command: Command, output: &Output) -> Result<(), Failure> {
    // Restores write history: pruning must follow the stack's setting, never a default.
    if std::env::var_os("HISTORY_RETENTION_DAYS").is_none_or(|days| days.is_empty()) {
        return Err(Failure {
            exit: Exit::Configuration,
            code: "configuration",
            message: "environment variable HISTORY_RETENTION_DAYS must be set to the stack's HistoryRetentionDays (0: history kept forever)".into(),
        });
    }
    let aws = aws::sdk_config_from_env().await;
    let store = app::store_with(&aws).map_err(|error| Failure {
        exit: Exit::Configuration,
        code: "configuration",
        message: error.to_string(),
    })?;
    match command {
        Command::List { client_id } => {
            let client_id = parse_client(&client_id)?;
            let shares = store.list(&client_id).await.map_err(failure)?;
            output.shares(&client_id, None, &shares);
        }
        Command::History {
            client_id,
            backup_method,
            pair,
        } => {
            let (client_id, backup_method, pair) = parse_owner(&client_id, &backup_method, pair)?;
            let owner = Owner::new(&client_id, &backup_method, pair.as_ref());
            let versions = store.history(owner).await.map_err(failure)?;
            output.shares(&client_id, Some(&backup_method), &versions);
        }
        Command::Restore {
            client_id,
            backup_method,
            pair,
            version,
            pair_id,
            expect_current,
            force,
            reason,
        } => {
            let (client_id, backup_method, pair) = parse_owner(&client_id, &backup_method, pair)?;
            let kept = match (version, pair_id) {
                (Some(version), _) => Kept::Version(version),
                (None, Some(pair_id)) => Kept::PairId(pair_id),
                (None, None) => unreachable!("clap requires a version or --pair-id"),
            };
            let expect = match (expect_current.as_deref(), force) {
                (Some("none"), _) => ExpectCurrent::Nothing,
                (Some(version), _) => ExpectCurrent::Version(
                    version
                        .parse()
                        .map_err(|_| usage("--expect-current takes a version number or `none`"))?,
                ),
                (None, _) => ExpectCurrent::Anything,
            };
            let actor = actor(&aws, reason).await?;
            let owner = Owner::new(&client_id, &backup_method, pair.as_ref());
            let restored = store
                .restore(owner, &kept, expect, &actor)
                .await
                .map_err(failure)?;
            output.restored(&client_id, &backup_method, &restored);
            if matches!(restored, Restored::Restored { .. }) {
                witness(&store, owner).await;
            }
        }
        Command::RestorePair {
            client_id,
            backup_method,
            backup_share_pair_id,
            reason,
        } => {
            let (client_id, backup_method, pair) =
                parse_owner(&client_id, &backup_method, Some(backup_share_pair_id))?;
            let pair = pair.expect("given");
            let actor = actor(&aws, reason).await?;
            let method_slot = Owner::new(&client_id, &backup_method, None);
            let restored = store
                .restore_pair(method_slot, &pair, &actor)
                .await
                .map_err(failure)?;
            output.restored(&client_id, &backup_method, &restored);
            if matches!(restored, Restored::Restored { .. }) {
                witness(&store, Owner::new(&client_id, &backup_method, Some(&pair))).await;
            }
        }
        Command::Export {
            client_id,
            backup_method,
            pair,
            version,
            print_share,
            reason,
        } => {
            let (client_id, backup_method, pair) = parse_owner(&client_id, &backup_method, pair)?;
            if !print_share {
                return Err(Failure {
                    exit: Exit::ConfirmationMissing,
                    code: "confirmation_missing",
                    message: "export prints key material; add --print-share to confirm (an audit record is written first)".into(),
                });
            }
            export(
                &store,
                &aws,
                Owner::new(&client_id, &backup_method, pair.as_ref()),
                version,
                reason,
                output,
            )
            .await?;
        }
        Command::Audit {
            client_id,
            backup_method,
            imports,
            pair,
        } => {
            if imports {
                let records = store.import_runs().await.map_err(failure)?;
                output.import_runs(&records);
                return Ok(());
            }
            let (Some(client_id), Some(backup_method)) = (client_id, backup_method) else {
                return Err(usage("audit CLIENT_ID BACKUP_METHOD, or audit --imports"));
            };
            let (client_id, backup_method, pair) = parse_owner(&client_id, &backup_method, pair)?;
            let owner = Owner::new(&client_id, &backup_method, pair.as_ref());
            let records = store.audit_trail(owner).await.map_err(failure)?;
            output.audit(&client_id, &backup_method, &records);
        }
        Command::Reseal {
            key,
            without_escrow_wrap: _,
            reason,
        } => {
            let which = match key {
                Some(key) if custodian_backup::config::is_key_arn(&key) => Reseal::UnderKey(key),
                Some(_) => return Err(usage("--key takes a KMS key ARN (shares record the ARN)")),
                None => Reseal::WithoutEscrowWrap,
            };
            if which == Reseal::WithoutEscrowWrap
                && std::env::var_os("ESCROW_KEY_ARN").is_none_or(|arn| arn.is_empty())
            {
                return Err(usage(
                    "--without-escrow-wrap needs ESCROW_KEY_ARN set to the stack's EscrowKeyArn",
                ));
            }
            let actor = actor(&aws, reason).await?;
            let report = reseal::reseal(&store, &which, &actor).await?;
            output.report("resealed", &report);
        }
        Command::Dump {
            out,
            from_export: None,
        } => {
            let manifest = portable::dump(&store, &out).await?;
            output.report(&format!("dumped to {}", out.display()), &manifest);
        }
        Command::Dump {
            out,
            from_export: Some(exports),
        } => {
            let manifest = from_export::dump_from_export(&store, &exports, &out)?;
            output.report(
                &format!("dumped {} to {}", exports.display(), out.display()),
                &manifest,
            );
        }
        Command::ClientOwners { variant, reason } => {
            let actor = actor(&aws, reason).await?;
            let report = client_owners::bind(&store, &variant.owners(), &actor).await?;
            output.report("client shares bound to their owners", &report);
        }
        Command::Import {
            from_jsonl,
            from_postgres,
            share_table,
            user_table,
            columns,
            owner_from,
            client_shares,
            variant,
            verify,
            checkpoint,
            reason,
        } => {
            let source = match client_shares {
                false => import::Source::Custodian,
                true => import::Source::Client(variant.owners()),
            };
            let client_kind = std::env::var("SHARE_KIND").is_ok_and(|kind| kind == "client");
            if client_shares != client_kind {
                return Err(usage(
                    "--client-shares goes with SHARE_KIND=client and the client-share tables and key, and only with them",
                ));
            }
            let checkpoint = checkpoint.as_deref().map(import::Checkpoint);
            // Who runs it, before any row: the run's audit record names them.
            let run = import::Run {
                store: &store,
                source: &source,
                checkpoint: checkpoint.as_ref(),
                actor: match verify {
                    true => None,
                    false => Some(actor(&aws, reason).await?),
                },
            };
            let report = match (from_jsonl, from_postgres) {
                (Some(file), _) => import::jsonl::run(&run, &file).await?,
                (None, Some(url)) => {
                    let default_table = match client_shares {
                        true => "ClientBackupShare",
                        false => "CustodianBackupShare",
                    };
                    let schema = import::postgres::Schema {
                        share_table: share_table.unwrap_or_else(|| default_table.into()),
                        user_table,
                        columns: columns.into_iter().collect(),
                        owner_from,
                    };
                    import::postgres::run(&run, &url, &schema).await?
                }
                (None, None) => return Err(usage("--from-jsonl FILE or --from-postgres URL")),
            };
            output.report(if verify { "verified" } else { "imported" }, &report);
        }
        Command::ExportAll {
            to_jsonl,
            write_shares,
            reason,
        } => {
            if !write_shares {
                return Err(Failure {
                    exit: Exit::ConfirmationMissing,
                    code: "confirmation_missing",
                    message: "export-all writes every share, key material, to the file: add --write-shares to confirm".into(),
                });
            }
            if std::env::var("SHARE_KIND").is_ok_and(|kind| kind == "client") {
                return Err(usage(
                    "export-all writes custodian shares, Portal's half; client shares leave through their API",
                ));
            }
            let actor = actor(&aws, reason).await?;
            let report = export_all::export_all(&store, &to_jsonl, &actor).await?;
            output.report("exported", &report);
        }
        Command::PairIds => {
            let report = pair_ids::fill(&store).await?;
            output.report("pair ids filled in", &report);
        }
        Command::Reconcile {
            portal_api_url,
            api_key_secret,
            retire,
            checkpoint,
            take,
            pace_ms,
            reason,
        } => {
            let key = portal_api_key(&aws, api_key_secret).await?;
            let pace = std::time::Duration::from_millis(pace_ms);
            let walk = reconcile::Run {
                store: &store,
                portal: PortalApi::new(&portal_api_url, key)
                    .timed(pace, pace.max(std::time::Duration::from_millis(50))),
                take,
                checkpoint,
                retire_as: match retire {
                    true => Some(actor(&aws, reason).await?),
                    false => None,
                },
            };
            let done = walk.run().await?;
            let report = serde_json::to_value(&done).expect("a report");
            output.report("reconciled", &report);
            if !done.unrecoverable.is_empty() {
                return Err(Failure {
                    exit: Exit::Unrecoverable,
                    code: "unrecoverable_pairs",
                    message: format!(
                        "{} completed pairs have no custodian share here: ask each user to back up again",
                        done.unrecoverable.len()
                    ),
                });
            }
        }
        Command::Load { file, merge: false } => {
            let report = portable::load(&store, &file).await?;
            output.report(&format!("loaded {}", file.display()), &report);
        }
        Command::Load { file, merge: true } => {
            let report = portable::merge(&store, &file).await?;
            output.report(&format!("merged {}", file.display()), &report);
        }
    }
    Ok(())
}

async fn export(
    store: &DynamoDbStore,
    aws: &aws::SdkConfig,
    owner: Owner<'_>,
    version: Option<u64>,
    reason: Option<String>,
    output: &Output,
) -> Result<(), Failure> {
    let actor = actor(aws, reason).await?;
    let exported = store
        .export(owner, version, &actor)
        .await
        .map_err(failure)?;
    output.exported(owner, &exported, &actor);
    witness(store, owner).await;
    Ok(())
}

/// Prints the newest audit record's digest on stderr: a copy outside the table (keep it with the
/// ticket), so that a record rewritten later shows against it.
async fn witness(store: &DynamoDbStore, owner: Owner<'_>) {
    match store.audit_trail(owner).await {
        Ok(records) => {
            if let Some(newest) = records.first() {
                eprintln!(
                    "audit record {} sha256 {}",
                    newest.recorded_at, newest.digest
                );
            }
        }
        Err(error) => eprintln!("warning: the audit trail does not verify: {error}"),
    }
}

/// Who is running this, from STS: without it nothing is exported or restored.
async fn actor(aws: &aws::SdkConfig, reason: Option<String>) -> Result<Actor, Failure> {
    let identity = aws_sdk_sts::Client::new(aws)
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| Failure {
            exit: Exit::Unavailable,
            code: "identity_unavailable",
            message: format!(
                "STS GetCallerIdentity failed ({}); the audit record needs your identity",
                aws::error_detail(&error)
            ),
        })?;
    let arn = identity.arn.ok_or_else(|| Failure {
        exit: Exit::Unavailable,
        code: "identity_unavailable",
        message: "STS returned no ARN; the audit record needs your identity".into(),
    })?;
    Ok(Actor {
        arn,
        via: Via::Cli,
        reason,
    })
}

fn parse_client(client_id: &str) -> Result<ClientId, Failure> {
    ClientId::parse(client_id).map_err(usage)
}

fn parse_owner(
    client_id: &str,
    backup_method: &str,
    pair: Option<String>,
) -> Result<(ClientId, BackupMethod, Option<BackupSharePairId>), Failure> {
    Ok((
        parse_client(client_id)?,
        BackupMethod::parse(backup_method).map_err(usage)?,
        pair.as_deref()
            .map(BackupSharePairId::parse)
            .transpose()
            .map_err(usage)?,
    ))
}

/// The Portal API key: from Secrets Manager when an ARN is given, else `PORTAL_API_KEY`.
async fn portal_api_key(
    aws: &aws::SdkConfig,
    secret: Option<String>,
) -> Result<SecretString, Failure> {
    let unavailable = |message: String| Failure {
        exit: Exit::Configuration,
        code: "portal_api_key",
        message,
    };
    let Some(arn) = secret else {
        return std::env::var("PORTAL_API_KEY")
            .ok()
            .filter(|key| !key.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| unavailable("set PORTAL_API_KEY or --api-key-secret".into()));
    };
    let read = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .map_err(|error| {
            unavailable(format!(
                "GetSecretValue failed: {}",
                aws::error_detail(&error)
            ))
        })?;
    read.secret_string
        .filter(|key| !key.is_empty())
        .map(SecretString::from)
        .ok_or_else(|| unavailable("the secret holds no string".into()))
}

pub(crate) fn usage(error: impl std::fmt::Display) -> Failure {
    Failure {
        exit: Exit::Usage,
        code: "invalid_argument",
        message: error.to_string(),
    }
}

pub(crate) fn failure(error: CustodyError) -> Failure {
    let exit = match &error {
        error if error.is_not_found() => Exit::NotFound,
        CustodyError::CurrentChanged { .. } => Exit::CurrentChanged,
        CustodyError::NotRetirable => Exit::Usage,
        CustodyError::AuditChainBroken { .. } => Exit::Integrity,
        CustodyError::Store(store) if store.is_integrity_failure() => Exit::Integrity,
        _ => Exit::Unavailable,
    };
    Failure {
        exit,
        code: error.code(),
        message: error.to_string(),
    }
}
