"""marshmallow's own refusals ("Missing data for required field.", "Length must be between 1 and
200.") said in Chinese, as every other message the product shows.

The project's schemas write their messages in Chinese; marshmallow and its validators write
theirs in English, filled in with values (``{min}``, ``{choices}``). :func:`schema_message` reads
such a text back into a :class:`~inspect_app.messages.Message`: its Chinese template, with the
values it carried, which the reader's language then says (the English catalogue holds
marshmallow's own wording). A text that is no marshmallow message comes back as ``None``.

``tests/test_schema_messages.py`` checks that every default message of the installed marshmallow
has its Chinese here, so an upgrade that adds or rewords one fails there, not in front of a user.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .messages import N_, Message

#: marshmallow's text (``str.format`` placeholders) → the catalogue's Chinese (``%(name)s``).
CHINESE: dict[str, str] = {
    # fields
    "Missing data for required field.": N_("此项必填"),
    "Field may not be null.": N_("此项不能为空"),
    "Invalid value.": N_("值无效"),
    "Invalid type.": N_("类型不正确"),
    "Not a valid list.": N_("应为列表"),
    "Not a valid tuple.": N_("应为元组"),
    "Not a valid string.": N_("应为文本"),
    "Not a valid utf-8 string.": N_("不是有效的 UTF-8 文本"),
    "Not a valid UUID.": N_("不是有效的 UUID"),
    "Not a valid number.": N_("应为数字"),
    "Number too large.": N_("数字过大"),
    "Not a valid integer.": N_("应为整数"),
    "Special numeric values (nan or infinity) are not permitted.":
        N_("不允许使用 NaN、无穷大等特殊数值"),
    "Not a valid boolean.": N_("应为是或否（布尔值）"),
    "Not a valid datetime.": N_("不是有效的日期时间"),
    "Not a valid naive datetime.": N_("不是有效的日期时间（不应带时区）"),
    "Not a valid aware datetime.": N_("不是有效的日期时间（应带时区）"),
    "Not a valid time.": N_("不是有效的时间"),
    "Not a valid naive time.": N_("不是有效的时间（不应带时区）"),
    "Not a valid aware time.": N_("不是有效的时间（应带时区）"),
    "Not a valid date.": N_("不是有效的日期"),
    "Not a valid period of time.": N_("不是有效的时长"),
    "Not a valid mapping type.": N_("应为对象（键值对）"),
    "Not a valid URL.": N_("不是有效的网址"),
    "Not a valid email address.": N_("不是有效的电子邮箱地址"),
    "Not a valid IP address.": N_("不是有效的 IP 地址"),
    "Not a valid IPv4 address.": N_("不是有效的 IPv4 地址"),
    "Not a valid IPv6 address.": N_("不是有效的 IPv6 地址"),
    "Not a valid IP interface.": N_("不是有效的 IP 接口"),
    "Not a valid IPv4 interface.": N_("不是有效的 IPv4 接口"),
    "Not a valid IPv6 interface.": N_("不是有效的 IPv6 接口"),
    "Must be one of: {choices}.": N_("必须是以下之一：%(choices)s"),
    # schemas
    "Invalid input type.": N_("提交内容的类型不正确"),
    "Unknown field.": N_("不认识的字段"),
    # webargs
    "Invalid JSON body.": N_("请求内容不是有效的 JSON"),
    # validators
    "Must be greater than or equal to {min}.": N_("不能小于 %(min)s"),
    "Must be greater than {min}.": N_("必须大于 %(min)s"),
    "Must be less than or equal to {max}.": N_("不能大于 %(max)s"),
    "Must be less than {max}.": N_("必须小于 %(max)s"),
    "Must be greater than or equal to {min} and less than or equal to {max}.":
        N_("应在 %(min)s 到 %(max)s 之间"),
    "Must be greater than {min} and less than or equal to {max}.":
        N_("必须大于 %(min)s，且不能大于 %(max)s"),
    "Must be greater than or equal to {min} and less than {max}.":
        N_("不能小于 %(min)s，且必须小于 %(max)s"),
    "Must be greater than {min} and less than {max}.": N_("必须大于 %(min)s 且小于 %(max)s"),
    "Shorter than minimum length {min}.": N_("长度不能少于 %(min)s"),
    "Longer than maximum length {max}.": N_("长度不能超过 %(max)s"),
    "Length must be between {min} and {max}.": N_("长度应在 %(min)s 到 %(max)s 之间"),
    "Length must be {equal}.": N_("长度必须为 %(equal)s"),
    "Must be equal to {other}.": N_("必须等于 %(other)s"),
    "String does not match expected pattern.": N_("格式不正确"),
    "Invalid input.": N_("输入无效"),
    "One or more of the choices you made was not in: {choices}.":
        N_("所选的值中有不在以下范围内的：%(choices)s"),
    "One or more of the choices you made was in: {values}.":
        N_("所选的值中有不允许的：%(values)s"),
}

_PLACEHOLDER = re.compile(r"\{(\w+)(?:![rs])?\}")


def _pattern(english: str) -> re.Pattern:
    """``"Length must be {equal}."`` → a pattern capturing ``equal``."""
    parts, last = [], 0
    for found in _PLACEHOLDER.finditer(english):
        parts += [re.escape(english[last:found.start()]), f"(?P<{found.group(1)}>.+)"]
        last = found.end()
    return re.compile("".join([*parts, re.escape(english[last:])]), re.DOTALL)


#: Texts without values, looked up directly; those with values, matched against patterns.
_PLAIN = {english: chinese for english, chinese in CHINESE.items()
          if not _PLACEHOLDER.search(english)}
#: Longest first: "Must be greater than or equal to {min}." would also match the start of
#: "… {min} and less than or equal to {max}." with the rest taken for ``min``.
_FILLED = [(_pattern(english), chinese) for english, chinese in
           sorted(CHINESE.items(), key=lambda pair: -len(pair[0]))
           if _PLACEHOLDER.search(english)]


@lru_cache(maxsize=1024)
def _lookup(text: str) -> Message | None:
    if text in _PLAIN:
        return Message(_PLAIN[text])
    for pattern, chinese in _FILLED:
        found = pattern.fullmatch(text)
        if found:
            return Message(chinese, **found.groupdict())
    return None


def schema_message(text: str) -> Message | None:
    """marshmallow's English ``text`` as a :class:`Message` (Chinese, with its values), or None
    when it is not one of marshmallow's own messages."""
    if isinstance(text, Message) or len(text) > 500:
        return None
    return _lookup(str(text))
