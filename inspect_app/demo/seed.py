"""``flask seed-demo``: a realistic 唐山分行 with people for every role. Safe to run again.

Everything is keyed by business codes and usernames, so a second run finds what the first
created and adds only what is missing; it never resets a password someone changed.
"""
from __future__ import annotations

import functools
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from ..auth.models import User
from ..auth.operations import create_user
from ..auth.permissions import Role
from ..extensions import db
from ..i18n import bank_midnight, bank_now, local_date, local_today
from ..orgs.models import AreaType, OrgKind, OrgUnit
from ..orgs.operations import create_unit

#: The one password of every demo account (printed by ``make run``; change it in production).
DEMO_PASSWORD = "Demo@2026"

BRANCH = ("TS", "唐山分行", Decimal("39.630"), Decimal("118.180"))

#: (code, pinyin, name, area, lat, lng, outlet places) — the first place is the main office.
SUBBRANCHES = [
    ("LB", "lubei", "路北支行", AreaType.urban, "39.640", "118.200",
     ["路北支行营业室", "建设路", "龙泉", "文化路", "华岩北路", "长宁道", "友谊里", "大里路", "缸窑路"]),
    ("LN", "lunan", "路南支行", AreaType.urban, "39.610", "118.170",
     ["路南支行营业室", "新华道", "小山", "学院路", "女织寨", "南新道", "国防道", "永红桥"]),
    ("KP", "kaiping", "开平支行", AreaType.urban, "39.670", "118.260",
     ["开平支行营业室", "新苑", "荆各庄", "栗园", "唐马路", "税务庄"]),
    ("GX", "gaoxin", "高新支行", AreaType.urban, "39.660", "118.140",
     ["高新支行营业室", "卫国路", "火炬路", "庆南道", "学苑"]),
    ("FN", "fengnan", "丰南支行", AreaType.outskirts, "39.570", "118.080",
     ["丰南支行营业室", "文化大街", "黄各庄", "稻地", "胥各庄", "钱营", "光明路"]),
    ("FR", "fengrun", "丰润支行", AreaType.outskirts, "39.830", "118.160",
     ["丰润支行营业室", "曹雪芹大街", "浭阳大街", "新军屯", "左家坞", "燕山路", "还乡河"]),
    ("GY", "guye", "古冶支行", AreaType.outskirts, "39.730", "118.450",
     ["古冶支行营业室", "林西", "赵各庄", "唐家庄", "范各庄"]),
    ("QA", "qianan", "迁安支行", AreaType.county, "40.000", "118.700",
     ["迁安支行营业室", "燕山大路", "钢城大街", "惠泽", "木厂口", "杨店子", "野鸡坨", "首钢"]),
    ("ZH", "zunhua", "遵化支行", AreaType.county, "40.190", "117.960",
     ["遵化支行营业室", "华明路", "文化路", "石门", "马兰峪", "党峪"]),
    ("LZ", "luanzhou", "滦州支行", AreaType.county, "39.740", "118.700",
     ["滦州支行营业室", "新城", "古城", "榛子镇", "响嘡", "东安各庄"]),
    ("YT", "yutian", "玉田支行", AreaType.county, "39.900", "117.740",
     ["玉田支行营业室", "无终街", "鸦鸿桥", "林南仓", "孤树"]),
    ("CFD", "caofeidian", "曹妃甸支行", AreaType.county, "39.270", "118.460",
     ["曹妃甸支行营业室", "唐海", "工业区", "滨海大道"]),
]

#: Outlets shown as 标杆网点 in rankings.
BENCHMARK_OUTLETS = {"TS-LB-01", "TS-QA-01", "TS-FR-03"}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ["丽", "强", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "晓东", "海燕", "建华", "志强", "丽娟", "春梅", "文博", "子涵",
         "雨萱", "浩然", "思远", "佳怡", "宇航", "欣怡", "俊杰", "晨曦", "一鸣", "婷婷", "鹏飞"]


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def summary(self) -> str:
        if not self.created:
            return "演示数据已存在，无需更新。"
        parts = "，".join(f"{what} {count} 个" for what, count in self.created.items())
        return f"已创建演示数据：{parts}。"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    scope: str


