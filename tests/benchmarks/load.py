"""Load with retries: many inspectors submit inspections with photos against gunicorn + PostgreSQL.

Run with ``python -m tests.benchmarks.load`` (200 inspectors) or ``--quick`` (20). It starts the
product under gunicorn (4 workers × 4 threads) on a scratch PostgreSQL database with the demo
branch and a monthly self-check campaign, all on 127.0.0.1, then:

1. measures the plain sign-in page (``GET /login``) with the same client concurrency: the
   baseline throughput of this machine and server;
2. lets every simulated inspector open its assignment, upload the photos its answers need (each
   with a client UUID), re-send one photo on purpose, submit with an ``Idempotency-Key``, and
   replay the submission on purpose. The photos are taken before the clock starts, as a
   phone's camera would: making them is not the server's work, and on one machine it would
   eat into the server's share of the CPU. Some first submissions use a timeout too short to
   succeed; every timeout, connection error, 5xx, 409 "in progress" or 429 is retried with the
   *same* keys;
3. checks the database: every inspection submitted exactly once (one score, one audit entry,
   its answers and its finding), every acknowledged photo stored exactly once.

The last line is exactly::

    load: requests=<n> rps=<n> p50_ms=<n> p99_ms=<n> errors_5xx=<n> lost=<n> duplicated=<n>

Targets (issue 9): lost=0, duplicated=0, errors_5xx=0, rps ≥ half the baseline's. Bounded:
every request has a timeout, every retry loop a limit, and the run a deadline.

Where the time goes: both phases also measure the CPU time (user + system, from ``/proc``)
that gunicorn's workers, the database's backends and this client spend per request. Server and
client share this machine's cores, so when both phases keep the cores busy, throughput is the
cores divided by the CPU cost of a request, and ``cpu_ratio`` — a sign-in page's total cost over
an inspector's request's — is the rps ratio that cost allows, whatever the tuning of gunicorn.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import requests
import sqlalchemy as sa
from PIL import Image

from inspect_app.i18n import local_today

from ._server import LiveServer, postgres_reason

DEMO_PASSWORD = "Demo@2026"
RETRYABLE = {409, 429, 500, 502, 503, 504}
MAX_ATTEMPTS = 10
REQUEST_TIMEOUT = 30


class Stats:
    """Every HTTP exchange's latency and status, from all threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.timeouts = 0
        self.retries = 0

    def add(self, seconds: float, status: int | None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if status is None:
                self.timeouts += 1
            else:
                self.statuses[status] += 1

    @property
    def errors_5xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by gunicorn's workers, the database's backends and this process (the
    client) between ``start`` and ``stop``. A process that appears meanwhile (a restarted worker,
    a new connection) counts from zero; one that is killed meanwhile loses its share."""

    PARTS = ("gunicorn", "postgres", "client")

    def __init__(self, server: LiveServer):
        self.server = server
        self.spent = dict.fromkeys(self.PARTS, 0.0)
        self.elapsed = 0.0
        self._start: dict = {}

    def _processes(self) -> dict[str, dict[int, float]]:
        pids = {"gunicorn": self.server.worker_pids(), "postgres": self.server.backend_pids()}
        return {part: {pid: cpu for pid in pids[part]
                       if (cpu := _cpu_seconds(pid)) is not None} for part in pids}

    def start(self) -> None:
        self._start = self._processes()
        self._client, self._wall = time.process_time(), time.perf_counter()

    def stop(self) -> None:
        self.elapsed = time.perf_counter() - self._wall
        self.spent["client"] = time.process_time() - self._client
        for part, now in self._processes().items():
            before = self._start.get(part, {})
            self.spent[part] = sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())

    @contextlib.contextmanager
    def measuring(self):
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def per_request_ms(self, requests_made: int) -> dict[str, float]:
        """Milliseconds of CPU per request, by part and in total."""
        ms = {part: self.spent[part] * 1000 / max(1, requests_made) for part in self.PARTS}
        return {**ms, "total": sum(ms.values())}

    def busy(self) -> float:
        """How much of the machine's cores these processes kept busy (0–1)."""
        return sum(self.spent.values()) / max(1e-9, self.elapsed * (os.cpu_count() or 1))

    def describe(self, requests_made: int) -> str:
        ms = self.per_request_ms(requests_made)
        return " ".join(f"{part}={value:.1f}" for part, value in ms.items()) + \
            f" busy={self.busy():.0%}"


def call(session: requests.Session, stats: Stats, method: str, url: str, *,
         retry: bool = True, timeout: float | None = None, ok: Callable = None,
         **kwargs) -> requests.Response:
    """One request, retried with the same content on timeouts, dropped connections, 5xx,
    409 (in progress) and 429. ``kwargs['files']`` may be a callable (re-opened per try)."""
    last: Exception | None = None
    timeout = timeout or REQUEST_TIMEOUT
    for attempt in range(MAX_ATTEMPTS if retry else 1):
        args = dict(kwargs)
        if callable(args.get("files")):
            args["files"] = args["files"]()
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=timeout, **args)
        except (requests.Timeout, requests.ConnectionError) as exc:
            stats.add(time.perf_counter() - started, None)
            last, timeout = exc, REQUEST_TIMEOUT  # the retry gets a normal timeout
        else:
            stats.add(time.perf_counter() - started, response.status_code)
            if response.status_code not in RETRYABLE or (ok and ok(response)):
                return response
            last = RuntimeError(f"{method} {url}: {response.status_code} {response.text[:200]}")
        with stats.lock:
            stats.retries += 1
        time.sleep(min(2.0, 0.05 * 2 ** attempt) * (0.5 + random.random()))
    raise RuntimeError(f"gave up after {MAX_ATTEMPTS} attempts: {last}")


