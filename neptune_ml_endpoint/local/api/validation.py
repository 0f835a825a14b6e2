"""Turn request bodies, query strings and path ids into checked values, or ApiErrors.

Every limit comes from the project's property schema (neptune_ml_endpoint.schema) or
from botocore's model; messages name the API's fields (mlModelTrainingJobId, not
MlModelTrainingJobId).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api.errors import (
    BAD_REQUEST,
    ILLEGAL_ARGUMENT,
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    ApiError,
)
from neptune_ml_endpoint.local.api.model import integer_range

DEFAULT_MAX_ITEMS = 10
DEFAULT_INSTANCE_COUNT = 1

_SPECS_BY_FIELD = {spec.api_field: spec for spec in schema.PROPERTIES if spec.api_field}
_API_FIELD_BY_PROPERTY = {spec.name: spec.api_field for spec in schema.PROPERTIES if spec.api_field}
CREATE_FIELDS = (*_SPECS_BY_FIELD, "update")
_INTEGER_FIELDS = frozenset({"instanceCount"})
# Property names outside quotes (quoted text is a caller's value and stays as it was).
_PROPERTY_WORDS = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\b(" + "|".join(_API_FIELD_BY_PROPERTY) + r")\b"
)


@dataclass(frozen=True)
class CreateRequest:
    """A checked CreateMLEndpoint request."""

    endpoint_id: str | None
    update: bool
    training_job_id: str | None
    transform_job_id: str | None
    model_name: str | None
    instance_type: str
    instance_count: int
    role_arn: str | None
    kms_key: str | None

    @property
    def job(self) -> tuple[str, str]:
        """("training" or "transform", job id) of the model the endpoint serves."""
        if self.training_job_id is not None:
            return "training", self.training_job_id
        assert self.transform_job_id is not None
        return "transform", self.transform_job_id


def in_api_terms(text: str) -> str:
    """Text with the resource's property names replaced by the API's field names."""
    return _PROPERTY_WORDS.sub(lambda m: _API_FIELD_BY_PROPERTY[m[1]] if m[1] else m[0], text)


def parse_create_request(body: bytes) -> CreateRequest:
    """Check a CreateMLEndpoint JSON body."""
    fields = json_object(body)
    unknown = sorted(name for name in fields if name not in CREATE_FIELDS)
    if unknown:
        raise ApiError(
            ILLEGAL_ARGUMENT,
            f"{', '.join(map(repr, unknown))} is not a CreateMLEndpoint field; "
            f"the fields are {', '.join(CREATE_FIELDS)}",
        )
    values = {name: _checked_field(name, value) for name, value in fields.items()
              if name != "update" and value is not None}
    update = boolean("update", fields["update"]) if fields.get("update") is not None else False
    training, transform = values.get("mlModelTrainingJobId"), values.get("mlModelTransformJobId")
    try:
        schema.check_job_choice(training, transform)
    except schema.PropertyError as error:
        code = MISSING_PARAMETER if training is None and transform is None else ILLEGAL_ARGUMENT
        raise ApiError(code, in_api_terms(str(error))) from None
    if update and "id" not in values:
        raise ApiError(MISSING_PARAMETER, "id: is missing. An update needs the id of the endpoint to update")
    return CreateRequest(
        endpoint_id=values.get("id"),
        update=update,
        training_job_id=training,
        transform_job_id=transform,
        model_name=values.get("modelName"),
        instance_type=values.get("instanceType", schema.DEFAULT_INSTANCE_TYPE),
        instance_count=values.get("instanceCount", DEFAULT_INSTANCE_COUNT),
        role_arn=values.get("neptuneIamRoleArn"),
        kms_key=values.get("volumeEncryptionKMSKey"),
    )


def endpoint_id_from_path(raw_segment: str) -> str:
    """The endpoint id in a request path: percent-decoded once, and a valid id."""
    return id_from_path(raw_segment, schema.check_endpoint_id, "endpoint")


def id_from_path(raw_segment: str, check: Callable[[str, str], str], noun: str, fix: str | None = None) -> str:
    """An id in a request path, percent-decoded once and checked; BadRequestException otherwise."""
    try:
        return check(unquote(raw_segment), "id")
    except schema.PropertyError as error:
        raise ApiError(BAD_REQUEST, f"The {noun} id in the path: {error.problem}. {fix or error.fix}") from None


def max_items(query: Mapping[str, str], operation: str = "ListMLEndpoints") -> int:
    """A List operation's maxItems, within the model's range; 10 when absent."""
    text = query.get("maxItems")
    if text is None:
        return DEFAULT_MAX_ITEMS
    low, high = integer_range(operation, "maxItems")
    if not re.fullmatch(r"[0-9]{1,9}", text) or not low <= int(text) <= high:
        raise ApiError(INVALID_PARAMETER, f"maxItems: {text!r} is not a whole number from {low} to {high}")
    return int(text)


def clean_flag(query: Mapping[str, str]) -> bool:
    """The clean flag of a delete or cancel: true or false in any case (Neptune's docs send TRUE)."""
    return boolean("clean", query.get("clean", "false"))


def boolean(name: str, value: object) -> bool:
    """A JSON boolean, or "true"/"false" in any case as Neptune's curl examples send them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not a boolean. Give true or false")


def check_role_query(query: Mapping[str, str]) -> None:
    """A neptuneIamRoleArn query parameter, when given, must be a role ARN."""
    value = query.get("neptuneIamRoleArn")
    if value is not None:
        _checked_field("neptuneIamRoleArn", value)


def json_object(body: bytes) -> dict[str, Any]:
    """A request body's JSON object; {} for an empty body."""
    if not body.strip():
        return {}
    try:
        fields = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(BAD_REQUEST, f"The request body is not JSON: {error}") from None
    if not isinstance(fields, dict):
        raise ApiError(BAD_REQUEST, "The request body must be a JSON object")
    return fields


def _checked_field(name: str, value: Any) -> Any:
    """One field's value after its schema check, with the message in API terms."""
    spec = _SPECS_BY_FIELD[name]
    if name in _INTEGER_FIELDS:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not a JSON integer. Give a whole number")
    elif not isinstance(value, str):
        raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not a string")
    try:
        return spec.check(str(value))
    except schema.PropertyError as error:
        raise ApiError(INVALID_PARAMETER, f"{name}: {in_api_terms(f'{error.problem}. {error.fix}')}") from None
