"""The console's settings (README: console). It holds no data of its own: the services' base URLs, the
session cookie's key and lifetime."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import DEFAULT_INTERNAL_SECRET, FailClosedSettings


class ConsoleSettings(FailClosedSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = "console"

    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8000, ge=1, le=65535)
    # the reverse proxy whose X-Forwarded-For names the browser (uvicorn's forwarded_allow_ips); the console
    # passes that address on to the services
    forwarded_allow_ips: str = "127.0.0.1"

    registry_url: str = "http://127.0.0.1:8001"
    hitpoints_url: str = "http://127.0.0.1:8002"
    verification_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"
    reporting_url: str = "http://127.0.0.1:8005"
    api_timeout_seconds: float = Field(default=15.0, gt=0)

    # the session cookie is encrypted and signed (Fernet) under a key derived from this secret; the default is
    # for local runs only (deploy/k8s and compose mount their own)
    internal_secret: SecretStr = SecretStr(DEFAULT_INTERNAL_SECRET)
    # a signed-in session ends after this long without a request (and at the latest with the API token, 8 h)
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Secure cookies need HTTPS: true everywhere but a local run over plain http (make run, the tests)
    cookie_secure: bool = True

    # the public address of the console, used in the 2-step QR code's label only
    issuer: str = "Registry console"
