#!/usr/bin/env bash
# Verify an evidence pack with openssl, sha256sum and the AWS CLI only (the README's
# recipe). Usage: verify-with-openssl.sh PACK.zip [KEY_ARN]   (aws options from the
# environment: AWS_REGION, AWS_ENDPOINT_URL, credentials). Give KEY_ARN as you were told
# it; without it the ARN the pack names is used. Prints "VERIFIED" or fails naming the file.
set -euo pipefail
pack=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pack" && cd "$work/pack" && unzip -q "$pack"
key=${2:-$(grep -o '"key_arn": *"[^"]*"' signature.json | cut -d'"' -f4)}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(echo "$key" | cut -d: -f4)}}
# 1. The public key from KMS, never the one inside the pack.
aws kms get-public-key --region "$region" --key-id "$key" --query PublicKey --output text \
  | base64 -d > "$work/key.der"
openssl pkey -pubin -inform DER -in "$work/key.der" -out "$work/key.pem"
echo "key $key, SHA-256 $(sha256sum < "$work/key.der" | cut -d' ' -f1)"
# 2. Both signatures (ECDSA over SHA-256 of the file).
openssl dgst -sha256 -verify "$work/key.pem" -signature manifest.sig manifest.json
openssl dgst -sha256 -verify "$work/key.pem" -signature SHA256SUMS.sig SHA256SUMS
# 3. Every listed file unchanged, none missing.
sha256sum --quiet --strict -c SHA256SUMS
# 4. No file added: what is there is what is listed, plus the signature files.
find . -type f | sed 's|^\./||' | LC_ALL=C sort > "$work/present"
{ cut -c67- SHA256SUMS; printf '%s\n' SHA256SUMS SHA256SUMS.sig manifest.json manifest.sig signature.json; } \
  | LC_ALL=C sort > "$work/listed"
if ! diff "$work/listed" "$work/present" > "$work/diff"; then
  grep '^>' "$work/diff" | sed 's/^> /added: /' >&2
  grep '^<' "$work/diff" | sed 's/^< /missing: /' >&2
  exit 1
fi
echo VERIFIED
