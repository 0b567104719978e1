"""Every text the registrar pages say through the catalogue has a Dutch and a French entry: the texts the
templates mark with _(), the labels and help of their form fields (the macros translate them), the menu, and the
e-mail categories and permissions the pages list (services/console/catalogue.py, services/console/i18n.py)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, nodes

from services.console import menu
from services.console.catalogue import TEXTS
from services.console.i18n import CATALOGUES, translator
from services.console.pages.account import EMAIL_CATEGORIES, PERMISSIONS
from services.console.session import Session

TEMPLATES = Path(menu.__file__).parent / "templates"  # the registrar pages (staff and registrant pages: their own)
MACROS = {"field": (1, "hint"), "checkbox": (1, None)}  # macro: (position of the label, keyword of the help)


def template_texts() -> dict[str, set[str]]:
    """Text -> the templates that use it, as constants given to _() or as a field's label or help, or listed in
    a loop that labels fields."""
    found: dict[str, set[str]] = {}
    environment = Environment()
    for path in sorted(TEMPLATES.rglob("*.html")):
        where = str(path.relative_to(TEMPLATES))
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


def menu_texts() -> set[str]:
    everything = Session(token="t", user_id="x", registrar_id="x", permissions=[key for key, _l, _h in PERMISSIONS])
    return {text for section, items in menu.menu(everything) for text in [section, *(i.label for i in items)]}


def test_every_text_of_the_registrar_pages_has_dutch_and_french() -> None:
    texts = dict.fromkeys(menu_texts(), {"menu.py"}) | template_texts()
    texts |= {t: {"pages/account.py"} for _key, label, help_ in EMAIL_CATEGORIES + PERMISSIONS for t in (label, help_)}
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
