"""Derived endpoint ids and Reasons: properties that must hold for any input."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neptune_ml_endpoint import schema

logical_ids = st.text(min_size=1, max_size=255)
request_ids = st.uuids().map(str)


@pytest.fixture(scope="module")
def resource_module(handler_module: ModuleType) -> ModuleType:
    import ml_endpoint_resource

    return ml_endpoint_resource


@given(logical_id=logical_ids, request_id=request_ids)
def test_derived_ids_are_valid_and_the_same_for_every_try(resource_module: ModuleType, logical_id: str,
                                                          request_id: str) -> None:
    stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo/1"

    endpoint_id = resource_module.derive_endpoint_id(stack_id, logical_id, request_id)

    assert schema.is_endpoint_id(endpoint_id)
    assert endpoint_id == resource_module.derive_endpoint_id(stack_id, logical_id, request_id)


@given(logical_id=logical_ids, first=request_ids, second=request_ids)
def test_each_request_derives_its_own_id(resource_module: ModuleType, logical_id: str, first: str,
                                         second: str) -> None:
    stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo/1"
    ids = {resource_module.derive_endpoint_id(stack_id, logical_id, request_id) for request_id in (first, second)}

    assert len(ids) == len({first, second})


def test_derived_ids_start_with_the_logical_ids_letters_and_digits(resource_module: ModuleType) -> None:
    endpoint_id = resource_module.derive_endpoint_id("stack", "Demo_Endpoint-1", "request")

    assert endpoint_id.startswith("DemoEndpoint1-")
    assert resource_module.derive_endpoint_id("stack", "___", "request").startswith("endpoint-")


@given(text=st.text(max_size=2000))
def test_reasons_fit_where_crhelper_would_cut_them(resource_module: ModuleType, text: str) -> None:
    reason = resource_module.short_reason("Create: CreateMLEndpoint failed with BadRequestException: " + text)

    assert len(reason) <= 256
    assert reason.startswith("Create: CreateMLEndpoint failed with BadRequestException:")
