"""Generates the AsyncAPI 3.0 document and the JSON Schemas of every event.

``eproc-asyncapi --write`` rewrites ``docs/asyncapi.yaml`` and
``docs/events/*.schema.json``; ``eproc-asyncapi --check`` fails when they are
stale (the test suite runs the same comparison).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.topics import TOPICS

VERSION = "1.0.0"


def _schema_name(payload: type[Payload]) -> str:
    return f"{payload.__name__}Event"


def build_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema (2020-12) of every event envelope, by event type."""
    payloads = [p for t in TOPICS for p in t.events]
    envelopes: list[tuple[type[BaseModel], Literal["validation"]]] = [
        (Envelope[p], "validation")  # type: ignore[valid-type]
        for p in payloads
    ]
    _, top = models_json_schema(envelopes, ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top["$defs"]
    result: dict[str, dict[str, Any]] = {}
    for payload in payloads:
        envelope_name = f"Envelope_{payload.__name__}_"
        root = dict(defs[envelope_name])
        root["title"] = payload.EVENT_TYPE
        root["description"] = inspect.getdoc(payload) or payload.EVENT_TYPE
        root["properties"] = dict(root["properties"])
        root["properties"]["type"] = {"const": payload.EVENT_TYPE, "type": "string"}
        used = {k: v for k, v in defs.items() if k != envelope_name}
        result[payload.EVENT_TYPE] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **root,
            "$defs": _reachable(root, used),
        }
    return result


def _reachable(root: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Only the definitions ``root`` refers to, directly or not."""
    seen: dict[str, Any] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for ref in _refs(node):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen and name in defs:
                seen[name] = defs[name]
                stack.append(defs[name])
    return dict(sorted(seen.items()))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found.extend(_refs(value))
        return found
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic in the registry."""
    schemas = build_schemas()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    component_schemas: dict[str, Any] = {}
    for topic in TOPICS:
        channel_messages = {}
        for payload in topic.events:
            schema = _rebase(dict(schemas[payload.EVENT_TYPE]), "#/components/schemas/")
            schema.pop("$schema")
            defs = schema.pop("$defs")
            for name, definition in defs.items():
                component_schemas.setdefault(name, definition)
            component_schemas[_schema_name(payload)] = schema
            messages[payload.EVENT_TYPE] = {
                "name": payload.EVENT_TYPE,
                "title": payload.__name__,
                "summary": (inspect.getdoc(payload) or payload.EVENT_TYPE).splitlines()[0],
                "contentType": "application/json",
                "payload": {"$ref": f"#/components/schemas/{_schema_name(payload)}"},
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": f"The event's {topic.key}"},
                        "bindingVersion": "0.5.0",
                    }
                },
            }
            channel_messages[payload.EVENT_TYPE] = {
                "$ref": f"#/components/messages/{payload.EVENT_TYPE}"
            }
        channels[topic.name] = {
            "address": topic.name,
            "description": f"{topic.description} Partition key: {topic.key}.",
            "messages": channel_messages,
        }
        refs = [{"$ref": f"#/channels/{topic.name}/messages/{p.EVENT_TYPE}"} for p in topic.events]
        operations[f"{_slug(topic.producer)}.send.{topic.name}"] = {
            "action": "send",
            "summary": f"{topic.producer} publishes on {topic.name}",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "messages": refs,
        }
        for consumer in topic.consumers:
            operations[f"{_slug(consumer)}.receive.{topic.name}"] = {
                "action": "receive",
                "summary": f"{consumer} consumes {topic.name}",
                "channel": {"$ref": f"#/channels/{topic.name}"},
                "messages": refs,
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "e-Procurement user management events",
            "version": VERSION,
            "description": (
                "Events exchanged by the user-management services and the platform "
                "applications. Every message is a JSON envelope (event_id as UUIDv7, "
                "type, schema_version, occurred_at, producer, partition_key, "
                "correlation_id, causation_id, traceparent) with the payload in `data`. "
                "Consumers ignore unknown fields; breaking changes get a new topic "
                "version. Generated from libs/contracts; do not edit by hand."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The single-node broker of the local stack",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(component_schemas.items()))},
    }


def _rebase(node: Any, prefix: str) -> Any:
    """Point ``#/$defs/X`` references at ``prefix + X``."""
    if isinstance(node, dict):
        return {
            k: (
                prefix + v.rsplit("/", 1)[-1]
                if k == "$ref" and isinstance(v, str)
                else _rebase(v, prefix)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v, prefix) for v in node]
    return node


def _slug(name: str) -> str:
    return name.replace(" ", "-")


def render() -> dict[str, str]:
    """Every generated file, by path relative to the repository root."""
    files = {
        "docs/asyncapi.yaml": "# Generated by `eproc-asyncapi --write`; do not edit.\n"
        + yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True, width=100),
    }
    for event_type, schema in build_schemas().items():
        files[f"docs/events/{event_type}.schema.json"] = (
            json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        )
    return files


def stale_files(root: Path) -> list[str]:
    """Generated files under ``root`` that differ from what would be generated now."""
    stale = []
    for relative, content in render().items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(relative)
    events_dir = root / "docs/events"
    expected = {Path(r).name for r in render() if r.startswith("docs/events/")}
    if events_dir.exists():
        stale.extend(
            f"docs/events/{p.name}" for p in events_dir.glob("*.json") if p.name not in expected
        )
    return sorted(stale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated files")
    mode.add_argument("--check", action="store_true", help="fail when they are stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.root)
        for relative in stale:
            print(f"stale: {relative}", file=sys.stderr)
        return 1 if stale else 0
    events_dir = args.root / "docs/events"
    if events_dir.exists():
        for old in events_dir.glob("*.json"):
            old.unlink()
    for relative, content in render().items():
        path = args.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
