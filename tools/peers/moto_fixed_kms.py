#!/usr/bin/env python3
"""Run moto's AWS emulator with one KMS key whose id and key material are fixed.

Plain moto draws fresh random material for every CreateKey, so ciphertext made by
one moto process can't be decrypted by the next. Stored test vectors (sops files
encrypted with KMS) need the same key every time, so this launcher creates a key
and then swaps in a fixed id and fixed material.

Prints one JSON line {"arn": ..., "key_id": ..., "alias": ..., "endpoint": ...}
once the key works, then serves until SIGTERM/SIGINT.
"""
import argparse
import json
import signal
import threading

import boto3
from moto.kms.models import kms_backends
from moto.server import ThreadedMotoServer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=4566)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--account", default="123456789012")
    ap.add_argument("--key-id", default="11111111-2222-3333-4444-555555555555")
    ap.add_argument(
        "--material-hex",
        default="00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    )
    ap.add_argument("--alias", default="alias/sops-test", help="'' for no alias")
    args = ap.parse_args()

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    endpoint = f"http://{args.host}:{args.port}"
    kms = boto3.client(
        "kms",
        endpoint_url=endpoint,
        region_name=args.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )

    # Create through the API (so every moto-side structure exists), then re-key the
    # in-process backend object under the fixed id with the fixed material.
    created = kms.create_key(Description="sigil fixed test key")["KeyMetadata"]["KeyId"]
    backend = kms_backends[args.account][args.region]
    key = backend.keys.pop(created)
    key.id = args.key_id
    key.arn = f"arn:aws:kms:{args.region}:{args.account}:key/{args.key_id}"
    key.key_material = bytes.fromhex(args.material_hex)
    backend.keys[args.key_id] = key
    if args.alias:
        kms.create_alias(AliasName=args.alias, TargetKeyId=args.key_id)

    # Round-trip once so "ready" really means usable.
    blob = kms.encrypt(KeyId=key.arn, Plaintext=b"ping")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"ping"

    print(
        json.dumps(
            {"arn": key.arn, "key_id": args.key_id, "alias": args.alias, "endpoint": endpoint}
        ),
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
