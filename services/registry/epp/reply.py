"""What a command handler answers: the result and the parts of the response it fills."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from services.registry.epp.xml import ResultValue
from services.registry.results import Result


@dataclass
class Reply:
    code: Result = Result.OK
    message: str | None = None  # None: the standard text of the code
    res_data: etree._Element | None = None
    extension: etree._Element | None = None
    msgq: tuple[int, str] | None = None  # (count, id) for poll
    poll_message: tuple[str, str, str] | None = None  # (qDate, msg, its language) of the message msgq announces
    close: bool = False  # logout, or an error after which the server closes the connection
    value: ResultValue | None = None  # the element an error is about (RFC 5730 2.6)