def _unit(report: SeedReport, code: str, **fields) -> OrgUnit:
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        unit = create_unit(code=code, **fields)
        report.add(fields["kind"].label)
    return unit


@functools.cache
def _demo_password_hash() -> str:
    # One hash for every demo account: hashing ~120 accounts one by one takes seconds.
    return generate_password_hash(DEMO_PASSWORD,
                                  method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def _user(report: SeedReport, username: str, display_name: str,
          grants: list[tuple[Role, OrgUnit]]) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        user = create_user(username=username, display_name=display_name, password=None,
                           password_hash=_demo_password_hash(), grants=grants)
        report.add("用户")
    return user


def seed_organisation(report: SeedReport) -> dict[str, OrgUnit]:
    """The branch, its 12 sub-branches and their outlets; returns units by code."""
    rng = random.Random(2021)  # the year of the article: stable coordinates on every run
    code, name, lat, lng = BRANCH
    units = {code: _unit(report, code, kind=OrgKind.branch, name=name, latitude=lat,
                         longitude=lng, address="河北省唐山市路北区新华西道")}
    for sb_code, _pinyin, sb_name, area, sb_lat, sb_lng, places in SUBBRANCHES:
        full = f"TS-{sb_code}"
        units[full] = _unit(report, full, kind=OrgKind.subbranch, name=sb_name, parent=units["TS"],
                            area_type=area, latitude=Decimal(sb_lat), longitude=Decimal(sb_lng))
        for index, place in enumerate(places, start=1):
            outlet_code = f"{full}-{index:02d}"
            outlet_name = place if place.endswith("营业室") else f"{place}分理处"
            olat = Decimal(sb_lat) + Decimal(rng.randint(-250, 250)) / 10000
            olng = Decimal(sb_lng) + Decimal(rng.randint(-250, 250)) / 10000
            units[outlet_code] = _unit(
                report, outlet_code, kind=OrgKind.outlet, name=outlet_name,
                parent=units[full], area_type=area, latitude=olat, longitude=olng,
                address=f"唐山市{sb_name.removesuffix('支行')}{place.removesuffix(sb_name + '营业室') or '中心'}",
                is_benchmark=outlet_code in BENCHMARK_OUTLETS)
    return units


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def seed_people(report: SeedReport, units: dict[str, OrgUnit]) -> None:
    """Accounts for every role: branch staff, one manager per sub-branch and per outlet,
    two inspectors per sub-branch (its peer-check team) and three mystery shoppers."""
    rng = random.Random(100)
    branch = units["TS"]
    _user(report, "admin", "系统管理员", [(Role.admin, branch)])
    _user(report, "fwgl", "张丽", [(Role.service_manager, branch)])
    _user(report, "fwgl2", "王强", [(Role.service_manager, branch)])
    for index in (1, 2):
        _user(report, f"jc.fenhang{index}", _name(rng), [(Role.inspector, branch)])
    for index in (1, 2, 3):
        _user(report, f"smr{index}", f"神秘人{index}号", [(Role.mystery_shopper, branch)])
    for sb_code, pinyin, _name_, *_ in SUBBRANCHES:
        subbranch = units[f"TS-{sb_code}"]
        _user(report, f"zh.{pinyin}", _name(rng), [(Role.subbranch_manager, subbranch)])
        for index in (1, 2):
            _user(report, f"jc.{pinyin}{index}", _name(rng), [(Role.inspector, subbranch)])
        for outlet in subbranch.children:
            number = _demo_outlet_number(subbranch, outlet)
            if number is not None:
                _user(report, f"wd.{sb_code.lower()}{number}", _name(rng),
                      [(Role.outlet_manager, outlet)])


def _demo_outlet_number(subbranch: OrgUnit, outlet: OrgUnit) -> str | None:
    """The ``01`` of an open outlet coded like the demo's (``TS-LB-01``), else None.

    Seeding again must not give a closed outlet a manager account with the public demo
    password, and an outlet an administrator added under another kind of code (``LBX``) is
    no demo outlet: both are left alone rather than crash the run.
    """
    found = re.fullmatch(rf"{re.escape(subbranch.code)}-(\d+)", outlet.code)
    if found is None or not outlet.is_active:
        return None
    return found[1]


def seed_checklist(report: SeedReport, units: dict[str, OrgUnit]) -> None:
    """The default standard "客户满意银行网点服务检查表", published as version 1."""
    from ..checklists.models import Checklist
    from ..checklists.operations import DEFAULT_KEY, ensure_default_checklist

    if db.session.scalar(sa.select(Checklist.id).where(Checklist.key == DEFAULT_KEY)) is None:
        ensure_default_checklist()
        report.add("检查表")


def seed_teams(report: SeedReport, units: dict[str, OrgUnit]) -> None:
    """One peer-check team (互查小组) per sub-branch: its two inspectors."""
    from ..inspections.campaigns import create_team
    from ..inspections.models import InspectionTeam

    existing = set(db.session.scalars(sa.select(InspectionTeam.subbranch_id)))
    for sb_code, pinyin, name, *_ in SUBBRANCHES:
        subbranch = units[f"TS-{sb_code}"]
        if subbranch.id in existing:
            continue
        members = list(db.session.scalars(sa.select(User).where(
            User.username.in_([f"jc.{pinyin}1", f"jc.{pinyin}2"])).order_by(User.username)))
        create_team(name=f"{name}互查组", subbranch=subbranch, members=members, by=None)
        report.add("互查小组")


#: How some outlets fare in the demo history, so the watch-list has a story to tell:
#: two weak outlets that improve (enter, get coaching, leave by rule), a weak sub-branch
#: (曹妃甸), one whose self-checks flatter it (self-check inflation), two strong ones.
HISTORY_PROFILES = {
    "TS-GY-03": dict(base=0.60, drift=0.07),
    "TS-YT-02": dict(base=0.62, drift=0.065),
    "TS-CFD-03": dict(base=0.66, drift=0.0),
    "TS-CFD-01": dict(base=0.74, drift=0.0),
    "TS-CFD-02": dict(base=0.75, drift=0.0),
    "TS-CFD-04": dict(base=0.76, drift=0.0),
    "TS-ZH-04": dict(base=0.74, drift=0.0, self_bonus=0.22),
    "TS-LB-01": dict(base=0.97, drift=0.0),
    "TS-QA-01": dict(base=0.96, drift=0.0),
}
HISTORY_MONTHS = 6
#: The last of this month's checks so far was submitted this long before the seed ran.
HISTORY_LEAD_MINUTES = 5
#: The follow-ups of every demo watch-list entry: kind, days after entering, who, what.
COACHING = [
    ("on_site_training", 7, "张丽、服务管理部讲师", "送教上门：服务规范与厅堂服务流程现场培训"),
    ("stationed_coaching", 14, "王强", "驻点辅导一周：晨会、叫号与引导流程逐项跟进"),
]


def _months_back(day: date, months: int) -> date:
    month = day.month - 1 - months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _history_assignees(units: dict[str, OrgUnit], users: dict[str, int]):
    """Who did a past independent check of an outlet: a mystery shopper for a mystery visit
    (the three take turns), the next sub-branch's inspector for a peer check (as the peer-check
    rota does), a branch inspector for a spot check."""
    from ..inspections.models import Mode

    pinyins = [pinyin for _, pinyin, *_ in SUBBRANCHES]
    subbranch_of = {unit.id: code.split("-")[1] for code, unit in units.items()
                    if unit.kind.value == "outlet"}
    codes = [sb_code for sb_code, *_ in SUBBRANCHES]

    def assignee(mode: Mode, outlet_id: int) -> int:
        if mode is Mode.mystery_visit:
            return users[f"smr{outlet_id % 3 + 1}"]
        if mode is Mode.peer_check:
            own = codes.index(subbranch_of[outlet_id])
            return users[f"jc.{pinyins[(own + 1) % len(pinyins)]}{outlet_id % 2 + 1}"]
        return users[f"jc.fenhang{outlet_id % 2 + 1}"]

    return assignee


def seed_history(report: SeedReport, units: dict[str, OrgUnit]) -> None:
    """Six months of finalised inspections in every mode, queue data, and the watch-list as it
    evolved month by month (entries, exits by rule, coaching) — so every dashboard has figures."""
    from ..checklists.models import Checklist
    from ..inspections.models import Inspection
    from ..watchlist.models import WatchlistEntry
    from ..watchlist.operations import evaluate, log_action
    from .history import OutletProfile, generate

    if db.session.scalar(sa.select(Inspection.id).where(Inspection.campaign_id.is_(None))
                         .limit(1)) is not None:
        return
    checklist = db.session.scalar(sa.select(Checklist).order_by(Checklist.id))
    users = dict(db.session.execute(sa.select(User.username, User.id)).all())
    outlets = [(unit.id, users.get(f"wd.{code.split('-')[1].lower()}{code.split('-')[2]}"))
               for code, unit in units.items() if unit.kind.value == "outlet"]
    profiles = {units[code].id: OutletProfile(**profile)
                for code, profile in HISTORY_PROFILES.items()}
    now = bank_now()
    today = now.date()  # the bank's day: UTC's is still yesterday from 16:00 to 24:00 UTC
    start = _months_back(today, HISTORY_MONTHS)
    # … and this month's independent checks so far (some done earlier today, so that the
    # managers' pages, which open on the current month and week, have figures on the 1st too)
    count = generate(outlets, checklist, start=start, months=HISTORY_MONTHS, seed=2021,
                     profiles=profiles, assignee_id=users["jc.fenhang1"],
                     assignee_for=_history_assignees(units, users),
                     until=now - timedelta(minutes=HISTORY_LEAD_MINUTES))
    report.created["历史检查记录"] = count
    seed_queue(units, today)
    manager = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    for months in range(HISTORY_MONTHS - 2, -1, -1):
        month_end = _months_back(today, months) - timedelta(days=1)
        evaluate(month_end)
        for entry in db.session.scalars(sa.select(WatchlistEntry).where(
                WatchlistEntry.entered_on == month_end)):
            for kind, days, people, notes in COACHING:
                # early in a month last month's entries are only days old: a follow-up not
                # held yet is not logged (a future date is refused, and would crash the seed)
                if month_end + timedelta(days=days) <= today:
                    log_action(entry, kind=kind, held_on=month_end + timedelta(days=days),
                               people=people, notes=notes, attachments=[], by=manager)
    evaluate(today)
    report.add("名单评估")


def seed_queue(units: dict[str, OrgUnit], today: date) -> None:
    """Sixty days of queue-system figures; two outlets with too many over-time waits."""
    from ..watchlist.models import QueueDay

    rng = random.Random(7)
    busy = {"TS-LN-03", "TS-FN-02"}
    rows = []
    for code, unit in sorted(units.items()):
        if unit.kind.value != "outlet":
            continue
        for back in range(60, 0, -1):
            served = rng.randint(80, 260)
            share = rng.uniform(0.08, 0.16) if code in busy else rng.uniform(0.0, 0.03)
            rows.append({"outlet_id": unit.id, "day": today - timedelta(days=back),
                         "customers_served": served, "customers_over_limit": int(served * share)})
    db.session.execute(sa.insert(QueueDay.__table__), rows)


#: Findings of the last weeks of history that get rectification items (older ones are
#: treated as dealt with before the product arrived).
RECTIFICATION_DAYS = 45
#: Outlets whose rectification items are late in the demo (weak profiles above).
OVERDUE_OUTLETS = ("TS-CFD-04", "TS-ZH-04")


def seed_current_work(report: SeedReport, units: dict[str, OrgUnit]) -> None:
    """What people find waiting when they first sign in: this month's campaign in all four
    modes (tasks for inspectors, peer teams, shoppers and outlets) and rectification items for
    the recent findings, some of them already overdue."""
    from ..checklists.models import Checklist
    from ..inspections.campaigns import create_campaign
    from ..inspections.models import Campaign, Inspection, InspectionStatus, Mode
    from ..rectification.models import RectificationItem
    from ..rectification.operations import adjust_deadline, create_rectification_items
    from ..watchlist.operations import evaluate

    manager = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    if db.session.scalar(sa.select(Campaign.id).limit(1)) is None:
        today = local_today()
        first = date(today.year, today.month, 1)
        last = _months_back(today, -1) - timedelta(days=1)
        checklist = db.session.scalar(sa.select(Checklist).order_by(Checklist.id))
        campaign = create_campaign({"name": f"{today.year}年{today.month}月服务检查", "seed": 2026,
                                    "checklist_id": checklist.id, "period_start": first,
                                    "period_end": last, "modes": [mode.value for mode in Mode]},
                                   by=manager)
        _time_left(campaign, today, manager)
        report.add("本月检查计划")
    if db.session.scalar(sa.select(RectificationItem.id).limit(1)) is None:
        today = local_today()
        since = today - timedelta(days=RECTIFICATION_DAYS)
        late = {units[code].id for code in OVERDUE_OUTLETS}
        # a late outlet's findings from its last inspection old enough for every deadline to
        # have passed (with whatever came after) are left unsettled: which of its inspections
        # fall in the last weeks depends on the day the demo is seeded
        kept = _late_outlets_findings(late, today, since)
        recent = db.session.scalars(sa.select(Inspection).where(
            Inspection.status == InspectionStatus.final,
            sa.or_(Inspection.submitted_at >= bank_midnight(since), Inspection.id.in_(kept)))
            .order_by(Inspection.id)).all()
        settled = _settle_earlier_findings(bank_midnight(since), keep=kept)
        if settled:
            report.created["已完成整改项（历史）"] = settled
        items = [item for inspection in recent
                 for item in create_rectification_items(inspection, by=None)]
        # Most of these findings are weeks old, their deadlines passed. As in a working branch,
        # most outlets are on time (their deadlines move to the coming days, audited); the two
        # weak ones are late, and the watch-list picks them up below.
        rng = random.Random(45)
        for item in items:
            if item.outlet_id not in late and item.deadline < today:
                adjust_deadline(item, deadline=today + timedelta(days=rng.randint(2, 14)),
                                reason="演示数据：期限按今天顺延", by=manager)
        if items:
            report.created["整改项"] = len(items)
            evaluate(today)


#: The longest rectification deadline of the default checklist, in days.
LONGEST_DEADLINE = 15
#: Every open task of the demo's campaign leaves at least this many days after today.
DAYS_LEFT = 7
#: Near a month's end the demo's campaign runs this many days past today, into the next month.
RUNS_ON = 14
#: The reason the demo's planner gives for the windows it moves (audited).
TIME_LEFT_REASON = "演示数据：按今天安排检查时间"


def _time_left(campaign, today: date, manager: User) -> None:
    """Leave time in the demo's campaign whatever the day it is seeded, as its planner would:
    near the month's end the campaign runs on into the next (its tasks' windows moved with
    it); a mystery visit whose window has begun (or passed) gets a week from today; and each
    shopper has one visit open now — the product spreads visits over the period, so the
    others open later, deliberately. Windows move through the product's own
    :func:`~inspect_app.inspections.operations.reschedule` (audited, interval rules kept)."""
    from ..errors import DomainError
    from ..inspections.models import OPEN, Inspection, Mode
    from ..inspections.operations import reschedule

    end = campaign.period_end
    if (end - today).days < DAYS_LEFT:
        campaign.period_end = today + timedelta(days=RUNS_ON)
    tasks = db.session.scalars(sa.select(Inspection).where(
        Inspection.campaign_id == campaign.id, Inspection.status.in_(OPEN))
        .order_by(Inspection.due_start, Inspection.id)).all()
    week = today + timedelta(days=DAYS_LEFT)
    for task in tasks:
        due_end = task.due_end
        if task.mode is Mode.mystery_visit:
            if task.due_start <= today and due_end < week:
                due_end = week
        elif due_end == end:
            due_end = campaign.period_end
        if due_end != task.due_end:
            reschedule(task, due_start=task.due_start, due_end=due_end,
                       reason=TIME_LEFT_REASON, by=manager)
    visits = [task for task in tasks if task.mode is Mode.mystery_visit]
    for shopper_id in sorted({task.assignee_id for task in visits}):
        own = [task for task in visits if task.assignee_id == shopper_id]
        for task in own if all(task.due_start > today for task in own) else []:
            try:
                reschedule(task, due_start=today, due_end=max(task.due_end, week),
                           reason=TIME_LEFT_REASON, by=manager)
                break
            except DomainError:  # too close to this shopper's visits of the outlet: the next
                continue


def _late_outlets_findings(late: set[int], today: date, since: date) -> list[int]:
    """Ids of the late outlets' inspections whose findings stay open as late items: from each
    one's last inspection with findings whose every deadline has passed, on."""
    from ..inspections.models import Finding, FindingStatus, Inspection, InspectionStatus

    overdue_before = bank_midnight(today - timedelta(days=LONGEST_DEADLINE))
    with_findings = (sa.select(Inspection.outlet_id, Inspection.id, Inspection.submitted_at)
                     .where(Inspection.status == InspectionStatus.final,
                            Inspection.outlet_id.in_(late),
                            sa.exists().where(Finding.inspection_id == Inspection.id,
                                              Finding.status == FindingStatus.open)))
    kept = []
    for outlet_id in sorted(late):
        anchor = db.session.scalar(
            with_findings.with_only_columns(sa.func.max(Inspection.submitted_at))
            .where(Inspection.outlet_id == outlet_id,
                   Inspection.submitted_at < overdue_before))
        if anchor is None:
            continue
        kept += db.session.scalars(with_findings.with_only_columns(Inspection.id).where(
            Inspection.outlet_id == outlet_id, Inspection.submitted_at >= anchor,
            Inspection.submitted_at < bank_midnight(since))).all()
    return kept


def _settle_earlier_findings(before, keep: list[int] = ()) -> int:
    """The findings of the history before ``before`` as rectification items fixed in time: the
    outlet's manager sent a fix within the deadline and the sub-branch's manager accepted it a
    day or two later — so earlier months' lists and result pages tell what became of them.
    Bulk Core inserts, like the history itself (no audit trail: nobody did this in the app)."""
    from ..checklists.models import Checklist
    from ..inspections.models import Finding, FindingStatus, Inspection, InspectionStatus
    from ..rectification.models import ClosedReason, RectificationItem, RectificationState

    rows = db.session.execute(
        sa.select(Finding.id, Finding.inspection_id, Finding.outlet_id, Finding.item_code,
                  Finding.item_text, Finding.note, Finding.severity, Finding.red_line,
                  Inspection.checklist_id, Inspection.submitted_at, OrgUnit.parent_id)
        .join(Inspection, Finding.inspection_id == Inspection.id)
        .join(OrgUnit, Finding.outlet_id == OrgUnit.id)
        .outerjoin(RectificationItem, RectificationItem.finding_id == Finding.id)
        .where(Inspection.status == InspectionStatus.final, Inspection.submitted_at < before,
               Inspection.id.not_in(list(keep)),
               Finding.status == FindingStatus.open, RectificationItem.id.is_(None))
        .order_by(Finding.id)).all()
    if not rows:
        return 0
    from ..auth.models import RoleGrant

    def managers(role: Role) -> dict[int, int]:
        pairs = db.session.execute(sa.select(RoleGrant.org_unit_id, sa.func.min(RoleGrant.user_id))
                                   .where(RoleGrant.role == role)
                                   .group_by(RoleGrant.org_unit_id)).all()
        return dict(pairs)

    outlet_managers, subbranch_managers = managers(Role.outlet_manager), \
        managers(Role.subbranch_manager)
    checklists = {c.id: c for c in db.session.scalars(sa.select(Checklist).where(
        Checklist.id.in_({row.checklist_id for row in rows})))}
    facts = {cid: ({i.code: i for i in c.items}, {s.code: s.name for s in c.sections})
             for cid, c in checklists.items()}
    rng = random.Random(2027)
    items = []
    for row in rows:
        checklist_items, sections = facts[row.checklist_id]
        item = checklist_items.get(row.item_code)
        days = item.deadline_days if item is not None else 7
        found = row.submitted_at
        fixed = found + timedelta(days=rng.randint(1, max(1, days - 1)), hours=rng.randint(1, 8))
        decided = fixed + timedelta(days=rng.randint(0, 2), hours=rng.randint(1, 6))
        items.append({
            "finding_id": row.id, "inspection_id": row.inspection_id,
            "outlet_id": row.outlet_id, "item_code": row.item_code, "item_text": row.item_text,
            "standard": (item.guidance or "") if item is not None else "",
            "section": sections.get(item.section_code, "") if item is not None else "",
            "finding_note": row.note, "severity": row.severity, "red_line": row.red_line,
            "state": RectificationState.closed.value,
            "deadline": (local_date(found) or found.date()) + timedelta(days=days),
            "responsible_id": outlet_managers.get(row.outlet_id),
            "fix_note": "已按标准整改，见整改后照片（演示数据）", "fix_submitted_at": fixed,
            "fix_submitted_by_id": outlet_managers.get(row.outlet_id),
            "decided_at": decided, "decided_by_id": subbranch_managers.get(row.parent_id),
            "rejections": 0, "closed_at": decided, "closed_reason": ClosedReason.accepted.value,
            "version": 1, "created_at": found, "updated_at": decided})
    for start in range(0, len(items), 2000):
        db.session.execute(sa.insert(RectificationItem.__table__), items[start:start + 2000])
    return len(items)


#: Later domains append their own steps (campaigns, inspections…).
SEED_STEPS: list[Callable[[SeedReport, dict[str, OrgUnit]], None]] = [
    seed_people, seed_checklist, seed_teams, seed_history, seed_current_work]


def seed_demo() -> SeedReport:
    """Create whatever part of the demo data is missing. The caller commits."""
    report = SeedReport()
    units = seed_organisation(report)
    for step in SEED_STEPS:
        step(report, units)
    db.session.flush()
    return report


DEMO_LOGINS = [
    DemoLogin("admin", "系统管理员", "系统管理员", "唐山分行"),
    DemoLogin("fwgl", "张丽", "服务管理（分行）", "唐山分行"),
    DemoLogin("zh.lubei", "", "支行负责人", "路北支行"),
    DemoLogin("zh.lunan", "", "支行负责人", "路南支行"),
    DemoLogin("wd.lb01", "", "网点负责人", "路北支行营业室"),
    DemoLogin("wd.ln02", "", "网点负责人", "新华道分理处"),
    DemoLogin("jc.lubei1", "", "检查员（路北互查组）", "路北支行"),
    DemoLogin("jc.fenhang1", "", "检查员（分行抽查）", "唐山分行"),
    DemoLogin("smr1", "神秘人1号", "神秘人", "唐山分行"),
]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: two for a wide character (Chinese, full-width
    punctuation such as （）), one for the others."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def padded(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def print_logins(echo: Callable[[str], None]) -> None:
    """Print the table of demo logins (names read from the database, which is the truth)."""
    names = dict(db.session.execute(sa.select(User.username, User.display_name)).all())
    if not any(login.username in names for login in DEMO_LOGINS):
        return  # a real bank's database: it has no demo logins to print
    rows = [("用户名", "姓名", "角色", "范围")] + [
        (login.username, names[login.username], login.role, login.scope)
        for login in DEMO_LOGINS if login.username in names]
    # columns as wide as their widest cell on a terminal, where a Chinese character takes two
    widths = [max(display_width(row[column]) for row in rows) + 2 for column in range(3)]
    echo("")
    echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for row in rows:
        echo("  " + "".join(padded(cell, width) for cell, width in zip(row, widths)) + row[3])
    echo("  其他账号：每个支行 zh.<支行拼音>，检查员 jc.<支行拼音>1/2，"
         "每个网点负责人 wd.<支行编码><序号>（如 wd.qa03）。")
    echo("")
