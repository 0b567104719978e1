"""Reading uploaded proof documents: multipart/form-data (a browser form) or JSON with base64 content (an
API client), with a size limit per document, a count limit and the accepted types (PDF, JPEG, PNG)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

ACCEPTED_TYPES = ("application/pdf", "image/jpeg", "image/png")


class BadUpload(ValueError):
    """The upload cannot be accepted; the message says why (HTTP 4xx)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def _check(uploads: list[Upload], max_bytes: int, max_count: int) -> list[Upload]:
    if not uploads:
        raise BadUpload("no document in the upload")
    if len(uploads) > max_count:
        raise BadUpload(f"at most {max_count} documents per upload")
    for u in uploads:
        if u.content_type not in ACCEPTED_TYPES:
            raise BadUpload(f"{u.filename}: {u.content_type or 'unknown type'} is not accepted "
                            f"(one of {', '.join(ACCEPTED_TYPES)})", 415)
        if not u.data:
            raise BadUpload(f"{u.filename}: empty document")
        if len(u.data) > max_bytes:
            raise BadUpload(f"{u.filename}: larger than {max_bytes} bytes", 413)
    return uploads


def _from_json(body: bytes) -> list[Upload]:
    try:
        data = json.loads(body)
        items = data["documents"]
        return [Upload(str(i.get("filename") or "document")[:200], str(i.get("content_type", "")),
                       base64.b64decode(i["content_base64"], validate=True)) for i in items]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise BadUpload('expected {"documents": [{"filename", "content_type", "content_base64"}]}') from exc


def _from_multipart(content_type: str, body: bytes) -> list[Upload]:
    message: Message = BytesParser(policy=HTTP).parsebytes(  # type: ignore[assignment]
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    if not message.is_multipart():
        raise BadUpload("malformed multipart body")
    uploads = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        if part.get_filename() is None:
            continue  # a plain form field
        uploads.append(Upload(part.get_filename()[:200], part.get_content_type(), part.get_payload(decode=True) or b""))
    return uploads


def read_uploads(content_type: str, body: bytes, max_bytes: int, max_count: int) -> list[Upload]:
    # the whole body is bounded before parsing: documents plus some room for the encoding
    if len(body) > (max_bytes * max_count) * 4 // 3 + 64_000:
        raise BadUpload("upload too large", 413)
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return _check(_from_json(body), max_bytes, max_count)
    if kind == "multipart/form-data":
        return _check(_from_multipart(content_type, body), max_bytes, max_count)
    raise BadUpload("send multipart/form-data or application/json", 415)
