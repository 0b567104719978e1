"""Where a message goes, from the registrar's settings (seed: EPP settings, e-mail addresses, languages).

  - structured messages: the poll queue if EPP poll is on, else at once a CPS mail to the automated
    e-mail address (the general one if the registrar never gave one);
  - unstructured mail: the category's addresses (up to 5), else the general address; the newsletter has
    no fallback;
  - languages: a message that exists in several languages goes in each of the recipient's languages that
    it exists in, in the recipient's order; a single-language message goes in the first of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.notifications.messages import LANGUAGES, Category

MAX_CATEGORY_ADDRESSES = 5
DEFAULT_LANGUAGES = ("en",)


class Channel(StrEnum):
    POLL = "poll"
    CPS = "cps"
    MAIL = "mail"


@dataclass(frozen=True)
class RegistrarSettings:
    """What notifications knows of a registrar (from registrar.created / registrar.updated)."""

    registrar_id: str
    email: str | None = None
    automated_email: str | None = None
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    poll: bool = False
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    inform_registrant_myself: bool = False  # the registrar sends its registrants the verification link

    @classmethod
    def of(cls, registrar_id: str, doc: dict | None) -> RegistrarSettings:
        doc = doc or {}
        return cls(registrar_id, doc.get("email"), doc.get("automated_email"),
                   tuple(doc.get("languages") or DEFAULT_LANGUAGES), bool(doc.get("poll", False)),
                   {k: tuple(v) for k, v in (doc.get("categories") or {}).items()},
                   bool(doc.get("inform_registrant_myself", False)))


@dataclass(frozen=True)
class Route:
    channel: Channel
    address: str | None = None  # for CPS


def structured_route(registrar: RegistrarSettings) -> Route:
    if registrar.poll:
        return Route(Channel.POLL)
    address = registrar.automated_email or registrar.email
    # a registrar we have no address for keeps its messages in the poll queue rather than losing them
    return Route(Channel.CPS, address) if address else Route(Channel.POLL)


def category_addresses(registrar: RegistrarSettings, category: Category) -> list[str]:
    if category is Category.GENERAL:
        return [registrar.email] if registrar.email else []
    own = list(registrar.categories.get(category.value, ()))[:MAX_CATEGORY_ADDRESSES]
    if own or category is Category.NEWSLETTER:
        return own
    return [registrar.email] if registrar.email else []


def languages_for(preferred: Sequence[str], available: Iterable[str], multilingual: bool) -> list[str]:
    available = [lang for lang in LANGUAGES if lang in set(available)]
    if not available:
        return []
    ordered = [lang for lang in dict.fromkeys(preferred) if lang in available]
    if not ordered:  # none of the recipient's languages exists: the message's own first language
        ordered = [available[0]]
    return ordered if multilingual else ordered[:1]
