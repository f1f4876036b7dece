"""The browser tests' live server finishes the requests a closed page left running before the
test's database engine is disposed (a connection returned to a disposed pool is never closed:
psycopg's ResourceWarning would then fail some later test)."""
from __future__ import annotations

import threading
import time
import urllib.request

from werkzeug.serving import make_server

from .conftest import _InFlight


def test_teardown_waits_for_requests_still_running():
    release, finished = threading.Event(), threading.Event()

    def slow_app(environ, start_response):
        release.wait(timeout=10)
        finished.set()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    in_flight = _InFlight(slow_app)
    server = make_server("127.0.0.1", 0, in_flight, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=5).read(),
                     daemon=True).start()
    deadline = time.monotonic() + 5
    while in_flight.count == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert in_flight.count == 1

    server.shutdown()
    server.server_close()
    serving.join(timeout=5)
    assert not finished.is_set()  # the server stopped; the request is still running
    threading.Timer(0.3, release.set).start()
    in_flight.wait(timeout=5)
    assert finished.is_set() and in_flight.count == 0
