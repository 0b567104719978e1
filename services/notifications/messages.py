"""The catalogue of every message the platform sends: structured messages to registrars (EPP poll or CPS
e-mail, the same payload in both), and the mails to registrars and registrants that are not structured.

The structured entries start with the .be catalogue (digest section 1.4: TYPE, ACTION, RETURNCODE, fields,
subject template and poll <msg> exactly as documented); the entries after them are ours, for events of the
other services a registrar must hear of (marked source "platform"). Subjects and texts exist in nl, fr and
en; the digest's English wording is kept byte for byte. `python -m services.notifications.messages` prints
the catalogue as markdown; GET /api/notifications/catalogue serves it as JSON.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum

LANGUAGES = ("nl", "fr", "en")


class Audience(StrEnum):
    REGISTRAR = "registrar"
    REGISTRANT = "registrant"
    SUPPORT = "support"  # the registry's own support desk (SUPPORT_EMAIL)


class Category(StrEnum):
    """Unstructured registrar mail categories (seed: e-mail addresses)."""

    GENERAL = "general"  # the profile's e-mail address
    LEGAL = "legal"
    TECHNICAL = "technical"
    ABUSE = "abuse"
    NEWSLETTER = "newsletter"


@dataclass(frozen=True)
class Structured:
    """A poll / CPS message. `fields` are (CPS key, dnsbe:pollRes element), in the order both are written."""

    key: str
    type: str
    action: str
    returncode: int
    fields: tuple[tuple[str, str], ...]
    subject: dict[str, str]
    msg: dict[str, str]
    trigger: str
    source: str = "digest 1.4"


@dataclass(frozen=True)
class Mail:
    """An unstructured mail. `multilingual`: sent in each of the recipient's languages in its order; otherwise
    once, in its first language. Bodies use ${name} placeholders; [[name]] marks a sealed value that only
    the mailer opens just before sending (never stored in clear)."""

    key: str
    audience: Audience
    category: Category | None
    subject: dict[str, str]
    body: dict[str, str]
    trigger: str
    multilingual: bool = False


def _s(key: str, type_: str, action: str, code: int, fields: tuple[tuple[str, str], ...], subject: tuple[str, str, str],
       msg: tuple[str, str, str], trigger: str, source: str = "digest 1.4") -> Structured:
    return Structured(key, type_, action, code, fields, dict(zip(LANGUAGES, subject, strict=True)),
                      dict(zip(LANGUAGES, msg, strict=True)), trigger, source)


OURS = "platform (no .be page documents it)"

STRUCTURED: dict[str, Structured] = {m.key: m for m in (
    # -- the .be catalogue (digest 1.4) --------------------------------------------------------------------------
    _s("email.bounced", "EMAIL", "BOUNCED", 2000,
       (("EMAIL", "email"), ("DETAILEDCODE", "detailedcode"), ("DATE", "date")),
       ("E-mail naar ${email} gebounced: permanente fout", "E-mail à ${email} rejeté : échec permanent",
        "E-mail to ${email} bounced: Permanent Failure"),
       ("E-mail gebounced", "E-mail rejeté", "E-mail bounced"),
       "email.bounced of a mail to a registrant: to every registrar with a contact at that address"),
    _s("contact.deleted_by_registry", "DEL_CONTACT_BY_REGISTRY", "CONTACT DELETED", 1000,
       (("CONTACT", "contact"), ("DATE", "date")),
       ("Contact ${contactAlias} verwijderd", "Contact ${contactAlias} supprimé", "Contact ${contactAlias} deleted"),
       ("Contact is verwijderd door het Register om privacyredenen",
        "Le contact a été supprimé par le Registre pour des raisons de confidentialité",
        "Contact is deleted by Registry for privacy reasons"),
       "contact.deleted with by_registry (the registry's clean-up)"),
    _s("domain.shield_removed", "DOMAIN", "DOMAIN SHIELD REMOVED", 1000,
       (("DOMAINNAME", "domainname"), ("EMAIL", "email")),
       ("Domain Shield uitgeschakeld voor ${domainName}.be", "Domain Shield désactivé pour ${domainName}.be",
        "Domain Shield switched off for ${domainName}.be"),
       ("Domain Shield verwijderd", "Domain Shield supprimé", "Domain Shield removed"),
       "feed.domain_shield_removed (from the registry's Shield tooling)"),
    _s("verification.required.domain", "DOMAIN", "VERIFICATION REQUIRED", 1505,
       (("DOMAINNAME", "domain"), ("DATE", "date")),
       ("Verificatie vereist voor domeinnaam ${domainNameASCII}.${tld}",
        "Vérification requise pour le nom de domaine ${domainNameASCII}.${tld}",
        "Verification required for domain ${domainNameASCII}.${tld}"),
       ("Verificatie vereist voor domeinnaam", "Vérification requise pour le nom de domaine",
        "Verification required for domain"),
       "verification.required (one per registration)"),
    _s("verification.required.contact", "CONTACT", "VERIFICATION REQUIRED", 1505,
       (("CONTACT", "contact"), ("DATE", "date")),
       ("Verificatie vereist voor contact ${contactAlias}", "Vérification requise pour le contact ${contactAlias}",
        "Verification required for contact ${contactAlias}"),
       ("Verificatie vereist voor contact", "Vérification requise pour le contact", "Verification required for contact"),
       "verification.required with first (the registration that opened the case)"),
    _s("verification.approved.domain", "DOMAIN", "VERIFICATION APPROVED", 1000,
       (("DOMAINNAME", "domain"), ("DATE", "date")),
       ("Verificatie goedgekeurd voor domeinnaam ${domainName}.${tld}",
        "Vérification approuvée pour le nom de domaine ${domainName}.${tld}",
        "Verification approved for domain ${domainName}.${tld}"),
       ("Verificatie goedgekeurd voor domeinnaam", "Vérification approuvée pour le nom de domaine",
        "Verification approved for domain"),
       "verification.approved: one per domain whose override is lifted"),
    _s("verification.undone.contact", "CONTACT", "VERIFICATION UNDONE", 1507,
       (("CONTACT", "contact"), ("DATE", "date")),
       ("Verificatie ongedaan gemaakt voor contact ${contactAlias}", "Vérification annulée pour le contact ${contactAlias}",
        "Verification undone for contact ${contactAlias}"),
       ("Verificatie ongedaan gemaakt voor contact", "Vérification annulée pour le contact",
        "Verification undone for contact"),
       "verification.undone"),
    _s("monitored_update.authorised", "MONITORED_UPD_CONTACT", "AUTHORISED", 1501,
       (("CONTACT", "contact"), ("DATE", "date")),
       ("Gemonitorde update van contact ${contactAlias} toegestaan",
        "Mise à jour surveillée du contact ${contactAlias} autorisée",
        "Monitored contact ${contactAlias} update authorised"),
       ("Gemonitorde contactupdate toegestaan", "Mise à jour surveillée du contact autorisée",
        "Monitored contact update authorised"),
       "feed.monitored_update_authorised: the go ahead; DATE is the deadline (7 calendar days)",
       "digest 1.4: the message exists, its template is not published; 1501 inferred from 1502/1503, the "
       "subject and msg in the words of the approved message (#8)"),
    _s("monitored_update.approved", "MONITORED_UPD_CONTACT", "APPROVED", 1502,
       (("CONTACT", "contact"), ("DATE", "date")),
       ("Gemonitorde update van contact ${contactAlias} goedgekeurd",
        "Mise à jour surveillée du contact ${contactAlias} approuvée",
        "Monitored contact ${contactAlias} update approved"),
       ("Gemonitorde contactupdate goedgekeurd", "Mise à jour surveillée du contact approuvée",
        "Monitored contact update approved"),
       "feed.monitored_update_closed with outcome approved (from the registry's legal desk)"),
    _s("monitored_update.expired", "MONITORED_UPD_CONTACT", "EXPIRED", 1503,
       (("CONTACT", "contact"), ("DATE", "date")),
       ("Gemonitorde update voor ${contactAlias} is verlopen", "La mise à jour surveillée de ${contactAlias} a expiré",
        "Monitored update for ${contactAlias} has expired"),
       ("Gemonitorde update is verlopen", "La mise à jour surveillée a expiré", "Monitored update has expired"),
       "feed.monitored_update_closed with outcome expired (the 7 days lapsed)"),
    _s("watermark.reached", "WATERMARK", "REACHED", 1000,
       (("LEVEL", "level"),),
       ("Watermerk ${level} bereikt", "Seuil ${level} atteint", "Watermark ${level} reached"),
       ("Watermerk bereikt", "Seuil atteint", "Watermark Reached"),
       "payment.watermark_reached", "digest 1.4 (subject: platform, none documented)"),
    _s("transfer.code_bounced", "TRANSFER", "BOUNCED", 1159,
       (("DOMAINNAME", "domainname"), ("EMAIL", "email")),
       ("Transfercode-e-mail voor ${domainName}.${tld} gebounced", "E-mail du code de transfert pour ${domainName}.${tld} rejeté",
        "Transfer code e-mail for ${domainName}.${tld} bounced"),
       ("Transfercode-e-mail gebounced", "E-mail du code de transfert rejeté", "Transfer code e-mail bounced"),
       "email.bounced of the transfer code mail: to the registrar that asked for the code",
       "digest 1.4 (subject: platform, none documented)"),
    # -- the platform's own (events of the other services) ---------------------------------------------------------
    _s("verification.approved.contact", "CONTACT", "VERIFICATION APPROVED", 1000,
       (("CONTACT", "contact"), ("DATE", "date")),
       ("Verificatie goedgekeurd voor contact ${contactAlias}", "Vérification approuvée pour le contact ${contactAlias}",
        "Verification approved for contact ${contactAlias}"),
       ("Verificatie goedgekeurd voor contact", "Vérification approuvée pour le contact",
        "Verification approved for contact"),
       "verification.approved", OURS),
    _s("verification.failed.contact", "CONTACT", "VERIFICATION FAILED", 1506,
       (("CONTACT", "contact"), ("DATE", "date")),
       ("Verificatie mislukt voor contact ${contactAlias}", "Échec de la vérification du contact ${contactAlias}",
        "Verification failed for contact ${contactAlias}"),
       ("Verificatie mislukt voor contact", "Échec de la vérification du contact", "Verification failed for contact"),
       "verification.failed (1506 fills the 1505/1507 gap, digest 1.4)", OURS),
    _s("transfer.away", "TRANSFER", "AWAY", 1000,
       (("DOMAINNAME", "domainname"), ("DATE", "date")),
       ("Domeinnaam ${domainName}.${tld} is weg getransfereerd", "Le nom de domaine ${domainName}.${tld} a été transféré",
        "Domain ${domainName}.${tld} transferred away"),
       ("Transfer weg uitgevoerd", "Transfert sortant exécuté", "Transfer away executed"),
       "domain.transferred: to the losing registrar", OURS),
    _s("transfer.undone", "TRANSFER", "UNDONE", 1000,
       (("DOMAINNAME", "domainname"), ("DATE", "date")),
       ("Transfer van ${domainName}.${tld} ongedaan gemaakt", "Transfert de ${domainName}.${tld} annulé",
        "Transfer of ${domainName}.${tld} undone"),
       ("Transfer ongedaan gemaakt", "Transfert annulé", "Transfer undone"),
       "feed.transfer_undone: to the gaining and the losing registrar (per the gTLD docs)", OURS),
    _s("domain.in_violation", "DOMAIN", "IN VIOLATION", 1000,
       (("DOMAINNAME", "domainname"), ("DATE", "date")),
       ("Domeinnaam ${domainName}.${tld} in overtreding", "Nom de domaine ${domainName}.${tld} en infraction",
        "Domain ${domainName}.${tld} in violation"),
       ("Domeinnaam in overtreding", "Nom de domaine en infraction", "Domain in violation"),
       "feed.domain_in_violation (from the registry's abuse desk: day 0 of the revoke procedure, digest 4.3)", OURS),
    _s("hitpoints.threshold_reached", "HITPOINTS", "THRESHOLD REACHED", 1000,
       (("PERCENT", "percent"), ("HITPOINTS", "hitpoints"), ("LIMIT", "limit"), ("DATE", "date")),
       ("${percent}% van uw hitpointlimiet bereikt", "${percent}% de votre limite de hitpoints atteint",
        "${percent}% of your hitpoint limit reached"),
       ("Hitpointdrempel bereikt", "Seuil de hitpoints atteint", "Hitpoint threshold reached"),
       "hitpoints.threshold_reached (80 % and 100 %)", OURS),
    _s("hitpoints.blocked", "HITPOINTS", "BLOCKED", 1000,
       (("HITPOINTS", "hitpoints"), ("LIMIT", "limit"), ("DATE", "date"), ("BLOCKEDUNTIL", "blockeduntil")),
       ("Account geblokkeerd tot ${blockedUntil}", "Compte bloqué jusqu'au ${blockedUntil}",
        "Account blocked until ${blockedUntil}"),
       ("Account geblokkeerd", "Compte bloqué", "Account blocked"),
       "registrar.blocked", OURS),
    _s("hitpoints.unblocked", "HITPOINTS", "UNBLOCKED", 1000,
       (("BY", "by"), ("DATE", "date")),
       ("Account gedeblokkeerd", "Compte débloqué", "Account unblocked"),
       ("Account gedeblokkeerd", "Compte débloqué", "Account unblocked"),
       "registrar.unblocked", OURS),
    _s("lock.complaint_filed", "DOMAIN", "LOCK COMPLAINT", 1000,
       (("DOMAINNAME", "domainname"), ("DATE", "date")),
       ("Klacht over de lock van ${domainName}.${tld}", "Plainte concernant le verrou de ${domainName}.${tld}",
        "Complaint about the lock of ${domainName}.${tld}"),
       ("Klacht over transferlock", "Plainte concernant le verrou de transfert", "Transfer lock complaint filed"),
       "domain.lock_complaint_filed (DATE: the deadline to show the registrant's request)", OURS),
    _s("lock.complaint_closed", "DOMAIN", "LOCK COMPLAINT CLOSED", 1000,
       (("DOMAINNAME", "domainname"), ("OUTCOME", "outcome"), ("DATE", "date")),
       ("Klacht over de lock van ${domainName}.${tld} afgesloten",
        "Plainte concernant le verrou de ${domainName}.${tld} clôturée",
        "Complaint about the lock of ${domainName}.${tld} closed"),
       ("Klacht over transferlock afgesloten", "Plainte concernant le verrou clôturée", "Transfer lock complaint closed"),
       "domain.lock_complaint_closed", OURS),
)}


def _m(key: str, audience: Audience, category: Category | None, subject: tuple[str, str, str],
       body: tuple[str, str, str], trigger: str, multilingual: bool = False) -> Mail:
    return Mail(key, audience, category, dict(zip(LANGUAGES, subject, strict=True)),
                dict(zip(LANGUAGES, body, strict=True)), trigger, multilingual)


MAILS: dict[str, Mail] = {m.key: m for m in (
    _m("registrant.verification_required", Audience.REGISTRANT, None,
       ("Verificatie vereist voor uw .be-domeinnaam", "Vérification requise pour votre nom de domaine .be",
        "Verification required for your .be domain name"),
       (("Beste ${name},\n\nOm uw domeinnaam ${domain} te activeren, moeten we uw identiteit verifiëren.\n"
        "Volg deze link: [[link]]\n\nDNS Belgium\n"),
        ("Madame, Monsieur ${name},\n\nPour activer votre nom de domaine ${domain}, nous devons vérifier votre "
        "identité.\nSuivez ce lien : [[link]]\n\nDNS Belgium\n"),
        ("Dear ${name},\n\nTo activate your domain name ${domain}, we need to verify your identity.\n"
        "Please follow this link: [[link]]\n\nDNS Belgium\n")),
       "verification.required with first, email and sealed_link; verification.link_resent"),
    _m("registrant.verification_approved", Audience.REGISTRANT, None,
       ("Verificatie goedgekeurd", "Vérification approuvée", "Verification approved"),
       ("Uw identiteit is geverifieerd. Uw domeinnamen zijn actief: ${domains}\n\nDNS Belgium\n",
        "Votre identité a été vérifiée. Vos noms de domaine sont actifs : ${domains}\n\nDNS Belgium\n",
        "Your identity has been verified. Your domain names are active: ${domains}\n\nDNS Belgium\n"),
       "verification.approved with email"),
    _m("registrant.verification_failed", Audience.REGISTRANT, None,
       ("Verificatie mislukt voor uw .be-domeinnaam", "Échec de la vérification de votre nom de domaine .be",
        "Verification failed for your .be domain name"),
       (("We konden uw identiteit niet verifiëren (${reason}). Uw domeinnamen blijven inactief: ${domains}\n"
        "Neem contact op met uw registrar.\n\nDNS Belgium\n"),
        ("Nous n'avons pas pu vérifier votre identité (${reason}). Vos noms de domaine restent inactifs : "
        "${domains}\nContactez votre registrar.\n\nDNS Belgium\n"),
        ("We could not verify your identity (${reason}). Your domain names stay inactive: ${domains}\n"
        "Please contact your registrar.\n\nDNS Belgium\n")),
       "verification.failed with email"),
    _m("registrant.transfer_code", Audience.REGISTRANT, None,
       ("Transfercode voor de domeinnaam ${domain}", "Code de transfert pour le nom de domaine ${domain}",
        "Transfer code for the domain name ${domain}"),
       ("Uw transfercode voor ${domain} is [[code]]\nGeldig tot ${valid_until} (Brusselse tijd).\n\nDNS Belgium\n",
        ("Votre code de transfert pour ${domain} est [[code]]\nValable jusqu'au ${valid_until} (heure de Bruxelles)."
        "\n\nDNS Belgium\n"),
        "Your transfer code for ${domain} is [[code]]\nValid until ${valid_until} (Brussels time).\n\nDNS Belgium\n"),
       "domain.transfer_code_sent"),
    _m("support.verification_notice", Audience.SUPPORT, None,
       ("Registrantverificatie: ${reason} (contact ${contact})",
        "Vérification du titulaire : ${reason} (contact ${contact})",
        "Registrant verification: ${reason} (contact ${contact})"),
       (("Een registrantverificatie vraagt de aandacht van support.\n\nReden: ${reason}\n"
         "Contact: ${contact} (registrar ${registrar})\nDossier: ${case}\nDetail: ${detail}\n\n"
         "Reviewwachtrij: /api/support/verification/queue\n"),
        ("Une vérification de titulaire demande l'attention du support.\n\nRaison : ${reason}\n"
         "Contact : ${contact} (registrar ${registrar})\nDossier : ${case}\nDétail : ${detail}\n\n"
         "File de revue : /api/support/verification/queue\n"),
        ("A registrant verification needs support's attention.\n\nReason: ${reason}\n"
         "Contact: ${contact} (registrar ${registrar})\nCase: ${case}\nDetail: ${detail}\n\n"
         "Review queue: /api/support/verification/queue\n")),
       "verification.support_notice: to SUPPORT_EMAIL in SUPPORT_LANGUAGE"),
    _m("registrar.quarterly_report", Audience.REGISTRAR, Category.GENERAL,
       ("Uw .be-registrarrapport ${quarter}", "Votre rapport de registrar .be ${quarter}",
        "Your .be registrar report ${quarter}"),
       ("Uw registrarrapport voor ${quarter} staat klaar: ${url}\n\nDNS Belgium\n",
        "Votre rapport de registrar pour ${quarter} est disponible : ${url}\n\nDNS Belgium\n",
        "Your registrar report for ${quarter} is ready: ${url}\n\nDNS Belgium\n"),
       "report.quarterly_ready", multilingual=True),
    Mail("registrar.announcement", Audience.REGISTRAR, None, {}, {},
         "POST /api/operator/notifications/mail: legal, technical, abuse or newsletter mail written by staff"),
)}


def as_documentation() -> list[dict[str, object]]:
    """The catalogue as data (served at /api/notifications/catalogue)."""
    structured: list[dict[str, object]] = [
        {"key": m.key, "kind": "structured", "type": m.type, "action": m.action, "returncode": m.returncode,
         "fields": [{"cps": cps, "xml": f"dnsbe:{xml}"} for cps, xml in m.fields], "subject": m.subject, "msg": m.msg,
         "trigger": m.trigger, "source": m.source}
        for m in STRUCTURED.values()
    ]
    mails: list[dict[str, object]] = [
        {"key": m.key, "kind": "mail", "audience": m.audience.value,
         "category": m.category.value if m.category else None, "multilingual": m.multilingual,
         "subject": m.subject, "trigger": m.trigger}
        for m in MAILS.values()
    ]
    return structured + mails


def as_markdown() -> str:
    lines = ["| key | TYPE | ACTION | RETURNCODE | fields | subject (en) | msg (en) | trigger | source |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m in STRUCTURED.values():
        fields = ", ".join(f"{c} (dnsbe:{x})" for c, x in m.fields)
        lines.append(f"| {m.key} | {m.type} | {m.action} | {m.returncode} | {fields} | `{m.subject['en']}` | "
                     f"{m.msg['en']} | {m.trigger} | {m.source} |")
    lines += ["", "| mail | audience | category | languages | subject (en) | trigger |", "|---|---|---|---|---|---|"]
    for mail in MAILS.values():
        langs = "each of the recipient's, in order" if mail.multilingual else "the recipient's first"
        lines.append(f"| {mail.key} | {mail.audience.value} | {mail.category.value if mail.category else '-'} | "
                     f"{langs} | `{mail.subject.get('en', '(written by staff)')}` | {mail.trigger} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(as_markdown())

