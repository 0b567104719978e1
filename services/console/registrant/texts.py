"""The registrant's pages in English, Dutch and French (English is the key; a missing translation shows
English). The words follow the registrant verification seed (002) and the mails that link here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.console.i18n import translator as console_translator

_NL: dict[str, str] = {
    "Registrant verification": "Verificatie van de houder",
    "Verify your identity": "Bevestig uw identiteit",
    "Why we ask": "Waarom we dit vragen",
    "Every new domain name is checked against a series of parameters to determine if it is a suspicious "
    "registration. Your registration was selected: the domain name is not delegated until you prove your "
    "identity.": "Elke nieuwe domeinnaam wordt getoetst aan een reeks parameters om na te gaan of het om een "
    "verdachte registratie gaat. Uw registratie werd geselecteerd: de domeinnaam wordt niet gedelegeerd tot u "
    "uw identiteit bewijst.",
    "The domain names concerned": "De betrokken domeinnamen",
    "The domain name is not delegated": "De domeinnaam is niet gedelegeerd",
    "Verify with eID": "Verifiëren met eID",
    "Electronic identification": "Elektronische identificatie",
    "Identify yourself with an electronic identification method: your domain names are approved at once "
    "and active within the hour.": "Identificeer u met een elektronische identificatiemethode: uw domeinnamen "
    "worden meteen goedgekeurd en zijn binnen het uur actief.",
    "Upload identity documents": "Identiteitsdocumenten opladen",
    "Upload a copy of an identity document (identity card, passport, or for a company an extract of the "
    "company register). Our support team checks it within 5 working days.": "Laad een kopie van een "
    "identiteitsdocument op (identiteitskaart, paspoort, of voor een onderneming een uittreksel uit het "
    "ondernemingsregister). Ons supportteam controleert het binnen 5 werkdagen.",
    "Documents": "Documenten",
    "Accepted": "Toegelaten",
    "at most {count} files of {size} MB each": "maximaal {count} bestanden van elk {size} MB",
    "Upload": "Opladen",
    "Attempts left": "Resterende pogingen",
    "What happens next": "Wat gebeurt er nu",
    "When your identity is confirmed, your domain names are delegated within the hour. Without proof by the "
    "deadline, the domain names stay registered but cannot be used.": "Zodra uw identiteit bevestigd is, worden "
    "uw domeinnamen binnen het uur gedelegeerd. Zonder bewijs voor de uiterste datum blijven de domeinnamen "
    "geregistreerd maar kunnen ze niet gebruikt worden.",
    "Deadline": "Uiterste datum",
    "Need help?": "Hulp nodig?",
    "Contact our support team": "Neem contact op met ons supportteam",
    "Your documents are being reviewed (up to 5 working days).": "Uw documenten worden nagekeken (tot 5 werkdagen).",
    "Your identity is verified.": "Uw identiteit is bevestigd.",
    "Your domain names are delegated within the hour.": "Uw domeinnamen worden binnen het uur gedelegeerd.",
    "Your verification was rejected.": "Uw verificatie werd geweigerd.",
    "Support's note": "Opmerking van support",
    "How to try again": "Opnieuw proberen",
    "Ask your registrar to correct your contact details so that they match your identity documents, then "
    "contact our support team: they can reopen the verification.": "Vraag uw registrar om uw contactgegevens "
    "te corrigeren zodat ze overeenkomen met uw identiteitsdocumenten, en neem daarna contact op met ons "
    "supportteam: zij kunnen de verificatie heropenen.",
    "Support asks for more documents.": "Support vraagt bijkomende documenten.",
    "Please contact our support team to finish the verification.": "Neem contact op met ons supportteam om de "
    "verificatie af te ronden.",
    "This verification has ended.": "Deze verificatie is afgelopen.",
    "Continue to the identification": "Verder naar de identificatie",
    "You are leaving this site for the identification provider. It sends you back here afterwards.":
    "U verlaat deze site voor de identificatiedienst. Die stuurt u daarna hierheen terug.",
    "Identification failed.": "Identificatie mislukt.",
    "Back to the verification page": "Terug naar de verificatiepagina",
    "This link is not valid (any more).": "Deze link is niet (meer) geldig.",
    "Your documents were received.": "Uw documenten zijn ontvangen.",
    "The upload was refused": "Het opladen werd geweigerd",
    'Choose at least one document.':
    'Kies minstens één document.',
    'Upload at most {count} documents at a time.':
    'Laad maximaal {count} documenten tegelijk op.',
    '{filename}: this type of file is not accepted. Use a PDF, JPEG or PNG file.':
    '{filename}: dit soort bestand wordt niet aanvaard. Gebruik een PDF-, JPEG- of PNG-bestand.',
    '{filename}: the file is empty.':
    '{filename}: het bestand is leeg.',
    '{filename}: the file is larger than {size} MB.':
    '{filename}: het bestand is groter dan {size} MB.',
    '{filename}: the content of the file is not what its type says. Use a PDF, JPEG or PNG file.':
    '{filename}: de inhoud van het bestand past niet bij het type. Gebruik een PDF-, JPEG- of PNG-bestand.',
    'The upload is too large: send fewer or smaller files.':
    'Wat u oplaadt is te groot: stuur minder of kleinere bestanden.',
    'The upload could not be read. Please try again.':
    'Wat u oplaadde kon niet gelezen worden. Probeer het opnieuw.',
    'Please contact support to finish the verification.':
    'Neem contact op met support om de verificatie af te ronden.',
    'The {allowed} attempts are used up: please contact support.':
    'De {allowed} pogingen zijn opgebruikt: neem contact op met support.',
    'This is not possible at this stage of the verification.':
    'Dit kan niet in deze fase van de verificatie.',
    'Electronic identification is not available: please upload your identity documents.':
    'Elektronische identificatie is niet beschikbaar: laad uw identiteitsdocumenten op.',
    'The verification changed meanwhile: reload the page and try again.':
    'De verificatie is intussen gewijzigd: laad de pagina opnieuw en probeer het nog eens.',
}
_FR: dict[str, str] = {
    "Registrant verification": "Vérification du titulaire",
    "Verify your identity": "Confirmez votre identité",
    "Why we ask": "Pourquoi nous le demandons",
    "Every new domain name is checked against a series of parameters to determine if it is a suspicious "
    "registration. Your registration was selected: the domain name is not delegated until you prove your "
    "identity.": "Chaque nouveau nom de domaine est vérifié selon une série de paramètres afin de déterminer "
    "s'il s'agit d'un enregistrement suspect. Votre enregistrement a été sélectionné : le nom de domaine n'est "
    "pas délégué tant que vous n'avez pas prouvé votre identité.",
    "The domain names concerned": "Les noms de domaine concernés",
    "The domain name is not delegated": "Le nom de domaine n'est pas délégué",
    "Verify with eID": "Vérifier avec l'eID",
    "Electronic identification": "Identification électronique",
    "Identify yourself with an electronic identification method: your domain names are approved at once "
    "and active within the hour.": "Identifiez-vous avec une méthode d'identification électronique : vos noms "
    "de domaine sont approuvés immédiatement et actifs dans l'heure.",
    "Upload identity documents": "Télécharger des documents d'identité",
    "Upload a copy of an identity document (identity card, passport, or for a company an extract of the "
    "company register). Our support team checks it within 5 working days.": "Téléchargez une copie d'un "
    "document d'identité (carte d'identité, passeport ou, pour une entreprise, un extrait du registre des "
    "entreprises). Notre équipe support la vérifie dans les 5 jours ouvrables.",
    "Documents": "Documents",
    "Accepted": "Acceptés",
    "at most {count} files of {size} MB each": "au maximum {count} fichiers de {size} MB chacun",
    "Upload": "Télécharger",
    "Attempts left": "Tentatives restantes",
    "What happens next": "La suite",
    "When your identity is confirmed, your domain names are delegated within the hour. Without proof by the "
    "deadline, the domain names stay registered but cannot be used.": "Dès que votre identité est confirmée, "
    "vos noms de domaine sont délégués dans l'heure. Sans preuve avant la date limite, les noms de domaine "
    "restent enregistrés mais ne peuvent pas être utilisés.",
    "Deadline": "Date limite",
    "Need help?": "Besoin d'aide ?",
    "Contact our support team": "Contactez notre équipe support",
    "Your documents are being reviewed (up to 5 working days).": "Vos documents sont en cours de vérification "
    "(jusqu'à 5 jours ouvrables).",
    "Your identity is verified.": "Votre identité est confirmée.",
    "Your domain names are delegated within the hour.": "Vos noms de domaine sont délégués dans l'heure.",
    "Your verification was rejected.": "Votre vérification a été refusée.",
    "Support's note": "Remarque du support",
    "How to try again": "Comment réessayer",
    "Ask your registrar to correct your contact details so that they match your identity documents, then "
    "contact our support team: they can reopen the verification.": "Demandez à votre registrar de corriger vos "
    "coordonnées pour qu'elles correspondent à vos documents d'identité, puis contactez notre équipe support : "
    "elle peut rouvrir la vérification.",
    "Support asks for more documents.": "Le support demande des documents supplémentaires.",
    "Please contact our support team to finish the verification.": "Veuillez contacter notre équipe support "
    "pour terminer la vérification.",
    "This verification has ended.": "Cette vérification est terminée.",
    "Continue to the identification": "Continuer vers l'identification",
    "You are leaving this site for the identification provider. It sends you back here afterwards.":
    "Vous quittez ce site pour le service d'identification. Il vous renvoie ici ensuite.",
    "Identification failed.": "L'identification a échoué.",
    "Back to the verification page": "Retour à la page de vérification",
    "This link is not valid (any more).": "Ce lien n'est pas (ou plus) valable.",
    "Your documents were received.": "Vos documents ont été reçus.",
    "The upload was refused": "Le téléchargement a été refusé",
    'Choose at least one document.':
    'Choisissez au moins un document.',
    'Upload at most {count} documents at a time.':
    'Envoyez au maximum {count} documents à la fois.',
    '{filename}: this type of file is not accepted. Use a PDF, JPEG or PNG file.':
    "{filename} : ce type de fichier n'est pas accepté. Utilisez un fichier PDF, JPEG ou PNG.",
    '{filename}: the file is empty.':
    '{filename} : le fichier est vide.',
    '{filename}: the file is larger than {size} MB.':
    '{filename} : le fichier dépasse {size} Mo.',
    '{filename}: the content of the file is not what its type says. Use a PDF, JPEG or PNG file.':
    '{filename} : le contenu du fichier ne correspond pas à son type. Utilisez un fichier PDF, JPEG ou PNG.',
    'The upload is too large: send fewer or smaller files.':
    "L'envoi est trop volumineux : envoyez moins de fichiers ou des fichiers plus petits.",
    'The upload could not be read. Please try again.':
    "L'envoi n'a pas pu être lu. Veuillez réessayer.",
    'Please contact support to finish the verification.':
    'Veuillez contacter le support pour terminer la vérification.',
    'The {allowed} attempts are used up: please contact support.':
    'Les {allowed} tentatives sont épuisées : veuillez contacter le support.',
    'This is not possible at this stage of the verification.':
    "Ce n'est pas possible à ce stade de la vérification.",
    'Electronic identification is not available: please upload your identity documents.':
    "L'identification électronique n'est pas disponible : veuillez envoyer vos documents d'identité.",
    'The verification changed meanwhile: reload the page and try again.':
    'La vérification a changé entre-temps : rechargez la page et réessayez.',
}
CATALOGUES = {"en": {}, "nl": _NL, "fr": _FR}


def translator(language: str) -> Callable[[str], str]:
    """The registrant's words, then the console's (the layout's), then English."""
    own, console = CATALOGUES.get(language, {}), console_translator(language)

    def _(text: str) -> str:
        return own.get(text) or console(text)

    return _


# the verification service's refusals by kind (services/verification: uploads.BadUpload, transitions.
# TransitionRefused, service.Refused), in the registrant's words; the service's own English words where a kind is
# new here
REFUSALS: dict[str, str] = {
    "no_document": "Choose at least one document.",
    "too_many": "Upload at most {count} documents at a time.",
    "type": "{filename}: this type of file is not accepted. Use a PDF, JPEG or PNG file.",
    "empty": "{filename}: the file is empty.",
    "too_large": "{filename}: the file is larger than {size} MB.",
    "content": "{filename}: the content of the file is not what its type says. Use a PDF, JPEG or PNG file.",
    "upload_too_large": "The upload is too large: send fewer or smaller files.",
    "malformed": "The upload could not be read. Please try again.",
    "contact_support": "Please contact support to finish the verification.",
    "attempts_used_up": "The {allowed} attempts are used up: please contact support.",
    "not_now": "This is not possible at this stage of the verification.",
    "eid_unavailable": "Electronic identification is not available: please upload your identity documents.",
    "changed_meanwhile": "The verification changed meanwhile: reload the page and try again.",
}


def refusal_in_words(kind: str | None, params: dict[str, Any], message: str, _: Callable[[str], str]) -> str:
    """The refusal in the page's language: by its kind, with its values; else the service's message."""
    text = REFUSALS.get(kind or "")
    if text is None:
        return message
    values = {k: str(v) for k, v in params.items()}
    if "bytes" in params:
        values["size"] = f"{int(params['bytes']) / 1_000_000:g}"
    try:
        return _(text).format(**values)
    except (KeyError, IndexError, ValueError):  # a value the service did not send: its own words
        return message
