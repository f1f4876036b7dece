"""The watch-list rules as a page: what each rule says with its figures, in the reader's
language, and the form a service manager tunes them with.

The form has one field per rule parameter (``<rule>.<param>``; shares as percentages), one
switch per rule (``<rule>.enabled``), the unit kinds each rule applies to (``<rule>.unit_kinds``,
one box per kind: 适用于 网点 / 支行), the exit policy (``exit.*``), the period and a reason. It
is checked by a schema built from the rules' own parameters, so a new rule or parameter needs
no change here. Saving goes through :func:`.operations.update_rules`: a new version, audited.
"""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext
from marshmallow import fields, validate

from . import rules as engine
from .models import WatchlistRuleSet


def _number(kind: str) -> fields.Field:
    messages = {"required": gettext("必填"), "invalid": gettext("请填写数字"),
                "special": gettext("请填写数字")}
    if kind == "int":
        return fields.Integer(required=True, error_messages=messages)
    return fields.Float(required=True, allow_nan=False, error_messages=messages)


def _field(name: str, field: fields.Field) -> tuple[str, fields.Field]:
    """A form field named ``rule.param``: the dot is the form's, not a nested path."""
    field.data_key = name
    return name.replace(".", "__"), field


def _kinds(rule: engine.WatchRule) -> fields.Field:
    """The unit kinds a rule applies to: at least one of those it can judge."""
    pick = gettext("请至少选择一种适用对象")
    return fields.List(fields.String(validate=validate.OneOf(
        [k for k in engine.UNIT_KINDS if k in rule.applies_to], error=gettext("请从列表中选择"))),
        required=True, validate=validate.Length(min=1, error=pick),
        error_messages={"required": pick})


def form_schema() -> ma.Schema:
    """A schema for the rules form, built from every rule's parameters."""
    spec = []
    for key, rule in engine.RULES.items():
        spec.append(_field(f"{key}.enabled", fields.Boolean(load_default=False)))
        spec.append(_field(f"{key}.unit_kinds", _kinds(rule)))
        spec += [_field(f"{key}.{param.name}", _number(param.kind)) for param in rule.params]
    spec += [_field("exit.consecutive_passing_checks", _number("int")),
             _field("exit.passing_score", _number("float")),
             _field("exit.require_nothing_overdue", fields.Boolean(load_default=False)),
             _field("period_days", _number("int")),
             _field("note", fields.String(required=True,
                                          validate=validate.Length(min=2, max=1000),
                                          error_messages={"required": gettext("请填写调整原因")}))]
    schema = ma.Schema.from_dict(dict(spec), name="WatchlistRulesForm")
    return schema(unknown=ma.EXCLUDE)


def field_label(name: str) -> str:
    """A form field's name for an error message: "「整改逾期」逾期占比"."""
    key, _, part = name.partition(".")
    if key in engine.RULES and part != "unit_kinds":
        rule = engine.RULES[key]
        params = {p.name: p for p in rule.params}
        what = gettext(params[part].label_zh) if part in params else gettext("启用")
        return gettext("「%(rule)s」%(what)s", rule=gettext(rule.label_zh), what=what)
    if key in engine.RULES and part == "unit_kinds":
        return gettext("「%(rule)s」%(what)s", rule=gettext(engine.RULES[key].label_zh),
                       what=gettext("适用于"))
    return {"exit.consecutive_passing_checks": gettext("出列所需连续合格次数"),
            "exit.passing_score": gettext("出列分数线"), "period_days": gettext("统计期间（天）"),
            "note": gettext("调整原因")}.get(name, name)


