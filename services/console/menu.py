"""The left menu of seed 000: only what the user's permissions allow ("He will see a menu that corresponds
to the permissions that he has been granted")."""

from __future__ import annotations

from dataclasses import dataclass

from services.console.session import Session

MY_REGISTRATIONS = "MY_REGISTRATIONS"
TRANSACTIONS = "TRANSACTIONS"
VIEW_FINANCIAL = "VIEW_FINANCIAL"
UPDATE_EPP_SETTINGS = "UPDATE_EPP_SETTINGS"


@dataclass(frozen=True)
class Item:
    label: str
    path: str


def menu(session: Session) -> list[tuple[str, list[Item]]]:
    """The sections and their items for this user."""
    if any(p.startswith("staff:") for p in session.permissions):
        return staff_menu(session)
    reads = session.has(MY_REGISTRATIONS)
    registrar: list[Item] = []
    if reads:
        registrar += [Item("Profile", "/registrar/profile"), Item("Product URLs", "/registrar/product-urls"),
                      Item("EPP settings", "/registrar/epp-settings"),
                      Item("E-mail addresses", "/registrar/email-addresses")]
    if session.is_admin:  # the administrator is the only one who manages users
        registrar.append(Item("Users", "/registrar/users"))
    if reads:
        registrar += [Item("Hitpoints", "/registrar/hitpoints"), Item("Top 100", "/registrar/top100"),
                      Item("Top 30", "/registrar/top30")]
    registrar += [Item("Change password", "/registrar/password"), Item("Login attempts", "/registrar/login-attempts"),
                  Item("2-step verification", "/registrar/two-step")]
    registrations: list[Item] = []
    if reads:
        registrations += [Item("Contacts", "/contacts"), Item("Domains", "/domains"),
                          Item("Name server groups", "/groups/nsgroups"), Item("Key groups", "/groups/keygroups"),
                          Item("Lock complaints", "/lock-complaints"), Item("Reports", "/reports"),
                          Item("Messages", "/messages")]
    if session.has(VIEW_FINANCIAL):
        registrations.append(Item("Balance", "/balance"))
    sections = [("Registrar", registrar)]
    if registrations:
        sections.append(("My registrations", registrations))
    return sections


def can_change(session: Session) -> bool:
    """Only 'Access to My registrations' is read-only: no transaction buttons."""
    return session.has(TRANSACTIONS)


def staff_menu(session: Session) -> list[tuple[str, list[Item]]]:
    """Registry staff (services/console/staff): support reviews verifications; operators do everything."""
    support = [Item("Verification queue", "/staff/verification"), Item("Support notices", "/staff/notices"),
               Item("Registrars", "/staff/registrars"), Item("Domains", "/staff/domains")]
    if "staff:operator" not in session.permissions:
        return [("Support", support)]
    return [("Support", support),
            ("Operations", [Item("Applications", "/staff/applications"), Item("Lock complaints", "/staff/lock-complaints"),
                            Item("Staff accounts", "/staff/accounts"), Item("Audit trail", "/staff/audit")])]
