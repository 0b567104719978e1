"""The landing page of a domain whose name servers are overridden (seed 002: while the registrant's
verification is pending "the domain name is not delegated"), in Dutch, French and English.

Pure templates, kept apart from any transport so that other pages (the console's registrant pages) can reuse
them: `notice(language, domain, reason)` gives one language's text, `page(domain, reason)` the whole page."""

from __future__ import annotations

from html import escape

LANGUAGES = ("nl", "fr", "en")

TITLES = {
    "nl": "Deze domeinnaam is niet gedelegeerd",
    "fr": "Ce nom de domaine n'est pas délégué",
    "en": "This domain name is not delegated",
}
BODIES = {
    "nl": ("De domeinnaam {domain} is geregistreerd, maar de naamservers zijn vervangen: de identiteit van de "
           "houder wordt nog gecontroleerd. Zodra de houder zijn identiteit heeft bewezen, wordt de domeinnaam "
           "binnen het uur geactiveerd. Bent u de houder? Volg de link in de e-mail die u ontving, of neem "
           "contact op met uw registrar."),
    "fr": ("Le nom de domaine {domain} est enregistré, mais ses serveurs de noms ont été remplacés : l'identité "
           "du titulaire est en cours de vérification. Dès que le titulaire a prouvé son identité, le nom de "
           "domaine est activé dans l'heure. Vous êtes le titulaire ? Suivez le lien de l'e-mail que vous avez "
           "reçu, ou contactez votre registrar."),
    "en": ("The domain name {domain} is registered, but its name servers are overridden: the holder's identity "
           "is being verified. Once the holder has proven their identity, the domain name is activated within "
           "the hour. Are you the holder? Follow the link in the e-mail you received, or contact your registrar."),
}
REASON = {"nl": "Reden", "fr": "Motif", "en": "Reason"}


def notice(language: str, domain: str, reason: str | None = None) -> tuple[str, str]:
    """(title, text) in one language (nl, fr or en; another falls back to en), as plain text."""
    lang = language if language in LANGUAGES else "en"
    text = BODIES[lang].format(domain=domain)
    if reason:
        text += f" {REASON[lang]}: {reason}."
    return TITLES[lang], text


def section(language: str, domain: str, reason: str | None = None) -> str:
    """One language's notice as an HTML fragment (escaped)."""
    title, text = notice(language, domain, reason)
    return f'<section lang="{language}"><h1>{escape(title)}</h1><p>{escape(text)}</p></section>'


def page(domain: str, reason: str | None = None) -> str:
    """The whole page: the notice in nl, fr and en."""
    sections = "\n".join(section(lang, domain, reason) for lang in LANGUAGES)
    return ("<!doctype html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{escape(domain)}: {escape(TITLES['en'])}</title>"
            "<meta name=\"robots\" content=\"noindex\"></head>\n"
            f"<body>\n{sections}\n</body></html>\n")
