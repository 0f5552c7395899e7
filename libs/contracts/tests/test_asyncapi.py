"""The committed AsyncAPI document and JSON Schemas are the generated ones."""

import json
from pathlib import Path
from typing import Any

import yaml

from eproc_contracts.asyncapi import build_document, stale_files
from eproc_contracts.topics import TOPICS

ROOT = Path(__file__).resolve().parents[3]


def test_committed_documents_are_not_stale() -> None:
    stale = stale_files(ROOT)
    assert stale == [], f"run `uv run eproc-asyncapi --write`; stale: {stale}"


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_document_is_asyncapi_3_and_every_reference_resolves() -> None:
    document = yaml.safe_load((ROOT / "docs/asyncapi.yaml").read_text())
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == {t.name for t in TOPICS}
    refs = _refs(document)
    assert refs
    for ref in refs:
        assert _resolve(document, ref) is not None, ref
    sends = [o for o in document["operations"].values() if o["action"] == "send"]
    assert len(sends) == len(TOPICS)


def test_schemas_describe_the_envelope_fields() -> None:
    document = build_document()
    schema = document["components"]["schemas"]["MembershipGrantedEvent"]
    assert {
        "event_id",
        "type",
        "occurred_at",
        "producer",
        "partition_key",
        "traceparent",
        "data",
    } <= set(schema["properties"])
    event_schema = json.loads((ROOT / "docs/events/membership.granted.schema.json").read_text())
    assert event_schema["properties"]["type"]["const"] == "membership.granted"
