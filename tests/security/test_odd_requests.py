"""Requests no form would send — dates centuries away, JSON nested to the stack's depth, a
multipart part without a name, NUL and control characters — get a 4xx in our error shape
and the same answer on both databases, never a server error."""
from __future__ import annotations

import io

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.orgs.models import OrgUnit

from ..helpers import filler_of


def error_of(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]
    return body["error"]


def test_dates_far_outside_the_products_years_are_refused(client, api, demo):
    """Is a day in year 1 or 9999 (whose period end, ZIP timestamp or time-zone bind cannot be
    computed) a 422 on every endpoint that takes one?"""
    headers = api("fwgl")
    unit = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == "TS-LB"))
    for url in ("/api/v1/dashboard/mode-comparison?day=9999-12-31&kind=quarter",
                "/api/v1/dashboard/rankings?day=9999-12-31&kind=month",
                "/api/v1/dashboard/failed-items?day=9999-12-31&kind=month",
                "/api/v1/bulletins?day=9999-12-31&kind=month",
                "/api/v1/bulletins.xlsx?day=9999-12-31&kind=month",
                f"/api/v1/dashboard/trend?unit_id={unit}&end=0001-01-31&months=36",
                f"/api/v1/dashboard/trend?unit_id={unit}&end=9999-12-31&months=2",
                "/api/v1/rectification/items?found_from=0001-01-01",
                "/api/v1/rectification/counts?found_from=0001-01-01",
                f"/api/v1/rectification/lists/subbranches/{unit}.pdf?period=0000-01",
                f"/api/v1/rectification/lists/subbranches/{unit}.pdf?period=0001-01"):
        error_of(client.get(url, headers=headers), 422)
    for period in ("0000-01", "1979-12", "2108-01", "9999-12"):  # a ZIP cannot date them
        error_of(client.post("/api/v1/rectification/exports", json={"period": period},
                             headers=headers), 422)
    # the pages fall back to the current period instead
    assert client.get("/manage/rankings?day=9999-12-31", headers=headers).status_code != 500


def test_json_nested_beyond_the_parsers_depth_is_a_bad_request(client, api, demo):
    """Is JSON nested 100,000 deep a 400, as a body and inside a photo's client facts?"""
    deep = "[" * 100_000 + "]" * 100_000
    headers = {**api("fwgl"), "Content-Type": "application/json"}
    assert error_of(client.post("/api/v1/teams", data=deep, headers=headers), 400)
    inspection = client.get("/api/v1/inspections?per_page=1", headers=api("fwgl")
                            ).get_json()["items"]
    assert inspection  # the demo's history
    response = client.post(f"/api/v1/inspections/{inspection[0]['id']}/photos",
                           headers=api("fwgl"), content_type="multipart/form-data",
                           data={"client_id": "5b3c7c1e-7b7a-4a39-9a57-5d7e0b9f1c11",
                                 "item_code": "ENV-01", "client_facts": deep})
    assert 400 <= response.status_code < 500 and response.get_json()["error"]


def test_a_multipart_part_without_a_name_is_refused_as_invalid(client, api, demo):
    """Does an unnamed multipart part next to an unknown field give a 422 naming it, not a
    500 from sorting a None key next to text ones?"""
    body = (b'--zzz\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n'
            b'--zzz\r\nContent-Disposition: form-data\r\n\r\n2\r\n--zzz--\r\n')
    response = client.post("/api/v1/checklists/import", data=body, headers={
        **api("fwgl"), "Content-Type": "multipart/form-data; boundary=zzz"})
    assert error_of(response, 422)["code"]


def test_a_nul_character_is_refused_the_same_on_both_databases(client, api, demo):
    """Is a NUL in a JSON body, a form or a query a 422 `nul_character` — on SQLite, which
    would store it, as on PostgreSQL, which cannot?"""
    headers = api("fwgl")
    unit = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == "TS-LB"))
    for response in (
            client.post("/api/v1/teams", headers=headers,
                        json={"name": "a\u0000b", "subbranch_id": unit, "member_ids": []}),
            client.post("/api/v1/auth/token", json={"username": "fw\u0000gl", "password": "x"}),
            client.get("/api/v1/org-units?q=%00", headers=headers)):
        assert error_of(response, 422)["code"] == "nul_character"


