"""What happened, in words: every action the application writes to the audit log.

The words are catalogued in their own context (``audit``): 登录 or 提交检查 is also a button's
text, and a button says a command ("Sign in") where the log says what was done ("Signed in").
"""
from __future__ import annotations

from ..i18n import NP_, translated

#: Every action :func:`~inspect_app.audit.operations.record` is called with, and what it means
#: (操作审计 shows the words; administrators still search by the code). ``record`` warns of an
#: action missing here, and tests/test_audit.py finds every action the code names.
ACTIONS = {
    "auth.login": NP_("audit", "登录"),
    "auth.login_failed": NP_("audit", "登录失败"),
    "auth.login_locked": NP_("audit", "登录被拒（账号已锁定）"),
    "api_token.issue": NP_("audit", "签发 API 令牌"),
    "api_token.revoke": NP_("audit", "吊销 API 令牌"),
    "user.create": NP_("audit", "新建人员"),
    "user.update": NP_("audit", "修改人员"),
    "user.deactivate": NP_("audit", "停用人员"),
    "user.reactivate": NP_("audit", "重新启用人员"),
    "org_unit.create": NP_("audit", "新建机构"),
    "org_unit.update": NP_("audit", "修改机构"),
    "checklist.create": NP_("audit", "新建检查表"),
    "checklist.update": NP_("audit", "修改检查表"),
    "checklist.new_version": NP_("audit", "新建检查表版本"),
    "checklist.publish": NP_("audit", "发布检查表"),
    "checklist.retire": NP_("audit", "停用检查表"),
    "campaign.create": NP_("audit", "新建检查计划"),
    "inspection_team.create": NP_("audit", "新建检查组"),
    "inspection_team.update": NP_("audit", "修改检查组"),
    "inspection.submit": NP_("audit", "提交检查"),
    "inspection.return": NP_("audit", "退回检查"),
    "inspection.finalise": NP_("audit", "检查定稿"),
    "inspection.reassign": NP_("audit", "改派检查"),
    "inspection.reschedule": NP_("audit", "检查改期"),
    "inspection.cancel": NP_("audit", "取消检查"),
    "inspection.reinspection": NP_("audit", "安排复查"),
    "photo.upload": NP_("audit", "上传照片"),
    "photo.delete": NP_("audit", "删除照片"),
    "appeal.create": NP_("audit", "提出申诉"),
    "appeal.decide": NP_("audit", "处理申诉"),
    "rectification.create": NP_("audit", "新建整改项"),
    "rectification.relink": NP_("audit", "整改项关联更正后的问题"),
    "rectification.reopen": NP_("audit", "重新打开整改项"),
    "rectification.withdraw": NP_("audit", "撤销整改项"),
    "rectification.submit": NP_("audit", "提交整改"),
    "rectification.accept": NP_("audit", "验收整改"),
    "rectification.reject": NP_("audit", "退回整改"),
    "rectification.close": NP_("audit", "关闭整改项（销号）"),
    "rectification.deadline": NP_("audit", "调整整改期限"),
    "rectification.reassign": NP_("audit", "更换整改责任人"),
    "watchlist_rules.update": NP_("audit", "调整名单规则"),
    "watchlist.evaluate": NP_("audit", "名单评估"),
    "watchlist.manual_entry": NP_("audit", "人工列入名单"),
    "watchlist.manual_exit": NP_("audit", "人工移出名单"),
    "coaching_action.create": NP_("audit", "记录辅导跟进"),
    "queue_data.import": NP_("audit", "导入排队数据"),
    "report_job.start": NP_("audit", "开始导出任务"),
    "backup.restore": NP_("audit", "从备份恢复"),
}


def action_label(action: str) -> str:
    """The action in words, in Chinese; one the application no longer writes, or not yet
    labelled, as its code."""
    return ACTIONS.get(action, action)


def action_words(action: str) -> str:
    """The action in words in the reader's language (:func:`action_label` said through the
    catalogue's ``audit`` context); a code without words as it is."""
    return translated(ACTIONS[action]) if action in ACTIONS else action
