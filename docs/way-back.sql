-- The way back (docs/migrate.md): the shares `custody export-all --to-jsonl FILE --write-shares`
-- wrote, loaded into the tables Portal's guides describe, in one transaction:
--
--   psql "$OLD_DATABASE_URL" -v ON_ERROR_STOP=1 -f docs/way-back.sql < shares.jsonl
--
-- Each share replaces an older row of its slot (user, backupMethod, backupSharePairId), as
-- Portal's reference server does (delete, then create); a row as new or newer stays, and a
-- share already there is not added twice. A clientId without a `User` row is listed and
-- nothing is written for it. Rename the tables and columns here if yours differ.
BEGIN;
CREATE TEMP TABLE moved (line jsonb) ON COMMIT DROP;
-- One JSON object a line, from psql's standard input; read as CSV with quote and delimiter
-- bytes JSON never holds unescaped, so each line arrives as it is.
\copy moved (line) FROM pstdin WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')

SELECT line->>'clientId' AS "clientId without a User row: not written"
FROM moved m
WHERE NOT EXISTS (SELECT 1 FROM "User" u WHERE u."clientId" = m.line->>'clientId');

DELETE FROM "CustodianBackupShare" s
USING moved m, "User" u
WHERE u."clientId" = m.line->>'clientId'
  AND s."userId" = u."id"
  AND s."backupMethod" = m.line->>'backupMethod'
  AND s."backupSharePairId" IS NOT DISTINCT FROM m.line->>'backupSharePairId'
  AND s."createdAt" < ((m.line->>'createdAt')::timestamptz AT TIME ZONE 'UTC');

INSERT INTO "CustodianBackupShare" ("id", "userId", "backupMethod", "backupSharePairId", "share", "createdAt")
SELECT 'way-back-' || md5(m.line::text), u."id", m.line->>'backupMethod',
       m.line->>'backupSharePairId', m.line->>'share',
       (m.line->>'createdAt')::timestamptz AT TIME ZONE 'UTC'
FROM moved m
JOIN "User" u ON u."clientId" = m.line->>'clientId'
WHERE NOT EXISTS (
  SELECT 1 FROM "CustodianBackupShare" s
  WHERE s."userId" = u."id"
    AND s."backupMethod" = m.line->>'backupMethod'
    AND s."backupSharePairId" IS NOT DISTINCT FROM m.line->>'backupSharePairId'
);
COMMIT;
