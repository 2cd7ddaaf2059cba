//! `--from-postgres URL`: the tables Portal's guides and its reference server (portalex) keep,
//! read straight from PostgreSQL in one read-only snapshot through a server-side cursor (a
//! portal, [`FETCH_ROWS`] rows a round trip), in `id` order so a checkpoint can name the last
//! row done. Names default to Portal's (`CustodianBackupShare`/`ClientBackupShare`, `User`,
//! `userId` → `User.id`, `User.clientId`); `--share-table`, `--user-table` and `--column` name a
//! customer's own. Every value is read as bytes and refused by its row when it is not UTF-8.

use super::{Entry, Fields, Place, Source};
use crate::{Exit, Failure, usage};
use futures_util::TryStreamExt;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;
use tokio_postgres::{Client, Config, Row, Transaction};

/// Rows a cursor fetch brings: a few hundred KB of Portal-sized shares.
const FETCH_ROWS: i32 = 100;

/// Where the rows are: the tables, the columns, and for client shares the owner's column.
pub struct Schema {
    pub share_table: String,
    pub user_table: String,
    /// `FIELD=COLUMN` overrides of [`COLUMNS`]' defaults.
    pub columns: BTreeMap<String, String>,
    /// `TABLE.COLUMN`: how the app's tokens name a user (client shares).
    pub owner_from: Option<String>,
}

/// The fields `--column` can rename, with Portal's column names: the share table's, then the
/// user table's (`User.*`, whatever `--user-table` calls it).
pub const COLUMNS: [(&str, &str); 9] = [
    ("id", "id"),
    ("userId", "userId"),
    ("backupMethod", "backupMethod"),
    ("backupSharePairId", "backupSharePairId"),
    ("createdAt", "createdAt"),
    ("share", "share"),
    ("cipherText", "cipherText"),
    ("User.id", "id"),
    ("User.clientId", "clientId"),
];

impl Schema {
    fn column(&self, field: &str) -> String {
        let default = COLUMNS.iter().find(|(name, _)| *name == field);
        let name = self.columns.get(field).map(String::as_str);
        quoted(name.or(default.map(|(_, column)| *column)).unwrap_or(field))
    }
}

/// Parses `--column FIELD=COLUMN`.
pub fn column_override(text: &str) -> Result<(String, String), String> {
    let (field, column) = text.split_once('=').ok_or("FIELD=COLUMN")?;
    if !COLUMNS.iter().any(|(name, _)| *name == field) {
        let fields: Vec<_> = COLUMNS.iter().map(|(name, _)| *name).collect();
        return Err(format!("{field} is none of {}", fields.join(", ")));
    }
    Ok((field.to_owned(), column.to_owned()))
}

/// The source's rows, imported (or with `verify`, checked) as `super::import` does a file's.
pub async fn run(run: &super::Run<'_>, url: &str, schema: &Schema) -> Result<Value, Failure> {
    let config = config(url)?;
    let mut client = connect(&config).await?;
    let checkpoint = run.checkpoint.filter(|_| run.actor.is_some());
    let after = match checkpoint
        .map(super::Checkpoint::read)
        .transpose()?
        .flatten()
    {
        None => String::new(),
        Some(Place::Id(id)) => id,
        Some(Place::Line(_)) => {
            return Err(usage(
                "the checkpoint is a file's (a line number), not a table's",
            ));
        }
    };
    // One snapshot: rows the old endpoint writes meanwhile are for the next run.
    let transaction = client
        .build_transaction()
        .read_only(true)
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .start()
        .await
        .map_err(database)?;
    let (select, count) = queries(&transaction, schema, run.source).await?;
    let counted = transaction
        .query_one(&count, &[&after])
        .await
        .map_err(database)?;
    let (rows, distinct): (i64, i64) = (counted.get(0), counted.get(1));
    if rows != distinct {
        return Err(usage(format!(
            "{rows} rows but {distinct} share ids: a join gives a share more than one user or owner; name a column with one row per user"
        )));
    }
    let statement = transaction.prepare(&select).await.map_err(database)?;
    let portal = transaction
        .bind(&statement, &[&after])
        .await
        .map_err(database)?;
    let entries = futures_util::stream::try_unfold(false, |finished| {
        let (transaction, portal) = (&transaction, &portal);
        async move {
            if finished {
                return Ok(None);
            }
            let rows = transaction
                .query_portal(portal, FETCH_ROWS)
                .await
                .map_err(database)?;
            let finished = rows.len() < FETCH_ROWS as usize;
            Ok(Some((rows, finished)))
        }
    })
    .map_ok(|rows| futures_util::stream::iter(rows.into_iter().map(|row| Ok(entry(&row)))))
    .try_flatten();
    let mut report = serde_json::Map::new();
    report.insert("source".into(), described(&config).into());
    if !after.is_empty() {
        report.insert("resumedAfterId".into(), after.clone().into());
    }
    let rows = usize::try_from(rows).unwrap_or(0);
    run.entries(entries, rows, report).await
}

