"""Every text the PWA's JavaScript shows, translated on the server and handed to the page.

Chinese is the source language, as everywhere: keys are stable names for the scripts, values are
the Chinese msgids that ``scripts/i18n.sh`` extracts. ``{n}``-style slots are filled in by JS.
"""
from __future__ import annotations

from flask_babel import gettext

from ..auth.permissions import N_

STRINGS: dict[str, str] = {
    "pass": N_("合格"), "fail": N_("不合格"), "na": N_("不适用"),
    "red_line": N_("红线"), "photo_required": N_("需拍照"), "photo_on_fail": N_("不合格需拍照"),
    "camera": N_("拍照"), "gallery": N_("相册"), "note": N_("备注"),
    "deduct_points": N_("扣分"), "deduct_reason": N_("扣分原因"),
    "fixed_on_spot": N_("已立查立改"), "guidance": N_("合格标准"),
    "derived": N_("根据暗访时间自动计算"), "derived_pending": N_("点击取号、叫号后自动计算"),
    "limit_max": N_("不超过 {limit}{unit}"), "limit_min": N_("不低于 {limit}{unit}"),
    "points": N_("{n} 分"), "answered": N_("已填 {done}/{total}"),
    "submit": N_("提交检查"), "submitting": N_("提交中…"),
    "missing_title": N_("提交前请补全以下内容："),
    "missing_answer": N_("尚未作答"), "missing_photo": N_("需要拍照留证"),
    "missing_reason": N_("扣分时必须填写扣分原因"), "bad_number": N_("请填写数字"),
    "queued_submit": N_("已保存在手机上，联网后自动提交"),
    "submitted": N_("已提交"), "score": N_("得分"), "grade": N_("等级"),
    "red_line_failed": N_("触发红线（一票否决）"), "findings": N_("发现问题 {n} 项"),
    "no_findings": N_("未发现问题"),
    "pending": N_("{n} 项待上传"), "all_synced": N_("已全部同步"),
    "last_sync": N_("上次同步：{time}"), "never_synced": N_("尚未同步"),
    "offline": N_("离线"), "online": N_("在线"), "sync": N_("同步"), "syncing": N_("同步中…"),
    "sync_error": N_("上传失败：{message}"), "retry": N_("重试"), "discard": N_("放弃此项"),
    "discard_confirm": N_("确定放弃这项未上传的内容吗？此操作不能撤销。"),
    "login_again": N_("登录已过期，请重新登录后再同步（未上传的内容仍保存在手机上）"),
    "not_persistent": N_("手机存储空间可能被系统清理：请尽快联网同步未上传的内容"),
    "photo_pending": N_("待上传"), "photo_not_taken": N_("未采用"), "photo_uploaded": N_("已上传"), "photo_failed": N_("上传失败"),
    "remove_photo": N_("删除照片"),
    "conflict_title": N_("该检查已在其他设备上修改"),
    "conflict_text": N_("请选择保留哪一份："),
    "keep_local": N_("保留本机"), "use_server": N_("使用服务器版本"),
    "local_copy": N_("本机：已填 {n} 项"), "server_copy": N_("服务器：已填 {n} 项（{time}）"),
    "today": N_("今天"), "overdue": N_("已逾期"), "upcoming": N_("待办"), "done": N_("已完成"),
    "empty": N_("暂无任务"), "due": N_("期限：{start} 至 {end}"),
    "late_warning": N_("已超过检查期限（截止 {end}），提交后将标记为逾期"),
    "submitted_late": N_("逾期提交"),
    "state_local": N_("本机有未同步的修改"), "state_queued": N_("待提交"),
    "state_synced": N_("已同步"), "state_error": N_("有错误"), "state_new": N_("未开始"),
    "open": N_("打开"), "load_failed": N_("无法加载数据：{message}"),
    "offline_no_copy": N_("离线且手机上没有该检查的副本，请联网后再打开"),
    "scenario": N_("暗访场景"), "visit_times": N_("暗访时间"), "tap_to_record": N_("点击记录"),
    "clear": N_("清除"), "arrival": N_("到达"), "ticket": N_("取号"), "called": N_("叫号"),
    "served": N_("开始办理"), "left": N_("离开"),
    "read_only": N_("只读"), "mystery": N_("神秘人"), "results_empty": N_("暂无已提交的检查结果"),
    "inspector": N_("检查人"), "submitted_at": N_("提交日期"), "answer": N_("结果"),
    "labelled": N_("{label}："),
    "not_editable": N_("该检查已提交，不能再修改"), "back": N_("返回"),
    "storage_ok": N_("已开启持久存储"), "login": N_("登录"),
    "rect_empty": N_("没有待整改的事项"), "deadline": N_("整改期限：{date}"),
    "fix_note": N_("整改说明"), "submit_fix": N_("提交整改"), "fix_submitted": N_("已提交整改，等待验收"),
    "need_after_photo": N_("请先上传整改后照片"), "need_note": N_("请填写整改说明（至少 2 个字）"),
    "uploading": N_("上传中…"), "online_only": N_("整改提交需要联网"),
    "appeal": N_("申诉"), "appeal_category": N_("申诉类别"), "appeal_text": N_("申诉理由"),
    "appeal_submit": N_("提交申诉"), "cancel": N_("取消"),
    "need_appeal_text": N_("请填写申诉理由（至少 5 个字）"),
    "appeal_state": N_("申诉：{status}"), "decision_note": N_("处理意见"),
    "appeal_category_is": N_("申诉类别：{value}"), "appeal_text_is": N_("申诉理由：{value}"),
    "decision_note_is": N_("处理意见：{value}"),
    "appeal_pending": N_("待处理"), "appeal_upheld": N_("维持原结论"),
    "appeal_overturned": N_("申诉成立"),
    "withdrawn_answer": N_("原判{answer}，申诉成立已撤销"),
    "rescored_on_appeal": N_("已按申诉结果重新计分"),
    "cat_standard_misapplied": N_("检查标准理解有误"), "cat_facts_wrong": N_("事实认定有误"),
    "cat_already_fixed": N_("检查时已现场整改"), "cat_not_applicable": N_("该项不适用本网点"),
    "cat_other": N_("其他"),
    "appeals_empty": N_("没有待处理的申诉"), "appeals_decided_empty": N_("暂无已处理的申诉"),
    "need_decision_note": N_("请填写处理意见（至少 2 个字）"),
    "view_result": N_("查看检查结果"), "online_needed": N_("需要联网"),
    "review_empty": N_("没有待验收的整改"), "after_photos": N_("整改后照片"),
    "fix_note_shown": N_("整改说明：{note}"),
    "accept_fix": N_("验收通过"), "reject_fix": N_("退回整改"), "reject_reason": N_("退回原因"),
    "need_reject_reason": N_("请填写退回原因（至少 2 个字）"),
    "fix_accepted": N_("已验收通过"), "fix_rejected": N_("已退回整改：{reason}"),
    "rejected_before": N_("上次退回原因：{reason}"),
    "report_pdf": N_("检查报告（PDF）"), "list_pdf": N_("整改清单（PDF）"),
    "discard_local": N_("删除本机副本"), "cancelled_note": N_("该任务已取消，本机保存的内容不会再上传"),
    "discard_local_confirm": N_("删除这项已取消任务在手机上保存的内容吗？此操作不能撤销。"),
    "gone": N_("已不再分派给您"),
    "gone_note": N_("该任务已不再分派给您（已改派给他人或不在您的范围内），本机保存的内容不会再上传"),
    "elsewhere_note": N_("该检查已在其他设备提交，以上是那次提交的结果。本机与之不同的答案 {answers} 项、"
                         "未上传的照片 {photos} 张不会再上传。"),
    "elsewhere_dismiss": N_("知道了，删除本机未上传的内容"),
    "elsewhere_dismiss_confirm": N_("删除本机未上传的照片吗？此操作不能撤销。"),
    "discard_gone_confirm": N_("删除这项任务在手机上保存的内容吗？它已不再分派给您，此操作不能撤销。"),
}


def translated_strings() -> dict[str, str]:
    """The strings in the current request's language."""
    return {key: gettext(text) for key, text in STRINGS.items()}