def photo_bytes(seed: int) -> bytes:
    """A small camera-like JPEG, different for every inspector and item."""
    rng = random.Random(seed)
    image = Image.effect_noise((320, 240), 40 + rng.randrange(40)).convert("RGB")
    image = Image.blend(image, Image.new("RGB", image.size, tuple(rng.randrange(256)
                                                                  for _ in range(3))), 0.6)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Apple", "iPhone 15", "2026:10:15 10:20:30"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return buffer.getvalue()


def passing_value(item: dict):
    kind, config = item["response_type"], item["config"]
    if kind == "pass_fail":
        return "pass"
    if kind == "scale":
        return config["max"]
    if kind == "number":
        return config["limit"]
    if kind == "deduction":
        return 0
    return "无"


def planned_answers(items: list[dict]) -> tuple[dict, list[int]]:
    """The answers an inspector gives (all passing but one ordinary pass/fail item) and the
    positions of the items that then need a photo."""
    fail = next(i["code"] for i in items if i["response_type"] == "pass_fail" and not i["red_line"])
    answers = {i["code"]: {"value": passing_value(i), "note": None} for i in items}
    answers[fail] = {"value": "fail", "note": "负载测试：发现问题"}
    positions = [position for position, item in enumerate(items)
                 if item["photo_rule"] == "required"
                 or (item["photo_rule"] == "on_fail" and answers[item["code"]]["value"] == "fail")]
    return answers, positions


@dataclass
class Inspector:
    """One simulated inspector and what the server acknowledged to it."""

    index: int
    inspection_id: int
    headers: dict
    #: the photos its phone has taken (made before the clock starts: the camera is not the
    #: server's work), by item position
    photos: dict = field(default_factory=dict)
    photos_acknowledged: set = field(default_factory=set)
    form_items: int = 0
    submitted: bool = False
    error: str | None = None


