# One image for all five services; the command chooses the service: python -m services.<name>
# (docker-compose.yml and deploy/k8s set the command and HTTP_PORT per service).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production \
    EPP_CERT_DIR=/tmp/registry-epp
# production refuses development values at start-up (README: production checklist). /app is root's and
# read-only in Kubernetes: the service writes only to /tmp (EPP_CERT_DIR: the development certificate,
# made only when no EPP_CERT_FILE is given) and to the volumes compose and Kubernetes mount.

WORKDIR /app

# dependencies first: this layer is rebuilt only when the lock file changes. The runtime lock only (no test
# tools), every package checked against its hash.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
# compile now: the containers run with a read-only root file system (Kubernetes) and write no .pyc
RUN python -m compileall -q shared services

RUN groupadd --gid 10001 registry \
    && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin registry \
    && mkdir -p /var/lib/registry/reports && chown 10001:10001 /var/lib/registry/reports
USER 10001:10001

# registry 8001, hitpoints 8002, verification 8003, notifications 8004, reporting 8005
# (the registry's EPP server will listen on TCP 700 as well, once it exists)
EXPOSE 8001 8002 8003 8004 8005

# No curl in the slim image: ask with python. HTTP_PORT is set per service by compose and Kubernetes;
# without it, the default command (the registry) listens on 8001. Set HTTP_PORT when you `docker run`
# another service, or its health check probes the wrong port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('HTTP_PORT', '8001'), timeout=3)"]

CMD ["python", "-m", "services.registry"]
