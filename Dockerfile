# syntax=docker/dockerfile:1
# Multi-stage image for every role of the platform: web (gunicorn), worker-gpu, worker-cpu,
# beat and flower run the same image with different commands (see docker-compose.yml).
#
#   docker build -t csplatform:latest .
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124 -t csplatform:gpu .

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: compile/install the requirements into a virtualenv -------------------------
FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libpq-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
# torch comes from the index matching the target (CPU wheels by default, CUDA for GPU hosts).
RUN pip install --extra-index-url "${TORCH_INDEX_URL}" -r /tmp/requirements.txt

# --- runtime: slim, non-root, no compilers ---------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="csplatform" \
      org.opencontainers.image.description="Customer-service intelligence platform (Django, Celery)"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=csplatform.settings \
    VAR_DIR=/var/lib/csplatform \
    MODEL_STORE=/var/lib/csplatform/models \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PORT=8000
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libgomp1 tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
 && mkdir -p /var/lib/csplatform/models \
 && chown -R app:app /var/lib/csplatform
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=app:app . /app
# Static files are collected at build time (whitenoise serves them, hashed and compressed).
# The throwaway values only satisfy the production settings for this one command.
RUN DEBUG=false SECRET_KEY=collectstatic-only-build-time-secret-key-not-used-at-runtime-0123456789 \
    ALLOWED_HOSTS=localhost VAR_DIR=/var/lib/csplatform \
    python manage.py collectstatic --noinput -v0 \
 && chown -R app:app /var/lib/csplatform
USER app
VOLUME ["/var/lib/csplatform/models"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "deploy/healthcheck.py", "web"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "csplatform.wsgi"]
