"""Error messages come in the user's language, and every one the code can raise is translated.

The messages are written in Chinese where they are raised (see :mod:`inspect_app.errors`); the
source is read here with :mod:`ast`, so a message added later without its mark or its English
translation fails this test rather than reaching an English reader in Chinese.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "inspect_app"
CATALOG = PACKAGE / "translations/en/LC_MESSAGES/messages.po"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\((\w+)\)")
#: What marks a message for the catalogue (scripts/i18n.sh extracts these).
MARKS = {"N_", "Message", "_l"}


# -- reading the source ---------------------------------------------------------------------


def _modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path))
            for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _name(node: ast.AST) -> str | None:
    """``X`` for ``X(...)``, ``a.b.X(...)`` alike."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _classes_below(roots: set[str]) -> set[str]:
    """The classes defined in the package that derive from ``roots``, ``roots`` included."""
    found = set(roots)
    classes = [node for tree in MODULES.values() for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)]
    while True:
        more = {c.name for c in classes if c.name not in found
                and any(_name(base) in found for base in c.bases)}
        if not more:
            return found
        found |= more


def _own_first_argument() -> set[str]:
    """Errors whose ``__init__`` takes something else than a message first (the workbook
    import error takes its problems)."""
    return {node.name for tree in MODULES.values() for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) for init in node.body
            if isinstance(init, ast.FunctionDef) and init.name == "__init__"
            and [a.arg for a in init.args.posonlyargs + init.args.args][1:2] != ["message"]}


#: Errors a user sees (their message is the response's ``message``).
DOMAIN_ERRORS = _classes_below({"DomainError"})
#: Of those, the ones whose first argument is not their message.
OWN_FIRST_ARGUMENT = _own_first_argument() & DOMAIN_ERRORS
#: Every exception class of the package, the pure core's included (their messages reach users
#: through the domain errors that carry them).
EXCEPTIONS = _classes_below({"Exception", "ValueError", "KeyError", "DomainError"})


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def _is_chinese_text(node: ast.AST) -> bool:
    """A string literal, f-string or concatenation with Chinese in it (not marked)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(CJK.search(node.value))
    if isinstance(node, (ast.JoinedStr, ast.BinOp)):
        return any(_is_chinese_text(child) for child in ast.walk(node) if child is not node)
    return False


def _is_marked(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        return _name(node.func) in MARKS | {"joined"}
    if isinstance(node, ast.IfExp):
        return _is_marked(node.body) and _is_marked(node.orelse)
    return False


def _unmarked_message(node: ast.AST | None) -> bool:
    """Text written in place where a marked message belongs."""
    if node is None or isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        return False
    if isinstance(node, ast.Constant):
        return node.value is not None
    return not _is_marked(node)


def _message_argument(call: ast.Call) -> ast.AST | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "message"), None)


def _helpers() -> dict[str, set[int]]:
    """Functions that pass one of their parameters on as an error's message (``_require(ok,
    message, code)``): their name and the positions of such parameters at a call."""
    helpers: dict[str, set[int]] = {}
    for tree in MODULES.values():
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            params = [a.arg for a in func.args.posonlyargs + func.args.args]
            if params[:1] in (["self"], ["cls"]):
                params = params[1:]
            for node in ast.walk(func):
                if not (isinstance(node, ast.Call) and _name(node.func) in EXCEPTIONS):
                    continue
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                positions = {i for i, p in enumerate(params) if p in used}
                if positions:
                    helpers.setdefault(func.name, set()).update(positions)
    return helpers


def _refusals() -> list[str]:
    """Every place where an error's message is written unmarked: a literal or an f-string
    given to an error or to a helper that raises one, or a class's unmarked ``message``."""
    helpers = _helpers()
    found = []
    for path, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in DOMAIN_ERRORS:
                for statement in node.body:
                    if not isinstance(statement, ast.Assign):
                        continue
                    for target in statement.targets:
                        names = target.elts if isinstance(target, ast.Tuple) else [target]
                        values = (statement.value.elts if isinstance(target, ast.Tuple)
                                  else [statement.value])
                        for name, value in zip(names, values):
                            if _name(name) == "message" and not _is_marked(value):
                                found.append(f"{_where(path, statement)} {node.name}.message")
            if not isinstance(node, ast.Call):
                continue
            callee = _name(node.func)
            if (callee in DOMAIN_ERRORS - OWN_FIRST_ARGUMENT
                    and _unmarked_message(_message_argument(node))):
                found.append(f"{_where(path, node)} {callee}(…)")
            elif callee in EXCEPTIONS and any(
                    _is_chinese_text(a) for a in [*node.args, *(k.value for k in node.keywords)]):
                found.append(f"{_where(path, node)} {callee}(…)")
            elif callee in helpers and any(
                    i < len(node.args) and _is_chinese_text(node.args[i])
                    for i in helpers[callee]):
                found.append(f"{_where(path, node)} {callee}(…)")
    return found


