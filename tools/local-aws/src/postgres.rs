//! The PostgreSQL server `scripts/postgres.sh` starts (`POSTGRES_URL`), and a new database on it
//! in the schema Portal's reference server's migrations leave (portalex, 2024-03-28 onwards).

use crate::unique;
use tokio_postgres::{Client, NoTls};

/// `User`, `CustodianBackupShare` and `ClientBackupShare` as Portal's reference server's Prisma
/// migrations leave them: text share ids (legacy rows kept their user's id), `backupMethod` text
/// defaulting to `UNKNOWN`, a nullable `backupSharePairId`, and a unique index on (userId,
/// backupMethod, backupSharePairId) that, PostgreSQL treating NULLs as distinct, still admits
/// two pair-less rows of one method.
pub const PORTAL_SCHEMA: &str = r#"
CREATE TABLE "User" (
    "id" SERIAL PRIMARY KEY,
    "walletId" TEXT,
    "exchangeUserId" INTEGER NOT NULL UNIQUE,
    "clientApiKey" TEXT NOT NULL UNIQUE,
    "username" TEXT NOT NULL UNIQUE,
    "apiSecret" TEXT,
    "apiKey" TEXT,
    "address" TEXT,
    "pushToken" TEXT,
    "clientId" TEXT NOT NULL UNIQUE
);
CREATE TABLE "CustodianBackupShare" (
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "id" TEXT PRIMARY KEY,
    "share" TEXT NOT NULL,
    "userId" INTEGER NOT NULL REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    "backupMethod" TEXT NOT NULL DEFAULT 'UNKNOWN',
    "backupSharePairId" TEXT
);
CREATE UNIQUE INDEX "CustodianBackupShare_userId_backupMethod_backupSharePairId_key"
    ON "CustodianBackupShare"("userId", "backupMethod", "backupSharePairId");
CREATE TABLE "ClientBackupShare" (
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "id" TEXT PRIMARY KEY,
    "cipherText" TEXT NOT NULL,
    "userId" INTEGER NOT NULL REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    "backupMethod" TEXT NOT NULL DEFAULT 'UNKNOWN',
    "backupSharePairId" TEXT
);
CREATE UNIQUE INDEX "ClientBackupShare_userId_backupMethod_backupSharePairId_key"
    ON "ClientBackupShare"("userId", "backupMethod", "backupSharePairId");
"#;

/// The server's URL: `make test` starts it (scripts/postgres.sh).
pub fn server() -> String {
    std::env::var("POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .expect("POSTGRES_URL: run through `make test`, or `source scripts/postgres.sh` first")
}

/// A new, empty database on the server: its URL and a client connected to it.
pub async fn database() -> (String, Client) {
    database_in("UTF8").await
}

/// A new, empty database in `encoding` (`SQL_ASCII` keeps whatever bytes it is given).
pub async fn database_in(encoding: &str) -> (String, Client) {
    let name = unique("portal").replace('-', "_");
    let admin = connect(&server()).await;
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {name} ENCODING '{encoding}' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .await
        .expect("a new database");
    let url = format!("{}/{name}", server().rsplit_once('/').expect("a URL").0);
    let client = connect(&url).await;
    (url, client)
}

/// A new database in [`PORTAL_SCHEMA`].
pub async fn portal_database() -> (String, Client) {
    let (url, client) = database().await;
    client
        .batch_execute(PORTAL_SCHEMA)
        .await
        .expect("Portal's schema");
    (url, client)
}

/// A `User` row of [`PORTAL_SCHEMA`]: its `id` and `clientId` (absent only where the schema is
/// made to allow it), and its other unique columns made from them (`username` is the clientId).
pub async fn add_user(db: &Client, id: i32, client_id: Option<&str>) {
    let username = client_id.map_or_else(|| format!("user-{id}"), str::to_owned);
    db.execute(
        r#"INSERT INTO "User" ("id", "exchangeUserId", "clientApiKey", "username", "clientId")
           VALUES ($1, $1, $2, $3, $4)"#,
        &[&id, &format!("key-{id}"), &username, &client_id],
    )
    .await
    .expect("a User row");
}

pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at {url}: {error}"));
    tokio::spawn(connection);
    client
}
