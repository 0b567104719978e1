"""ENVIRONMENT=production refuses to start while a development value is set, naming the setting; with
values of its own every service starts. The services are found from services/*/settings.py."""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth import new_signing_key
from shared.runtime import ServiceSpec, create_app
from shared.settings import DEFAULT_INTERNAL_SECRET, FailClosedSettings, ProductionRefused, ServiceSettings
from tests.settings_classes import SERVICES, settings_class



def production_values(cls: type[FailClosedSettings]) -> dict[str, Any]:
    """What a deployment gives: its own secrets, public addresses and EPP certificate."""
    values: dict[str, Any] = {"environment": "production", "internal_secret": "s3cret-of-our-own-" + "x" * 32}
    fields = cls.model_fields
    if "operator_token" in fields:
        values["operator_token"] = "an-operator-token-of-our-own"
    for name in fields:
        if "public" in name and name.endswith("url"):
            values[name] = "https://registry.example.org"
    if "jwks_url" in fields:
        values["jwks_url"] = "http://registry:8001/.well-known/jwks.json"
    if "token_signing_keys" in fields:
        values["token_signing_keys"] = [new_signing_key()]
    if "epp_cert_file" in fields:
        values |= {"epp_cert_file": "/etc/registry/epp/tls.crt", "epp_key_file": "/etc/registry/epp/tls.key"}
    return values


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test gives: the suite itself runs with ENVIRONMENT=development."""
    for name in ("ENVIRONMENT", "OPERATOR_TOKEN", "INTERNAL_SECRET", "EID_PROVIDER", "SEED_DEMO_REGISTRAR",
                 "PUBLIC_URL", "PUBLIC_BASE_URL", "EPP_CERT_FILE", "EVENT_PUBLISHERS", "JWKS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("service", SERVICES)
def test_production_is_the_default_and_refuses_the_development_secret(service: str) -> None:
    settings = settings_class(service)()
    assert settings.environment == "production"
    assert getattr(settings, "internal_secret").get_secret_value() == DEFAULT_INTERNAL_SECRET  # noqa: B009 (every process has one)
    with pytest.raises(ProductionRefused) as refused:
        settings.refuse_development_values()
    assert "INTERNAL_SECRET has its published development value" in str(refused.value)


@pytest.mark.parametrize("service", SERVICES)
def test_production_with_values_of_its_own_starts(service: str) -> None:
    cls = settings_class(service)
    settings = cls(**production_values(cls))
    assert settings.production_refusals() == []
    settings.refuse_development_values()


@pytest.mark.parametrize("service", [s for s in SERVICES if "operator_token" in settings_class(s).model_fields])
def test_the_development_operator_token_is_refused(service: str) -> None:
    cls = settings_class(service)
    settings = cls(**production_values(cls) | {"operator_token": "operator-dev-token"})
    assert settings.production_refusals() == ["OPERATOR_TOKEN has its published development value"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8003", "http://localhost:8005/x", "https://[::1]/",
                                 "http://127.1.2.3", "http://app.localhost"])
@pytest.mark.parametrize("service", [s for s in SERVICES
                                     if any("public" in n and n.endswith("url") for n in settings_class(s).model_fields)])
def test_a_public_url_on_this_machine_is_refused(service: str, url: str) -> None:
    cls = settings_class(service)
    (name,) = [n for n in cls.model_fields if "public" in n and n.endswith("url")]
    settings = cls(**production_values(cls) | {name: url})
    (refusal,) = settings.production_refusals()
    assert refusal.startswith(f"{name.upper()} points to this machine")


def test_the_registry_refuses_the_demo_registrar_and_the_development_certificate() -> None:
    cls = settings_class("registry")
    refusals = cls(**production_values(cls) | {"seed_demo_registrar": True, "epp_cert_file": ""}).production_refusals()
    assert [r.split()[0] for r in refusals] == ["SEED_DEMO_REGISTRAR", "EPP_CERT_FILE"]
    # without EPP there is no certificate to ask for
    assert cls(**production_values(cls) | {"epp_enabled": False, "epp_cert_file": ""}).production_refusals() == []


def test_verification_refuses_the_eid_simulator() -> None:
    cls = settings_class("verification")
    (refusal,) = cls(**production_values(cls) | {"eid_provider": "simulator"}).production_refusals()
    assert refusal.startswith("EID_PROVIDER is simulator")


def test_verification_refuses_registrant_pages_on_this_machine() -> None:
    cls = settings_class("verification")
    (refusal,) = cls(**production_values(cls) | {"registrant_pages_url": "http://localhost:8000"}).production_refusals()
    assert refusal.startswith("REGISTRANT_PAGES_URL points to this machine")
    assert cls(**production_values(cls) | {"registrant_pages_url": "https://console.registry.example.org"}
               ).production_refusals() == []


def test_development_accepts_the_development_values() -> None:
    cls = settings_class("registry")
    settings = cls(environment="development", operator_token="operator-dev-token", seed_demo_registrar=True)
    assert len(settings.production_refusals()) == 5  # secret, token, signing key, demo registrar, certificate
    settings.refuse_development_values()


def test_a_service_app_refuses_to_be_built_in_production_with_development_values() -> None:
    settings = ServiceSettings(service_name="probe", environment="production", operator_token="x")
    with pytest.raises(ProductionRefused, match="probe refuses to start with ENVIRONMENT=production: INTERNAL_SECRET"):
        create_app(ServiceSpec(name="probe", settings=settings, description="probe"))
