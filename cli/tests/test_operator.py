"""The operators' commands that work without a running platform: the generated
organisations, and the dead-letter topics on a real Kafka broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from eproc.__main__ import main
from eproc.operator import read_dead_letters, replay_dead_letters
from eproc_runtime.bus.kafka import ensure_topics, kafka_connection


def test_orgs_generate_writes_the_dataset_with_stable_ids(tmp_path: Path) -> None:
    out = tmp_path / "orgs.jsonl"
    main(["orgs", "generate", "--size", "30", "--seed", "1", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 30
    main(["orgs", "generate", "--size", "30", "--seed", "1", "--out", str(tmp_path / "b")])
    assert out.read_text() == (tmp_path / "b").read_text()
    keys = {r["key"] for r in rows}
    assert all(r["parent_key"] is None or r["parent_key"] in keys for r in rows)


def test_http_commands_need_an_operator_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EPROC_TOKEN", raising=False)
    with pytest.raises(SystemExit):
        main(["orphans", "--url", "http://127.0.0.1:9"])


async def test_dead_letters_are_shown_and_replayed_to_their_topic(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    original = f"{topic_prefix}org.membership.v1"
    dlt = f"{topic_prefix}dlt.organisations"
    await ensure_topics(kafka_bootstrap, [original, dlt])
    producer = AIOKafkaProducer(**kafka_connection(kafka_bootstrap).aiokafka_options())
    await producer.start()
    try:
        await producer.send_and_wait(
            dlt,
            b'{"type": "membership.granted"}',
            key=b"user-1",
            headers=[
                ("event-type", b"membership.granted"),
                ("dlt-original-topic", original.encode()),
                ("dlt-error", b"ValueError: boom"),
            ],
        )
    finally:
        await producer.stop()

    (letter,) = await read_dead_letters(kafka_bootstrap, "organisations", prefix=topic_prefix)
    assert letter["headers"]["dlt-error"] == "ValueError: boom"
    assert letter["key"] == "user-1"

    assert await replay_dead_letters(kafka_bootstrap, "organisations", prefix=topic_prefix) == 1
    consumer = AIOKafkaConsumer(
        original,
        **kafka_connection(kafka_bootstrap).aiokafka_options(),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert message.value == b'{"type": "membership.granted"}'
    headers = dict(message.headers)
    assert headers["event-type"] == b"membership.granted" and "dlt-error" not in headers


def test_kafka_provision_creates_topics_with_the_capacity_models_partitions(
    kafka_bootstrap: str, topic_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A deployment's topics start with 12 partitions (docs/capacity.md): KEDA may
    run up to 8 consumers of a group, and partitions added later reorder keys."""
    from confluent_kafka.admin import AdminClient

    def partitions() -> dict[str, int]:
        admin = AdminClient(kafka_connection(kafka_bootstrap).librdkafka_config())
        topics = admin.list_topics(timeout=15).topics
        return {n: len(t.partitions) for n, t in topics.items() if n.startswith(topic_prefix)}

    args = ["kafka", "provision", "--kafka-bootstrap", kafka_bootstrap, "--services", "requests"]
    main([*args, "--topic-prefix", topic_prefix, "--group-prefix", topic_prefix])
    created = partitions()
    assert f"{topic_prefix}requests.request.v1" in created
    assert set(created.values()) == {12}
    assert f"topics created: {len(created)}" in capsys.readouterr().out

    # Run again with another count: idempotent, existing topics keep theirs.
    main(
        [*args, "--topic-prefix", topic_prefix, "--group-prefix", topic_prefix, "--partitions", "3"]
    )
    assert partitions() == created
    assert "topics created: 0" in capsys.readouterr().out
