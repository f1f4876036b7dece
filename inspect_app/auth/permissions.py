"""What each role may do. The one place that maps roles to permissions.

A role is always granted *at* an org unit and covers that unit and everything below it. Checks
elsewhere ask ``user.can(Permission.X, unit)`` or filter with ``user.scope_paths(Permission.X)``;
they never test role names.
"""
from __future__ import annotations

import enum

from ..i18n import N_


class Role(enum.Enum):
    admin = "admin"
    service_manager = "service_manager"
    subbranch_manager = "subbranch_manager"
    outlet_manager = "outlet_manager"
    inspector = "inspector"
    mystery_shopper = "mystery_shopper"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.admin: N_("系统管理员"),
    Role.service_manager: N_("服务管理（分行）"),
    Role.subbranch_manager: N_("支行负责人"),
    Role.outlet_manager: N_("网点负责人"),
    Role.inspector: N_("检查员"),
    Role.mystery_shopper: N_("神秘人"),
}


class Permission(enum.Enum):
    org_read = "org.read"
    org_manage = "org.manage"
    users_read = "users.read"
    users_manage = "users.manage"
    audit_read = "audit.read"
    checklists_manage = "checklists.manage"
    campaigns_manage = "campaigns.manage"
    inspections_read = "inspections.read"
    inspections_fill = "inspections.fill"
    inspections_review = "inspections.review"
    mystery_visit = "inspections.mystery"
    rectification_submit = "rectification.submit"
    rectification_accept = "rectification.accept"
    appeals_create = "appeals.create"
    reports_read = "reports.read"
    watchlist_manage = "watchlist.manage"
    sensitive_read = "sensitive.read"

    @property
    def label(self) -> str:
        return PERMISSION_LABELS[self]


PERMISSION_LABELS = {
    Permission.org_read: N_("查看机构信息"),
    Permission.org_manage: N_("维护分行、支行、网点"),
    Permission.users_read: N_("查看人员信息"),
    Permission.users_manage: N_("维护人员与角色"),
    Permission.audit_read: N_("查看操作审计日志"),
    Permission.checklists_manage: N_("维护服务标准检查表"),
    Permission.campaigns_manage: N_("制定检查计划、分派任务"),
    Permission.inspections_read: N_("查看检查结果"),
    Permission.inspections_fill: N_("填写检查表"),
    Permission.inspections_review: N_("审核检查结果、处理申诉"),
    Permission.mystery_visit: N_("执行神秘人暗访"),
    Permission.rectification_submit: N_("提交整改（上传整改后照片）"),
    Permission.rectification_accept: N_("验收整改"),
    Permission.appeals_create: N_("对检查发现提出申诉"),
    Permission.reports_read: N_("查看统计、排名与整改清单"),
    Permission.watchlist_manage: N_("管理名单式管理与辅导记录"),
    Permission.sensitive_read: N_("查看敏感信息（神秘人身份、照片定位）"),
}

P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset({P.org_read, P.org_manage, P.users_read, P.users_manage,
                           P.audit_read, P.checklists_manage}),
    Role.service_manager: frozenset({P.org_read, P.users_read, P.audit_read,
                                     P.checklists_manage, P.campaigns_manage,
                                     P.inspections_read, P.inspections_review,
                                     P.rectification_accept, P.reports_read,
                                     P.watchlist_manage, P.sensitive_read}),
    Role.subbranch_manager: frozenset({P.org_read, P.users_read, P.inspections_read,
                                       P.rectification_accept, P.reports_read}),
    Role.outlet_manager: frozenset({P.org_read, P.inspections_read, P.rectification_submit,
                                    P.appeals_create, P.reports_read}),
    Role.inspector: frozenset({P.org_read, P.inspections_fill}),
    Role.mystery_shopper: frozenset({P.inspections_fill, P.mystery_visit}),
}