/// The select (the source's rows after `$1`, in `id` order) and its count.
async fn queries(
    transaction: &Transaction<'_>,
    schema: &Schema,
    source: &Source,
) -> Result<(String, String), Failure> {
    // Each value as the bytes the database holds: converted to UTF-8, except in a `SQL_ASCII`
    // database, which holds bytes it never checked (checked here, a row at a time).
    let encoding: String = transaction
        .query_one("SHOW server_encoding", &[])
        .await
        .map_err(database)?
        .get(0);
    let bytes = match encoding.as_str() {
        "SQL_ASCII" => "'SQL_ASCII'",
        _ => "'UTF8'",
    };
    let share_table = quoted(&schema.share_table);
    let user_table = quoted(&schema.user_table);
    let column = |field| schema.column(field);
    // A store from before pairs (Portal's own guide's schema) has no pair column: none is read.
    let pair = match has_column(transaction, schema, "backupSharePairId").await? {
        true => format!(
            "convert_to(s.{}::text, {bytes})",
            column("backupSharePairId")
        ),
        false => "NULL::bytea".to_owned(),
    };
    let (secret, owner, owner_join) = match source {
        Source::Custodian => (column("share"), "NULL::bytea".to_owned(), String::new()),
        Source::Client(legacy) => {
            let owner_from = match (&schema.owner_from, legacy) {
                (Some(owner_from), _) => owner_from.clone(),
                (None, custodian_backup::domain::client_owner::LegacyOwners::Backend) => {
                    format!(
                        "{}.{}",
                        schema.user_table,
                        column_name(schema, "User.clientId")
                    )
                }
                (None, _) => {
                    return Err(usage(
                        "--app-issuer needs --owner-from TABLE.COLUMN: the column holding each user's --claim value",
                    ));
                }
            };
            let (table, owner_column) = owner_from
                .rsplit_once('.')
                .ok_or_else(|| usage("--owner-from is TABLE.COLUMN"))?;
            // Another table is joined on its own "userId"; a count below refuses a join that
            // gives a share two owners.
            let (alias, join) = if table == schema.user_table {
                ("u", String::new())
            } else if table == schema.share_table {
                ("s", String::new())
            } else {
                let join = format!(
                    " LEFT JOIN {} o ON o.\"userId\" = s.{}",
                    quoted(table),
                    column("userId")
                );
                ("o", join)
            };
            let owner = format!(
                "convert_to({alias}.{}::text, {bytes})",
                quoted(owner_column)
            );
            (column("cipherText"), owner, join)
        }
    };
    let from = format!(
        "FROM {share_table} s LEFT JOIN {user_table} u ON u.{} = s.{}{owner_join} \
         WHERE ($1 = '' OR s.{id}::text COLLATE \"C\" > $1)",
        column("User.id"),
        column("userId"),
        id = column("id"),
    );
    let select = format!(
        "SELECT convert_to(s.{id}::text, {bytes}), convert_to(u.{client_id}::text, {bytes}), \
         convert_to(s.{method}::text, {bytes}), {pair}, convert_to(s.{secret}::text, {bytes}), \
         s.{created_at}::timestamptz, {owner} {from} ORDER BY s.{id}::text COLLATE \"C\"",
        id = column("id"),
        client_id = column("User.clientId"),
        method = column("backupMethod"),
        created_at = column("createdAt"),
    );
    let count = format!("SELECT count(*), count(DISTINCT s.{}) {from}", column("id"));
    Ok((select, count))
}

/// Whether the share table has the field's column: a renamed one must exist; Portal's optional
/// pair column may not.
async fn has_column(
    transaction: &Transaction<'_>,
    schema: &Schema,
    field: &str,
) -> Result<bool, Failure> {
    let found = transaction
        .query_opt(
            "SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2 \
             AND table_schema = ANY (current_schemas(false))",
            &[&schema.share_table, &column_name(schema, field)],
        )
        .await
        .map_err(database)?
        .is_some();
    if !found && schema.columns.contains_key(field) {
        return Err(usage(format!(
            "{} has no column {}",
            schema.share_table,
            column_name(schema, field)
        )));
    }
    Ok(found)
}

