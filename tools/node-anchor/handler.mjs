// Node.js 20 peer ("anchor") of functions/backup and functions/backup-fetch, written the way AWS's
// own Node samples are, so the bench has a like-for-like baseline for cold start and warm latency.
// Same environment, tables, item layout and call pattern as the Rust functions; error bodies are
// the flat {"error": code} form, not the Rust {"error": {code, message}}.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

const { SHARES_TABLE, HISTORY_TABLE, SHARE_KEY_ID, WEBHOOK_SECRET_ARN } = process.env;

// Module scope, so warm invocations reuse the clients' keep-alive connections. No endpoint option:
// the SDK reads AWS_ENDPOINT_URL_DYNAMODB / _KMS / _SECRETS_MANAGER itself.
const dynamodb = new DynamoDBClient({});
const kms = new KMSClient({});
const secrets = new SecretsManagerClient({});

const sha256 = (data) => createHash("sha256").update(data).digest();

// Read once at init: a failure here is an init error, as with the Rust functions.
const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: WEBHOOK_SECRET_ARN }));
if (!SecretString) throw new Error("the webhook secret has no SecretString");
const secretDigest = sha256(SecretString);

const json = (statusCode, body) => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

class BadRequest extends Error {}

// Digests first: timingSafeEqual needs equal lengths, and this hides the secret's length too.
function authorized(headers) {
  const entry = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === "x-webhook-secret");
  return typeof entry?.[1] === "string" && timingSafeEqual(sha256(entry[1]), secretDigest);
}

function parseBody(event) {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : event.body;
  let body;
  try {
    body = JSON.parse(text ?? "");
  } catch {
    throw new BadRequest("malformed_json");
  }
  if (typeof body !== "object" || body === null || typeof body.clientId !== "string" || !body.clientId) {
    throw new BadRequest("invalid_request");
  }
  return body;
}

const aad = (clientId, backupMethod) => Buffer.from(`${clientId}\n${backupMethod}`);

async function backup({ clientId, backupMethod = "UNKNOWN", share }) {
  if (typeof share !== "string" || typeof backupMethod !== "string") throw new BadRequest("invalid_request");
  const shareSha256 = sha256(share).toString("hex");
  const EncryptionContext = { clientId, backupMethod };
  // Both calls every time, even when the share turns out unchanged: the Rust call pattern.
  const [{ Item: current }, dataKey] = await Promise.all([
    dynamodb.send(new GetItemCommand({
      TableName: SHARES_TABLE,
      Key: { clientId: { S: clientId }, backupMethod: { S: backupMethod } },
      ConsistentRead: true,
    })),
    kms.send(new GenerateDataKeyCommand({ KeyId: SHARE_KEY_ID, KeySpec: "AES_256", EncryptionContext })),
  ]);
  if (current?.shareSha256?.S === shareSha256) {
    dataKey.Plaintext.fill(0);
    return json(200, { result: "unchanged" });
  }

  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", dataKey.Plaintext, nonce).setAAD(aad(clientId, backupMethod));
  const sealed = Buffer.concat([cipher.update(share, "utf8"), cipher.final(), cipher.getAuthTag()]);
  dataKey.Plaintext.fill(0);

  const version = current ? Number(current.version.N) + 1 : 1;
  const item = {
    clientId: { S: clientId },
    backupMethod: { S: backupMethod },
    sealedShare: { B: sealed },
    nonce: { B: nonce },
    encryptedDataKey: { B: dataKey.CiphertextBlob },
    kmsKeyId: { S: dataKey.KeyId ?? SHARE_KEY_ID },
    sealFormat: { N: "1" },
    shareSha256: { S: shareSha256 },
    shareBytes: { N: String(Buffer.byteLength(share, "utf8")) },
    version: { N: String(version) },
    storedAt: { S: new Date().toISOString() },
  };
  if (!current) {
    await dynamodb.send(new PutItemCommand({
      TableName: SHARES_TABLE, Item: item, ConditionExpression: "attribute_not_exists(clientId)",
    }));
    return json(200, { result: "created" });
  }
  // History first: a crash between the two writes leaves a duplicate in history, never a lost share.
  await dynamodb.send(new PutItemCommand({
    TableName: HISTORY_TABLE,
    Item: { ...current, shareKey: { S: JSON.stringify([clientId, backupMethod, version - 1]) } },
    ConditionExpression: "attribute_not_exists(shareKey)",
  }));
  await dynamodb.send(new PutItemCommand({
    TableName: SHARES_TABLE,
    Item: item,
    ConditionExpression: "version = :v",
    ExpressionAttributeValues: { ":v": current.version },
  }));
  return json(200, { result: "replaced" });
}

async function open(item) {
  const clientId = item.clientId.S;
  const backupMethod = item.backupMethod.S;
  const { Plaintext } = await kms.send(new DecryptCommand({
    CiphertextBlob: item.encryptedDataKey.B, KeyId: SHARE_KEY_ID, EncryptionContext: { clientId, backupMethod },
  }));
  const sealed = item.sealedShare.B;
  try {
    const decipher = createDecipheriv("aes-256-gcm", Plaintext, item.nonce.B)
      .setAAD(aad(clientId, backupMethod))
      .setAuthTag(sealed.subarray(-16));
    return Buffer.concat([decipher.update(sealed.subarray(0, -16)), decipher.final()]).toString("utf8");
  } finally {
    Plaintext.fill(0);
  }
}

async function fetchShares({ clientId }) {
  const items = [];
  let ExclusiveStartKey;
  do {
    const page = await dynamodb.send(new QueryCommand({
      TableName: SHARES_TABLE,
      KeyConditionExpression: "clientId = :c",
      ExpressionAttributeValues: { ":c": { S: clientId } },
      ConsistentRead: true,
      ExclusiveStartKey,
    }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  if (items.length === 0) return json(404, { error: "no_backup_shares" });
  return json(200, { backupShares: await Promise.all(items.map(open)) });
}

export const handler = async (event) => {
  const path = event.path ?? "";
  const route = path.endsWith("/backup/fetch") ? fetchShares : path.endsWith("/backup") ? backup : null;
  if (!route) return json(404, { error: "not_found" });
  if (event.httpMethod !== "POST") return json(405, { error: "method_not_allowed" });
  if (!authorized(event.headers)) return json(401, { error: "unauthorized" });
  try {
    return await route(parseBody(event));
  } catch (error) {
    if (error instanceof BadRequest) return json(400, { error: error.message });
    if (error.name === "ConditionalCheckFailedException") return json(409, { error: "conflict" });
    // Name and status only: SDK messages can quote request values, and those may hold a share.
    console.error(JSON.stringify({
      level: "error", route: route.name, error: error.name, status: error.$metadata?.httpStatusCode,
    }));
    return json(503, { error: "storage_unavailable" });
  }
};
