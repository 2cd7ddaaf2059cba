-- The way back (docs/migrate.md): the shares `custody export-all --to-jsonl FILE --write-shares`
-- wrote, loaded into the tables Portal's guides describe, in one transaction:
--
--   psql "$OLD_DATABASE_URL" -v ON_ERROR_STOP=1 -f docs/way-back.sql < shares.jsonl
--
-- Each share replaces an older row of its slot (user, backupMethod, backupSharePairId), as
-- Portal's reference server does (delete, then create); a row as new or newer stays, and a
-- share already there is not added twice. A clientId without a `User` row is listed and
-- nothing is written for it. Of two lines for one slot (two files put together), the newer
-- counts. `backupMethod` is text, as Portal's schema has it since January 2024. Rename the
-- tables and columns here if yours differ.
SET client_encoding = 'UTF8';
BEGIN;
SET LOCAL TIME ZONE 'UTC';
CREATE TEMP TABLE moved (line jsonb) ON COMMIT DROP;
-- One JSON object a line, from psql's standard input; read as CSV with quote and delimiter
-- bytes JSON never holds unescaped, so each line arrives as it is.
\copy moved (line) FROM pstdin WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')

-- The newest share of each slot, with the row's time as Portal's schema keeps it (UTC, no zone;
-- a share without one counts as older than any row).
CREATE TEMP TABLE newest ON COMMIT DROP AS
SELECT DISTINCT ON (line->>'clientId', line->>'backupMethod', line->>'backupSharePairId')
       line->>'clientId' AS client_id, line->>'backupMethod' AS method,
       line->>'backupSharePairId' AS pair, line->>'share' AS share,
       COALESCE((line->>'createdAt')::timestamptz, 'epoch')::timestamp AS created_at
FROM moved
ORDER BY line->>'clientId', line->>'backupMethod', line->>'backupSharePairId',
         (line->>'createdAt')::timestamptz DESC NULLS LAST;

SELECT client_id AS "clientId without a User row: not written"
FROM newest n
WHERE NOT EXISTS (SELECT 1 FROM "User" u WHERE u."clientId" = n.client_id);

DELETE FROM "CustodianBackupShare" s
USING newest n, "User" u
WHERE u."clientId" = n.client_id
  AND s."userId" = u."id"
  AND s."backupMethod"::text = n.method
  AND s."backupSharePairId" IS NOT DISTINCT FROM n.pair
  AND s."createdAt" < n.created_at;

INSERT INTO "CustodianBackupShare" ("id", "userId", "backupMethod", "backupSharePairId", "share", "createdAt")
SELECT 'way-back-' || md5(concat_ws(' ', n.client_id, n.method, n.pair, n.share)), u."id",
       n.method, n.pair, n.share, n.created_at
FROM newest n
JOIN "User" u ON u."clientId" = n.client_id
WHERE NOT EXISTS (
  SELECT 1 FROM "CustodianBackupShare" s
  WHERE s."userId" = u."id"
    AND s."backupMethod"::text = n.method
    AND s."backupSharePairId" IS NOT DISTINCT FROM n.pair
);
COMMIT;