def inspect(base: str, stats: Stats, person: Inspector, *, replay: bool,
            impatient: bool) -> None:
    """Open the assignment, attach photos, submit (maybe impatiently), replay on purpose."""
    session = requests.Session()
    session.headers.update(person.headers)
    try:
        url = f"{base}/api/v1/inspections/{person.inspection_id}"
        form = call(session, stats, "GET", url).json()
        items = form["checklist"]["items"]
        person.form_items = len(items)
        answers, positions = planned_answers(items)
        uploads = [(items[position]["code"], str(uuid.uuid4()),
                    person.photos.get(position) or photo_bytes(person.index * 1000 + position))
                   for position in positions]
        if replay and uploads:
            uploads.append(uploads[0])  # the same photo again, same client id
        for code, client_id, data in uploads:
            response = call(session, stats, "POST", f"{url}/photos",
                            data={"client_id": client_id, "item_code": code},
                            files=lambda data=data: {"file": ("p.jpg", io.BytesIO(data),
                                                              "image/jpeg")})
            if response.status_code not in (200, 201):
                raise RuntimeError(f"photo refused: {response.status_code} {response.text[:200]}")
            person.photos_acknowledged.add(client_id)
        key = str(uuid.uuid4())
        body = {"answers": answers}
        headers = {"Idempotency-Key": key}
        response = call(session, stats, "POST", f"{url}/submit", json=body, headers=headers,
                        timeout=0.01 if impatient else None)
        if response.status_code != 200:
            raise RuntimeError(f"submit refused: {response.status_code} {response.text[:200]}")
        person.submitted = True
        if replay:
            again = call(session, stats, "POST", f"{url}/submit", json=body, headers=headers)
            if again.status_code != 200 or again.json() != response.json():
                raise RuntimeError(f"replay differs: {again.status_code} {again.text[:200]}")
    except Exception as exc:  # recorded; the database check counts the damage
        person.error = f"{type(exc).__name__}: {exc}"
    finally:
        session.close()


def baseline(base: str, threads: int, total: int) -> float:
    """Requests per second for GET /login with ``threads`` concurrent clients."""
    per_thread = max(1, total // threads)

    def worker(_):
        with requests.Session() as session:
            for _ in range(per_thread):
                session.get(f"{base}/login", timeout=REQUEST_TIMEOUT).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return per_thread * threads / (time.perf_counter() - started)


def prepare(server: LiveServer, count: int) -> list[Inspector]:
    """A monthly self-check campaign, ``count`` open assignments and a token per assignee."""
    base = server.base_url
    token = requests.post(f"{base}/api/v1/auth/token", timeout=REQUEST_TIMEOUT,
                          json={"username": "fwgl", "password": DEMO_PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    checklist = requests.get(f"{base}/api/v1/checklists?status=published", headers=headers,
                             timeout=REQUEST_TIMEOUT).json()["items"][0]["id"]
    # Monthly self-checks of the last six months, each open for submission now (not before a
    # window opens). The demo's campaign of this month gives the outlets this month's already:
    # those are cancelled first, as a planner replacing it would (one self-check a cycle).
    today = local_today()
    start = date(today.year - (today.month <= 5), (today.month - 6) % 12 + 1, 1)
    with server.engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE inspections SET status = 'cancelled' WHERE mode = 'self_check' "
            "AND campaign_id IS NOT NULL AND status IN ('assigned', 'in_progress')"))
    response = requests.post(f"{base}/api/v1/campaigns", headers=headers, timeout=120, json={
        "name": f"负载测试 {uuid.uuid4().hex[:6]}", "checklist_id": checklist,
        "period_start": start.isoformat(), "period_end": today.isoformat(),
        "modes": ["self_check"], "seed": 1, "settings": {"self_check": {"cycle": "monthly"}}})
    response.raise_for_status()
    campaign = response.json()["id"]
    with server.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT i.id, u.username FROM inspections i JOIN users u ON u.id = i.assignee_id "
            "WHERE i.campaign_id = :c AND i.status = 'assigned' ORDER BY i.id"),
            {"c": campaign}).all()
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} assignments for {count} inspectors")
    rows = rows[:count]
    tokens: dict[str, dict] = {}

    def sign_in(username):
        reply = requests.post(f"{base}/api/v1/auth/token", timeout=REQUEST_TIMEOUT,
                              json={"username": username, "password": DEMO_PASSWORD})
        reply.raise_for_status()
        tokens[username] = {"Authorization": f"Bearer {reply.json()['token']}"}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(sign_in, sorted({username for _, username in rows})))
    people = [Inspector(index, inspection_id, tokens[username])
              for index, (inspection_id, username) in enumerate(rows)]
    # Every assignment holds the same form: take its photos before the clock starts.
    first = people[0]
    form = requests.get(f"{base}/api/v1/inspections/{first.inspection_id}",
                        headers=first.headers, timeout=REQUEST_TIMEOUT).json()
    _, positions = planned_answers(form["checklist"]["items"])
    for person in people:
        person.photos = {position: photo_bytes(person.index * 1000 + position)
                         for position in positions}
    return people