def _placeholder_mismatches() -> list[str]:
    """Messages whose named placeholders and given values differ (an error's own ``code``,
    ``details`` and ``status`` are no values: a placeholder of that name would never be filled)."""
    own = {"code", "details", "status"}
    found = []
    for path, tree in MODULES.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or any(k.arg is None for k in node.keywords):
                continue
            callee = _name(node.func)
            if callee == "Message":
                template, values = (node.args or [None])[0], {k.arg for k in node.keywords}
            elif callee in DOMAIN_ERRORS - OWN_FIRST_ARGUMENT:
                marked = _message_argument(node)
                if not (isinstance(marked, ast.Call) and _name(marked.func) == "N_"):
                    continue
                template = marked.args[0]
                values = {k.arg for k in node.keywords} - own
            else:
                continue
            if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
                continue
            wanted = set(PLACEHOLDER.findall(template.value))
            if wanted != values or (callee != "Message" and wanted & own):
                found.append(f"{_where(path, node)} {callee}: {sorted(wanted)} ≠ {sorted(values)}")
    return found


def _marked_messages() -> dict[str, str]:
    """Every message marked in the source (msgid → where)."""
    found = {}
    for path, tree in MODULES.items():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and _name(node.func) in MARKS and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, _where(path, node))
    return found


def _catalogue() -> dict[str, str]:
    with open(CATALOG, "rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and isinstance(m.id, str)}


def test_every_error_message_is_marked_for_the_catalogue():
    """Is every message given to an error (or to a helper that raises one, or a class's
    default) marked with ``N_``/``Message`` — with named placeholders, never an f-string?"""
    assert _refusals() == []


def test_every_placeholder_gets_its_value():
    """Does every message get exactly the values its placeholders name (and none is called
    ``code``, ``details`` or ``status``, which an error takes for itself)?"""
    assert _placeholder_mismatches() == []


def test_every_marked_message_has_an_english_translation():
    """Is every marked message in the English catalogue, translated, with the same
    placeholders? (Run scripts/i18n.sh after adding one, then translate it.)"""
    catalogue = _catalogue()
    missing = [f"{where} {msgid}" for msgid, where in _marked_messages().items()
               if not catalogue.get(msgid)]
    assert missing == []
    mismatched = [msgid for msgid in _marked_messages()
                  if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(catalogue[msgid]))]
    assert mismatched == []


def test_the_scan_finds_the_errors_it_should():
    """Does the scan itself see the error classes and helpers it is meant to check (so that an
    empty list above means something)?"""
    assert {"NotFound", "PermissionDenied", "PhotoRefused", "ChecklistImportError",
            "BackupError"} <= DOMAIN_ERRORS
    assert {"ScoringError", "PlanningError", "WatchlistError", "ImageRejected"} <= EXCEPTIONS
    assert len(_marked_messages()) > 300


@pytest.mark.parametrize("source, refused", [
    ('raise NotFound("未找到该人员")', True),
    ('raise NotFound(f"机构编码 {code} 不存在")', True),
    ('raise NotFound(N_("未找到该人员"), code="user_not_found")', False),
    ('raise Conflict(N_("机构编码 %(unit_code)s 已存在"), unit_code=code)', False),
    ('raise InvalidInput(exc.message, details=exc.messages)', False),
])
def test_the_scan_refuses_unmarked_messages(source, refused, monkeypatch):
    """Would the scan catch a message raised as plain text or an f-string?"""
    monkeypatch.setitem(MODULES, PACKAGE / "example.py", ast.parse(source))
    assert any("example.py" in found for found in _refusals()) is refused
