"""GitHub's extra GraphQL rules, computed as GitHub documents them.

- Every connection whose items are asked for needs `first` or `last`, between 1 and 100.
- Node limit: a connection can return up to (product of the page sizes above it and its own);
  the query may ask for at most 500,000 nodes in total.
- Point cost: each connection costs one request per possible parent (the product of the page
  sizes above it); the sum divided by 100, rounded, with a minimum of 1.

See https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

NODE_LIMIT = 500_000
MAX_PAGE = 100
# A connection asked only for these needs no page size (e.g. `stargazers { totalCount }`).
COUNT_ONLY_FIELDS = frozenset({"totalCount", "__typename"})


@dataclass
class QueryLimits:
    cost: int = 1
    node_count: int = 0
    requests: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return None


def point_cost(requests: int) -> int:
    """Requests / 100, rounded half up, at least 1 point."""
    return max(1, (requests + 50) // 100)


def analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
) -> QueryLimits:
    walker = _Walker(schema, document, variables)
    root = schema.get_root_type(operation.operation)
    if root is not None:
        walker.walk(operation.selection_set, root, 1, [])
    limits = QueryLimits(point_cost(walker.requests), walker.nodes, walker.requests, walker.errors)
    if walker.nodes > NODE_LIMIT and not walker.node_error:
        limits.errors.append(
            {
                "type": "MAX_NODE_LIMIT_EXCEEDED",
                "message": f"This query requests up to {walker.nodes:,} possible nodes which "
                f"exceeds the maximum limit of {NODE_LIMIT:,}.",
            }
        )
    return limits


class _Walker:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.requests = 0
        self.nodes = 0
        self.errors: list[dict[str, Any]] = []
        self.node_error = False

    def walk(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        multiplier: int,
        path: list[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, parent, multiplier, path)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                if target is not None:
                    self.walk(selection.selection_set, target, multiplier, path)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    if target is not None:
                        self.walk(fragment.selection_set, target, multiplier, path)

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType, multiplier: int, path: list[str]
    ) -> None:
        fields: dict[str, GraphQLField] = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        if definition is None:
            return  # __typename and the like; unknown fields were rejected by validation
        named = get_named_type(definition.type)
        field_path = [*path, node.alias.value if node.alias else node.name.value]
        inner = multiplier
        if "first" in definition.args and named.name.endswith("Connection"):
            self.requests += multiplier
            size = self._page_size(node, field_path)
            inner = multiplier * size
            self.nodes += inner
            if inner > NODE_LIMIT and not self.node_error:
                self.node_error = True
                self.errors.append(
                    self._error(
                        "MAX_NODE_LIMIT_EXCEEDED",
                        f"By the time this query traverses to the {node.name.value} connection, "
                        f"it is requesting up to {inner:,} possible nodes which exceeds the "
                        f"maximum limit of {NODE_LIMIT:,}.",
                        node,
                        field_path,
                    )
                )
        if node.selection_set is not None:
            self.walk(node.selection_set, named, inner, field_path)

    def _page_size(self, node: FieldNode, path: list[str]) -> int:
        name = node.name.value
        for argument in ("first", "last"):
            value = self._int_argument(node, argument)
            if value is None:
                continue
            if value > MAX_PAGE:
                self.errors.append(
                    self._error(
                        "EXCESSIVE_PAGINATION",
                        f"Requesting {value} records on the `{name}` connection exceeds the "
                        f"`{argument}` limit of {MAX_PAGE} records.",
                        node,
                        path,
                    )
                )
                return MAX_PAGE
            if value < 1:
                self.errors.append(
                    self._error(
                        "EXCESSIVE_PAGINATION",
                        f"Requesting {value} records on the `{name}` connection is below the "
                        f"`{argument}` minimum of 1 record.",
                        node,
                        path,
                    )
                )
                return 0
            return value
        if not self._count_only(node):
            self.errors.append(
                self._error(
                    "MISSING_PAGINATION_BOUNDARIES",
                    f"You must provide a `first` or `last` value to properly paginate the "
                    f"`{name}` connection.",
                    node,
                    path,
                )
            )
        return 0

    def _count_only(self, node: FieldNode) -> bool:
        if node.selection_set is None:
            return True
        for selection in node.selection_set.selections:
            if not isinstance(selection, FieldNode):
                return False
            if selection.name.value not in COUNT_ONLY_FIELDS:
                return False
        return True

    def _int_argument(self, node: FieldNode, name: str) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return given if isinstance(given, int) else None
        return None

    @staticmethod
    def _error(kind: str, message: str, node: FieldNode, path: list[str]) -> dict[str, Any]:
        error: dict[str, Any] = {"type": kind, "path": ["query", *path], "message": message}
        if node.loc is not None:
            location = node.loc.source.get_location(node.loc.start)
            error["locations"] = [{"line": location.line, "column": location.column}]
        return error
