"""``flask watchlist import-queue``: every refusal names its row and its column in Chinese."""
from __future__ import annotations

import io

import sqlalchemy as sa

from inspect_app.auth.permissions import Role
from inspect_app.extensions import db
from inspect_app.watchlist.models import QueueDay

BAD = ("网点编码,日期,服务客户数,超时客户数\n"
       "TS-LB-01,2026-11-27,10,1\n"
       "NOPE,2026-11-28,1,1\n"
       "TS-LB-01,2026-13-01,1,1\n")


def test_import_queue_names_row_and_chinese_column(runner, org, tmp_path):
    """Is an unknown outlet reported on its row (not "第 None 行"), and a bad date under the
    column's Chinese name (not "date"), with nothing imported?"""
    path = tmp_path / "q.csv"
    path.write_text(BAD, encoding="utf-8")
    result = runner.invoke(args=["watchlist", "import-queue", str(path)])
    assert result.exit_code != 0
    assert "第 3 行 网点编码：网点编码 NOPE 不存在" in result.output, result.output
    assert "第 4 行 日期：日期不存在：2026-13-01" in result.output, result.output
    assert "None" not in result.output and "date：" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueDay)) == 0


def test_a_whole_file_problem_names_no_row(runner, org, tmp_path):
    """Is a problem of the whole file (no data) said without a row or column to name?"""
    path = tmp_path / "q.csv"
    path.write_text("网点编码,日期,服务客户数,超时客户数\n", encoding="utf-8")
    result = runner.invoke(args=["watchlist", "import-queue", str(path)])
    assert result.exit_code != 0 and "None" not in result.output, result.output


def test_the_api_names_the_row_of_an_unknown_outlet(client, org, make_user, token_for):
    """Does the API's refusal give the unknown outlet's row and every column's Chinese name?"""
    make_user("fwgl", (Role.service_manager, "TS"))
    response = client.post("/api/v1/queue-data", headers=token_for("fwgl"),
                           data={"file": (io.BytesIO(BAD.encode()), "q.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert {(d["row"], d["column"]) for d in details} == {(3, "网点编码"), (4, "日期")}
