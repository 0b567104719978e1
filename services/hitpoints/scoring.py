"""How many hitpoints a failed command costs (digest section 2; the seed: "bad EPP commands or invalid web
forms" count, and resending a faulty command scores again).

  1  any refusal of a transform command: create/update/delete contact, create/update/delete/transfer/
     undelete/reactivate domain, create/update/delete name-server group and key group; also a
     request-auth-code refusal that the .be documentation tags [HITPOINT] (all but the send limit
     "there were already 4 e-mails ..." and syntax errors, 2001)
  10 a domain create refused with 2302 "Object exists" (registered, in quarantine or on hold)
  0  a domain create within CREATE_GRACE_SECONDS (10) after another registrar registered the name: a
     lost race for a released name is not a fault
  0  a domain transfer of a name whose name servers were removed by the revoke procedure (the registrar
     is moving the domain out of trouble)
  0  a refusal whose cause is in UNSCORED_CAUSES ("registrar_blocked"): while blocked every command is
     refused before it is looked at; counting those would extend the block for as long as the
     registrar's software retries. The block runs 24 hours from the last *faulty* command.
  0  queries (info, check) and everything else not listed: they change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from shared.events.commands import CommandType

OBJECT_EXISTS = 2302
COMMAND_SYNTAX_ERROR = 2001

TRANSFORM_COMMANDS = frozenset({
    CommandType.NEW_CONTACT, CommandType.UPD_CONTACT, CommandType.DEL_CONTACT,
    CommandType.NEW_DOMAIN, CommandType.UPD_DOMAIN, CommandType.DEL_DOMAIN, CommandType.TRANSFER_DOMAIN,
    CommandType.UNDELETE_DOMAIN, CommandType.REACTIVATE_DOMAIN,
    CommandType.NEW_NSGROUP, CommandType.UPD_NSGROUP, CommandType.DEL_NSGROUP,
    CommandType.NEW_KEYGROUP, CommandType.UPD_KEYGROUP, CommandType.DEL_KEYGROUP,
})
# the one request-auth-code refusal the .be documentation does not tag [HITPOINT]
_SEND_LIMIT_MESSAGE = "e-mails sent to this registrant"


class Rule(StrEnum):
    """Which rule decided; a metric label and the reason shown with an offending transaction."""

    FAULTY_COMMAND = "faulty_command"
    NAME_EXISTS = "name_exists"
    AUTH_CODE_REQUEST = "auth_code_request"
    NOT_A_TRANSFORM = "not_a_transform"
    UNSCORED_CAUSE = "unscored_cause"
    LOST_CREATE_RACE = "lost_create_race"
    REVOKED_NAME_SERVERS = "revoked_name_servers"


@dataclass(frozen=True)
class ScoringRules:
    faulty_command: int = 1
    name_exists: int = 10
    create_grace: timedelta = timedelta(seconds=10)
    unscored_causes: frozenset[str] = field(default_factory=lambda: frozenset({"registrar_blocked"}))


@dataclass(frozen=True)
class Failure:
    """What scoring needs of a command.failed."""

    registrar_id: str
    command: CommandType
    result_code: int
    message: str
    cause: str | None
    object: str
    occurred_at: datetime


@dataclass(frozen=True)
class Creation:
    """The last registration of a name (domain.created)."""

    registrar_id: str
    at: datetime


@dataclass(frozen=True)
class Score:
    points: int
    rule: Rule


def _unscored_cause(failure: Failure, rules: ScoringRules) -> bool:
    return failure.cause is not None and failure.cause in rules.unscored_causes


def needs_last_creation(failure: Failure, rules: ScoringRules) -> bool:
    """Whether the score can depend on the name's last registration (a lost create race): the handler reads
    the registrations only for the failures that need them."""
    return failure.command is CommandType.NEW_DOMAIN and not _unscored_cause(failure, rules)


def needs_revoked(failure: Failure, rules: ScoringRules) -> bool:
    """Whether the score can depend on the name's name servers having been revoked."""
    return failure.command is CommandType.TRANSFER_DOMAIN and not _unscored_cause(failure, rules)


def score(failure: Failure, rules: ScoringRules, *, last_creation: Creation | None = None,
          name_servers_revoked: bool = False) -> Score:
    if _unscored_cause(failure, rules):
        return Score(0, Rule.UNSCORED_CAUSE)
    if failure.command is CommandType.REQUEST_AUTHCODE:
        untagged = failure.result_code == COMMAND_SYNTAX_ERROR or _SEND_LIMIT_MESSAGE in failure.message
        return Score(0 if untagged else rules.faulty_command, Rule.AUTH_CODE_REQUEST)
    if failure.command not in TRANSFORM_COMMANDS:
        return Score(0, Rule.NOT_A_TRANSFORM)
    if failure.command is CommandType.NEW_DOMAIN and last_creation is not None \
            and last_creation.registrar_id != failure.registrar_id \
            and timedelta(0) <= failure.occurred_at - last_creation.at <= rules.create_grace:
        return Score(0, Rule.LOST_CREATE_RACE)
    if failure.command is CommandType.TRANSFER_DOMAIN and name_servers_revoked:
        return Score(0, Rule.REVOKED_NAME_SERVERS)
    if failure.command is CommandType.NEW_DOMAIN and failure.result_code == OBJECT_EXISTS:
        return Score(rules.name_exists, Rule.NAME_EXISTS)
    return Score(rules.faulty_command, Rule.FAULTY_COMMAND)
