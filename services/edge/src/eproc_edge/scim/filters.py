"""SCIM filters (RFC 7644 §3.4.2.2) as SQL conditions.

scim2-models parses a filter and checks it against the resource's schema (an
unknown attribute, a bad operator or a malformed expression is its
``InvalidFilterException``: ``400 invalidFilter``); this module only walks the
parsed tree with the library's :class:`~scim2_models.path.FilterVisitor` and
turns each node into a SQLAlchemy condition over the SCIM read model. Values
always travel as bound parameters, never as SQL text, so no filter can inject.

What an attribute is, for the filter:

- :class:`Held`: a column; text is compared case-insensitively (no attribute
  we hold is ``caseExact`` except ids, which are UUIDs and compare exactly);
- :class:`Constant`: the same value for every resource (``active``,
  ``emails.type``);
- :class:`Values`: a multi-valued attribute; a condition on its sub-attributes
  holds when one of its values satisfies it (``members.value eq ...``), i.e. a
  correlated ``EXISTS`` for values in other rows;
- an attribute the schema declares but we never hold (``title``) has no value:
  a comparison with it is false and ``pr`` is false (RFC 7644 §3.4.2.1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from scim2_models import InvalidFilterException
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from sqlalchemy import ColumnElement, and_, false, func, not_, or_, true

Condition = ColumnElement[bool]


@dataclass(frozen=True)
class Held:
    """An attribute held in a column."""

    column: ColumnElement[Any]
    kind: Literal["text", "uuid"] = "text"


@dataclass(frozen=True)
class Constant:
    """An attribute with the same value on every resource."""

    value: Any


@dataclass(frozen=True)
class Values:
    """A multi-valued complex attribute: ``where`` turns a condition on one value
    into one on the resource (identity when the value lives in the same row)."""

    sub_attributes: Mapping[str, Attribute]
    where: Callable[[Condition], Condition] = lambda condition: condition
    default: str = "value"  # ``emails eq x`` means ``emails.value eq x``


Attribute = Held | Constant | Values


@dataclass(frozen=True)
class Attributes:
    """The attributes of one resource type the filter can name, by lower-cased
    name (``userName``, ``name.familyName``; an extension's with its URN)."""

    core_schema: str
    by_name: Mapping[str, Attribute] = field(default_factory=dict)

    def find(self, path: AttrPath) -> tuple[Attribute | None, str | None]:
        """The attribute a path names and the sub-attribute it selects."""
        name = path.attr.lower()
        if path.uri and path.uri.lower() != self.core_schema.lower():
            name = f"{path.uri.lower()}:{name}"
        sub = path.sub_attr.lower() if path.sub_attr else None
        if sub is not None and f"{name}.{sub}" in self.by_name:
            return self.by_name[f"{name}.{sub}"], None
        return self.by_name.get(name), sub


def condition(filter_ast: FilterNode, attributes: Attributes) -> Condition:
    """The SQL condition selecting the resources ``filter_ast`` matches."""
    return _ToSql(attributes.find).visit(filter_ast)


class _ToSql(FilterVisitor[Condition]):
    def __init__(self, find: Callable[[AttrPath], tuple[Attribute | None, str | None]]) -> None:
        self.find = find

    def visit_logical_expr(self, node: LogicalExpr) -> Condition:
        terms = [self.visit(term) for term in node.terms]
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)

    def visit_not(self, node: Not) -> Condition:
        return not_(self.visit(node.expr))

    def visit_comparison(self, node: Comparison) -> Condition:
        attribute, sub = self.find(node.attr_path)
        return _on_value(attribute, sub, lambda a: _compare(a, node.op, node.value, node))

    def visit_present(self, node: Present) -> Condition:
        attribute, sub = self.find(node.attr_path)
        return _on_value(attribute, sub, _present)

    def visit_value_path(self, node: ValuePath) -> Condition:
        attribute, _ = self.find(node.attr_path)
        if not isinstance(attribute, Values):
            return false()
        subs = attribute.sub_attributes

        def find(path: AttrPath) -> tuple[Attribute | None, str | None]:
            return subs.get(path.attr.lower()), None

        return attribute.where(_ToSql(find).visit(node.val_filter))


def _on_value(
    attribute: Attribute | None, sub: str | None, test: Callable[[Attribute | None], Condition]
) -> Condition:
    if isinstance(attribute, Values):
        inner = attribute.sub_attributes.get(sub or attribute.default)
        if sub is None and inner is None:
            return attribute.where(true()) if test is _present else false()
        return attribute.where(test(inner))
    return test(attribute)


def _present(attribute: Attribute | None) -> Condition:
    if attribute is None:
        return false()
    if isinstance(attribute, Constant):
        return true() if attribute.value not in (None, "") else false()
    if isinstance(attribute, Held):
        if attribute.kind == "uuid":
            return attribute.column.is_not(None)
        return and_(attribute.column.is_not(None), attribute.column != "")
    return _on_value(attribute, None, _present)


def _compare(
    attribute: Attribute | None, op: CompareOperator, value: Any, node: Comparison
) -> Condition:
    if attribute is None or isinstance(attribute, Values):
        # No value: only "differs" holds (against a non-null value).
        return true() if op == CompareOperator.ne and value is not None else false()
    if isinstance(attribute, Constant):
        return true() if _python_compare(attribute.value, op, value) else false()
    column = attribute.column
    if attribute.kind == "uuid":
        if op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilterException(
                filter=str(node),
                detail=f"{node.attr_path} is an identifier: compare it with eq or ne.",
            )
        try:
            wanted = UUID(str(value))
        except ValueError:
            return true() if op == CompareOperator.ne else false()
        return column == wanted if op == CompareOperator.eq else column != wanted
    if value is None:
        return column.is_(None) if op == CompareOperator.eq else column.is_not(None)
    text = str(value).lower()
    lowered = func.lower(column)
    if op == CompareOperator.eq:
        return lowered == text
    if op == CompareOperator.ne:
        return lowered != text
    if op == CompareOperator.co:
        return lowered.contains(text, autoescape=True)
    if op == CompareOperator.sw:
        return lowered.startswith(text, autoescape=True)
    if op == CompareOperator.ew:
        return lowered.endswith(text, autoescape=True)
    if op == CompareOperator.gt:
        return lowered > text
    if op == CompareOperator.ge:
        return lowered >= text
    if op == CompareOperator.lt:
        return lowered < text
    return lowered <= text


def _python_compare(actual: Any, op: CompareOperator, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.lower(), expected.lower()
    if op == CompareOperator.eq:
        return bool(actual == expected)
    if op == CompareOperator.ne:
        return bool(actual != expected)
    if not isinstance(actual, str) or not isinstance(expected, str):
        return False
    if op == CompareOperator.co:
        return expected in actual
    if op == CompareOperator.sw:
        return actual.startswith(expected)
    if op == CompareOperator.ew:
        return actual.endswith(expected)
    if op == CompareOperator.gt:
        return actual > expected
    if op == CompareOperator.ge:
        return actual >= expected
    if op == CompareOperator.lt:
        return actual < expected
    return actual <= expected
