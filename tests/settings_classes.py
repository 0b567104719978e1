"""The services and their settings classes, found on disk (services/*/settings.py), so that tests cover a
service as soon as it exists."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from shared.settings import FailClosedSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/settings.py"))


def settings_class(service: str) -> type[FailClosedSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    (cls,) = [
        c for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, FailClosedSettings) and c not in (ServiceSettings, FailClosedSettings) and c.__module__ == module.__name__
    ]
    return cls
