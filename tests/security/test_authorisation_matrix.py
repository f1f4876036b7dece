"""Who may call what: every endpoint × every role × own/other org unit, from the URL map.

The table :data:`EXPECTED` has one row per (method, rule) of ``app.url_map`` (static files and
the OpenAPI document aside). A new endpoint without a row fails every test here,
naming the endpoint, so nothing can be added without deciding who may call it.

Answer classes:

- ``2xx`` — allowed and done; ``3xx`` — a page sending the visitor elsewhere (sign-in);
- ``ok`` — allowed: 2xx, or refused for the object's *state* or *content* (409, or 422 with a
  domain code), never for access — used where the first allowed call changes the state;
- ``401`` anonymous, ``403`` visible but not allowed, ``404`` invisible to the caller.

A cell ``"2xx/404"`` is (own subject / other subject): own = 路北支行营业室 TS-LB-01's object (or
the caller's own assignment, token, account), other = a 路南 outlet's (or someone else's). The
subjects come from the ``world`` fixture in ``conftest.py``.

Field-level rules are checked on every JSON answer each role receives during its run: GPS and
the app's capture facts only for service managers; the mystery shopper never named to the
outlet side.
"""
from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import RoleGrant, User
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import Inspection
from inspect_app.orgs.models import OrgUnit

from ..conftest import next_quarter
from ..helpers import demo_branch, jpeg
from ..inspections.test_campaign_pages import plan_form
from ..watchlist.test_rules_page import rules_form
from .conftest import ROLES, SUBJECT_PAIRS, _team

#: Rules the matrix does not cover, and why.
EXCLUDED_ENDPOINTS = {
    "static": "public assets by design",
    "api-docs.openapi_json": "the public API description",
}

COLUMNS = ("anonymous",) + ROLES


def row(*cells: str) -> dict[str, str]:
    assert len(cells) == len(COLUMNS), cells
    return dict(zip(COLUMNS, cells))


