# One image for all five services; the command chooses the service: python -m services.<name>
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services

RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin registry
USER 10001

ENV HTTP_PORT=8001
EXPOSE 8001 8002 8003 8004 8005
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"HTTP_PORT\"]}/health/live', timeout=2)"]
CMD ["python", "-m", "services.registry"]