def test_names_with_control_characters_are_refused(client, api, demo):
    """Is a unit or team name holding a control character refused (it would break every
    download named after it), while the same name without it is taken?"""
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB-01"))
    admin = api("admin")
    refused = client.patch(f"/api/v1/org-units/{unit.id}", headers=admin,
                           json={"name": "路北支行营业室\u0001"})
    assert "name" in error_of(refused, 422)["details"]
    assert client.patch(f"/api/v1/org-units/{unit.id}", headers=admin,
                        json={"name": "路北支行营业室"}).status_code == 200


def test_a_download_named_after_an_old_unit_name_with_control_characters_works(
        client, api, demo):
    """A name stored before the API refused control characters: do its PDF and the bulletin's
    workbook still download (the file name and the cells lose the characters)?"""
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    unit.name = "路北支行\u0001"
    db.session.commit()
    headers = api("fwgl")
    pdf = client.get(f"/api/v1/rectification/lists/subbranches/{unit.id}.pdf?period=2026-10",
                     headers=headers)
    assert pdf.status_code == 200 and "\u0001" not in pdf.headers["Content-Disposition"]
    assert client.get("/api/v1/bulletins.xlsx?kind=month&day=2026-10-15",
                      headers=headers).status_code == 200


def test_a_body_that_is_neither_json_nor_a_form_is_unsupported(client, api, demo):
    """Is JSON sent as text/plain a 415 that says what to send, instead of a 422 claiming
    every field is missing?"""
    response = client.post("/api/v1/teams", data='{"name": "x"}',
                           headers={**api("fwgl"), "Content-Type": "text/plain"})
    assert error_of(response, 415)["code"] == "unsupported_media_type"
    # a body-less action needs no content type
    assert client.post("/api/v1/watchlist/evaluate", headers=api("fwgl")).status_code == 200


def test_a_text_part_where_the_file_belongs_is_refused(client, api, demo):
    """Is a multipart text field named ``file`` (no file in it) a 422 on every upload, not a
    500 from reading a string as a file?"""
    headers = api("fwgl")
    item = client.get("/api/v1/rectification/items?per_page=1", headers=headers).get_json()
    inspection = client.get("/api/v1/inspections?per_page=1", headers=headers).get_json()
    for url, form in (
            ("/api/v1/checklists/import", {"file": "x"}),
            (f"/api/v1/inspections/{inspection['items'][0]['id']}/photos",
             {"file": "x", "client_id": "5b3c7c1e-7b7a-4a39-9a57-5d7e0b9f1c12",
              "item_code": "ENV-01"}),
            (f"/api/v1/rectification/items/{item['items'][0]['id']}/photos",
             {"file": "x", "client_id": "5b3c7c1e-7b7a-4a39-9a57-5d7e0b9f1c13"})):
        response = client.post(url, headers=headers, data=form,
                               content_type="multipart/form-data")
        assert "file" in error_of(response, 422)["details"], url


def test_a_nul_spelt_inside_a_json_form_field_is_refused_too(client, api, demo):
    """Is a NUL written ``\\u0000`` inside a photo's client facts (a JSON string in the form)
    refused like any other — and an escaped backslash before ``u0000`` in a name is not one?"""
    headers = api("fwgl")
    inspection = client.get("/api/v1/inspections?per_page=1", headers=headers).get_json()
    response = client.post(
        f"/api/v1/inspections/{inspection['items'][0]['id']}/photos", headers=headers,
        content_type="multipart/form-data",
        data={"client_id": "5b3c7c1e-7b7a-4a39-9a57-5d7e0b9f1c14", "item_code": "ENV-01",
              "client_facts": '{"device_time": "a\\u0000b"}', "file": (io.BytesIO(b"x"), "a.jpg")})
    assert "client_facts" in error_of(response, 422)["details"]
    unit = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == "TS-LB"))
    named = client.post("/api/v1/teams", headers=headers,
                        json={"name": "C:\\u0000组", "subbranch_id": unit, "member_ids": []})
    assert named.status_code != 422 or named.get_json()["error"]["code"] != "nul_character"


