"""The README's configuration table lists every setting of every service with its default.

The settings are read from the classes (services/*/settings.py, found on disk, and the shared base), so a
setting added without its row fails here. One variable per row; the row's service cell says `all` (the
shared base) or names the service, and a service's own default gets a row of its own.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from shared.settings import ServiceSettings
from tests.settings_classes import SERVICES, settings_class

ROOT = Path(__file__).resolve().parents[2]
NOT_SETTINGS = {"service_name"}  # fixed by each service's class, not read from the environment
LONG = 80  # a list or mapping longer than this may name the file that holds it instead


def table() -> dict[str, dict[str, str]]:
    """variable -> {service cell: default cell}, from the rows of the README's Configuration section."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n## Configuration\n")
    section = readme[start:readme.index("\n## ", start + 5)]
    rows: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        variable = cells[0].strip("`")
        assert variable.isupper() and "`" not in variable, f"one variable per row: {cells[0]}"
        for service in cells[1].split(","):
            assert service.strip() not in rows.get(variable, {}), f"{variable} twice for {service}"
            rows.setdefault(variable, {})[service.strip()] = cells[2]
    return rows


def default_of(field: FieldInfo) -> Any:
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def written(value: Any) -> str | None:
    """How the README writes a default (None: only that there is one)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, int | str | Path):
        return str(value) if str(value) else "*(empty)*"
    if isinstance(value, tuple | list | dict):
        plain = json.loads(json.dumps(value, default=str))
        if isinstance(value, dict):
            plain = {str(getattr(k, "value", k)): v for k, v in value.items()}
        text = json.dumps(plain, separators=(",", ":"))
        return text if len(text) <= LONG else None
    return None


def documented() -> list[tuple[str, str, Any, bool]]:
    """(service, variable, default, default is the base's) for every setting of every service."""
    base = ServiceSettings.model_fields
    out = []
    for service in SERVICES:
        for name, field in settings_class(service).model_fields.items():
            if name in NOT_SETTINGS:
                continue
            inherited = name in base and default_of(field) == default_of(base[name])
            out.append((service, name.upper(), default_of(field), inherited))
    return out


@pytest.mark.parametrize(("service", "variable", "default", "inherited"), documented(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_setting_has_a_row_with_its_default(service: str, variable: str, default: Any, inherited: bool) -> None:
    rows = table().get(variable)
    assert rows, f"README: the configuration table has no row for {variable} ({service})"
    if inherited:
        assert "all" in rows or service in rows, f"README: {variable} needs an `all` row (or one for {service})"
    else:
        assert service in rows, f"README: {variable} has a default of its own in {service}: give it a row"
    cell = rows[service] if service in rows else rows["all"]
    assert cell, f"README: {variable} ({service}) has no default"
    if variable in ("INSTANCE_ID",) or variable.endswith(("SECRET", "PASSWORD", "SIGNING_KEYS")):
        return  # the host name; secrets' development values are not repeated in the README
    text = written(default)
    normalised = cell.replace("`", "").replace(" ", "")
    if text is None:
        assert "settings.py" in cell or "see" in cell, f"README: {variable} ({service}): name the default's file"
    else:
        assert text.replace(" ", "") in normalised, f"README: {variable} ({service}) default is {text}, not {cell}"


def test_the_table_names_no_setting_that_does_not_exist() -> None:
    known = {variable for _, variable, _, _ in documented()}
    services = set(SERVICES) | {"all"}
    for variable, rows in table().items():
        if variable.startswith("<") or set(rows) == {"—"}:  # make run's own variables, not a service's
            continue
        assert variable in known, f"README: {variable} is not a setting of any service"
        assert set(rows) <= services, f"README: {variable} names an unknown service: {set(rows) - services}"
