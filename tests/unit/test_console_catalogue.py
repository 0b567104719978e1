"""Every text the console says through a catalogue has a Dutch and a French entry: the texts the templates mark
with _(), the labels and help of their form fields (the macros translate them), the menu, the e-mail categories and
permissions the pages list, and the texts the Python code marks with _() (confirmations, refusals, sentences with
{named} values) -- for the registrar pages (services/console/catalogue.py, i18n.py), the staff pages
(staff/texts.py) and the registrant's pages (registrant/texts.py). A message given to a redirect or shown as an
error must be marked: an English literal or f-string there is a failure."""

from __future__ import annotations

import ast
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from services.console import menu
from services.console.catalogue import TEXTS
from services.console.i18n import CATALOGUES, translator
from services.console.pages.account import EMAIL_CATEGORIES, PERMISSIONS
from services.console.pages.registrations import GROUPS
from services.console.registrant import texts as registrant_texts
from services.console.session import Session
from services.console.staff import texts as staff_texts
from services.console.staff.support import DECISIONS

CONSOLE = Path(menu.__file__).parent
TEMPLATES = CONSOLE / "templates"  # the registrar pages (staff and registrant pages: their own)
STAFF, REGISTRANT = CONSOLE / "staff", CONSOLE / "registrant"
# where a message goes to the user: call -> position of the message; keywords that carry one
MESSAGE_ARGUMENTS = {"redirect": 1, "act": 2, "step": 4, "with_secret": 2}
JOINED_ONLY = {"HTTPException"}  # texts looked up as given: a constant is fine (and checked), an f-string is not
MESSAGE_KEYWORDS = {"error", "what", "password_error", "delete_error", "date_error"}
MACROS = {"field": (1, "hint"), "checkbox": (1, None), "area": (1, "hint")}  # macro: (position of the label, keyword of the help)


def template_texts(folder: Path = TEMPLATES) -> dict[str, set[str]]:
    """Text -> the templates that use it, as constants given to _() or as a field's label or help, or listed in
    a loop that labels fields."""
    found: dict[str, set[str]] = {}
    environment = Environment()
    for path in sorted(folder.rglob("*.html")):
        where = str(path.relative_to(folder))
        parsed = environment.parse(path.read_text(encoding="utf-8"))
        for loop in parsed.find_all(nodes.For):  # {% for lang, label in [("nl", "URL in Dutch"), ...] %}: labels
            if isinstance(loop.iter, nodes.List):
                for const in loop.iter.find_all(nodes.Const):
                    if isinstance(const.value, str) and " " in const.value:
                        found.setdefault(const.value, set()).add(where)
        for call in parsed.find_all(nodes.Call):
            if not isinstance(call.node, nodes.Name):
                continue
            texts: list[nodes.Expr] = []
            if call.node.name == "_":
                texts = call.args[:1]
            elif call.node.name in MACROS:
                position, keyword = MACROS[call.node.name]
                texts = call.args[position:position + 1] + [k.value for k in call.kwargs if k.key == keyword]
            for text in texts:
                if isinstance(text, nodes.Const) and isinstance(text.value, str):
                    found.setdefault(text.value, set()).add(where)
    return found


def _is_translate(call: ast.Call) -> bool:
    return (isinstance(call.func, ast.Name) and call.func.id == "_") or \
        (isinstance(call.func, ast.Attribute) and call.func.attr == "_")


def _is_refusal(call: ast.Call) -> bool:
    """HTTPException(status, "text"): the error page translates the text."""
    return isinstance(call.func, ast.Name) and call.func.id == "HTTPException" and len(call.args) == 2


def _python_files(folder: Path, *, recursive: bool) -> list[Path]:
    return sorted(folder.rglob("*.py") if recursive else folder.glob("*.py"))


def code_texts(files: list[Path], wanted: Callable[[ast.Call], bool] = _is_translate) -> dict[str, set[str]]:
    """Text -> the modules that mark it in Python: _("...") or page._("..."), with .format(...) or not (or with
    `wanted=_is_refusal`, the texts of HTTPException(status, "...") that the error page translates)."""
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and wanted(node):
                first = node.args[-1]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.setdefault(first.value, set()).add(str(path.relative_to(CONSOLE)))
    return found


