"""Is the event contract of this change compatible with the last released one?

Compares two AsyncAPI documents (shared/events/asyncapi.py) message by message. Breaking, for a subscriber
built against the old document:
  - an event type (or one of its versions) removed;
  - a field removed or renamed (the old name is gone);
  - a field's type changed (also: it may now be null, a format or an array's items changed);
  - a field that was always there became optional, or a new field is required (the house rule: only
    optional fields are added within a version);
  - an enumeration lost a value.
Adding an event type, a version or an optional field is compatible.

A breaking change passes only when the major version moves (info.version: 1.4.0 -> 2.0.0).

  python -m shared.events.compat                   the catalogue against the newest contracts/asyncapi-*.json
  python -m shared.events.compat OLD.json [NEW.json]
Exits 1 on a breaking change without a major version, and says what broke.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"

Schema = dict[str, Any]


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def released(directory: Path = CONTRACTS) -> list[Path]:
    """The released snapshots, oldest first."""
    found = list(directory.glob("asyncapi-*.json"))
    return sorted(found, key=lambda p: version_tuple(p.stem.removeprefix("asyncapi-")))


@dataclass
class Report:
    old_version: str
    new_version: str
    breaking: list[str] = field(default_factory=list)
    compatible: list[str] = field(default_factory=list)

    @property
    def major_moved(self) -> bool:
        return version_tuple(self.new_version)[0] > version_tuple(self.old_version)[0]

    @property
    def ok(self) -> bool:
        return not self.breaking or self.major_moved

    def text(self) -> str:
        lines = [f"event contract {self.old_version} -> {self.new_version}"]
        lines += [f"  BREAKING  {b}" for b in self.breaking]
        lines += [f"  added     {c}" for c in self.compatible]
        if self.breaking and not self.major_moved:
            lines.append(f"breaking changes need a new major version (CONTRACT_VERSION in shared/events/version.py, "
                         f"now {self.new_version}), or a new event version published beside the old one")
        elif self.breaking:
            lines.append("breaking changes accepted: the major version moved")
        else:
            lines.append("compatible")
        return "\n".join(lines)


class _Side:
    """One document's schemas, with $ref resolution."""

    def __init__(self, doc: Schema) -> None:
        self.schemas: dict[str, Schema] = doc.get("components", {}).get("schemas", {})

    def resolve(self, schema: Schema) -> Schema:
        seen = 0
        while "$ref" in schema and seen < 50:
            schema = self.schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        return schema


def _branches(side: _Side, schema: Schema) -> list[Schema]:
    schema = side.resolve(schema)
    if "anyOf" in schema or "oneOf" in schema:
        options: list[Schema] = schema.get("anyOf") or schema.get("oneOf") or []
        return [side.resolve(s) for s in options]
    return [schema]


def _signature(side: _Side, schema: Schema) -> set[str]:
    """The kinds of value a schema admits: type, format and const/enum presence, one entry per branch."""
    kinds = set()
    for branch in _branches(side, schema):
        kind = branch.get("type", "object" if "properties" in branch else "enum" if "enum" in branch else "any")
        kinds.add(f"{kind}:{branch['format']}" if "format" in branch else str(kind))
    return kinds


def _compare(old: _Side, new: _Side, a: Schema, b: Schema, where: str, report: Report, depth: int = 0) -> None:
    if depth > 20:
        return
    before, after = _signature(old, a), _signature(new, b)
    if before != after:
        report.breaking.append(f"{where}: type changed from {'|'.join(sorted(before))} to {'|'.join(sorted(after))}")
        return
    pairs = list(zip(_branches(old, a), _branches(new, b), strict=False)) if len(before) == 1 else \
        _pair_by_kind(old, new, a, b)
    for x, y in pairs:
        lost = [v for v in x.get("enum", []) if v not in y.get("enum", [])]
        if lost:
            report.breaking.append(f"{where}: enumeration lost {', '.join(map(str, lost))}")
        if "const" in x and x.get("const") != y.get("const"):
            report.breaking.append(f"{where}: constant changed from {x.get('const')!r} to {y.get('const')!r}")
        if "items" in x and "items" in y:
            _compare(old, new, x["items"], y["items"], f"{where}[]", report, depth + 1)
        if "properties" in x:
            _compare_object(old, new, x, y, where, report, depth)


def _pair_by_kind(old: _Side, new: _Side, a: Schema, b: Schema) -> list[tuple[Schema, Schema]]:
    theirs = {next(iter(_signature(new, s))): s for s in _branches(new, b)}
    return [(s, theirs[k]) for s in _branches(old, a) if (k := next(iter(_signature(old, s)))) in theirs]


def _compare_object(old: _Side, new: _Side, x: Schema, y: Schema, where: str, report: Report, depth: int) -> None:
    before, after = x.get("properties", {}), y.get("properties", {})
    required_before, required_after = set(x.get("required", [])), set(y.get("required", []))
    for name, schema in before.items():
        path = f"{where}.{name}"
        if name not in after:
            report.breaking.append(f"{path}: field removed or renamed")
            continue
        if name in required_before and name not in required_after:
            report.breaking.append(f"{path}: was always present, now optional")
        _compare(old, new, schema, after[name], path, report, depth + 1)
    for name in after:
        if name not in before:
            if name in required_after:
                report.breaking.append(f"{where}.{name}: new required field")
            else:
                report.compatible.append(f"{where}.{name}: new optional field")


def compare(old_doc: Schema, new_doc: Schema) -> Report:
    report = Report(old_doc["info"]["version"], new_doc["info"]["version"])
    old, new = _Side(old_doc), _Side(new_doc)
    old_messages = old_doc["components"]["messages"]
    new_messages = new_doc["components"]["messages"]
    for name, message in sorted(old_messages.items()):
        if name not in new_messages:
            report.breaking.append(f"{name}: event type removed")
            continue
        _compare(old, new, message["payload"], new_messages[name]["payload"], name, report)
    for name in sorted(set(new_messages) - set(old_messages)):
        report.compatible.append(f"{name}: new event type")
    if version_tuple(report.new_version) < version_tuple(report.old_version):
        report.breaking.append(f"info.version went back from {report.old_version} to {report.new_version}")
    return report


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv:
        old_path = Path(argv[0])
    else:
        snapshots = released()
        if not snapshots:
            print(f"no released contract in {CONTRACTS}: nothing to compare with")
            return 0
        old_path = snapshots[-1]
    if len(argv) > 1:
        new_doc = json.loads(Path(argv[1]).read_text())
    else:
        from shared.events.asyncapi import document

        new_doc = document()
    report = compare(json.loads(old_path.read_text()), new_doc)
    print(f"against {old_path.name}")
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
