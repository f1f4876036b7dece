"""File downloads with a Chinese-safe filename (RFC 5987) and an ETag, so phones re-use them."""
from __future__ import annotations

import hashlib
import io

from flask import Response, request, send_file

from .fields import NOT_ONE_LINE


def download(data: bytes, filename: str, mimetype: str, *, private: bool = True) -> Response:
    """Send ``data`` as an attachment; answers 304 when the client already has these bytes."""
    filename = NOT_ONE_LINE.sub("", filename)  # a header cannot carry them
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=filename, etag=hashlib.sha256(data).hexdigest(),
                         conditional=True, max_age=0)
    response.cache_control.private = private
    response.cache_control.no_cache = True  # revalidate with the ETag every time
    return response.make_conditional(request)
