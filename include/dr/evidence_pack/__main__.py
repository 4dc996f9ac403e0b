"""``python -m include.dr.evidence_pack``: check a pack, or say where the newest one is.

- ``verify PACK.zip`` needs only the standard library, ``cryptography`` and (for
  ``--kms``) boto3: no Airflow, no product settings. Exit 0 verified; 1 a file or a
  signature failed (each named); 2 nothing trusted to verify against.
- ``where`` prints the newest pack in the evidence store and the command to verify it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _kms_public_key(key_id: str, endpoint_url: str | None, region: str | None) -> bytes:
    import boto3

    region = region or (key_id.split(":")[3] if key_id.startswith("arn:") else None)
    # A session of its own: boto3's default session keeps the first credentials it found,
    # so a caller that has changed the environment since (another account) would
    # silently ask KMS as someone else.
    kms = boto3.session.Session().client("kms", region_name=region, endpoint_url=endpoint_url)
    return bytes(kms.get_public_key(KeyId=key_id)["PublicKey"])


def verify(args: argparse.Namespace) -> int:
    import json
    import zipfile

    from include.dr.evidence_pack.verify import SIGNATURE, verify_pack

    pack = Path(args.pack).read_bytes()
    trusted: bytes | None = None
    trusted_by = ""
    if args.kms or args.key_id:
        try:
            with zipfile.ZipFile(args.pack) as archive:
                named = str(json.loads(archive.read(SIGNATURE))["key_arn"])
        except (KeyError, ValueError, zipfile.BadZipFile) as exc:
            print(f"FAILED {args.pack}: {SIGNATURE} is unreadable ({exc})")
            return 1
        key_id = args.key_id or named
        try:
            trusted = _kms_public_key(key_id, args.endpoint_url, args.region)
        except Exception as exc:  # noqa: BLE001 - botocore's errors, without importing it early
            print(
                f"FAILED {args.pack}: KMS gave no public key for {key_id} ({exc}). Check the "
                "key ARN, the region and endpoint, and that these credentials may call "
                "kms:GetPublicKey on it."
            )
            return 1
        trusted_by = f"the public key KMS returns for {key_id}"
        if args.key_id and named != args.key_id:
            print(f"note: the pack names {named}; checking against {args.key_id} as asked")
    elif args.public_key:
        trusted = Path(args.public_key).read_bytes()
        trusted_by = f"the public key in {args.public_key}"
    result = verify_pack(
        pack, trusted_key=trusted, trusted_by=trusted_by, fingerprint=args.fingerprint
    )
    if result.problems:
        print(f"FAILED {args.pack}:")
        for problem in result.problems:
            print(f"  {problem}")
        return 1
    if not result.verified:
        print(
            f"NOT VERIFIED {args.pack}: its {result.files} files match its manifest, but the "
            "signature was checked only against the key the pack itself carries, which an "
            "editor could have replaced. Give --kms (the key from KMS; with --endpoint-url, "
            "--region and AWS credentials as usual), --public-key FILE or --fingerprint SHA256."
        )
        return 2
    print(
        f"VERIFIED {args.pack}: {result.files} files match the manifest, and the manifest is "
        f"signed by {result.trusted} (the pack names {result.key_arn})."
    )
    return 0


def where(_: argparse.Namespace) -> int:
    from include.dr.evidence_pack.stored import newest_pack
    from include.dr.store import store_url

    found = newest_pack()
    if found is None:
        print(f"no evidence pack in {store_url()} yet: trigger compliance_evidence_pack")
        return 1
    local = str(found.path) if found.protocol in ("file", "local", "") else str(found)
    print(f"evidence pack: {local}")
    print(f"verify it: .venv/bin/python -m include.dr.evidence_pack verify {local} --kms")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.dr.evidence_pack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="check a pack's files and signature")
    check.add_argument("pack")
    check.add_argument(
        "--kms", action="store_true", help="trust the key KMS returns for the ARN the pack names"
    )
    check.add_argument(
        "--key-id", help="trust the key KMS returns for this ARN (the one you were given)"
    )
    check.add_argument("--endpoint-url", help="KMS endpoint (e.g. the local stack's)")
    check.add_argument("--region", help="KMS region (default: the key ARN's)")
    check.add_argument("--public-key", help="trust this public key (PEM or DER)")
    check.add_argument("--fingerprint", help="trust the embedded key if its SHA-256 is this")
    check.set_defaults(run=verify)
    commands.add_parser("where", help="the newest pack in the evidence store").set_defaults(
        run=where
    )
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
