"""Check the Start requests of Neptune ML jobs: fields and types from botocore's model, values
from Neptune's rules, and the path ids of Get and Cancel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.contract.jobs import MODEL_TYPES, TRAINING_MODEL_NAMES
from neptune_ml_endpoint.contract.values import MAX_INTEGER, S3_URI
from neptune_ml_endpoint.local.api.errors import (
    ILLEGAL_ARGUMENT,
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    ApiError,
)
from neptune_ml_endpoint.local.api.model import body_members, input_shape, required_members
from neptune_ml_endpoint.local.api.routes import TRAINING, TRANSFORM, Resource
from neptune_ml_endpoint.local.api.validation import boolean, id_from_path, json_object

if TYPE_CHECKING:
    from botocore.model import Shape

JOB_ID_FIELDS = frozenset({"id", "previousDataProcessingJobId", "dataProcessingJobId",
                           "previousModelTrainingJobId", "mlModelTrainingJobId", "trainingJobName"})
# Training fields the Neptune user guide documents and botocore's model lacks (clients add them).
UNMODELLED_TRAINING_FIELDS = {"modelName": "string", "maxWaitTime": "integer",
                              "enableInterContainerTrafficEncryption": "boolean"}
_JOB_ID_FIX = "Use 1-255 letters, digits, '.', '_' and '-', starting with a letter or digit"
_TRANSFORM_SOURCES = "Give either dataProcessingJobId and mlModelTrainingJobId, or trainingJobName"


@dataclass(frozen=True)
class JobRequest:
    """A checked Start request: the job's kind, its id if given, and every field given."""

    kind: Resource
    job_id: str | None
    fields: Mapping[str, Any]


def parse_start_request(kind: Resource, body: bytes) -> JobRequest:
    """Check a Start JSON body against the operation's model shape and Neptune's rules."""
    operation = kind.start
    members = body_members(operation)
    types = {name: shape.type_name for name, shape in members.items()}
    if kind is TRAINING:
        types.update(UNMODELLED_TRAINING_FIELDS)
    fields = json_object(body)
    unknown = sorted(name for name in fields if name not in types)
    if unknown:
        raise ApiError(ILLEGAL_ARGUMENT, f"{', '.join(map(repr, unknown))} is not a {operation} field; "
                                         f"the fields are {', '.join(types)}")
    required = required_members(input_shape(operation))
    values = {name: _checked(name, types[name], value, members.get(name))
              for name, value in fields.items() if not _absent(name, value, required)}
    missing = [name for name in required if name not in values]
    if missing:
        raise ApiError(MISSING_PARAMETER, f"{missing[0]}: is missing. {operation} needs {', '.join(required)}")
    if kind is TRANSFORM:
        _check_transform_sources(values)
    return JobRequest(kind, values.get("id"), values)


def _absent(name: str, value: Any, required: list[str]) -> bool:
    """null, or "" in an optional field: not given. graph-notebook's %neptune_ml magics send "" for
    every option left out ("id", "configFileName", "trainingInstanceType"), so a cluster takes it
    as the default (a generated id, the default instance type)."""
    return value is None or (value == "" and name not in required)


def job_id_from_path(raw_segment: str) -> str:
    """The job id in a request path: percent-decoded once, and a valid job id."""
    return id_from_path(raw_segment, schema.check_job_id, "job", _JOB_ID_FIX)


def _checked(name: str, type_name: str, value: Any, shape: Shape | None) -> Any:
    """One field's value, checked for its model type and then for its meaning."""
    if type_name == "string":
        if not isinstance(value, str):
            raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not a string")
        return _checked_text(name, value)
    if type_name == "integer":
        return _checked_integer(name, value)
    if type_name == "boolean":
        return boolean(name, value)
    if type_name == "list":
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not a list of strings")
        return list(value)
    assert shape is not None and type_name == "structure"
    return _checked_structure(name, value, shape)


def _checked_text(name: str, value: str) -> str:
    field = name.rpartition(".")[2]
    try:
        if field in JOB_ID_FIELDS:
            return schema.check_job_id(value, name)
        if field.endswith("IamRoleArn"):
            return schema.check_role_arn(value, name)
        if field.endswith("KMSKey"):
            return schema.check_kms_key(value, name)
        if field.endswith("InstanceType"):
            return schema.check_instance_type(value, name)
    except schema.PropertyError as error:
        fix = _JOB_ID_FIX if field in JOB_ID_FIELDS else error.fix
        raise ApiError(INVALID_PARAMETER, f"{name}: {error.problem}. {fix}") from None
    if field.endswith(("S3Location", "S3DirectoryPath")) and not S3_URI.match(value):
        raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not an S3 URI. Give s3://bucket/prefix")
    choices = {"modelType": MODEL_TYPES, "modelName": TRAINING_MODEL_NAMES}.get(field)
    if choices is not None and value not in choices:
        raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _checked_integer(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not a JSON integer. Give a whole number")
    low = 0 if name.endswith("VolumeSizeInGB") else 1  # a volume size of 0 lets Neptune ML choose
    if not low <= value <= MAX_INTEGER:
        raise ApiError(INVALID_PARAMETER, f"{name}: {value} is not a whole number from {low} to {MAX_INTEGER}")
    return value


def _checked_structure(name: str, value: Any, shape: Shape) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(INVALID_PARAMETER, f"{name}: {value!r} is not a JSON object")
    members = getattr(shape, "members", {})
    unknown = sorted(key for key in value if key not in members)
    if unknown:
        raise ApiError(ILLEGAL_ARGUMENT, f"{name}.{unknown[0]}: is not a field of {name}; "
                                         f"the fields are {', '.join(members)}")
    missing = [key for key in required_members(shape) if value.get(key) is None]
    if missing:
        raise ApiError(MISSING_PARAMETER, f"{name}.{missing[0]}: is missing")
    return {key: _checked(f"{name}.{key}", members[key].type_name, item, members[key])
            for key, item in value.items() if item is not None}


def _check_transform_sources(values: Mapping[str, Any]) -> None:
    """A transform reads either a processing job and a training job, or a SageMaker training job."""
    pair = ("dataProcessingJobId", "mlModelTrainingJobId")
    if "trainingJobName" in values:
        given = [name for name in pair if name in values]
        if given:
            raise ApiError(ILLEGAL_ARGUMENT, f"{given[0]}: cannot be given with trainingJobName. "
                                             f"{_TRANSFORM_SOURCES}")
        return
    missing = [name for name in pair if name not in values]
    if missing:
        raise ApiError(MISSING_PARAMETER, f"{missing[0]}: is missing. {_TRANSFORM_SOURCES}")