def verify(server: LiveServer, people: list[Inspector]) -> tuple[int, int, int, list[str]]:
    """(lost, duplicated, wrong ranking figures, notes) from the database: what the clients
    were told vs. what is stored."""
    lost = duplicated = 0
    notes = []
    ids = [p.inspection_id for p in people]
    q = {"ids": ids}
    with server.engine.connect() as conn:
        def per_inspection(sql: str) -> dict[int, int]:
            return dict(conn.execute(sa.text(sql).bindparams(sa.bindparam("ids", expanding=True)),
                                     q).all())

        status = per_inspection("SELECT id, status FROM inspections WHERE id IN :ids")
        scores = per_inspection("SELECT inspection_id, count(*) FROM inspection_scores "
                                "WHERE inspection_id IN :ids GROUP BY inspection_id")
        answers = per_inspection("SELECT inspection_id, count(*) FROM inspection_answers "
                                 "WHERE inspection_id IN :ids GROUP BY inspection_id")
        findings = per_inspection("SELECT inspection_id, count(*) FROM findings "
                                  "WHERE inspection_id IN :ids GROUP BY inspection_id")
        audits = dict(conn.execute(sa.text(
            "SELECT object_id, count(*) FROM audit_entries WHERE action = 'inspection.submit' "
            "GROUP BY object_id")).all())
        photos = conn.execute(sa.text(
            "SELECT inspection_id, client_id FROM photos WHERE inspection_id IN :ids")
            .bindparams(sa.bindparam("ids", expanding=True)), q).all()
        # The ranking figures kept at every submission must equal a fresh computation, however
        # the concurrent submissions interleaved.
        from inspect_app.watchlist.period_scores import differences

        figures_off = differences(conn)
    notes += [f"ranking figures: {problem}" for problem in figures_off[:20]]
    stored_photos = Counter(client_id for _, client_id in photos)
    by_inspection = Counter(inspection_id for inspection_id, _ in photos)
    for person in people:
        iid = person.inspection_id
        if person.error:
            notes.append(f"inspector {person.index} (inspection {iid}): {person.error}")
        if status.get(iid) not in ("submitted", "final"):
            lost += 1
            notes.append(f"inspection {iid} not submitted ({status.get(iid)})")
            continue
        duplicated += max(0, scores.get(iid, 0) - 1) + max(0, audits.get(str(iid), 0) - 1)
        duplicated += max(0, findings.get(iid, 0) - 1)
        duplicated += max(0, answers.get(iid, 0) - person.form_items)
        lost += max(0, person.form_items - answers.get(iid, 0))
        lost += sum(1 for cid in person.photos_acknowledged if stored_photos[cid] == 0)
        duplicated += sum(max(0, stored_photos[cid] - 1) for cid in person.photos_acknowledged)
        duplicated += max(0, by_inspection[iid] - len(person.photos_acknowledged))
    return lost, duplicated, len(figures_off), notes


