# One image for every invoicer process; the command picks the service, the
# same commands `make up` runs:
#   invoicer auth | gateway | worker | notification | migrate
# Build: docker build -t invoicer:0.1.0 .   (or `make image`: buildah, no daemon)
#
# BASE_IMAGE is the Python both stages stand on: python:3.11-slim (CPython
# 3.11 in /usr/local/bin), or, where no image registry is reachable, a Debian
# bookworm base made locally with python3 and python3-venv (CPython 3.11 in
# /usr/bin; `make image` makes it with mmdebstrap). Every step calls `python3`
# through PATH, which both have; the virtualenv links to the base's own
# interpreter, so both stages must use the same base, which this one ARG
# guarantees.
#
# The build stage installs the exact versions of requirements.lock (every file
# checked against its hash) into a virtualenv, then the package's own wheel
# without dependencies; the runtime stage copies only that virtualenv onto a
# clean slim base, so nothing used for building reaches the final image.

ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# Where the network to PyPI passes a TLS-intercepting proxy, the builder
# bind-mounts that proxy's CA bundle for the RUN steps and names it here
# (tools/image.sh does, from the host's trust store); unset, pip trusts its
# own. Only the build stage sees it: nothing of it reaches the final image.
ARG PIP_CERT

WORKDIR /src
# The lock first, in its own layer: dependencies are rebuilt only when it changes.
COPY requirements.lock ./
# Every dependency ships manylinux wheels (psycopg2-binary, argon2-cffi,
# reportlab), so not even this stage needs a compiler; should one ever be
# needed, it is installed here and stays here.
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/venv/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /tmp/dist . \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps /tmp/dist/invoicer-*.whl \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/invoicer --help > /dev/null

FROM ${BASE_IMAGE} AS runtime

LABEL org.opencontainers.image.title="invoicer" \
      org.opencontainers.image.description="Invoice pipeline: JSON in, PDF and XLSX invoices out" \
      org.opencontainers.image.licenses="MIT"

# A fixed numeric uid/gid above 10000: Kubernetes' runAsNonRoot can verify
# it, and it matches no account on the node.
RUN groupadd --system --gid 10001 invoicer \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin invoicer

COPY --from=build /opt/venv /opt/venv

# In Kubernetes the root filesystem is read-only: no bytecode is written,
# logs go unbuffered to stdout, and gunicorn's heartbeat files go to /tmp
# (an emptyDir there). The HTTP services listen on every interface.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GATEWAY_BIND=0.0.0.0:8080 \
    AUTH_BIND=0.0.0.0:8081 \
    HEALTH_PORT=8090

WORKDIR /tmp
USER 10001:10001
# gateway, auth, and the consumers' GET /healthz
EXPOSE 8080 8081 8090

ENTRYPOINT ["invoicer"]
CMD ["gateway"]
