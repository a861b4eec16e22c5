"""GitHub's published API descriptions, found and loaded once per process."""

from __future__ import annotations

import gc
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema, validate_schema

SCHEMAS_ENV = "SECPOSTURE_GITHUB_SCHEMAS"
FALLBACK_DIR = Path("/work/shared/github")
GRAPHQL_FILE = "schema.graphql"
REST_SUBSET_FILE = "rest-subset.json"
REST_FULL_FILE = "api.github.com.json"


@cache
def schemas_dir() -> Path:
    """$SECPOSTURE_GITHUB_SCHEMAS, else the nearest `shared/github` above this file, else
    /work/shared/github."""
    configured = os.environ.get(SCHEMAS_ENV)
    if configured:
        path = Path(configured)
        if not (path / GRAPHQL_FILE).is_file():
            raise FileNotFoundError(f"{SCHEMAS_ENV}={configured} has no {GRAPHQL_FILE}")
        return path
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "github"
        if (candidate / GRAPHQL_FILE).is_file():
            return candidate
    if (FALLBACK_DIR / GRAPHQL_FILE).is_file():
        return FALLBACK_DIR
    raise FileNotFoundError(
        f"GitHub's API descriptions not found: set {SCHEMAS_ENV} to the folder holding "
        f"{GRAPHQL_FILE} and {REST_SUBSET_FILE}"
    )


# GitHub's schema deprecates some implementations of fields its interfaces do not deprecate;
# graphql-core 3.3 calls that invalid. It is GitHub's published schema, so those are accepted.
TOLERATED_SCHEMA_ERROR = "is not deprecated, so implementation field"


@cache
def graphql_schema() -> GraphQLSchema:
    schema = build_schema((schemas_dir() / GRAPHQL_FILE).read_text("utf-8"))
    errors = [e for e in validate_schema(schema) if TOLERATED_SCHEMA_ERROR not in e.message]
    if errors:
        raise ValueError(f"{GRAPHQL_FILE} is not a valid schema: {errors[0].message}")
    # validate() re-checks the schema on every query unless it is marked as checked.
    schema._validation_errors = []
    # The schema is ~340,000 long-lived objects: keep the collector from walking them on every
    # full collection (it doubled the time of a large query).
    gc.freeze()
    return schema


@cache
def rest_subset() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((schemas_dir() / REST_SUBSET_FILE).read_bytes())
    return data


@cache
def rest_full() -> dict[str, Any]:
    """The full description (13 MB): only loaded when an operation outside the subset is used."""
    data: dict[str, Any] = json.loads((schemas_dir() / REST_FULL_FILE).read_bytes())
    return data