def test_a_file_name_loses_its_line_breaks(client, api, demo):
    """A checklist named over two lines: does its workbook download (the header cannot carry
    the line break), instead of a 500?"""
    demo.name = "服务标准\n第二版"
    db.session.commit()
    response = client.get(f"/api/v1/checklists/{demo.id}/export.xlsx", headers=api("fwgl"))
    assert response.status_code == 200 and "\n" not in response.headers["Content-Disposition"]


def test_an_id_no_table_can_hold_is_refused_alike_on_both_databases(client, api, demo):
    """Is an id past 32 bits, or below 1, a 422 naming the field — where PostgreSQL used to
    answer "out of range" and SQLite an empty list?"""
    headers = api("fwgl")
    for url in ("/api/v1/inspections?outlet_id=99999999999",
                "/api/v1/rectification/items?subbranch_id=99999999999",
                "/api/v1/inspections?campaign_id=0"):
        details = error_of(client.get(url, headers=headers), 422)["details"]
        field = url.split("?")[1].split("=")[0]
        assert details[field] == ["编号必须是 1 到 2147483647 之间的整数"], (url, details)
    spec = client.get("/api/v1/openapi.json").get_json()
    outlet = next(p for p in spec["paths"]["/api/v1/inspections"]["get"]["parameters"]
                  if p["name"] == "outlet_id")
    assert outlet["schema"]["maximum"] == 2**31 - 1 and outlet["schema"]["minimum"] == 1


def test_half_a_surrogate_pair_is_refused_not_a_server_error(client, api, demo, first):
    """JSON can spell half a UTF-16 surrogate pair (``"\\ud800"``), which no text can be
    encoded from: is it a 422 ``lone_surrogate`` wherever it appears — signing in, a reason, a
    name, a draft's note — never a 500?"""
    headers = {**api("fwgl"), "Content-Type": "application/json"}
    spot = first("spot_check")
    unit = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == "TS-LB"))
    for url, body in (
            ("/api/v1/auth/token", '{"username": "\\ud800", "password": "x"}'),
            (f"/api/v1/inspections/{spot.id}/cancel", '{"reason": "a\\udfffb"}'),
            ("/api/v1/teams", '{"name": "\\ud800", "subbranch_id": UNIT, "member_ids": []}'
             .replace("UNIT", str(unit))),
            (f"/api/v1/org-units/{unit}", '{"address": "\\ud83d"}')):
        method = client.patch if "org-units" in url else client.post
        assert error_of(method(url, headers=headers, data=body), 422)["code"] \
            == "lone_surrogate", url
    draft = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers,
                       data='{"version": 1, "answers": {"ENV-01": {"value": "pass", '
                            '"note": "\\ud800"}}}')
    assert error_of(draft, 422)["code"] == "lone_surrogate"
    assert db.session.get(type(spot), spot.id).status.value == "assigned"
    # a whole pair is an ordinary character (an emoji)
    ok = client.post(f"/api/v1/inspections/{spot.id}/cancel", headers=headers,
                     data='{"reason": "网点停业 \\ud83d\\ude00"}')
    assert ok.status_code == 200, ok.get_json()


def test_an_integer_of_thousands_of_digits_is_malformed_json(client, api, demo, first):
    """Python's JSON parser refuses integers of more than 4300 digits with a ValueError of its
    own: is that a 400 ``malformed_json`` like any unreadable body, never a 500?"""
    spot = first("spot_check")
    headers = {**api(filler_of(spot)), "Content-Type": "application/json"}
    huge = "9" * 5001
    draft = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers,
                       data='{"version": 1, "answers": {"ENV-01": {"value": HUGE}}}'
                       .replace("HUGE", huge))
    assert error_of(draft, 400)["code"] == "malformed_json"
    token = client.post("/api/v1/auth/token", headers={"Content-Type": "application/json"},
                        data='{"username": HUGE, "password": "x"}'.replace("HUGE", huge))
    assert error_of(token, 400)["code"] == "malformed_json"