def run(server: LiveServer, inspectors: int, *, threads: int | None = None,
        chaos: Callable[[threading.Event], None] | None = None,
        deadline_s: float = 540, meter: CpuMeter | None = None) -> dict:
    """Drive ``inspectors`` through their assignments; ``chaos`` runs in a thread meanwhile
    (e.g. killing database connections) until the event is set. ``meter`` measures the CPU
    spent while the inspectors work (not the set-up or the check of the database)."""
    people = prepare(server, inspectors)
    stats = Stats()
    stop = threading.Event()
    chaos_thread = threading.Thread(target=chaos, args=(stop,), daemon=True) if chaos else None
    started = time.perf_counter()
    if chaos_thread:
        chaos_thread.start()
    with (meter.measuring() if meter else contextlib.nullcontext()), \
            ThreadPoolExecutor(threads or inspectors) as pool:
        futures = [pool.submit(inspect, server.base_url, stats, person,
                               replay=person.index % 4 == 0, impatient=person.index % 5 == 0)
                   for person in people]
        for future in futures:
            future.result(timeout=max(1, deadline_s - (time.perf_counter() - started)))
    elapsed = time.perf_counter() - started
    stop.set()
    if chaos_thread:
        chaos_thread.join(timeout=10)
    lost, duplicated, figures_off, notes = verify(server, people)
    latencies = sorted(stats.latencies) or [0.0]
    return {
        "requests": len(stats.latencies),
        "rps": len(stats.latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors_5xx": stats.errors_5xx,
        "timeouts": stats.timeouts,
        "retries": stats.retries,
        "lost": lost,
        "duplicated": duplicated,
        "figures_off": figures_off,
        "notes": notes,
        "statuses": dict(stats.statuses),
    }


def summary(result: dict) -> str:
    return (f"load: requests={result['requests']} rps={result['rps']:.0f} "
            f"p50_ms={result['p50_ms']:.0f} p99_ms={result['p99_ms']:.0f} "
            f"errors_5xx={result['errors_5xx']} lost={result['lost']} "
            f"duplicated={result['duplicated']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 inspectors instead of 200")
    parser.add_argument("--inspectors", type=int, help="how many simulated inspectors")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args()
    inspectors = args.inspectors or (20 if args.quick else 200)
    reason = postgres_reason()
    if reason:
        raise SystemExit(f"PostgreSQL is needed for the load benchmark: {reason}")
    with LiveServer(workers=args.workers, threads=4) as server:
        concurrency = min(inspectors, 64)
        baseline(server.base_url, concurrency, concurrency * 4)  # warm up every worker
        sign_in = CpuMeter(server)
        total = 400 if args.quick else 3000
        with sign_in.measuring():
            base_rps = baseline(server.base_url, concurrency, total)
        print(f"baseline: GET /login concurrency={concurrency} rps={base_rps:.0f}", flush=True)
        work = CpuMeter(server)
        result = run(server, inspectors, meter=work)
        for note in result["notes"][:20]:
            print("  ", note)
        login_ms = sign_in.per_request_ms(total // concurrency * concurrency)["total"]
        print(f"cpu_ms_per_request: GET /login {sign_in.describe(total // concurrency * concurrency)}"
              f" | inspectors {work.describe(result['requests'])}"
              f" | cpu_ratio={login_ms / work.per_request_ms(result['requests'])['total']:.2f}",
              flush=True)
        print(f"statuses={result['statuses']} timeouts={result['timeouts']} "
              f"retries={result['retries']} ranking_figures_off={result['figures_off']} "
              f"rps_vs_baseline={result['rps'] / base_rps:.2f} (target ≥ 0.5)", flush=True)
        print(summary(result), flush=True)


if __name__ == "__main__":
    main()
