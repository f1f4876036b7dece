"""What a photo upload cannot avoid, against a whole sign-in page request, in one process.

Run with ``python -m tests.benchmarks.upload_floor``. It explains the load benchmark's ratio:
``python -m tests.benchmarks.load`` compares the requests of inspectors at work (four in five
are photo uploads) with ``GET /login``. This script times, single-threaded and without any
network or database, the parts of an upload that no framework or query tuning can remove,
on the load benchmark's own photos:

- ``parse``: reading the multipart body (Werkzeug, as Flask does);
- ``pipeline``: :func:`~inspect_app.evidence.imaging.process_photo` — sniffing, the full
  decode that proves the file is not truncated, orientation, both renditions, SHA-256, dhash;
- ``store``: writing the original and both renditions durably (temporary file, fsync,
  rename, fsync of the folder), as :class:`~inspect_app.evidence.storage.LocalStorage` does;

and the baseline, a complete ``GET /login`` through the application (test client: routing,
session, CSRF token, template, security headers). The last line is machine-readable::

    upload_floor: login_ms=<n> parse_ms=<n> pipeline_ms=<n> store_ms=<n> floor_ms=<n> floor_vs_login=<x>

For the load benchmark to reach half the sign-in page's throughput, an average request may
cost about twice a sign-in page; ``floor_vs_login`` says how far the unavoidable part of an
upload alone already is from that. Nothing here asserts on time.
"""
from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from inspect_app.evidence.imaging import process_photo
from inspect_app.evidence.storage import LocalStorage

from .load import photo_bytes

ROUNDS = 300


def median_ms(work: Callable[[int], object], rounds: int = ROUNDS) -> float:
    times = []
    for index in range(rounds):
        started = time.perf_counter()
        work(index)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def login_ms(root: str) -> float:
    from inspect_app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{root}/floor.sqlite3",
                      "SECRET_KEY": "benchmark", "PHOTO_STORAGE_ROOT": f"{root}/photos",
                      "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    client.get("/login")  # first request: lazy imports, template compilation

    def one(_):
        response = client.get("/login")
        assert response.status_code == 200

    return median_ms(one)


def main() -> None:
    photos = [photo_bytes(seed) for seed in range(ROUNDS)]
    with tempfile.TemporaryDirectory(prefix="upload-floor-") as root:
        login = login_ms(root)

        def parse(index):
            environ = EnvironBuilder(method="POST", data={
                "client_id": "00000000-0000-4000-8000-000000000000", "item_code": "ENV-01",
                "file": (io.BytesIO(photos[index]), "p.jpg", "image/jpeg")}).get_environ()
            request = Request(environ)
            return request.form, request.files["file"].read()

        processed = []
        parse_time = median_ms(parse)
        pipeline = median_ms(lambda index: processed.append(process_photo(photos[index])))
        storage = LocalStorage(f"{root}/store")

        def store(index):
            done = processed[index]
            storage.put(photos[index], content_type=done.content_type)
            storage.put(done.display, content_type="image/jpeg")
            storage.put(done.thumbnail, content_type="image/jpeg")

        store_time = median_ms(store)
    floor = parse_time + pipeline + store_time
    print(f"photo: {len(photos[0]) // 1024} KB JPEG, 320×240 (the load benchmark's)")
    print(f"upload_floor: login_ms={login:.2f} parse_ms={parse_time:.2f} "
          f"pipeline_ms={pipeline:.2f} store_ms={store_time:.2f} floor_ms={floor:.2f} "
          f"floor_vs_login={floor / login:.1f}", flush=True)


if __name__ == "__main__":
    main()