fn column_name(schema: &Schema, field: &str) -> String {
    let default = COLUMNS.iter().find(|(name, _)| *name == field);
    schema
        .columns
        .get(field)
        .cloned()
        .or(default.map(|(_, column)| (*column).to_owned()))
        .unwrap_or_else(|| field.to_owned())
}

/// One selected row as an entry: each value as read, a refusal if one is not UTF-8.
fn entry(row: &Row) -> Entry {
    // Ids name rows in refusals and the checkpoint; one that is not UTF-8 is shown lossily.
    let id = row
        .get::<_, Option<Vec<u8>>>(0)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let text = |index: usize| match row.get::<_, Option<Vec<u8>>>(index) {
        None => Ok(Value::Null),
        Some(bytes) => String::from_utf8(bytes)
            .map(Value::String)
            .map_err(|_| "not UTF-8"),
    };
    let fields = (|| {
        let share = text(4)?;
        Ok(Fields {
            client_id: text(1)?,
            backup_method: text(2)?,
            backup_share_pair_id: text(3)?,
            cipher_text: share.clone(),
            share,
            owner: text(6)?,
            created_at: row.get::<_, Option<SystemTime>>(5),
        })
    })();
    Entry {
        place: Place::Id(id.clone().unwrap_or_default()),
        fields: if id.is_some() { fields } else { Err("no id") },
        id,
    }
}

/// The URL as tokio-postgres reads it (libpq's form), with `PGPASSWORD` when it names none.
/// TLS is required unless the URL says `sslmode=disable` or `prefer`, or the server is on this
/// machine: every share crosses this connection. `verify-ca` and `verify-full` are what
/// `require` already does here (the chain and the host name are always verified).
fn config(url: &str) -> Result<Config, Failure> {
    let url = url
        .replace("sslmode=verify-full", "sslmode=require")
        .replace("sslmode=verify-ca", "sslmode=require");
    let mut config: Config = url.parse().map_err(|_| {
        usage("--from-postgres is not a PostgreSQL URL (postgres://user@host:port/db?sslmode=require)")
    })?;
    let local = config.get_hosts().iter().all(|host| match host {
        tokio_postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => true,
    });
    if !local && !url.contains("sslmode=") {
        config.ssl_mode(tokio_postgres::config::SslMode::Require);
    }
    if config.get_password().is_some() {
        eprintln!(
            "import: the URL holds a password, visible to this machine's process list while the import runs; PGPASSWORD keeps it out"
        );
    } else if let Ok(password) = std::env::var("PGPASSWORD") {
        config.password(password);
    }
    Ok(config)
}

/// The source as the report and the audit record name it: never its password.
fn described(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

/// Connected over TLS when the server offers it (`sslmode=require` to insist), verified against
/// the machine's CA roots and `PGSSLROOTCERT`'s.
async fn connect(config: &Config) -> Result<Client, Failure> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Ok(path) = std::env::var("PGSSLROOTCERT") {
        let unreadable = |_| usage(format!("PGSSLROOTCERT {path} holds no PEM certificate"));
        for cert in CertificateDer::pem_file_iter(&path).map_err(unreadable)? {
            roots
                .add(cert.map_err(unreadable)?)
                .map_err(|_| usage(format!("PGSSLROOTCERT {path}: not a CA certificate")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| usage("TLS unavailable"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let (client, connection) = config
        .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
        .await
        .map_err(database)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            eprintln!("import: the PostgreSQL connection ended: {error}");
        }
    });
    client
        .batch_execute("SET TIME ZONE 'UTC'")
        .await
        .map_err(database)?;
    Ok(client)
}

/// The server's own words where they name only the schema, a login or a database; only the
/// SQLSTATE for the rest, whose messages may quote a value (a share's bytes among them).
fn database(error: tokio_postgres::Error) -> Failure {
    let message = match error.as_db_error() {
        None => format!("PostgreSQL: {error}"),
        Some(db) => match db.code().code().get(..2) {
            Some("42" | "28" | "3D" | "3F" | "08") => format!("PostgreSQL: {}", db.message()),
            _ => format!(
                "PostgreSQL refused the read (SQLSTATE {})",
                db.code().code()
            ),
        },
    };
    Failure {
        exit: Exit::Unavailable,
        code: "source_unavailable",
        message,
    }
}

/// An identifier in double quotes, as PostgreSQL reads it whatever it holds.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
