"""Hostile input, generated: Schemathesis drives every operation of ``/api/v1/openapi.json``
with requests made from the documented schemas (valid and deliberately invalid ones) as a
signed-in service manager, and checks that nothing answers 5xx and every answer matches the
documented response schema.

The run is bounded: ``SCHEMATHESIS_EXAMPLES`` examples per operation (default 6) and a time
budget per database of ``SCHEMATHESIS_SECONDS`` (default 45).
"""
from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[test]'")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402

from inspect_app.auth.models import User  # noqa: E402
from inspect_app.auth.operations import issue_token  # noqa: E402
from inspect_app.extensions import db  # noqa: E402

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "6"))
BUDGET_SECONDS = float(os.environ.get("SCHEMATHESIS_SECONDS", "45"))

#: Operations that would end the run's own credentials: revoking the token in use.
SKIPPED = {("DELETE", "/api/v1/auth/token")}


def isolated(app):
    """A WSGI callable running each request in its own app context (its own database
    session), as gunicorn would, although the test holds an app context of its own."""

    def wsgi(environ, start_response):
        with app.app_context():
            return list(app(environ, start_response))

    return wsgi


def fresh_bearer(app) -> dict:
    """A new token for the service manager (a generated DELETE may revoke the previous one)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
        secret, _ = issue_token(user, "schemathesis")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_generated_requests_never_crash_and_match_the_documented_schemas(app, campaign):
    """Do hundreds of generated (also malformed) requests against every documented operation
    get no 5xx and only answers that match the OpenAPI document?"""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated(app))
    started = time.monotonic()
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        if time.monotonic() - started > BUDGET_SECONDS:
            break  # the budget is spent; the order of operations is fixed, so runs compare
        tried += 1

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers=fresh_bearer(app))
            case.validate_response(response, checks=[not_a_server_error,
                                                     response_schema_conformance])

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # report every failing operation, not only the first
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}"[:3000])
    assert tried > 20, f"only {tried} operations were exercised"
    assert not failures, "\n\n".join(failures)
