"""The moto server the local stack runs: moto's own application, with corrections where
moto departs from AWS in a way that matters to a backup, and the local stack's accounts.

- **Which account a static key acts in.** moto places a key it does not know (or one
  not of AWS's shape) in its default account. The local connections' static keys are
  placed as ``LOCAL_STACK_KEY_ACCOUNTS`` (JSON: key -> account) says
  (:mod:`include.dr.local_stack.accounts`), so the DR side runs in its own account.
- **A multipart upload into an Object Lock bucket** (a streamed dump, a large copy): S3
  gives the completed object the bucket's default retention, as it does a PutObject;
  moto gives it none, so it could be purged at once. Corrected: moto now locks it.
- **CopyObject into an Object Lock bucket.** moto asks every PUT into a bucket with a
  default retention for ``Content-MD5`` or ``x-amz-sdk-checksum-algorithm``. S3 asks
  that of uploads (PutObject, UploadPart), which carry a body; a CopyObject carries
  none, and S3 takes it without (the copy's SHA-256 is what S3 computes, as
  ``x-amz-checksum-algorithm`` asks). The correction names the algorithm the copy
  already asked for, and only for a copy, so every other strictness stays.
- **An S3 bucket of another account.** moto serves any bucket to any caller its IAM
  policies allow, whatever account owns the bucket. S3 also asks the bucket's own policy
  to grant a caller from another account. Corrected: a request (or a copy's source) that
  crosses accounts is refused (403 AccessDenied) unless the bucket policy has an Allow
  naming the caller's role or user, its account, or ``*``. The actions of that Allow are
  not compared (moto's IAM enforcement judges the caller's own policies).
- **A snapshot shared from another account.** moto looks a snapshot ARN up in the
  caller's own account, so a DR account could never copy what production shares with
  it. Corrected: an ARN of another account finds the snapshot there, and only if its
  owner shared it with the caller's account (``ModifyDBSnapshotAttribute`` ``restore``).
- **KMS Sign and Verify of a digest.** KMS signs a message over 4 KiB only as its digest
  (``MessageType=DIGEST``: the message *is* the SHA-256, signed as is); moto ignores the
  type and hashes the digest again, so no one else could verify its signature. Corrected
  for ECDSA keys: a digest is signed and verified pre-hashed, as KMS does.

tests/include/dr/s3/test_object_lock.py and tests/include/dr/local_stack/test_moto_app.py
prove them against the running server.

Run as ``python -m include.dr.local_stack.moto_app -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any

KEY_ACCOUNTS_ENV = "LOCAL_STACK_KEY_ACCOUNTS"  # JSON: access key -> account
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request")
DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>'
    b"Access Denied: the bucket's policy grants nothing to this account</Message></Error>"
)
# Who may cross accounts into a bucket: answered in the moto process (see cross_account_s3).
Owner = Callable[[str], "str | None"]  # bucket -> owning account, None if no such bucket
Grants = Callable[[str, str], bool]  # (bucket, access key) -> the bucket policy allows it


def request_buckets(environ: Mapping[str, Any]) -> list[str]:
    """The buckets a path-style S3 request touches: its own and a copy's source."""
    path = urllib.parse.unquote(environ.get("PATH_INFO", ""))
    buckets = [path.lstrip("/").split("/", 1)[0]]
    source = urllib.parse.unquote(environ.get("HTTP_X_AMZ_COPY_SOURCE", ""))
    if source:
        buckets.append(source.lstrip("/").split("/", 1)[0])
    return [bucket for bucket in buckets if bucket]


