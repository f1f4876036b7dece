"""File downloads with a Chinese-safe filename (RFC 5987) and an ETag, so phones re-use them."""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from urllib.parse import quote

from flask import Response, request, send_file

from .fields import NOT_ONE_LINE

#: The words our file names begin with, for clients that read only the plain ``filename``.
ASCII_WORDS = {"整改清单": "rectification-list", "检查报告": "inspection-report",
               "服务质量周通报": "weekly-bulletin", "服务质量月总结": "monthly-summary",
               "全部支行": "all-subbranches", "检查表": "checklist"}


def ascii_fallback(filename: str) -> str:
    """The file name for an old client that cannot read ``filename*``: our known words in
    English, other Chinese dropped, separators tidied — ``整改清单_路北支行_2026-10-01.pdf`` →
    ``rectification-list_2026-10-01.pdf`` rather than ``__2026-10-01.pdf``."""
    for chinese, english in ASCII_WORDS.items():
        filename = filename.replace(chinese, english)
    stem, dot, extension = filename.rpartition(".")
    stem = unicodedata.normalize("NFKD", stem if dot else filename)
    stem = stem.encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9.-]+", "_", stem)
    stem = re.sub(r"_*-_*", "-", stem).strip("_-.") or "download"
    return f"{stem}.{extension}" if dot else stem


def name_attachment(response: Response, filename: str) -> None:
    """Name a ``send_file`` attachment: ``filename*`` in UTF-8 (RFC 5987) for every current
    client, and :func:`ascii_fallback` as the plain ``filename`` for the others."""
    if not filename.isascii():
        response.headers.set("Content-Disposition", "attachment", **{
            "filename": ascii_fallback(filename),
            "filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")})


def download(data: bytes, filename: str, mimetype: str, *, private: bool = True) -> Response:
    """Send ``data`` as an attachment; answers 304 when the client already has these bytes."""
    filename = NOT_ONE_LINE.sub("", filename)  # a header cannot carry them
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=filename, etag=hashlib.sha256(data).hexdigest(),
                         conditional=True, max_age=0)
    name_attachment(response, filename)
    response.cache_control.private = private
    response.cache_control.no_cache = True  # revalidate with the ETag every time
    return response.make_conditional(request)
