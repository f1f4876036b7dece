"""The product under gunicorn on PostgreSQL, on loopback: the quick form of the load benchmark,
a worker SIGKILLed in the middle of a photo upload, and every database connection killed while
inspectors submit. PostgreSQL only (it is what production runs); skipped, saying why, without it.
"""
from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from ..benchmarks import load
from ..benchmarks._server import LiveServer, postgres_reason
from ..helpers import jpeg

pytestmark = pytest.mark.slow


@pytest.fixture
def server():
    """A fresh database and gunicorn per test: each plans its own load campaign, and a second
    self-check campaign over the same months is refused (one self-check a cycle)."""
    reason = postgres_reason()
    if reason:
        pytest.skip(f"PostgreSQL not reachable for the live tests: {reason}")
    with LiveServer(workers=3, threads=4) as live:
        yield live


def test_quick_load_loses_nothing_and_duplicates_nothing(server):
    """Do 20 inspectors with photos, impatient timeouts and deliberate replays end with every
    inspection and photo stored exactly once, and no 5xx?"""
    result = load.run(server, 20)
    print(load.summary(result))
    assert result["lost"] == 0 and result["duplicated"] == 0, result["notes"]
    assert result["figures_off"] == 0, result["notes"]  # rankings agree with the inspections
    assert result["errors_5xx"] == 0, result["statuses"]
    assert result["timeouts"] > 0  # the impatient clients really did retry


def _raw_upload_head(server, token: str, inspection_id: int, item: str, client_id: str,
                     data: bytes) -> tuple[socket.socket, bytes]:
    """Open a connection and send headers plus the first half of a multipart photo upload."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n"
            f"{client_id}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"item_code\"\r\n\r\n{item}\r\n--{boundary}\r\nContent-Disposition: "
            f"form-data; name=\"file\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /api/v1/inspections/{inspection_id}/photos HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    half = len(body) // 2
    sock.sendall(head + body[:half])
    return sock, body[half:]


def test_worker_killed_mid_upload_leaves_nothing_and_the_retry_succeeds(server):
    """If the gunicorn worker dies while a photo is still streaming in, is nothing stored, and
    does the client's retry with the same client id store the photo exactly once?"""
    base = server.base_url
    people = load.prepare(server, 1)
    person = people[0]
    token = person.headers["Authorization"].split()[1]
    form = requests.get(f"{base}/api/v1/inspections/{person.inspection_id}",
                        headers=person.headers, timeout=30).json()
    item = form["checklist"]["items"][0]["code"]
    client_id, data = str(uuid.uuid4()), jpeg(31, (1200, 900)) + b""
    sock, rest = _raw_upload_head(server, token, person.inspection_id, item, client_id, data)
    time.sleep(0.5)  # the worker is now reading the body
    killed = server.kill_workers()
    assert killed
    try:
        sock.sendall(rest)
        answer = sock.recv(1024)
    except OSError:
        answer = b""
    finally:
        sock.close()
    assert not answer.startswith(b"HTTP/1.1 2"), answer[:200]
    with server.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM photos WHERE client_id = :c"),
                              {"c": client_id}).scalar()
    assert stored == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the master starts new workers
        try:
            # as patient as gunicorn's worker timeout: the retry waits in the listen queue
            # while three new workers import the app, which can pass 10 s on a busy machine;
            # a retry given up on would still be stored, and the next one would get 200
            retry = requests.post(f"{base}/api/v1/inspections/{person.inspection_id}/photos",
                                  headers=person.headers, timeout=30,
                                  data={"client_id": client_id, "item_code": item},
                                  files={"file": ("p.jpg", data, "image/jpeg")})
            if retry.status_code < 500:
                break
        except requests.RequestException:
            pass
        time.sleep(0.3)
    assert retry.status_code == 201, retry.text
    again = requests.post(f"{base}/api/v1/inspections/{person.inspection_id}/photos",
                          headers=person.headers, timeout=10,
                          data={"client_id": client_id, "item_code": item},
                          files={"file": ("p.jpg", data, "image/jpeg")})
    assert again.status_code == 200
    with server.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM photos WHERE client_id = :c"),
                            {"c": client_id}).scalar() == 1
        status = conn.execute(sa.text("SELECT status FROM inspections WHERE id = :i"),
                              {"i": person.inspection_id}).scalar()
        answers = conn.execute(sa.text("SELECT count(*) FROM inspection_answers "
                                       "WHERE inspection_id = :i"),
                               {"i": person.inspection_id}).scalar()
    assert status in ("assigned", "in_progress") and answers == 0


def test_database_dropping_connections_under_load_causes_retries_not_loss(server, monkeypatch):
    """When every database connection is killed again and again while inspectors submit
    (what a database restart looks like to the app), do clients retry into success with
    nothing lost or doubled? (Last in the module: it may leave workers busy for a while.)"""
    kills = []
    monkeypatch.setattr(load, "REQUEST_TIMEOUT", 8)  # a request stuck on a dead connection
    # is retried sooner

    def chaos(stop: threading.Event):
        while not stop.is_set() and len(kills) < 4:
            time.sleep(0.6)
            kills.append(server.terminate_connections())

    result = load.run(server, 8, chaos=chaos)
    print(load.summary(result), "killed:", kills, result["statuses"])
    assert sum(kills) > 0, "no connection was ever killed: the test proved nothing"
    # a lost connection is a 503 "try again" (errors.database_unavailable), never a crash
    assert {status for status in result["statuses"] if status >= 500} <= {503}, server.log()
    assert result["lost"] == 0 and result["duplicated"] == 0, result["notes"]
