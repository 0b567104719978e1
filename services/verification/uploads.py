"""Reading uploaded proof documents: multipart/form-data (a browser form) or JSON with base64 content (an
API client), with a size limit per document, a count limit and the accepted types (PDF, JPEG, PNG).

The body is read as it streams in and refused as soon as it passes a limit, so an oversized upload never
sits in memory (multipart is parsed part by part with python-multipart, as FastAPI does). A document's type
is what its first bytes say (magic numbers), and it must be the type declared: an executable declared as
application/pdf is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

# the accepted types and the bytes each file format starts with
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
ACCEPTED_TYPES = tuple(MAGIC)
FORM_ROOM = 64_000  # headers, boundaries and plain form fields beside the documents


class BadUpload(ValueError):
    """The upload cannot be accepted; the message says why (HTTP 4xx), and `kind` with `params` say it for the
    registrant's page to put in the registrant's language (services/console/registrant/texts.py)."""

    def __init__(self, message: str, status: int = 422, kind: str = "malformed", **params: Any) -> None:
        super().__init__(message)
        self.status, self.kind, self.params = status, kind, params


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:  # never the content (identity documents) in logs or tracebacks
        return f"Upload(filename={self.filename!r}, content_type={self.content_type!r}, size={len(self.data)})"


def sniffed_type(data: bytes) -> str | None:
    """The accepted type the content's first bytes belong to, if any."""
    return next((kind for kind, starts in MAGIC.items() if data.startswith(starts)), None)


def _check(uploads: list[Upload], max_bytes: int, max_count: int) -> list[Upload]:
    if not uploads:
        raise BadUpload("no document in the upload", kind="no_document")
    if len(uploads) > max_count:
        raise BadUpload(f"at most {max_count} documents per upload", kind="too_many", count=max_count)
    for u in uploads:
        if u.content_type not in ACCEPTED_TYPES:
            raise BadUpload(f"{u.filename}: {u.content_type or 'unknown type'} is not accepted "
                            f"(one of {', '.join(ACCEPTED_TYPES)})", 415, "type", filename=u.filename)
        if not u.data:
            raise BadUpload(f"{u.filename}: empty document", kind="empty", filename=u.filename)
        if len(u.data) > max_bytes:
            raise BadUpload(f"{u.filename}: larger than {max_bytes} bytes", 413, "too_large", filename=u.filename,
                            bytes=max_bytes)
        actual = sniffed_type(u.data)
        if actual != u.content_type:
            raise BadUpload(f"{u.filename}: the content is {actual or 'not a PDF, JPEG or PNG'}, "
                            f"not {u.content_type}", 415, "content", filename=u.filename)
    return uploads


async def _read_at_most(body: AsyncIterator[bytes], limit: int) -> bytes:
    received = bytearray()
    async for chunk in body:
        received += chunk
        if len(received) > limit:
            raise BadUpload("upload too large", 413, "upload_too_large")
    return bytes(received)


def _from_json(body: bytes) -> list[Upload]:
    try:
        data = json.loads(body)
        items = data["documents"]
        return [Upload(str(i.get("filename") or "document")[:200], str(i.get("content_type", "")),
                       base64.b64decode(i["content_base64"], validate=True)) for i in items]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise BadUpload('expected {"documents": [{"filename", "content_type", "content_base64"}]}') from exc


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    filename: str | None = None
    content_type: str = ""


class _MultipartReader:
    """python-multipart's streaming parser with the limits applied as the parts arrive."""

    def __init__(self, boundary: bytes, max_bytes: int, max_count: int) -> None:
        self.max_bytes, self.max_count = max_bytes, max_count
        self.uploads: list[Upload] = []
        self.part = _Part()
        self.field, self.value = b"", b""
        self.form_bytes = 0
        self.parser = MultipartParser(boundary, {
            "on_part_begin": self._begin, "on_part_data": self._data, "on_part_end": self._end,
            "on_header_field": self._header_field, "on_header_value": self._header_value,
            "on_header_end": self._header_end, "on_headers_finished": self._headers_finished,
        })

    def _begin(self) -> None:
        self.part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def _header_end(self) -> None:
        self.part.headers[self.field.lower()] = self.value
        self.field, self.value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        filename = options.get(b"filename")
        if filename is not None:
            if len(self.uploads) >= self.max_count:
                raise BadUpload(f"at most {self.max_count} documents per upload", kind="too_many", count=self.max_count)
            self.part.filename = filename.decode("utf-8", "replace")[:200] or "document"
            kind, _ = parse_options_header(self.part.headers.get(b"content-type", b""))
            self.part.content_type = kind.decode("latin-1").lower()

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.part.filename is None:  # a plain form field: counted, not kept
            self.form_bytes += end - start
            if self.form_bytes > FORM_ROOM:
                raise BadUpload("upload too large", 413, "upload_too_large")
            return
        self.part.data += data[start:end]
        if len(self.part.data) > self.max_bytes:
            raise BadUpload(f"{self.part.filename}: larger than {self.max_bytes} bytes", 413, "too_large",
                            filename=self.part.filename, bytes=self.max_bytes)

    def _end(self) -> None:
        if self.part.filename is not None:
            self.uploads.append(Upload(self.part.filename, self.part.content_type, bytes(self.part.data)))


async def _from_multipart(content_type: str, body: AsyncIterator[bytes], max_bytes: int, max_count: int,
                          limit: int) -> list[Upload]:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadUpload("malformed multipart body: no boundary")
    reader = _MultipartReader(boundary, max_bytes, max_count)
    received = 0
    try:
        async for chunk in body:
            received += len(chunk)
            if received > limit:  # bytes outside any part (preamble, epilogue) count too
                raise BadUpload("upload too large", 413, "upload_too_large")
            reader.parser.write(chunk)
        reader.parser.finalize()
    except MultipartParseError as exc:
        raise BadUpload(f"malformed multipart body: {exc}") from exc
    return reader.uploads


async def read_uploads(content_type: str, body: AsyncIterator[bytes], max_bytes: int, max_count: int,
                       content_length: int | None = None) -> list[Upload]:
    """Read and check the documents of an upload from its body as it streams in."""
    # base64 in JSON takes 4/3 of the documents' size; a multipart body a little more than them
    limit = (max_bytes * max_count) * 4 // 3 + FORM_ROOM
    if content_length is not None and content_length > limit:
        raise BadUpload("upload too large", 413, "upload_too_large")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return _check(_from_json(await _read_at_most(body, limit)), max_bytes, max_count)
    if kind == "multipart/form-data":
        return _check(await _from_multipart(content_type, body, max_bytes, max_count, limit), max_bytes, max_count)
    raise BadUpload("send multipart/form-data or application/json", 415)
