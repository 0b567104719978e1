"""The console's words in English, Dutch and French. English is the key; a missing translation shows English.

The menu, headings and buttons are here; the pages' other texts are in services/console/catalogue.py.
The language is the user's choice (the switch in the header), else the registrar's first language."""

from __future__ import annotations

from collections.abc import Callable

from services.console.catalogue import TEXTS
from services.console.refusals import Phrase

LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands", "fr": "Français"}

_NL: dict[str, str] = {
    "Registrar": "Registrar", "Profile": "Profiel", "Product URLs": "Product-URL's", "EPP settings": "EPP-instellingen",
    "E-mail addresses": "E-mailadressen", "Users": "Gebruikers", "Hitpoints": "Hitpoints", "Top 100": "Top 100",
    "Top 30": "Top 30", "Change password": "Wachtwoord wijzigen", "Login attempts": "Aanmeldpogingen",
    "My registrations": "Mijn registraties", "Contacts": "Contacten", "Domains": "Domeinnamen",
    "Name server groups": "Naamservergroepen", "Key groups": "Sleutelgroepen", "Reports": "Rapporten",
    "Messages": "Berichten", "Balance": "Saldo", "Lock complaints": "Vergrendelingsklachten",
    "Sign in": "Aanmelden", "Sign out": "Afmelden", "User ID": "Gebruikers-ID", "Password": "Wachtwoord",
    "2-step code": "Code voor 2-stapsverificatie", "Language": "Taal", "Update": "Bijwerken", "Save": "Opslaan",
    "Search": "Zoeken", "New": "Nieuw", "Delete": "Verwijderen", "Create": "Aanmaken", "Cancel": "Annuleren",
    "Home": "Start", "2-step verification": "Tweestapsverificatie", "Skip to content": "Naar de inhoud",
    "Your account is blocked until": "Uw account is geblokkeerd tot",
    "Sign-in refused": "Aanmelden geweigerd", "Saved.": "Opgeslagen.", "Required fields are marked with an asterisk (*).":
    "Verplichte velden zijn aangeduid met een sterretje (*).", "Result code": "Resultaatcode", "Reference": "Referentie",
    "Menu": "Menu",
}
_FR: dict[str, str] = {
    "Registrar": "Registrar", "Profile": "Profil", "Product URLs": "URL des produits", "EPP settings": "Paramètres EPP",
    "E-mail addresses": "Adresses e-mail", "Users": "Utilisateurs", "Hitpoints": "Hitpoints", "Top 100": "Top 100",
    "Top 30": "Top 30", "Change password": "Modifier le mot de passe", "Login attempts": "Tentatives de connexion",
    "My registrations": "Mes enregistrements", "Contacts": "Contacts", "Domains": "Noms de domaine",
    "Name server groups": "Groupes de serveurs de noms", "Key groups": "Groupes de clés", "Reports": "Rapports",
    "Messages": "Messages", "Balance": "Solde", "Lock complaints": "Plaintes de verrouillage",
    "Sign in": "Se connecter", "Sign out": "Se déconnecter", "User ID": "Identifiant", "Password": "Mot de passe",
    "2-step code": "Code de vérification en 2 étapes", "Language": "Langue", "Update": "Mettre à jour",
    "Save": "Enregistrer", "Search": "Rechercher", "New": "Nouveau", "Delete": "Supprimer", "Create": "Créer",
    "Cancel": "Annuler", "Home": "Accueil", "2-step verification": "Vérification en 2 étapes",
    "Skip to content": "Aller au contenu", "Your account is blocked until": "Votre compte est bloqué jusqu'au",
    "Sign-in refused": "Connexion refusée", "Saved.": "Enregistré.",
    "Required fields are marked with an asterisk (*).": "Les champs obligatoires sont marqués d'un astérisque (*).",
    "Result code": "Code de résultat", "Reference": "Référence", "Menu": "Menu",
}
_NL |= {en: nl for en, nl, _fr in TEXTS}
_FR |= {en: fr for en, _nl, fr in TEXTS}
CATALOGUES = {"en": {}, "nl": _NL, "fr": _FR}


def translator(language: str) -> Callable[[str], str]:
    catalogue = CATALOGUES.get(language, {})

    def _(text: str) -> str:
        if isinstance(text, Phrase):  # a service's refusal in words: its key and values (refusals.py)
            return text.say(_)
        return catalogue.get(text, text)

    return _
