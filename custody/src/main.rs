//! `custody`: the operator's day-2 jobs on stored custodian backup shares, run with the
//! operator's own AWS credentials (or against DynamoDB Local and a KMS emulator).
//!
//! No command prints a share except `export`, and only with `--print-share`; `export` and
//! `restore` write an audit record (the caller's IAM ARN from STS) before they act.

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

use clap::{Parser, Subcommand};
use custodian_backup::domain::client_owner::LegacyOwners;
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

#[derive(Parser)]
#[command(
    name = "custody",
    version,
    about = "List, inspect, restore, reseal and export (for Portal's eject) stored custodian backup shares.",
    after_help = "Reads SHARES_TABLE, HISTORY_TABLE, AUDIT_TABLE, SHARE_KEY_ID, ACCEPTED_SHARE_KEY_ARNS, ESCROW_KEY_ARN and \
HISTORY_RETENTION_DAYS (the stack's HistoryRetentionDays; required, never assumed) like the functions do, with your own AWS credentials; \
AWS_ENDPOINT_URL_DYNAMODB / _KMS / _STS point it at local emulators.\n\n\
Exit codes: 0 done; 1 configuration; 2 usage; 3 unknown client, backupMethod, version or pair id; \
4 confirmation flag missing; 5 AWS unavailable (retry); 6 a stored share failed its integrity check; \
7 the current share changed since you looked (restore --expect-current); 8 a dump does not match its \
manifest; 9 load found different items under some keys (left as they were); 10 reconcile found \
completed pairs whose custodian share is not here (unrecoverable); 11 Portal's Custodian API refused the \
key or did not answer."
)]
struct Cli {
    /// One JSON document on stdout, errors included (`{"error": {"code", "message"}}`).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A client's current shares: methods, versions, timestamps, hashes and sizes; never shares.
    List {
        /// Portal's clientId for the user.
        client_id: String,
    },
    /// Every kept version of one share, newest (current) first, with the same metadata.
    History {
        client_id: String,
        /// As Portal sent it, e.g. GDRIVE-SECP256K1 (`list` shows them).
        backup_method: String,
        /// The share of this backupSharePairId, in its own slot (`list` shows pairs); without
        /// it, the method's pair-less slot, where every share stored before pairs is.
        #[arg(long, value_name = "BACKUP_SHARE_PAIR_ID")]
        pair: Option<String>,
    },
    /// Make a kept version current again; the share it replaces goes to history. Safe to re-run.
    /// Refuses unless the current share is still the one you saw (--expect-current), or --force.
    #[command(group(clap::ArgGroup::new("kept").required(true).args(["version", "pair_id"])))]
    #[command(group(clap::ArgGroup::new("guard").required(true).args(["expect_current", "force"])))]
    Restore {
        client_id: String,
        backup_method: String,
        /// The share of this backupSharePairId, in its own slot (`list` shows pairs); without
        /// it, the method's pair-less slot, where every share stored before pairs is.
        #[arg(long, value_name = "BACKUP_SHARE_PAIR_ID")]
        pair: Option<String>,
        /// The version to make current (`history` shows them).
        version: Option<u64>,
        /// Instead of a version: the newest kept share of the slot with this backupSharePairId
        /// (one a re-backup displaced before pairs had their own slots).
        #[arg(long)]
        pair_id: Option<String>,
        /// The version `history` showed as current (`none` if there was none): the restore is
        /// refused if it has changed since.
        #[arg(long, value_name = "VERSION|none")]
        expect_current: Option<String>,
        /// Replace whatever is current now, unchecked.
        #[arg(long)]
        force: bool,
        /// Why, kept in the audit record (a ticket number, say).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Bring back, into its own pair's slot, a pair's share that a version before pairs (0.2.0)
    /// moved to its method's history when a later pair replaced it. Sealed again for that slot
    /// (opens it: needs what `export` needs); nothing current is displaced. Safe to re-run.
    RestorePair {
        client_id: String,
        backup_method: String,
        /// The backupSharePairId to bring back (`history` shows each kept share's).
        backup_share_pair_id: String,
        /// Why, kept in the audit record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Print the current share (or --version N) for Portal's eject. Key material: needs
    /// --print-share, and writes an audit record first.
    Export {
        client_id: String,
        backup_method: String,
        /// The share of this backupSharePairId, in its own slot (`list` shows pairs); without
        /// it, the method's pair-less slot, where every share stored before pairs is.
        #[arg(long, value_name = "BACKUP_SHARE_PAIR_ID")]
        pair: Option<String>,
        /// A kept version instead of the current one.
        #[arg(long)]
        version: Option<u64>,
        /// Confirms that key material is to be printed.
        #[arg(long)]
        print_share: bool,
        /// Why, kept in the audit record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// The way back: every current custodian share, opened (kms:Decrypt) and written to a new
    /// file in `import`'s line format, each audited first; docs/way-back.sql loads it into
    /// Portal's schema. The file holds key material: it is created readable by you only.
    ExportAll {
        /// The new JSON-lines file (never an existing one).
        #[arg(long, value_name = "FILE")]
        to_jsonl: std::path::PathBuf,
        /// Confirms that key material is to be written to the file.
        #[arg(long)]
        write_shares: bool,
        /// Why, kept in each audit record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Seal every selected current share again under SHARE_KEY_ID (and ESCROW_KEY_ARN), as an
    /// identical re-backup would: the old copy goes to history, an audit record comes first, a
    /// share Portal replaced meanwhile is left alone. Opens each share: needs kms:Decrypt.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["key", "without_escrow_wrap"])))]
    Reseal {
        /// The shares whose data key this KMS key (ARN) wrapped: a key being retired.
        #[arg(long, value_name = "KEY_ARN")]
        key: Option<String>,
        /// The shares without a wrap under ESCROW_KEY_ARN (stored before it was set).
        #[arg(long)]
        without_escrow_wrap: bool,
        /// Why, kept in each audit record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Who exported, restored or resealed this share, and when, newest first.
    Audit {
        #[arg(required_unless_present = "imports")]
        client_id: Option<String>,
        #[arg(required_unless_present = "imports")]
        backup_method: Option<String>,
        /// Instead of a share's: every `import` run (who, when, source, counts).
        #[arg(long, conflicts_with_all = ["client_id", "pair"])]
        imports: bool,
        /// The share of this backupSharePairId, in its own slot (`list` shows pairs); without
        /// it, the method's pair-less slot, where every share stored before pairs is.
        #[arg(long, value_name = "BACKUP_SHARE_PAIR_ID")]
        pair: Option<String>,
    },
    /// Move every client share stored before 0.4.0 under a bare owner to the owner that names
    /// the variant that stored it (run with the client-share tables and key, SHARE_KIND=client).
    /// Opens those shares: needs the client key's kms:Decrypt. Re-runnable.
    #[command(group(clap::ArgGroup::new("variant").required(true).args(["app_issuer", "backend"])))]
    ClientOwners {
        #[command(flatten)]
        variant: Variant,
        /// Why, kept in each audit record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Store every share of the store you ran before (Portal's PostgreSQL schema, or one JSON
    /// object a line: docs/migrate.md) as /backup stores one, never over a newer share; or, with
    /// --verify, check each against what its slot serves. Run with SHARE_KIND=client and the
    /// client tables for --client-shares.
    #[command(group(clap::ArgGroup::new("owners").args(["app_issuer", "backend"])))]
    #[command(group(clap::ArgGroup::new("from").args(["from_jsonl", "from_postgres"]).required(true)))]
    Import {
        /// The JSON-lines file (docs/migrate.md, "The line format").
        #[arg(long, value_name = "FILE")]
        from_jsonl: Option<std::path::PathBuf>,
        /// The PostgreSQL database, as a URL (`postgres://user@host:5432/db?sslmode=require`;
        /// the password from PGPASSWORD, a private CA from PGSSLROOTCERT).
        #[arg(long, value_name = "URL")]
        from_postgres: Option<String>,
        /// PostgreSQL: the share table [default: CustodianBackupShare, or ClientBackupShare].
        #[arg(long, value_name = "TABLE", requires = "from_postgres")]
        share_table: Option<String>,
        /// PostgreSQL: the table of users, whose `id` the shares' `userId` names.
        #[arg(
            long,
            value_name = "TABLE",
            default_value = "User",
            requires = "from_postgres"
        )]
        user_table: String,
        /// PostgreSQL: a column named otherwise than Portal's schema (FIELD=COLUMN; repeat).
        #[arg(long = "column", value_name = "FIELD=COLUMN", value_parser = import::postgres::column_override, requires = "from_postgres")]
        columns: Vec<(String, String)>,
        /// PostgreSQL client shares: the column of each user's --claim value (TABLE.COLUMN:
        /// the user table's, or a table's joined on `userId`) [default with --backend: User.clientId].
        #[arg(long, value_name = "TABLE.COLUMN", requires = "from_postgres")]
        owner_from: Option<String>,
        /// The rows are the app's client shares (`owner`, `cipherText`), not custodian shares.
        #[arg(long, requires = "owners")]
        client_shares: bool,
        #[command(flatten)]
        variant: Variant,
        /// Check instead of storing: open what each row's slot serves and compare SHA-256.
        #[arg(long)]
        verify: bool,
        /// Keep the place of the last row done in this file (a line, or a table's id), and start
        /// after it.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<std::path::PathBuf>,
        /// Why, kept in the run's audit record (`custody audit --imports`).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Give each current share stored before pairs without a backupSharePairId the one inside its
    /// own JSON, so `reconcile` can match it. Opens those shares: needs kms:Decrypt. Re-runnable.
    PairIds,
    /// Check every backup share pair Portal's Custodian API lists against the shares held here:
    /// a `completed` pair without its custodian share is unrecoverable (exit 10). Opens no share.
    Reconcile {
        /// Portal's API origin.
        #[arg(long, default_value = "https://api.portalhq.io")]
        portal_api_url: String,
        /// The Portal API key from this Secrets Manager secret (ARN) instead of PORTAL_API_KEY.
        #[arg(long, value_name = "ARN")]
        api_key_secret: Option<String>,
        /// Move to history each pair's share that a newer completed, held pair of the same wallet
        /// and backup method supersedes (audited); never the newest completed pair's, never a
        /// pair-less one, never on an incomplete pair's word.
        #[arg(long)]
        retire: bool,
        /// Save progress here after each page, and resume from it.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<std::path::PathBuf>,
        /// Clients per page (Portal's maximum: 100).
        #[arg(long, default_value_t = 100)]
        take: u32,
        /// Milliseconds between two requests to Portal (300: its limit of 200 a minute).
        #[arg(long, default_value_t = 300)]
        pace_ms: u64,
        /// Why, kept in each retire's audit record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Every item of the three tables, still sealed, to a new file of JSON lines, with its
    /// checksum manifest beside it (<FILE>.manifest.json). Opens no share.
    Dump {
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// Instead of scanning: a directory holding a point-in-time export (DynamoDB JSON) of
        /// each of the three tables, copied from S3 (`aws s3 cp --recursive`).
        #[arg(long, value_name = "DIR")]
        from_export: Option<std::path::PathBuf>,
    },
    /// A dump into this stack's tables: checked against its manifest first, each item written only
    /// where its key is free, then every item read back. Safe to run again.
    Load {
        file: std::path::PathBuf,
        /// Merge a dump of a damaged table into restored ones: each current share becomes current
        /// if newer than what is, else goes to history; nothing is overwritten or left out.
        #[arg(long)]
        merge: bool,
    },
}

/// Exit codes scripts can rely on (listed in `--help` and the README).
/// Which variant of the client-share function stored shares under bare owners, and so whose
/// they are (`client-owners`, `import --client-shares`).
#[derive(clap::Args)]
struct Variant {
    /// The app variant: bare owners are the values of this issuer's tokens' `--claim`.
    #[arg(long, value_name = "ISSUER")]
    app_issuer: Option<String>,
    /// The owner claim the app variant uses (its `ClientSharesOwnerClaim`).
    #[arg(long, default_value = "sub")]
    claim: String,
    /// The backend variant: bare owners are Portal clientIds.
    #[arg(long)]
    backend: bool,
}

impl Variant {
    fn owners(self) -> LegacyOwners {
        match self.app_issuer {
            Some(issuer) => LegacyOwners::App {
                issuer,
                claim: self.claim,
            },
            None => LegacyOwners::Backend,
        }
    }
}

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