def corrected(app: WsgiApp, owner: Owner | None = None, grants: Grants | None = None) -> WsgiApp:
    """``app`` with the corrections of the module docstring (``owner`` and ``grants``
    answer the cross-account question; without them no request is refused)."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        signed = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if signed and signed.group(2) == "s3" and owner and grants:
            key = signed.group(1)
            for bucket in request_buckets(environ):
                if owner(bucket) is not None and not grants(bucket, key):
                    start_response("403 Forbidden", [("Content-Type", "application/xml")])
                    return [DENIED]
        if (
            environ.get("REQUEST_METHOD") == "PUT"
            and "HTTP_X_AMZ_COPY_SOURCE" in environ
            and "uploadId" not in environ.get("QUERY_STRING", "")
        ):
            algorithm = environ.get("HTTP_X_AMZ_CHECKSUM_ALGORITHM") or "SHA256"
            environ.setdefault("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM", algorithm)
        return app(environ, start_response)

    return serve


def place_keys(accounts: Mapping[str, str]) -> None:
    """Put each of ``accounts``' keys in its account (moto looks the account up per
    request, importing this function anew each time)."""
    import moto.iam.models as iam_models

    lookup = iam_models.get_account_id_from

    def account_of(access_key: str) -> str:
        return accounts.get(access_key) or lookup(access_key)

    iam_models.get_account_id_from = account_of


def cross_account_s3() -> tuple[Owner, Grants]:
    """The bucket owner, and whether the bucket's policy lets a key's caller in from
    another account (a caller of the owning account needs no grant)."""
    from moto.iam.models import get_account_id_from, iam_backends
    from moto.s3.models import s3_backends

    def owner(bucket: str) -> str | None:
        found = s3_backends.bucket_accounts.get(bucket)
        return found[1] if found else None

    def principals(key: str, account: str) -> set[str]:
        names = {"*", account, f"arn:aws:iam::{account}:root"}
        for partition in iam_backends[account].values():
            held = partition.access_keys.get(key)
            if held is not None:
                names.add(held.role_arn or f"arn:aws:iam::{account}:user/{held.user_name}")
        return names

    def grants(bucket: str, key: str) -> bool:
        account, owning = get_account_id_from(key), owner(bucket)
        if owning is None or account == owning:
            return True
        partition = s3_backends.bucket_accounts[bucket][0]
        policy = s3_backends[owning][partition].buckets[bucket].policy
        statements = json.loads(policy).get("Statement", []) if policy else []
        callers = principals(key, account)
        return any(
            statement.get("Effect") == "Allow" and callers & set(_principals(statement))
            for statement in statements
        )

    return owner, grants


def _principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    named = principal.get("AWS", []) if isinstance(principal, Mapping) else []
    return [named] if isinstance(named, str) else list(named)


def share_snapshots_across_accounts() -> None:
    """Find a snapshot ARN of another account there, if it is shared with the caller."""
    from moto.rds.models import RDSBackend
    from moto.rds.utils import split_arn

    lookup = RDSBackend.get_snapshot

    def shared_or_own(
        backend: RDSBackend, identifier: str, resource_type: Any, not_found_exception: Any
    ) -> Any:
        if identifier.startswith("arn"):
            region, account, _, name = split_arn(identifier)
            if account != backend.account_id:
                owning = backend.get_backend("rds", region=region, account_id=account)
                snapshot = owning.resource_map[resource_type].get(name)
                shared = snapshot is not None and bool(
                    {backend.account_id, "all"} & set(snapshot.attributes["restore"])
                )
                if not shared:
                    raise not_found_exception(identifier)
                return snapshot
        return lookup(backend, identifier, resource_type, not_found_exception)

    RDSBackend.get_snapshot = shared_or_own  # type: ignore[method-assign,assignment]


def lock_completed_uploads() -> None:
    """Give an object completed from parts its bucket's default retention, as S3 does."""
    from moto.s3.models import S3Backend

    complete = S3Backend.complete_multipart_upload

    def completed_and_locked(
        backend: S3Backend, bucket_name: str, multipart_id: str, body: Any
    ) -> Any:
        key = complete(backend, bucket_name, multipart_id, body)
        bucket = backend.get_bucket(bucket_name)
        if key is not None and bucket.has_default_lock and not key.lock_mode:
            key.lock_mode = bucket.default_lock_mode
            key.lock_until = bucket.default_retention()
        return key

    S3Backend.complete_multipart_upload = completed_and_locked  # type: ignore[method-assign,assignment]


def sign_digests() -> None:
    """KMS Sign and Verify with ``MessageType=DIGEST``: the message is the digest, signed
    pre-hashed (ECDSA keys, which the evidence pack's key is), as KMS does."""
    import threading

    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from moto.kms import responses
    from moto.kms.utils import ECDSAPrivateKey

    digest = threading.local()

    def of_type(operation: Callable[[Any], str]) -> Callable[[Any], str]:
        def typed(response: Any) -> str:
            digest.on = response._get_param("MessageType") == "DIGEST"
            try:
                return operation(response)
            finally:
                digest.on = False

        return typed

    responses.KmsResponse.sign = of_type(responses.KmsResponse.sign)  # type: ignore[method-assign,assignment]
    responses.KmsResponse.verify = of_type(responses.KmsResponse.verify)  # type: ignore[method-assign,assignment]
    sign, verify = ECDSAPrivateKey.sign, ECDSAPrivateKey.verify

    def prehashed(key: ECDSAPrivateKey, algorithm: str) -> ec.ECDSA:
        return ec.ECDSA(utils.Prehashed(key._ECDSAPrivateKey__hash_algorithm(algorithm)))  # type: ignore[attr-defined]

    def sign_digest(key: ECDSAPrivateKey, message: bytes, algorithm: str) -> bytes:
        if not getattr(digest, "on", False):
            return sign(key, message, algorithm)
        return bytes(key.private_key.sign(message, prehashed(key, algorithm)))

    def verify_digest(
        key: ECDSAPrivateKey, message: bytes, signature: bytes, algorithm: str
    ) -> bool:
        if not getattr(digest, "on", False):
            return verify(key, message, signature, algorithm)
        from cryptography.exceptions import InvalidSignature

        try:
            key.private_key.public_key().verify(signature, message, prehashed(key, algorithm))
        except InvalidSignature:
            return False
        return True

    ECDSAPrivateKey.sign = sign_digest  # type: ignore[method-assign,assignment]
    ECDSAPrivateKey.verify = verify_digest  # type: ignore[method-assign,assignment]


def main(argv: list[str] | None = None) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto's own main does
    place_keys(json.loads(os.environ.get(KEY_ACCOUNTS_ENV) or "{}"))
    lock_completed_uploads()
    share_snapshots_across_accounts()
    sign_digests()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        corrected(app, *cross_account_s3()),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
