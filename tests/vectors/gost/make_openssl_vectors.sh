#!/bin/sh
# Regenerate tests/vectors/gost/openssl/: for every GOST R 34.10-2012 parameter set the OpenSSL
# GOST engine knows, a throw-away key, a self-signed certificate, a detached CMS signature and a
# raw signature of a Streebog digest - all made by `openssl ... -engine gost` (Debian package
# libengine-gost-openssl). The tests check that the gateway's own code verifies them.
# Usage: sh tests/vectors/gost/make_openssl_vectors.sh   (from the project root)
set -eu
out="$(dirname "$0")/openssl"
mkdir -p "$out"
printf 'mse-gateway GOST vector: направление на МСЭ, форма 088/у\n' > "$out/content.txt"
openssl version > "$out/OPENSSL_VERSION"
for spec in 256:A 256:B 256:C 256:XA 256:XB 256:TCA 256:TCB 256:TCC 256:TCD 512:A 512:B 512:C; do
    bits="${spec%%:*}"
    set_="${spec##*:}"
    dir="$out/${bits}-${set_}"
    mkdir -p "$dir"
    openssl req -engine gost -x509 -newkey "gost2012_${bits}" -pkeyopt "paramset:${set_}" -nodes \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 36500 -subj "/CN=mse-gateway test ${bits} ${set_}" \
        "-md_gost12_${bits}" 2>/dev/null
    openssl dgst -engine gost "-md_gost12_${bits}" -binary -out "$dir/digest.bin" "$out/content.txt" 2>/dev/null
    openssl pkeyutl -engine gost -sign -inkey "$dir/key.pem" -in "$dir/digest.bin" -out "$dir/raw.sig" 2>/dev/null
    openssl cms -engine gost -sign -binary -in "$out/content.txt" -signer "$dir/cert.pem" -inkey "$dir/key.pem" \
        -md "md_gost12_${bits}" -outform DER -out "$dir/cms.p7s" 2>/dev/null
    openssl cms -engine gost -verify -binary -inform DER -in "$dir/cms.p7s" -content "$out/content.txt" \
        -noverify -out /dev/null 2>/dev/null
done
echo "written to $out"
