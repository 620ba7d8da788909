#!/usr/bin/env bash
# Build the invoicer image from the Dockerfile with buildah: no Docker daemon,
# `--isolation chroot` (the only isolation that works in this sandbox).
#
#   tools/image.sh IMAGE            (what `make image` runs)
#
# The base: BASE_IMAGE (default python:3.11-slim) when it is in local storage
# or can be pulled; otherwise a Debian bookworm base with python3 and
# python3-venv, made with mmdebstrap from Debian's packages and cached twice:
# the tarball as var/image/bookworm-python3.tar, the image as
# localhost/invoicer-base:bookworm. `rm -r var/image` and
# `buildah rmi localhost/invoicer-base:bookworm` start from scratch.
# buildah's --layers cache keeps the dependency layer until requirements.lock
# changes, so a second build only rebuilds the package.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${1:?usage: tools/image.sh IMAGE}
BASE_IMAGE=${BASE_IMAGE:-python:3.11-slim}
LOCAL_BASE=localhost/invoicer-base:bookworm
CACHE=var/image
BASE_TAR=$CACHE/bookworm-python3.tar
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

say() { printf '[image] %s\n' "$*" >&2; }

# The Debian base: python3 (3.11 in bookworm) and venv, nothing else beyond
# minbase; no documentation, manual pages or translations.
local_base() {
    if [ ! -s "$BASE_TAR" ]; then
        say "making a Debian bookworm base with mmdebstrap into $BASE_TAR"
        mkdir -p "$CACHE"
        rm -f "$BASE_TAR.part"
        mmdebstrap --variant=minbase --include=python3,python3-venv \
            --dpkgopt='path-exclude=/usr/share/man/*' \
            --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            --dpkgopt='path-exclude=/usr/share/locale/*' \
            --dpkgopt='path-exclude=/usr/share/info/*' \
            --format=tar bookworm "$BASE_TAR.part" \
            "deb $MIRROR bookworm main" \
            "deb $MIRROR bookworm-updates main" \
            "deb $SECURITY_MIRROR bookworm-security main" </dev/null
        mv "$BASE_TAR.part" "$BASE_TAR"
        buildah rmi "$LOCAL_BASE" >/dev/null 2>&1 || true
    fi
    if ! buildah inspect --type image "$LOCAL_BASE" >/dev/null 2>&1; then
        say "importing $BASE_TAR as $LOCAL_BASE"
        local ctr
        ctr=$(buildah from scratch)
        # buildah add unpacks a local tar archive at the destination.
        buildah add --quiet "$ctr" "$BASE_TAR" / >/dev/null
        buildah config \
            --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            --env LANG=C.UTF-8 \
            --cmd python3 \
            --label org.opencontainers.image.description="Debian bookworm minbase with python3 and python3-venv (mmdebstrap)" \
            "$ctr"
        buildah commit --quiet --rm "$ctr" "$LOCAL_BASE" >/dev/null
    fi
    echo "$LOCAL_BASE"
}

pick_base() {
    if buildah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
        echo "$BASE_IMAGE"
    elif timeout 120 buildah pull --quiet "$BASE_IMAGE" >/dev/null 2>&1; then
        echo "$BASE_IMAGE"
    else
        say "$BASE_IMAGE cannot be pulled (no registry reachable): using a local Debian base"
        local_base
    fi
}

# The host's CA bundle, for a network whose way to PyPI passes a
# TLS-intercepting proxy (this one's does): bind-mounted read-only for the
# build's RUN steps only and named to pip by the PIP_CERT build argument;
# never copied into a layer. CA_BUNDLE= (empty) leaves pip with its own.
CA_BUNDLE=${CA_BUNDLE-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}
ca_args=()
if [ -n "$CA_BUNDLE" ] && [ -s "$CA_BUNDLE" ]; then
    ca_args=(--volume "$(readlink -f "$CA_BUNDLE"):/run/build-ca.crt:ro" --build-arg PIP_CERT=/run/build-ca.crt)
fi

started=$(date +%s)
base=$(pick_base)
say "building $IMAGE on $base"
buildah bud --isolation chroot --layers --force-rm --build-arg "BASE_IMAGE=$base" "${ca_args[@]}" \
    --tag "$IMAGE" --file Dockerfile . >&2
size=$(buildah images --noheading --format "{{.Size}}" "$IMAGE" 2>/dev/null | head -1 || true)
say "built $IMAGE in $(($(date +%s) - started))s${size:+, $size}"
