#!/usr/bin/env python3
"""Opens one stored custodian backup share without this project's code (envelope format 1).

Input: the item as `aws dynamodb get-item --output json` prints it (a file, or - for stdin).
Output: the share on stdout, byte for byte as Portal sent it. Needs boto3 and cryptography
(`pip install boto3 cryptography`) and credentials allowed to kms:Decrypt with the share's
encryption context. With --escrow, the data key is released through the escrow wrap
(`escrowedDataKey` under `escrowKeyId`, in the recovery account) instead of the main one. With
--data-key, the data key `aws kms decrypt` already released (base64) is used instead of calling
KMS. See docs/envelope.md.
"""
import argparse
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("item", help="get-item's JSON output, or - for stdin")
    parser.add_argument("--data-key", help="the plaintext data key, base64, from aws kms decrypt")
    parser.add_argument(
        "--escrow", action="store_true", help="release the data key through the escrow wrap"
    )
    parser.add_argument(
        "--kind", choices=["custodian", "client"], default="custodian",
        help="an item of the custodian share tables (default) or of the client share tables",
    )
    args = parser.parse_args()
    document = json.load(sys.stdin if args.item == "-" else open(args.item))
    item = document.get("Item", document)

    def text(name):
        return item[name]["S"]

    def blob(name):
        return base64.b64decode(item[name]["B"])

    if item["sealFormat"]["N"] != "1":
        sys.exit("unknown sealFormat " + item["sealFormat"]["N"])
    # The sort key is the share's slot: its backupMethod, then, for a backup share pair's share,
    # U+001F and the pair id (docs/storage.md).
    client_id, slot = text("clientId"), text("backupMethod")
    backup_method, _, pair_id = slot.partition("\u001f")
    if args.data_key:
        data_key = base64.b64decode(args.data_key)
    else:
        import boto3

        wrapped, key_id = ("escrowedDataKey", "escrowKeyId") if args.escrow else (
            "encryptedDataKey", "kmsKeyId")
        if wrapped not in item:
            sys.exit("the item has no " + wrapped)
        data_key = boto3.client("kms").decrypt(
            CiphertextBlob=blob(wrapped),
            KeyId=text(key_id),
            EncryptionContext={"clientId": client_id, "backupMethod": backup_method},
        )["Plaintext"]
    # The owner bound in as associated data: compact JSON, non-ASCII as UTF-8.
    # A pair's share has its pair id as a fourth element.
    fields = [args.kind + "-backup/v1", client_id, backup_method] + ([pair_id] if pair_id else [])
    owner = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    # Raises (exit 1, nothing printed) unless key, nonce, owner and ciphertext are exactly those sealed.
    share = AESGCM(data_key).decrypt(blob("nonce"), blob("sealedShare"), owner)
    if hashlib.sha256(share).hexdigest() != text("shareSha256"):
        sys.exit("the share does not match the item's shareSha256")
    sys.stdout.buffer.write(share)


if __name__ == "__main__":
    main()