def unmarked_messages(files: list[Path]) -> list[str]:
    """Messages for the user written as an English literal or f-string instead of a marked text."""
    def plain(value: ast.expr) -> bool:
        if isinstance(value, ast.IfExp):
            return plain(value.body) or plain(value.orelse)
        return isinstance(value, ast.JoinedStr) or (isinstance(value, ast.Constant) and isinstance(value.value, str)
                                                    and any(c.isalpha() for c in value.value))

    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(CONSOLE)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                position = MESSAGE_ARGUMENTS.get(name)
                if position is not None and len(node.args) > position and plain(node.args[position]):
                    found.append(f"{where} {name}()")
                if name in JOINED_ONLY and any(isinstance(a, ast.JoinedStr) for a in node.args):
                    found.append(f"{where} {name}()")
                found += [f"{where} {k.arg}=" for k in node.keywords if k.arg in MESSAGE_KEYWORDS and plain(k.value)]
            elif isinstance(node, ast.Assign) and plain(node.value) and \
                    any(isinstance(t, ast.Name) and t.id in {"done", "error"} for t in node.targets):
                found.append(f"{where} {node.targets[0].id}")  # type: ignore[attr-defined]
    return found


def placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def menu_texts() -> set[str]:
    everything = Session(token="t", user_id="x", registrar_id="x", permissions=[key for key, _l, _h in PERMISSIONS])
    return {text for section, items in menu.menu(everything) for text in [section, *(i.label for i in items)]}


def test_every_text_of_the_registrar_pages_has_dutch_and_french() -> None:
    texts = dict.fromkeys(menu_texts(), {"menu.py"}) | template_texts()
    texts |= {t: {"pages/account.py"} for _key, label, help_ in EMAIL_CATEGORIES + PERMISSIONS for t in (label, help_)}
    texts |= {label: {"pages/registrations.py"} for _title, label in GROUPS.values()}  # page._(label)
    texts |= code_texts(_python_files(CONSOLE, recursive=False) + _python_files(CONSOLE / "pages", recursive=True))
    # the error page says every refusal of the console with the console's words, the staff pages' too
    texts |= code_texts(_python_files(CONSOLE, recursive=True), wanted=_is_refusal)
    assert "No such quarter." in texts
    assert "{name} has been registered." in texts  # the test reads the Python code: it sees its texts
    assert len(texts) > 150  # the test reads the templates: it sees their texts
    for language in ("nl", "fr"):
        missing = {t: sorted(where) for t, where in texts.items() if t not in CATALOGUES[language]}
        assert not missing, f"texts without a {language} entry: {missing}"


def test_the_catalogue_has_one_entry_per_text_and_translates() -> None:
    english = [en for en, _nl, _fr in TEXTS]
    assert len(english) == len(set(english)), "a text is in the catalogue twice"
    assert all(nl and fr for _en, nl, fr in TEXTS)
    assert translator("nl")("Different url per language") == "Andere url per taal"
    assert translator("fr")("Transfer code") == "Code de transfert"
    assert translator("en")("Transfer code") == "Transfer code"
    assert translator("nl")("a text nobody translated") == "a text nobody translated"  # English, never empty


@pytest.mark.parametrize("folder, catalogues", [
    (STAFF, staff_texts.CATALOGUES), (REGISTRANT, registrant_texts.CATALOGUES)], ids=["staff", "registrant"])
def test_every_text_of_the_staff_and_registrant_pages_has_dutch_and_french(
        folder: Path, catalogues: dict[str, dict[str, str]]) -> None:
    """Their own catalogue, then the console's (the layout and shared words)."""
    texts = template_texts(folder / "templates") | code_texts(_python_files(folder, recursive=True))
    if folder == STAFF:
        texts |= {decided: {"staff/support.py"} for decided in DECISIONS.values()}  # page._(DECISIONS[...])
    assert len(texts) > 30
    for language in ("nl", "fr"):
        missing = {t: sorted(where) for t, where in texts.items()
                   if t not in catalogues[language] and t not in CATALOGUES[language]}
        assert not missing, f"texts without a {language} entry: {missing}"


def test_no_message_for_the_user_is_left_in_english() -> None:
    found = unmarked_messages(_python_files(CONSOLE, recursive=True))
    assert not found, f"mark these messages with page._(...) (values as {{named}} placeholders): {found}"


def test_a_translation_keeps_the_placeholders_of_its_english() -> None:
    entries = [(en, nl, fr) for en, nl, fr in TEXTS + staff_texts.TEXTS]
    entries += [(en, registrant_texts.CATALOGUES["nl"][en], registrant_texts.CATALOGUES["fr"].get(en, ""))
                for en in registrant_texts.CATALOGUES["nl"]]
    assert any(placeholders(en) for en, _nl, _fr in entries)
    wrong = [en for en, nl, fr in entries if not placeholders(en) == placeholders(nl) == placeholders(fr)]
    assert not wrong, f"a translation lost or renamed a {{placeholder}}: {wrong}"
    assert translator("fr")("{name} has been registered.").format(name="x.be") == "x.be a été enregistré."
    assert staff_texts.translator("nl")("{count} of {limit}").format(count=3, limit=100) == "3 van 100"
    assert staff_texts.translator("nl")("Sign out") == "Afmelden"  # the layout's words come from the console


