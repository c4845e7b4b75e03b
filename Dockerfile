# mse-gateway: production image (docs/deployment.md). Slim Debian Python, the GOST engine for OpenSSL (fast path for
# Russian qualified signatures), libgcrypt (Streebog for the fallback if the engine cannot load;
# named so that it stays even if the base image stops pulling it in), a non-root user, and a
# health check on /healthz.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# Debian's security updates are wanted on rebuild, so the packages are not pinned to versions.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libengine-gost-openssl libgcrypt20 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY adapters ./adapters
COPY wsdl ./wsdl
COPY config ./config
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 --home-dir /var/lib/mse-gateway --create-home gateway

USER 10001
ENV GATEWAY_STORAGE__DATA_DIR=/var/lib/mse-gateway \
    GATEWAY_SERVER__HOST=0.0.0.0
VOLUME ["/var/lib/mse-gateway"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

# `serve` refuses to start until the configuration names trust anchors, CRL sources and how each
# peer authenticates (mount it and pass --config, as deploy/compose.yaml does); `sandbox` runs the
# gateway with its twins and a test PKI for trying it out: docker run -p 8080:8080 IMAGE sandbox
ENTRYPOINT ["mse-gateway"]
CMD ["serve"]
