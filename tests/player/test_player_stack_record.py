"""The stack record: every physical resource that may exist is remembered, once, until it is gone."""

from __future__ import annotations

from dataclasses import replace

from neptune_ml_endpoint.local.cloudformation.engine.stack_engine import Remembered, StackRecord
from neptune_ml_endpoint.local.cloudformation.engine.state import ResourceState

OLD = ResourceState("Endpoint", "Custom::NeptuneMlEndpoint", "endpoint-a", {"Id": "endpoint-a"}, {}, "arn:fn")
NEW = replace(OLD, physical_id="endpoint-b", properties={"Id": "endpoint-b"})


def test_every_change_is_handed_to_the_checkpoint_at_once() -> None:
    saved: list[Remembered] = []
    record = StackRecord({}, checkpoint=saved.append)

    record.put(replace(OLD, physical_id="", pending_request="request-1"))
    record.put(OLD)

    assert [r.resources["Endpoint"].pending_request for r in saved] == ["request-1", ""]
    assert saved[-1] == Remembered({"Endpoint": OLD}, [])


def test_a_replaced_resource_is_a_leftover_until_it_is_gone() -> None:
    record = StackRecord({"Endpoint": OLD})

    record.put(NEW)
    record.retire(OLD)

    assert record.now() == Remembered({"Endpoint": NEW}, [OLD])
    assert set(record.now().doomed()) == {"Endpoint", "Endpoint (endpoint-a)"}
    record.gone(OLD)
    assert record.now() == Remembered({"Endpoint": NEW}, [])


def test_a_leftover_put_back_is_the_stack_resource_again_not_both() -> None:
    record = StackRecord({"Endpoint": NEW}, [OLD])

    record.put(OLD)
    record.retire(NEW)

    assert record.now() == Remembered({"Endpoint": OLD}, [NEW])


def test_gone_forgets_the_resource_only_when_its_physical_id_matches() -> None:
    record = StackRecord({"Endpoint": NEW})

    record.gone(OLD)
    assert record.now().resources == {"Endpoint": NEW}
    record.gone(NEW)
    assert record.now() == Remembered({}, [])