def test_the_staff_catalogue_has_one_entry_per_text() -> None:
    english = [en for en, _nl, _fr in staff_texts.TEXTS]
    assert len(english) == len(set(english)), "a text is in the staff catalogue twice"
    assert all(nl and fr for _en, nl, fr in staff_texts.TEXTS)


def test_every_key_of_a_services_refusal_has_dutch_french_and_english() -> None:
    """The words the console says a service's refusal with (services/console/refusals.py): each field-error kind,
    format and list noun the registry names (services/registry/field_errors.py), and each EPP result code."""
    from services.console import refusals
    from services.registry import field_errors
    from services.registry.results import Result

    assert set(field_errors.PATTERN_KEYS.values()) <= set(refusals.FORMAT_WORDS)
    assert set(field_errors.PATTERN_KEYS) == set(field_errors.PATTERN_WORDS)
    assert set(field_errors.LIST_NOUNS) | {"entries"} <= set(refusals.ITEM_WORDS)
    registry_kinds = {field_errors.kind_of({"type": t, "loc": ("body", "x"), "ctx": {"max_length": 1, "min_length": 1}})[0]
                      for t in ("missing", "string_pattern_mismatch", "extra_forbidden", "too_long", "too_short",
                                "string_too_long", "string_too_short", "value_error")}
    assert registry_kinds - {"invalid"} <= {k.split("-")[0] for k in refusals.KIND_WORDS}
    assert {int(r) for r in Result if r >= 2000} <= set(refusals.RESULT_WORDS)
    keys = [*refusals.KIND_WORDS.values(), *refusals.FORMAT_WORDS.values(), *refusals.ITEM_WORDS.values(),
            *refusals.RESULT_WORDS.values(), "Some fields are not valid"]
    english = {en for en, _nl, _fr in TEXTS}
    for language in ("nl", "fr"):
        missing = [k for k in keys if k not in CATALOGUES[language]]
        assert not missing, f"refusal keys without a {language} entry: {missing}"
    assert not [k for k in keys if k not in english], "every key is an English entry of the catalogue"
    for key in refusals.KIND_WORDS.values():  # the values go in where the English has them
        assert placeholders(key) == placeholders(translator("nl")(key)) == placeholders(translator("fr")(key))


def test_every_refusal_of_the_verification_service_is_said_in_the_registrants_three_languages() -> None:
    """The kinds the verification service names (uploads.BadUpload, transitions.TransitionRefused, service.Refused)
    each have words, in Dutch and French too, with the same {values}; an unknown kind keeps the service's words."""
    import inspect

    from services.verification import api, service, transitions, uploads

    sent = set()
    for module in (uploads, transitions, service):
        tree = ast.parse(inspect.getsource(module))
        for call in ast.walk(tree):
            name = call.func.id if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) else ""
            position = {"BadUpload": 2, "TransitionRefused": 4, "Refused": 1}.get(name)  # where the kind goes
            if position and isinstance(call, ast.Call):
                kinds = [a.value for a in call.args[position:position + 1] if isinstance(a, ast.Constant)]
                kinds += [k.value.value for k in call.keywords if k.arg in {"kind", "refusal"}
                          and isinstance(k.value, ast.Constant)]
                sent.update(kinds)
    sent |= {"malformed", "not_now", "changed_meanwhile"}  # the defaults (BadUpload, TransitionRefused, api)
    sent.discard("refused")  # Refused's default: a staff-side refusal, said in the service's words
    assert "changed_meanwhile" in inspect.getsource(api)
    assert {"type", "too_large", "contact_support", "attempts_used_up", "eid_unavailable"} <= sent, sent
    assert sent <= set(registrant_texts.REFUSALS), sent - set(registrant_texts.REFUSALS)
    names = string.Formatter()
    for text in registrant_texts.REFUSALS.values():
        fields = {f for _, f, _, _ in names.parse(text) if f}
        for language in ("nl", "fr"):
            said = registrant_texts.CATALOGUES[language].get(text)
            assert said and {f for _, f, _, _ in names.parse(said) if f} == fields, (language, text)

    nl = registrant_texts.translator("nl")
    assert registrant_texts.refusal_in_words("too_large", {"filename": "id.pdf", "bytes": 2_000_000},
                                             "id.pdf: larger than 2000000 bytes", nl) == \
        "id.pdf: het bestand is groter dan 2 MB."
    assert registrant_texts.refusal_in_words("attempts_used_up", {"allowed": 3}, "x", registrant_texts.translator(
        "fr")) == "Les 3 tentatives sont épuisées : veuillez contacter le support."
    assert registrant_texts.refusal_in_words("something new", {}, "the service's words", nl) == "the service's words"
    assert registrant_texts.refusal_in_words("too_many", {}, "at most ? documents", nl) == "at most ? documents"
