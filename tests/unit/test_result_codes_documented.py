"""The README's result-code tables against DNS Belgium's (digest 7.3) and against the codes the registry answers.

The first table lists exactly the codes digest 7.3 documents, each with the digest's text; the second lists
every other code the registry answers, each with why (issue 14: "the README's result-code table matches the
digest's, with each deliberate difference explained")."""

from __future__ import annotations

import re
from pathlib import Path

from services.registry.results import Result

ROOT = Path(__file__).resolve().parents[2]

# digest 7.3 "Result codes observed with DNS Belgium meaning" (shared/reference/dnsbe-digest.md): code -> text
DIGEST_7_3 = {
    1000: "Command completed successfully", 1301: "Command completed successfully; ack to dequeue",
    2001: "Command syntax error", 2005: "Parameter value syntax error", 2302: "Object exists",
    2303: "Object does not exist", 2304: "Object status prohibits operation",
    2305: "Object association prohibits operation", 2306: "Parameter value policy error",
    2308: "Data management policy violation",
}


def tables() -> tuple[list[list[str]], list[list[str]]]:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n#### Result codes\n")
    section = readme[start:readme.index("\n### ", start)]
    found: list[list[list[str]]] = [[]]
    for line in section.splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("|"):
            found[-1].append([c.strip() for c in line.strip().strip("|").split("|")])
        elif found[-1]:
            found.append([])
    digest_table, others = [t[1:] for t in found if t][:2]  # without their header rows
    return digest_table, others


def codes_of(cell: str) -> set[int]:
    return {int(c) for c in re.findall(r"\b[12]\d{3}\b", cell)}


def test_the_first_table_is_the_digests_codes_with_the_digests_texts() -> None:
    digest_table, _ = tables()
    # the digest's own remark in brackets (`<value><contact:id>`) may follow its text
    assert {int(row[0]): re.sub(r" \(.*\)$", "", row[1]) for row in digest_table} == DIGEST_7_3


def test_every_code_the_registry_answers_is_in_a_table_with_its_reason() -> None:
    digest_table, others = tables()
    documented = {int(row[0]) for row in digest_table}
    for row in others:
        assert len(row) == 3 and row[2], f"a code without its reason: {row}"
        documented |= codes_of(row[0])
    source = "\n".join(p.read_text() for p in (ROOT / "services" / "registry").rglob("*.py"))
    answered = {Result[name].value for name in re.findall(r"\bResult\.([A-Z_]+)\b", source)}
    assert answered - documented == set()
    assert documented - {r.value for r in Result} == set(), "a documented code the registry does not know"