def read_form(form, current: WatchlistRuleSet) -> tuple[dict[str, Any], int, str]:
    """(rules data, period days, note) from the submitted form (a ``MultiDict``);
    ``ma.ValidationError`` for fields that are missing or not numbers, and for a rule left
    without a unit kind. A rule ticked for every kind it can judge is stored unrestricted."""
    posted = {k: v for k, v in form.items() if v != ""}
    for key in engine.RULES:
        kinds = [k for k in form.getlist(f"{key}.unit_kinds") if k]
        posted.pop(f"{key}.unit_kinds", None)
        if kinds:
            posted[f"{key}.unit_kinds"] = kinds
    loaded = form_schema().load(posted)
    data = {name.replace("__", "."): value for name, value in loaded.items()}
    rules = []
    for key, rule in engine.RULES.items():
        params = {}
        for param in rule.params:
            value = data[f"{key}.{param.name}"]
            params[param.name] = value / 100 if param.kind == "share" else value
        kinds = [k for k in engine.UNIT_KINDS if k in data[f"{key}.unit_kinds"]]
        every = [k for k in engine.UNIT_KINDS if k in rule.applies_to]
        rules.append({"key": key, "enabled": data[f"{key}.enabled"], "params": params,
                      "unit_kinds": None if kinds == every else kinds})
    exit_ = {"consecutive_passing_checks": data["exit.consecutive_passing_checks"],
             "passing_score": data["exit.passing_score"],
             "require_nothing_overdue": data["exit.require_nothing_overdue"]}
    return {"rules": rules, "exit": exit_}, data["period_days"], data["note"].strip()


def _shown(param: engine.Param, value: float) -> str:
    """A parameter's value in its input: shares as percentages, no trailing zeros."""
    return engine.plain_number(value * 100 if param.kind == "share" else value)


def only_for(kinds) -> str | None:
    """"（仅适用于网点）" for a rule restricted to some unit kinds; None for one that judges
    every kind."""
    if kinds is None or set(kinds) >= set(engine.UNIT_KINDS):
        return None
    phrases = {engine.OUTLET: gettext("（仅适用于网点）"),
               engine.SUBBRANCH: gettext("（仅适用于支行）")}
    return "".join(phrases[k] for k in engine.UNIT_KINDS if k in kinds)


def present(row: WatchlistRuleSet, submitted=None) -> dict[str, Any]:
    """The rule set for the page: each rule's name, description with its figures, switch,
    unit kinds and inputs (the submitted values when the form comes back with a refusal;
    ``submitted`` is then the posted ``MultiDict``)."""
    rule_set = engine.RuleSet.from_dict(row.rules)
    configs = {c.key: c for c in rule_set.rules}
    submitted = submitted or {}
    labels = {engine.OUTLET: gettext("网点"), engine.SUBBRANCH: gettext("支行")}
    rules = []
    for key, rule in engine.RULES.items():
        config = configs.get(key) or engine.RuleConfig(key, False, rule.defaults())
        kinds = config.unit_kinds
        ticked = (submitted.getlist(f"{key}.unit_kinds") if submitted
                  else kinds if kinds is not None else engine.UNIT_KINDS)
        rules.append({
            "key": key, "label": gettext(rule.label_zh),
            "description": rule.describe(config.params, gettext),
            "only": only_for(kinds),
            "kinds": [{"value": k, "label": labels[k], "checked": k in ticked}
                      for k in engine.UNIT_KINDS if k in rule.applies_to],
            "enabled": (f"{key}.enabled" in submitted) if submitted else config.enabled,
            "params": [{
                "name": f"{key}.{p.name}", "label": gettext(p.label_zh),
                "value": submitted.get(f"{key}.{p.name}", _shown(p, config.params[p.name])),
                "unit": "%" if p.kind == "share" else "",
                "step": "1" if p.kind == "int" else "any",
                "min": None if p.minimum is None else _shown(p, p.minimum),
                "max": None if p.maximum is None else _shown(p, p.maximum)}
                for p in rule.params]})
    policy = rule_set.exit
    return {
        "version": row.version, "period_days": submitted.get("period_days", row.period_days),
        "rules": rules, "exit_description": engine.describe_exit(policy, gettext),
        "exit": {"n": submitted.get("exit.consecutive_passing_checks",
                                    policy.consecutive_passing_checks),
                 "score": submitted.get("exit.passing_score", engine.plain_number(policy.passing_score)),
                 "nothing_overdue": ("exit.require_nothing_overdue" in submitted) if submitted
                 else policy.require_nothing_overdue},
        "note": submitted.get("note", ""),
    }
