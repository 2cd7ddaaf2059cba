//! The command line: every command, its arguments and its help, as clap reads them. What each
//! command does is in `main.rs`'s `run` and the module named after it.

use crate::import;
use clap::{Parser, Subcommand};
use custodian_backup::domain::client_owner::LegacyOwners;

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
pub struct Cli {
    /// One JSON document on stdout, errors included (`{"error": {"code", "message"}}`).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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

/// Which variant of the client-share function stored shares under bare owners, and so whose
/// they are (`client-owners`, `import --client-shares`).
#[derive(clap::Args)]
pub struct Variant {
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
    pub fn owners(self) -> LegacyOwners {
        match self.app_issuer {
            Some(issuer) => LegacyOwners::App {
                issuer,
                claim: self.claim,
            },
            None => LegacyOwners::Backend,
        }
    }
}
