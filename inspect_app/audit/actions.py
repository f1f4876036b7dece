"""What happened, in words: every action the application writes to the audit log."""
from __future__ import annotations

from ..i18n import N_

#: Every action :func:`~inspect_app.audit.operations.record` is called with, and what it means
#: (操作审计 shows the words; administrators still search by the code). ``record`` warns of an
#: action missing here, and tests/test_audit.py finds every action the code names.
ACTIONS = {
    "auth.login": N_("登录"),
    "auth.login_failed": N_("登录失败"),
    "auth.login_locked": N_("登录被拒（账号已锁定）"),
    "api_token.issue": N_("签发 API 令牌"),
    "api_token.revoke": N_("吊销 API 令牌"),
    "user.create": N_("新建人员"),
    "user.update": N_("修改人员"),
    "user.deactivate": N_("停用人员"),
    "user.reactivate": N_("重新启用人员"),
    "org_unit.create": N_("新建机构"),
    "org_unit.update": N_("修改机构"),
    "checklist.create": N_("新建检查表"),
    "checklist.update": N_("修改检查表"),
    "checklist.new_version": N_("新建检查表版本"),
    "checklist.publish": N_("发布检查表"),
    "checklist.retire": N_("停用检查表"),
    "campaign.create": N_("新建检查计划"),
    "inspection_team.create": N_("新建检查组"),
    "inspection_team.update": N_("修改检查组"),
    "inspection.submit": N_("提交检查"),
    "inspection.return": N_("退回检查"),
    "inspection.finalise": N_("检查定稿"),
    "inspection.reassign": N_("改派检查"),
    "inspection.reschedule": N_("检查改期"),
    "inspection.cancel": N_("取消检查"),
    "inspection.reinspection": N_("安排复查"),
    "photo.upload": N_("上传照片"),
    "photo.delete": N_("删除照片"),
    "appeal.create": N_("提出申诉"),
    "appeal.decide": N_("处理申诉"),
    "rectification.create": N_("新建整改项"),
    "rectification.relink": N_("整改项关联更正后的问题"),
    "rectification.reopen": N_("重新打开整改项"),
    "rectification.withdraw": N_("撤销整改项"),
    "rectification.submit": N_("提交整改"),
    "rectification.accept": N_("验收整改"),
    "rectification.reject": N_("退回整改"),
    "rectification.close": N_("关闭整改项（销号）"),
    "rectification.deadline": N_("调整整改期限"),
    "rectification.reassign": N_("更换整改责任人"),
    "watchlist_rules.update": N_("调整名单规则"),
    "watchlist.evaluate": N_("名单评估"),
    "watchlist.manual_entry": N_("人工列入名单"),
    "watchlist.manual_exit": N_("人工移出名单"),
    "coaching_action.create": N_("记录辅导跟进"),
    "queue_data.import": N_("导入排队数据"),
    "report_job.start": N_("开始导出任务"),
    "backup.restore": N_("从备份恢复"),
}


def action_label(action: str) -> str:
    """The action in words (Chinese; translate it for the reader); one the application no
    longer writes, or not yet labelled, as its code."""
    return ACTIONS.get(action, action)
