"""Inspect compiled rule-engine expressions for the mistakes rule-engine itself lets through.

rule-engine checks syntax, symbol names and most operand types, but it happily compiles
`active_acne == "yes"` (always false) or `eczema == "acitve"` (a typo that never fires).
A rule that silently never fires is the worst kind of clinical bug, so we walk the tree.
"""

from __future__ import annotations

from collections.abc import Iterator

from rule_engine import ast
from rule_engine.types import DataType

from .questionnaire import Questionnaire

# Attributes under which rule-engine AST nodes keep their sub-expressions.
_CHILD_ATTRS = (
    "expression",
    "left",
    "right",
    "container",
    "member",
    "object",
    "item",
    "start",
    "stop",
    "condition",
    "case_true",
    "case_false",
    "result",
    "iterable",
    "function",
    "arguments",
    "value",
)
_TYPE_WORDS = {
    "BOOLEAN": "yes/no (true or false)",
    "STRING": "text",
    "FLOAT": "a number",
    "DATETIME": "a date",
    "ARRAY": "a list",
    "NULL": "null",
    "TIMEDELTA": "a duration",
}


def walk(node, parent=None) -> Iterator[tuple[ast.ExpressionBase, ast.ExpressionBase | None]]:
    """Yield (node, parent) for every expression in the tree, depth first."""
    yield node, parent
    for attr in _CHILD_ATTRS:
        value = getattr(node, attr, None)
        members = value if isinstance(value, (list, tuple)) else (value,)
        for member in members:
            pair = member if isinstance(member, tuple) else (member,)
            for child in pair:
                if isinstance(child, ast.ExpressionBase):
                    yield from walk(child, node)


def symbols(expression, known) -> list[str]:
    """The known symbol names an expression reads, in order of first use."""
    seen = []
    for node, _ in walk(expression):
        if (
            isinstance(node, ast.SymbolExpression)
            and node.scope is None
            and node.name in known
            and node.name not in seen
        ):
            seen.append(node.name)
    return seen


def type_word(datatype) -> str:
    """A data type in the words of someone editing rules.yaml."""
    return _TYPE_WORDS.get(datatype.name, datatype.name.lower())


def mistakes(expression, questionnaire: Questionnaire) -> list[str]:
    """Reasons the expression cannot be what its author meant (wrong types, unknown choice ids)."""
    found = []
    if expression.result_type not in (DataType.BOOLEAN, DataType.UNDEFINED, DataType.NULL):
        found.append(
            f"wrong type: 'when' must be true or false, but this expression is "
            f"{type_word(expression.result_type)}"
        )
    for node, _ in walk(expression):
        if type(node) is ast.ComparisonExpression:
            found += _comparison_types(node)
            found += _compared_choices(node, questionnaire)
        elif isinstance(node, ast.ContainsExpression):
            found += _contained_choices(node, questionnaire)
    return found


def unsafe_hidden(expression, questionnaire: Questionnaire) -> list[str]:
    """Questions that may be hidden (null) yet are read without a null-safe comparison."""
    guarded = set()
    for node, _ in walk(expression):
        if isinstance(node, ast.ComparisonExpression) and node.type == "ne":
            sides = (node.left, node.right)
            if any(isinstance(s, ast.NullExpression) for s in sides):
                guarded |= {s.name for s in sides if isinstance(s, ast.SymbolExpression)}
    unsafe = []
    for node, parent in walk(expression):
        if not isinstance(node, ast.SymbolExpression) or node.scope is not None:
            continue
        question = questionnaire.questions.get(node.name)
        if question is None or not question.show_if or node.name in guarded:
            continue
        if not _null_safe_use(node, parent) and node.name not in unsafe:
            unsafe.append(node.name)
    return unsafe


def _null_safe_use(node, parent) -> bool:
    if type(parent) is ast.ComparisonExpression:  # == and != treat null as a value
        return True
    if isinstance(parent, ast.CoalesceExpression) and parent.left is node:
        return True
    return isinstance(parent, ast.ContainsExpression) and parent.member is node


def _symbol(node):
    """The symbol behind a node, looking through `symbol ?? default`."""
    if isinstance(node, ast.CoalesceExpression):
        node = node.left
    return node if isinstance(node, ast.SymbolExpression) and node.scope is None else None


def _comparison_types(node) -> list[str]:
    left, right = node.left.result_type, node.right.result_type
    ignored = (DataType.UNDEFINED, DataType.NULL)
    if left in ignored or right in ignored or DataType.is_compatible(left, right):
        return []
    named = _symbol(node.left) or _symbol(node.right)
    subject = f"'{named.name}'" if named else "a value"
    kinds = (
        (type_word(left), type_word(right))
        if _symbol(node.left)
        else (type_word(right), type_word(left))
    )
    return [f"wrong type: {subject} is {kinds[0]} but is compared with {kinds[1]}"]


def _compared_choices(node, questionnaire) -> list[str]:
    found = []
    for side, other in ((node.left, node.right), (node.right, node.left)):
        symbol = _symbol(side)
        if symbol is not None:
            found += _unknown_choices(symbol.name, _strings(other), questionnaire)
    return found


def _contained_choices(node, questionnaire) -> list[str]:
    member, container = _symbol(node.member), _symbol(node.container)
    if container is not None:
        return _unknown_choices(container.name, _strings(node.member), questionnaire)
    if member is not None:
        return _unknown_choices(member.name, _strings(node.container), questionnaire)
    return []


def _strings(node) -> list[str]:
    """String literals in a node: the node itself, or the members of a literal array or set."""
    if isinstance(node, ast.StringExpression):
        return [node.value]
    if isinstance(node, (ast.ArrayExpression, ast.SetExpression)):
        return [m.value for m in node.value if isinstance(m, ast.StringExpression)]
    return []


def _unknown_choices(qid, values, questionnaire) -> list[str]:
    question = questionnaire.questions.get(qid)
    if question is None or question.type not in ("choice", "multi"):
        return []
    return [
        f"'{value}' is not a choice of '{qid}' (choices: {', '.join(question.choice_ids)})"
        for value in values
        if value not in question.choice_ids
    ]