# Columns:        anonymous  admin     fwgl      zh.lubei   wd.lb01    jc.lubei1  jc.fenhang1 smr1
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    # -- pages ------------------------------------------------------------------------------
    ("GET", "/"): row("3xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/login"): row("2xx", "3xx", "3xx", "3xx", "3xx", "3xx", "3xx", "3xx"),
    ("POST", "/login"): row("3xx", "3xx", "3xx", "3xx", "3xx", "3xx", "3xx", "3xx"),
    ("POST", "/logout"): row("3xx", "3xx", "3xx", "3xx", "3xx", "3xx", "3xx", "3xx"),
    # The PWA's pages are shells filled from the API: any signed-in person gets the shell, the
    # data behind it follows the API's rules (rows below).
    ("GET", "/tasks"): row("3xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/tasks/<int:inspection_id>"): row(
        "3xx", "2xx/2xx", "2xx/2xx", "2xx/2xx", "2xx/2xx", "2xx/2xx", "2xx/2xx", "2xx/2xx"),
    ("GET", "/results"): row("3xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/results/<int:inspection_id>"): row(
        "3xx", "2xx/2xx", "2xx/2xx", "2xx/2xx", "2xx/2xx", "2xx/2xx", "2xx/2xx", "2xx/2xx"),
    ("GET", "/rectification"): row("3xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/appeals"): row("3xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    # The CSRF token for the scripts: only for a cookie session (a bearer token needs none).
    ("GET", "/app/session"): row("401", "401", "401", "401", "401", "401", "401", "401"),
    ("GET", "/sw.js"): row("2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    # The health check a gateway probes: public, and says nothing but "ok".
    ("GET", "/healthz"): row("2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/manifest.webmanifest"): row("2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx",
                                          "2xx"),
    # -- me, tokens, people -----------------------------------------------------------------
    ("GET", "/api/v1/me"): row("401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("POST", "/api/v1/auth/token"): row("2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("DELETE", "/api/v1/auth/token"): row("401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx",
                                          "2xx"),
    ("GET", "/api/v1/auth/tokens"): row("401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("DELETE", "/api/v1/auth/tokens/<int:token_id>"): row(
        "401", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404"),
    ("GET", "/api/v1/users"): row("401", "2xx", "2xx", "2xx", "404", "404", "404", "404"),
    ("POST", "/api/v1/users"): row("401", "2xx", "403", "403", "404", "403", "403", "404"),
    ("GET", "/api/v1/users/<int:user_id>"): row(
        "401", "2xx/2xx", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404"),
    ("PATCH", "/api/v1/users/<int:user_id>"): row(
        "401", "2xx/2xx", "403/403", "403/404", "403/404", "403/404", "403/404", "403/404"),
    # -- organisation and audit -------------------------------------------------------------
    ("GET", "/api/v1/org-units"): row("401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("POST", "/api/v1/org-units"): row("401", "2xx", "403", "403", "404", "403", "403", "404"),
    ("GET", "/api/v1/org-units/<int:unit_id>"): row(
        "401", "2xx/2xx", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/2xx", "404/404"),
    ("PATCH", "/api/v1/org-units/<int:unit_id>"): row(
        "401", "2xx/2xx", "403/403", "403/404", "403/404", "403/404", "403/403", "404/404"),
    ("GET", "/api/v1/audit-entries"): row("401", "2xx", "2xx", "403", "403", "403", "403",
                                          "403"),
    # -- checklists -------------------------------------------------------------------------
    ("GET", "/api/v1/checklists"): row("401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("POST", "/api/v1/checklists"): row("401", "2xx", "2xx", "403", "403", "403", "403",
                                        "403"),
    ("POST", "/api/v1/checklists/import"): row("401", "2xx", "2xx", "403", "403", "403", "403",
                                               "403"),
    ("GET", "/api/v1/checklists/<int:checklist_id>"): row(
        "401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("PUT", "/api/v1/checklists/<int:checklist_id>"): row(
        "401", "ok", "ok", "403", "403", "403", "403", "403"),
    ("GET", "/api/v1/checklists/<int:checklist_id>/export.json"): row(
        "401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/api/v1/checklists/<int:checklist_id>/export.xlsx"): row(
        "401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("POST", "/api/v1/checklists/<int:checklist_id>/publish"): row(
        "401", "ok", "ok", "403", "403", "403", "403", "403"),
    ("POST", "/api/v1/checklists/<int:checklist_id>/retire"): row(
        "401", "2xx", "2xx", "403", "403", "403", "403", "403"),
    ("POST", "/api/v1/checklists/<int:checklist_id>/versions"): row(
        "401", "2xx", "2xx", "403", "403", "403", "403", "403"),
    # -- campaigns and teams ----------------------------------------------------------------
    ("GET", "/api/v1/campaigns"): row("401", "403", "2xx", "403", "403", "403", "403", "403"),
    ("POST", "/api/v1/campaigns"): row("401", "403", "2xx", "403", "403", "403", "403", "403"),
    ("GET", "/api/v1/campaigns/<int:campaign_id>"): row(
        "401", "404", "2xx", "404", "404", "404", "404", "404"),
    ("GET", "/api/v1/teams"): row("401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("POST", "/api/v1/teams"): row("401", "403", "2xx", "403", "403", "403", "403", "403"),
    # own/other = 路北支行's team / 路南支行's team; a planner of the branch changes either
    ("PATCH", "/api/v1/teams/<int:team_id>"): row(
        "401", "403/403", "2xx/2xx", "403/404", "404/404", "403/404", "403/403", "404/404"),
    # -- inspections --------------------------------------------------------------------------
    ("GET", "/api/v1/inspections"): row("401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/api/v1/inspections/<int:inspection_id>"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404"),
    ("PUT", "/api/v1/inspections/<int:inspection_id>/draft"): row(
        "401", "404/404", "403/403", "404/404", "404/404", "2xx/404", "2xx/404", "2xx/404"),
    ("POST", "/api/v1/inspections/<int:inspection_id>/submit"): row(
        "401", "404/404", "403/403", "404/404", "404/404", "ok/404", "ok/404", "ok/404"),
    ("POST", "/api/v1/inspections/<int:inspection_id>/return"): row(
        "401", "404/404", "ok/ok", "403/404", "403/404", "403/404", "403/404", "403/404"),
    ("POST", "/api/v1/inspections/<int:inspection_id>/finalise"): row(
        "401", "404/404", "ok/ok", "403/404", "403/404", "403/404", "403/404", "403/404"),
    ("POST", "/api/v1/inspections/<int:inspection_id>/reassign"): row(
        "401", "404/404", "2xx/2xx", "404/404", "404/404", "403/404", "403/404", "403/404"),
    ("POST", "/api/v1/inspections/<int:inspection_id>/reschedule"): row(
        "401", "404/404", "2xx/2xx", "404/404", "404/404", "403/404", "403/404", "403/404"),
    ("POST", "/api/v1/inspections/<int:inspection_id>/cancel"): row(
        "401", "404/404", "2xx/2xx", "404/404", "404/404", "403/404", "403/404", "403/404"),
    ("POST", "/api/v1/findings/<int:finding_id>/appeals"): row(
        "401", "404/404", "403/403", "403/404", "ok/404", "403/404", "403/404", "403/404"),
    ("GET", "/api/v1/appeals"): row("401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("POST", "/api/v1/appeals/<int:appeal_id>/decide"): row(
        "401", "404/404", "2xx/2xx", "403/404", "403/404", "403/404", "403/404", "403/404"),
    # -- photo evidence -----------------------------------------------------------------------
    ("GET", "/api/v1/inspections/<int:inspection_id>/photos"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404"),
    ("POST", "/api/v1/inspections/<int:inspection_id>/photos"): row(
        "401", "404/404", "403/403", "404/404", "404/404", "2xx/404", "2xx/404", "2xx/404"),
    ("GET", "/api/v1/photos/<int:photo_id>"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404"),
    ("GET", "/api/v1/photos/<int:photo_id>/<string:rendition>"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404"),
    ("DELETE", "/api/v1/photos/<int:photo_id>"): row(
        "401", "404/404", "403/403", "404/404", "404/404", "2xx/404", "2xx/404", "2xx/404"),
    # -- printable reports of one inspection: whoever may read the inspection gets a copy
    # (reviewer copy for service managers, the outlet-facing copy for everyone else) ---------
    ("GET", "/api/v1/inspections/<int:inspection_id>/report.pdf"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404"),
    ("GET", "/api/v1/inspections/<int:inspection_id>/rectification-list.pdf"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "2xx/404"),
    # -- rectification: own = the item of the role's own subject (see SUBJECT_PAIRS), other =
    # the other one's. The outlet fixes; sub-branch/service managers and the original
    # inspector decide (items are open, so a decision is refused for the state: "ok");
    # service managers move deadlines and order re-inspections; a shopper sees no item -----
    ("GET", "/api/v1/rectification/items"): row(
        "401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/api/v1/rectification/items.xlsx"): row(
        "401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/api/v1/rectification/counts"): row(
        "401", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx", "2xx"),
    ("GET", "/api/v1/rectification/items/<int:item_id>"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "2xx/404", "2xx/404", "404/404"),
    ("POST", "/api/v1/rectification/items/<int:item_id>/photos"): row(
        "401", "404/404", "403/403", "403/404", "2xx/404", "403/404", "403/404", "404/404"),
    ("POST", "/api/v1/rectification/items/<int:item_id>/submit"): row(
        "401", "404/404", "403/403", "403/404", "2xx/404", "403/404", "403/404", "404/404"),
    ("POST", "/api/v1/rectification/items/<int:item_id>/accept"): row(
        "401", "404/404", "ok/ok", "ok/404", "403/404", "ok/404", "ok/404", "404/404"),
    ("POST", "/api/v1/rectification/items/<int:item_id>/reject"): row(
        "401", "404/404", "ok/ok", "ok/404", "403/404", "ok/404", "ok/404", "404/404"),
    ("POST", "/api/v1/rectification/items/<int:item_id>/close"): row(
        "401", "404/404", "ok/ok", "ok/404", "403/404", "ok/404", "ok/404", "404/404"),
    ("POST", "/api/v1/rectification/items/<int:item_id>/deadline"): row(
        "401", "404/404", "2xx/2xx", "403/404", "403/404", "403/404", "403/404", "404/404"),
    ("POST", "/api/v1/rectification/items/<int:item_id>/responsible"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "403/404", "403/404", "404/404"),
    ("POST", "/api/v1/rectification/reinspections"): row(
        "401", "404", "2xx", "403", "403", "403", "403", "404"),
    # lists: own/other sub-branch 路北 TS-LB / 路南 TS-LN; the campaign's list unfiltered (own)
    # or filtered to 路南 (other)
    ("GET", "/api/v1/rectification/lists/subbranches/<int:unit_id>.pdf"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "404/404", "404/404", "404/404", "404/404"),
    ("GET", "/api/v1/rectification/lists/campaigns/<int:campaign_id>.pdf"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "404/404", "404/404", "404/404"),
    # export jobs: own = started by fwgl, other = by fwgl2 (another service manager)
    ("POST", "/api/v1/rectification/exports"): row(
        "401", "403", "2xx", "403", "403", "403", "403", "403"),
    ("GET", "/api/v1/rectification/exports/<int:job_id>"): row(
        "401", "404/404", "2xx/404", "404/404", "404/404", "404/404", "404/404", "404/404"),
    ("GET", "/api/v1/rectification/exports/<int:job_id>/download"): row(
        "401", "404/404", "2xx/404", "404/404", "404/404", "404/404", "404/404", "404/404"),
    # -- watch-list and managers' figures: reading needs reports.read (service managers all,
    # sub-branch / outlet managers their own units), changing needs watchlist.manage; own/other
    # entry = TS-LB-01's / TS-LN-01's ----------------------------------------------------------
    ("GET", "/api/v1/watchlist"): row("401", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    # listing a unit by hand (人工列入): watchlist.manage, refused before the unit is looked up
    ("POST", "/api/v1/watchlist"): row("401", "403", "2xx", "403", "403", "403", "403", "403"),
    ("GET", "/api/v1/watchlist/<int:entry_id>"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "404/404", "404/404", "404/404"),
    ("POST", "/api/v1/watchlist/<int:entry_id>/actions"): row(
        "401", "404/404", "2xx/2xx", "403/404", "403/404", "404/404", "404/404", "404/404"),
    ("POST", "/api/v1/watchlist/<int:entry_id>/exit"): row(
        "401", "404/404", "2xx/2xx", "403/404", "403/404", "404/404", "404/404", "404/404"),
    ("GET", "/api/v1/watchlist/rules"): row(
        "401", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    ("PUT", "/api/v1/watchlist/rules"): row(
        "401", "403", "2xx", "403", "403", "403", "403", "403"),
    ("POST", "/api/v1/watchlist/evaluate"): row(
        "401", "403", "2xx", "403", "403", "403", "403", "403"),
    ("POST", "/api/v1/queue-data"): row("401", "403", "2xx", "403", "403", "403", "403", "403"),
    ("GET", "/api/v1/dashboard/rankings"): row(
        "401", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    ("GET", "/api/v1/dashboard/failed-items"): row(
        "401", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    ("GET", "/api/v1/dashboard/mode-comparison"): row(
        "401", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    # own/other = ?unit_id= TS-LB-01 / TS-LN-01
    ("GET", "/api/v1/dashboard/trend"): row(
        "401", "404/404", "2xx/2xx", "2xx/404", "2xx/404", "404/404", "404/404", "404/404"),
    ("GET", "/api/v1/bulletins"): row("401", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    ("GET", "/api/v1/bulletins.pdf"): row(
        "401", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    ("GET", "/api/v1/bulletins.xlsx"): row(
        "401", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    # managers' pages: sign-in first, then reports.read (403 without it). A reader without
    # watchlist.manage who posts a follow-up gets the page again with the refusal (2xx, nothing
    # recorded: test_authorisation_matrix checks that afterwards).
    ("GET", "/manage/watchlist"): row("3xx", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    # 列入名单 and 立即评估 on the list's page: watchlist.manage (a reader is refused, 403)
    ("POST", "/manage/watchlist"): row("3xx", "403", "3xx", "403", "403", "403", "403", "403"),
    ("POST", "/manage/watchlist/evaluate"): row(
        "3xx", "403", "3xx", "403", "403", "403", "403", "403"),
    ("GET", "/manage/watchlist/<int:entry_id>"): row(
        "3xx", "403/403", "2xx/2xx", "2xx/404", "2xx/404", "403/403", "403/403", "403/403"),
    ("POST", "/manage/watchlist/<int:entry_id>"): row(
        "3xx", "403/403", "3xx/3xx", "403/404", "403/404", "403/403", "403/403", "403/403"),
    ("GET", "/manage/rankings"): row("3xx", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    ("GET", "/manage/trend/<int:unit_id>"): row(
        "3xx", "403/403", "2xx/2xx", "2xx/404", "2xx/404", "403/403", "403/403", "403/403"),
    ("GET", "/manage/bulletin"): row("3xx", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    ("GET", "/manage/lists"): row("3xx", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    # the watch-list rules: read with reports.read, tuned with watchlist.manage (a reader who
    # posts is refused before the form is read)
    ("GET", "/manage/rules"): row("3xx", "403", "2xx", "2xx", "2xx", "403", "403", "403"),
    ("POST", "/manage/rules"): row("3xx", "403", "3xx", "403", "403", "403", "403", "403"),
    # the campaigns pages: campaigns.manage (service managers) only
    ("GET", "/manage/campaigns"): row("3xx", "403", "2xx", "403", "403", "403", "403", "403"),
    ("POST", "/manage/campaigns"): row("3xx", "403", "3xx", "403", "403", "403", "403", "403"),
    ("GET", "/manage/campaigns/<int:campaign_id>"): row(
        "3xx", "403", "2xx", "403", "403", "403", "403", "403"),
    # one assignment of the campaign (own/other = the open spot check of TS-LB-01 / TS-LN-01):
    # reassigned to the same inspector and moved as the API moves it; cancelled after the API
    # has cancelled it, so refused for its state (409, "ok")
    ("GET", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>"): row(
        "3xx", "403/403", "2xx/2xx", "403/403", "403/403", "403/403", "403/403", "403/403"),
    ("POST", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/reassign"): row(
        "3xx", "403/403", "3xx/3xx", "403/403", "403/403", "403/403", "403/403", "403/403"),
    ("POST", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/reschedule"): row(
        "3xx", "403/403", "3xx/3xx", "403/403", "403/403", "403/403", "403/403", "403/403"),
    ("POST", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/cancel"): row(
        "3xx", "403/403", "ok/ok", "403/403", "403/403", "403/403", "403/403", "403/403"),
    # the forms' addresses opened as pages (a refused form reloaded): back to the task's page
    ("GET", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/reassign"): row(
        "3xx", "403/403", "3xx/3xx", "403/403", "403/403", "403/403", "403/403", "403/403"),
    ("GET", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/reschedule"): row(
        "3xx", "403/403", "3xx/3xx", "403/403", "403/403", "403/403", "403/403", "403/403"),
    ("GET", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/cancel"): row(
        "3xx", "403/403", "3xx/3xx", "403/403", "403/403", "403/403", "403/403", "403/403"),
    # the standards pages: checklists.manage (service managers and administrators) only. The
    # world's checklist is published, so publishing it again is refused (409, "ok"); retiring
    # comes after the API has retired it, and is refused the same way.
    ("GET", "/manage/standards"): row("3xx", "2xx", "2xx", "403", "403", "403", "403", "403"),
    # the audit log as a page: whoever reads it through the API (audit.read)
    ("GET", "/manage/audit"): row("3xx", "2xx", "2xx", "403", "403", "403", "403", "403"),
    # people as pages: read with users.read, changed with users.manage (administrators), never
    # one's own account. The changes post forms the page refuses (422: a weak password, no
    # confirmation, no role, the last role), so no one is signed out or locked out by the run.
    ("GET", "/manage/people"): row("3xx", "2xx", "2xx", "2xx", "403", "403", "403", "403"),
    ("POST", "/manage/people"): row("3xx", "3xx", "403", "403", "403", "403", "403", "403"),
    ("GET", "/manage/people/<int:user_id>"): row(
        "3xx", "2xx/2xx", "2xx/2xx", "2xx/404", "403/403", "403/403", "403/403", "403/403"),
    ("POST", "/manage/people/<int:user_id>/password"): row(
        "3xx", "403/422", "403/403", "403/404", "403/403", "403/403", "403/403", "403/403"),
    ("POST", "/manage/people/<int:user_id>/active"): row(
        "3xx", "403/422", "403/403", "403/404", "403/403", "403/403", "403/403", "403/403"),
    ("POST", "/manage/people/<int:user_id>/roles"): row(
        "3xx", "403/422", "403/403", "403/404", "403/403", "403/403", "403/403", "403/403"),
    ("POST", "/manage/people/<int:user_id>/roles/<int:grant_id>/remove"): row(
        "3xx", "403/422", "403/403", "403/404", "403/403", "403/403", "403/403", "403/403"),
    # the forms' addresses opened as pages (a refused change reloaded): back to the person's
    # page, which decides who may see it (a redirect says nothing of the person)
    ("GET", "/manage/people/<int:user_id>/password"): row(
        "3xx", "3xx/3xx", "3xx/3xx", "3xx/3xx", "403/403", "403/403", "403/403", "403/403"),
    ("GET", "/manage/people/<int:user_id>/active"): row(
        "3xx", "3xx/3xx", "3xx/3xx", "3xx/3xx", "403/403", "403/403", "403/403", "403/403"),
    ("GET", "/manage/people/<int:user_id>/roles"): row(
        "3xx", "3xx/3xx", "3xx/3xx", "3xx/3xx", "403/403", "403/403", "403/403", "403/403"),
    ("GET", "/manage/people/<int:user_id>/roles/<int:grant_id>/remove"): row(
        "3xx", "3xx/3xx", "3xx/3xx", "3xx/3xx", "403/403", "403/403", "403/403", "403/403"),
    ("GET", "/manage/standards/<int:checklist_id>"): row(
        "3xx", "2xx", "2xx", "403", "403", "403", "403", "403"),
    ("POST", "/manage/standards/import"): row(
        "3xx", "3xx", "3xx", "403", "403", "403", "403", "403"),
    ("POST", "/manage/standards/<int:checklist_id>/publish"): row(
        "3xx", "ok", "ok", "403", "403", "403", "403", "403"),
    ("POST", "/manage/standards/<int:checklist_id>/retire"): row(
        "3xx", "ok", "ok", "403", "403", "403", "403", "403"),
    # the forms' addresses opened as pages (a refusal reloaded): the standards page, a version's
    ("GET", "/manage/standards/import"): row(
        "3xx", "3xx", "3xx", "403", "403", "403", "403", "403"),
    ("GET", "/manage/standards/<int:checklist_id>/publish"): row(
        "3xx", "3xx", "3xx", "403", "403", "403", "403", "403"),
    ("GET", "/manage/standards/<int:checklist_id>/retire"): row(
        "3xx", "3xx", "3xx", "403", "403", "403", "403", "403"),
}


# -- how to address each endpoint ---------------------------------------------------------


@dataclass
class Call:
    """How to call one endpoint: which subject fills ``<inspection_id>`` and the like, what
    body to send, and when (reads first, state changes next, destruction last)."""

    inspection: str = "inspection_done"
    photo: str = "photo_done"
    json: Callable[[Any], Any] | None = None
    form: Callable[[Any], dict] | None = None
    headers: dict = field(default_factory=dict)
    order: int | None = None
    #: Query string (own/other aware through ``ctx.which``).
    query: Callable[[Any], dict] | None = None
    #: Which org units fill ``<unit_id>`` (own, other).
    units: tuple[str, str] = ("TS-LB-01", "TS-LN-01")


def _unit_id(code: str) -> int:
    return db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))


def _user_id(username: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.username == username))


def _draft(ctx) -> dict:
    return {"version": db.session.get(Inspection, ctx.subject_id).version, "answers": {}}


def _reassign(ctx) -> dict:
    inspection = db.session.get(Inspection, ctx.subject_id)
    return {"reason": "矩阵测试：原人员不变", "assignee_id": inspection.assignee_id,
            "team_id": inspection.team_id}


def _checklist_document(ctx) -> dict:
    from inspect_app.checklists.models import Checklist

    document = db.session.get(Checklist, ctx.world["checklist"]).to_document()
    return {**document, "key": f"matrix-{uuid.uuid4().hex[:8]}"}


def _xlsx(ctx) -> dict:
    from inspect_app.checklists.models import Checklist
    from inspect_app.checklists.spreadsheet import export_xlsx

    data = export_xlsx(db.session.get(Checklist, ctx.world["checklist"]).to_document())
    return {"file": (io.BytesIO(data), "standard.xlsx"), "name": "矩阵测试检查表"}


def _after_photos(item_id: int) -> list[int]:
    from inspect_app.evidence.models import Photo

    return list(db.session.scalars(sa.select(Photo.id).where(
        Photo.rectification_item_id == item_id))) or [2**31 - 1]  # a valid id, no such photo


def _responsible(item_id: int) -> int:
    from inspect_app.rectification.models import RectificationItem

    return db.session.get(RectificationItem, item_id).responsible_id


def _rules(ctx) -> dict:
    from inspect_app.watchlist.operations import active_rule_set

    current = active_rule_set(demo_branch())
    return {"rules": current.rules["rules"], "exit": current.rules["exit"],
            "period_days": current.period_days, "note": "矩阵测试：规则不变"}


def _moved_window(ctx) -> dict[str, str]:
    """A day in from each end of the open assignments' window (this quarter): inside the
    campaign's period, and a different window."""
    start, end = ctx.world["window"]
    return {"due_start": (start + timedelta(days=1)).isoformat(),
            "due_end": (end - timedelta(days=1)).isoformat()}


def _in_days(days: int) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


CALLS: dict[tuple[str, str], Call] = {
    ("POST", "/login"): Call(form=lambda ctx: {"username": ctx.login_name,
                                               "password": DEMO_PASSWORD}, order=5),
    ("POST", "/logout"): Call(form=lambda ctx: {}, order=5),
    ("POST", "/api/v1/auth/token"): Call(json=lambda ctx: {"username": ctx.login_name,
                                                           "password": DEMO_PASSWORD}),
    ("DELETE", "/api/v1/auth/token"): Call(order=9),
    ("DELETE", "/api/v1/auth/tokens/<int:token_id>"): Call(order=8),
    ("POST", "/api/v1/users"): Call(json=lambda ctx: {
        "username": "matrix.user", "display_name": "矩阵测试", "password": "Matrix2026x",
        "grants": [{"role": "inspector", "org_unit_id": _unit_id("TS-LB")}]}),
    ("PATCH", "/api/v1/users/<int:user_id>"): Call(json=lambda ctx: {"phone": "13800000000"}),
    ("POST", "/api/v1/org-units"): Call(json=lambda ctx: {
        "kind": "outlet", "code": "TS-LB-99", "name": "矩阵测试网点",
        "parent_id": _unit_id("TS-LB")}),
    ("PATCH", "/api/v1/org-units/<int:unit_id>"): Call(json=lambda ctx: {"address": "矩阵测试地址"}),
    ("POST", "/api/v1/checklists"): Call(json=_checklist_document),
    ("PUT", "/api/v1/checklists/<int:checklist_id>"): Call(json=_checklist_document),
    ("POST", "/api/v1/checklists/import"): Call(form=_xlsx),
    ("POST", "/api/v1/checklists/<int:checklist_id>/versions"): Call(json=lambda ctx: {}),
    ("POST", "/api/v1/checklists/<int:checklist_id>/retire"): Call(order=8),
    ("POST", "/api/v1/campaigns"): Call(json=lambda ctx: {
        "name": "矩阵测试计划", "checklist_id": ctx.world["checklist"],
        "period_start": next_quarter()[0].isoformat(),
        "period_end": next_quarter()[1].isoformat(),
        "modes": ["spot_check"],
        "seed": 7, "settings": {"spot_check": {"size": 2}}}),
    ("POST", "/api/v1/teams"): Call(json=lambda ctx: {
        "name": "矩阵测试组", "subbranch_id": _unit_id("TS-LB"),
        "member_ids": [_user_id("jc.lubei2")]}),
    ("PATCH", "/api/v1/teams/<int:team_id>"): Call(json=lambda ctx: {}),  # changes nothing
    ("PUT", "/api/v1/inspections/<int:inspection_id>/draft"): Call(
        inspection="inspection_open", json=_draft),
    ("POST", "/api/v1/inspections/<int:inspection_id>/submit"): Call(
        inspection="inspection_open", json=lambda ctx: {"answers": {}},
        headers={"Idempotency-Key": "0b6f8a52-3c1e-4f7e-9a51-6f1e2d3c4b5a"}),
    ("POST", "/api/v1/inspections/<int:inspection_id>/return"): Call(
        json=lambda ctx: {"reason": "矩阵测试：请补充说明"}),
    ("POST", "/api/v1/inspections/<int:inspection_id>/reassign"): Call(
        inspection="inspection_open", json=_reassign),
    ("POST", "/api/v1/inspections/<int:inspection_id>/reschedule"): Call(
        inspection="inspection_open", json=lambda ctx: {
            "reason": "矩阵测试：改期", **_moved_window(ctx)}),
    ("POST", "/api/v1/inspections/<int:inspection_id>/cancel"): Call(
        inspection="inspection_open", json=lambda ctx: {"reason": "矩阵测试：取消"}, order=8),
    ("POST", "/api/v1/findings/<int:finding_id>/appeals"): Call(
        json=lambda ctx: {"category": "other", "text": "矩阵测试：再次申诉该问题"}),
    ("POST", "/api/v1/appeals/<int:appeal_id>/decide"): Call(
        json=lambda ctx: {"decision": "upheld", "note": "矩阵测试：维持"}),
    ("POST", "/api/v1/inspections/<int:inspection_id>/photos"): Call(
        inspection="inspection_open", form=lambda ctx: {
            "client_id": str(uuid.uuid4()), "item_code": ctx.first_item,
            "file": (io.BytesIO(jpeg(ctx.subject_id)), "p.jpg")}),
    ("DELETE", "/api/v1/photos/<int:photo_id>"): Call(photo="photo_open", order=8),
    ("POST", "/api/v1/rectification/items/<int:item_id>/photos"): Call(form=lambda ctx: {
        "client_id": str(uuid.uuid4()),
        "file": (io.BytesIO(jpeg(10_000 + ctx.params["item_id"])), "after.jpg")}),
    ("POST", "/api/v1/rectification/items/<int:item_id>/submit"): Call(json=lambda ctx: {
        "note": "矩阵测试：已整改", "photo_ids": _after_photos(ctx.params["item_id"])}),
    ("POST", "/api/v1/rectification/items/<int:item_id>/accept"): Call(
        json=lambda ctx: {"note": "矩阵测试：验收"}),
    ("POST", "/api/v1/rectification/items/<int:item_id>/reject"): Call(
        json=lambda ctx: {"reason": "矩阵测试：退回"}),
    ("POST", "/api/v1/rectification/items/<int:item_id>/close"): Call(
        json=lambda ctx: {"note": "矩阵测试：关闭"}),
    ("POST", "/api/v1/rectification/items/<int:item_id>/deadline"): Call(
        json=lambda ctx: {"deadline": _in_days(30), "reason": "矩阵测试：延期"}),
    ("POST", "/api/v1/rectification/items/<int:item_id>/responsible"): Call(
        json=lambda ctx: {"responsible_id": _responsible(ctx.params["item_id"]),
                          "reason": "矩阵测试：责任人不变"}),
    # before the items' state changes (a closed item needs no re-inspection)
    ("POST", "/api/v1/rectification/reinspections"): Call(order=0, json=lambda ctx: {
        "item_ids": [ctx.world["item"][SUBJECT_PAIRS.get(ctx.role, SUBJECT_PAIRS["fwgl"])[0]]],
        "assignee_id": _user_id("jc.fenhang1"), "due_start": _in_days(1),
        "due_end": _in_days(20)}),
    ("GET", "/api/v1/rectification/lists/subbranches/<int:unit_id>.pdf"): Call(
        units=("TS-LB", "TS-LN"), query=lambda ctx: {"period": "2026-11"}),
    ("GET", "/api/v1/rectification/lists/campaigns/<int:campaign_id>.pdf"): Call(
        query=lambda ctx: {} if ctx.which == 0 else {"subbranch_id": _unit_id("TS-LN")}),
    ("POST", "/api/v1/rectification/exports"): Call(json=lambda ctx: {"period": "2025-01"}),
    # held today: the entries entered today (see the world)
    ("POST", "/api/v1/watchlist/<int:entry_id>/actions"): Call(json=lambda ctx: {
        "kind": "interview", "held_on": local_today().isoformat(), "people": "张丽",
        "notes": "矩阵测试：约谈"}),
    # after the follow-ups (the page's too): a unit off the list takes none
    ("POST", "/api/v1/watchlist/<int:entry_id>/exit"): Call(
        order=2, json=lambda ctx: {"reason": "矩阵测试：人工出列"}),
    ("PUT", "/api/v1/watchlist/rules"): Call(json=_rules),
    ("POST", "/api/v1/watchlist/evaluate"): Call(json=lambda ctx: {}),
    ("POST", "/api/v1/watchlist"): Call(json=lambda ctx: {
        "unit_id": _unit_id("TS-LB-02"), "reason": "矩阵测试：人工列入"}),
    ("POST", "/manage/watchlist"): Call(form=lambda ctx: {
        "unit": "TS-LB-03", "reason": "矩阵测试：人工列入"}),
    # late, like the queue data: it re-evaluates the list
    ("POST", "/manage/watchlist/evaluate"): Call(order=8, form=lambda ctx: {}),
    # late: it re-evaluates the list
    ("POST", "/api/v1/queue-data"): Call(order=8, form=lambda ctx: {
        "file": (io.BytesIO("网点编码,日期,服务客户数,超时客户数\nTS-LB-01,2026-11-20,120,6\n"
                            .encode()), "queue.csv")}),
    ("GET", "/api/v1/dashboard/trend"): Call(query=lambda ctx: {
        "unit_id": _unit_id(("TS-LB-01", "TS-LN-01")[ctx.which])}),
    ("POST", "/manage/campaigns"): Call(form=lambda ctx: plan_form(
        ctx.world["checklist"], name="矩阵测试计划（页面）", modes="spot_check",
        period_start=next_quarter()[0].isoformat(),
        period_end=next_quarter()[1].isoformat(), **{"spot_check.size": "2"})),
    ("GET", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>"): Call(
        inspection="inspection_open"),
    ("POST", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/reassign"): Call(
        inspection="inspection_open", form=lambda ctx: {
            key: str(value) for key, value in _reassign(ctx).items() if value is not None}),
    ("POST", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/reschedule"): Call(
        inspection="inspection_open", form=lambda ctx: {
            "reason": "矩阵测试：改期", **_moved_window(ctx)}),
    # after the API's cancel (same order, and "/api" sorts first)
    ("POST", "/manage/campaigns/<int:campaign_id>/tasks/<int:inspection_id>/cancel"): Call(
        inspection="inspection_open", order=8,
        form=lambda ctx: {"reason": "矩阵测试：取消", "confirm": "yes"}),
    ("POST", "/manage/rules"): Call(form=lambda ctx: rules_form(note="矩阵测试：规则不变")),
    ("POST", "/manage/standards/import"): Call(form=_xlsx),
    ("POST", "/manage/people"): Call(form=lambda ctx: {
        "username": f"matrix.{uuid.uuid4().hex[:8]}", "display_name": "矩阵测试",
        "password": "Matrix2026x", "role": "inspector", "org_unit_id": str(_unit_id("TS-LB"))}),
    ("POST", "/manage/people/<int:user_id>/password"): Call(form=lambda ctx: {"password": "weak"}),
    ("POST", "/manage/people/<int:user_id>/active"): Call(form=lambda ctx: {"active": "1"}),
    ("POST", "/manage/people/<int:user_id>/roles"): Call(form=lambda ctx: {"role": ""}),
    ("POST", "/manage/people/<int:user_id>/roles/<int:grant_id>/remove"): Call(
        form=lambda ctx: {}),
    ("POST", "/manage/standards/<int:checklist_id>/publish"): Call(
        form=lambda ctx: {"confirm": "yes"}),
    ("POST", "/manage/standards/<int:checklist_id>/retire"): Call(
        order=8, form=lambda ctx: {"confirm": "yes"}),
    ("POST", "/manage/watchlist/<int:entry_id>"): Call(form=lambda ctx: {
        "action": "log", "kind": "interview", "held_on": local_today().isoformat(),
        "people": "张丽",
        "notes": "矩阵测试：约谈"}),
}


def endpoints_of(app) -> dict[tuple[str, str], str]:
    """(method, rule) → endpoint for every rule the matrix must cover."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXCLUDED_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found[(method, rule.rule)] = rule.endpoint
    return found


def test_every_endpoint_has_a_row(app):
    """Does the table cover exactly the application's endpoints — no new one left out?"""
    found = endpoints_of(app)
    missing = sorted(set(found) - set(EXPECTED))
    stale = sorted(set(EXPECTED) - set(found))
    assert not missing, (
        "Endpoints without a row in tests/security/test_authorisation_matrix.py EXPECTED "
        "(decide who may call them):\n" + "\n".join(
            f"  {method} {rule}  ({found[(method, rule)]})" for method, rule in missing))
    assert not stale, "Rows for endpoints that no longer exist:\n" + "\n".join(
        f"  {method} {rule}" for method, rule in stale)


# -- running one role ---------------------------------------------------------------------


@dataclass
class Context:
    world: dict
    role: str
    login_name: str
    subject_id: int | None = None
    first_item: str | None = None
    which: int = 0
    params: dict = field(default_factory=dict)


def _subject(ctx: Context, call: Call, param: str, which: int, pair: tuple[str, str]) -> Any:
    """The value of URL parameter ``param`` for the own (0) or other (1) subject."""
    world, name = ctx.world, pair[which]
    me = ctx.login_name
    if param == "inspection_id":
        return world[call.inspection][name]
    if param == "photo_id":
        return world[call.photo][name]
    if param == "finding_id":
        return world["finding"][name]
    if param == "appeal_id":
        return world["appeal"][name]
    if param == "campaign_id":
        return world["campaign"]
    if param == "checklist_id":
        return world["checklist"]
    if param == "unit_id":
        return _unit_id(call.units[which])
    if param == "item_id":
        return world["item"][name]
    if param == "job_id":
        return world["job"][("fwgl", "fwgl2")[which]]
    if param == "entry_id":
        return world["entry"][("TS-LB-01", "TS-LN-01")[which]]
    if param == "user_id":
        return _user_id((me, "wd.ln01")[which])
    if param == "token_id":
        return world["tokens"][(me, "wd.ln01")[which]]
    if param == "grant_id":  # one of the roles of the person in <user_id>
        return db.session.scalar(sa.select(RoleGrant.id).where(
            RoleGrant.user_id == _user_id((me, "wd.ln01")[which])).order_by(RoleGrant.id))
    if param == "team_id":
        return _team(("TS-LB", "TS-LN")[which]).id
    if param == "rendition":
        return "thumb"
    raise AssertionError(f"no subject for URL parameter <{param}>: teach _subject() about it")


def _classify(response) -> set[str]:
    status = response.status_code
    classes = {str(status)}
    if 200 <= status < 300:
        classes |= {"2xx", "ok"}
    elif 300 <= status < 400:
        classes.add("3xx")
    elif status == 409:
        classes.add("ok")
    elif status == 422:
        body = response.get_json(silent=True) or {}
        if (body.get("error") or {}).get("code") not in (None, "invalid"):
            classes.add("ok")  # a domain refusal; "invalid" is the request schema's
    return classes


def _order(key: tuple[str, str]) -> tuple[int, str, str]:
    call = CALLS.get(key)
    if call is not None and call.order is not None:
        return (call.order, key[1], key[0])
    return (0 if key[0] == "GET" else 1, key[1], key[0])


def run_role(app, world, role: str, bearer: dict | None) -> tuple[list[str], list[tuple]]:
    """Call every endpoint as ``role``; return the mismatches and every JSON answer seen."""
    import re

    from inspect_app.inspections.models import Inspection as Insp

    found = endpoints_of(app)
    missing = sorted(set(found) - set(EXPECTED))
    assert not missing, "Endpoints without a row in EXPECTED: " + ", ".join(
        f"{m} {r}" for m, r in missing)
    login_name = role if role != "anonymous" else "wd.lb01"
    pair = SUBJECT_PAIRS.get(role, SUBJECT_PAIRS["fwgl"])
    mismatches: list[str] = []
    answers: list[tuple] = []
    for key in sorted(found, key=_order):
        method, rule = key
        cell = EXPECTED[key][role]
        call = CALLS.get(key, Call())
        params = re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule)
        wanted = cell.split("/")
        for which, expected in enumerate(wanted):
            ctx = Context(world=world, role=role, login_name=login_name, which=which)
            values = {p: _subject(ctx, call, p, which, pair) for p in params}
            ctx.params = values
            ctx.subject_id = values.get("inspection_id") or values.get("photo_id")
            if "inspection_id" in values:
                inspection = db.session.get(Insp, values["inspection_id"])
                ctx.first_item = inspection.form_items()[0].code
            url = rule
            for name, value in values.items():
                url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), url)
            if call.query is not None and (query := call.query(ctx)):
                url += "?" + urlencode(query)
            client = app.test_client()  # no cookie carried over between calls
            headers = {**(bearer or {}), **call.headers}
            kwargs: dict[str, Any] = {"headers": headers}
            if call.json is not None:
                kwargs["json"] = call.json(ctx)
            if call.form is not None:
                form = call.form(ctx)
                if not rule.startswith("/api/"):
                    client.get("/login")
                    with client.session_transaction() as sess:
                        form["csrf_token"] = sess["csrf"]
                kwargs["data"] = form
                kwargs["content_type"] = "multipart/form-data"
            response = client.open(url, method=method, **kwargs)
            got = _classify(response)
            side = ("own", "other")[which] if len(wanted) == 2 else "-"
            if expected not in got:
                text = response.get_data()[:160].decode("utf-8", "replace").replace("\n", " ")
                mismatches.append(f"{role:12} {side:5} {method:6} {url}: expected {expected}, "
                                  f"got {response.status_code} {text}")
            body = response.get_json(silent=True)
            if body is not None:
                answers.append((method, url, body))
    return mismatches, answers


def _walk(value, path=""):
    """Every (path, key, value) in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


#: What a mystery visit's record holds (its scenario and timed events): never the outlet side's.
VISIT_RECORD = {"scenario", "events", "visit_timeline"}


def field_rule_violations(role: str, answers: list[tuple], shopper: User) -> list[str]:
    """GPS and capture facts only for service managers; the shopper never named to outlets,
    nor the visit's scenario and times shown to them."""
    problems = []
    for method, url, body in answers:
        for path, key, value in _walk(body):
            if key in {"gps", "client_facts"} and value not in (None, {}) and role != "fwgl":
                problems.append(f"{role} sees {key} at {method} {url} {path}: {value}")
            # a bulletin's watch-list changes are "events" too: the list's, not a visit's
            watchlist_changes = key == "events" and path.endswith(".watchlist")
            if key in VISIT_RECORD and value not in (None, {}, []) and not watchlist_changes \
                    and role in {"wd.lb01", "zh.lubei"}:
                problems.append(f"{role} sees the visit's {key} at {method} {url} {path}")
        if role in {"wd.lb01", "zh.lubei"}:
            text = json.dumps(body, ensure_ascii=False)
            for secret in (shopper.username, shopper.display_name):
                if secret in text:
                    problems.append(f"{role} sees the mystery shopper ({secret}) in "
                                    f"{method} {url}")
    return problems


def refused_changes_left_nothing(world: dict, role: str) -> list[str]:
    """A role without watchlist.manage changed no entry and logged no follow-up (the managers'
    page answers a refused post with the page itself, so its status alone proves nothing); a
    role without campaigns.manage reassigned, moved and cancelled no assignment."""

    from inspect_app.audit.models import AuditEntry
    from inspect_app.inspections.models import InspectionStatus
    from inspect_app.watchlist.models import (
        CoachingAction,
        EntryStatus,
        WatchlistEntry,
        WatchlistRuleSet,
    )

    problems = []
    for code, entry_id in world["entry"].items():
        entry = db.session.get(WatchlistEntry, entry_id)
        if entry.status is not EntryStatus.active or entry.actions:
            problems.append(f"{role} changed the watch-list entry of {code}")
    if role != "anonymous" and db.session.scalar(sa.select(sa.func.count()).select_from(
            CoachingAction).where(CoachingAction.created_by_id == _user_id(role))):
        problems.append(f"{role} logged a coaching action")
    if role != "anonymous" and db.session.scalar(sa.select(sa.func.count()).select_from(
            WatchlistRuleSet).where(WatchlistRuleSet.created_by_id == _user_id(role))):
        problems.append(f"{role} saved a version of the watch-list rules")
    if db.session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry).where(
            WatchlistEntry.entry_kind == "manual")):
        problems.append(f"{role} put a unit on the watch-list by hand")
    if role != "anonymous" and db.session.scalar(sa.select(sa.func.count()).select_from(
            AuditEntry).where(AuditEntry.actor_id == _user_id(role),
                              AuditEntry.action == "watchlist.evaluate")):
        problems.append(f"{role} ran the watch-list evaluation")
    for name, inspection_id in world["inspection_open"].items():
        inspection = db.session.get(Inspection, inspection_id)
        if inspection.status is InspectionStatus.cancelled or (
                inspection.due_start, inspection.due_end) != world["window"]:
            problems.append(f"{role} cancelled or moved the open assignment {name}")
    if role != "anonymous" and db.session.scalar(sa.select(sa.func.count()).select_from(
            AuditEntry).where(AuditEntry.actor_id == _user_id(role), AuditEntry.action.in_(
                ["inspection.reassign", "inspection.reschedule", "inspection.cancel"]))):
        problems.append(f"{role} reassigned, moved or cancelled an assignment")
    return problems


@pytest.mark.parametrize("role", COLUMNS)
def test_authorisation_matrix(app, client, api, world, spare_tokens, role):
    """Does every endpoint answer this role exactly as the table says, for its own unit's
    objects and another unit's, without leaking GPS or a mystery shopper's identity?"""
    world["tokens"] = {name: spare_tokens(name) for name in {role, "fwgl", "wd.ln01", "wd.lb01"}
                       if name != "anonymous"}
    bearer = None if role == "anonymous" else api(role)
    mismatches, answers = run_role(app, world, role, bearer)
    if role in {"wd.lb01", "zh.lubei", "fwgl"}:
        # the outlet side reads a mystery visit of its own outlet and its photos (with a new
        # token: the run ended by revoking the old one)
        client_ = app.test_client()
        token = client_.post("/api/v1/auth/token", json={"username": role,
                                                         "password": DEMO_PASSWORD})
        bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
        for url in (f"/api/v1/inspections/{world['inspection_done']['myst_lb']}",
                    f"/api/v1/inspections/{world['inspection_done']['myst_lb']}/photos",
                    f"/api/v1/photos/{world['photo_done']['myst_lb']}",
                    "/api/v1/inspections?per_page=200", "/api/v1/appeals?per_page=200"):
            response = client_.get(url, headers=bearer)
            assert response.status_code == 200, (url, response.get_json())
            answers.append(("GET", url, response.get_json()))
    shopper = db.session.scalar(sa.select(User).where(User.username == "smr1"))
    problems = mismatches + field_rule_violations(role, answers, shopper)
    if role != "fwgl":
        problems += refused_changes_left_nothing(world, role)
    if role == "fwgl":
        seen_gps = [value for _, _, body in answers for _, key, value in _walk(body)
                    if key == "gps" and value]
        if not seen_gps:
            problems.append("fwgl (service manager) never saw a photo's GPS position")
    assert not problems, f"{len(problems)} mismatch(es) for {role}:\n" + "\n".join(problems)
