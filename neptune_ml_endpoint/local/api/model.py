"""What botocore's `neptunedata` service model says about the API this server imitates."""

from __future__ import annotations

import functools

import botocore.session
from botocore.model import NoShapeFoundError, ServiceModel

SERVICE_NAME = "neptunedata"


@functools.cache
def service_model() -> ServiceModel:
    """The neptunedata model (2023-08-01) that boto3 clients are built from."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def error_http_status(code: str) -> int:
    """The HTTP status the model gives an error code; 400 for codes it does not model."""
    try:
        shape = service_model().shape_for(code)
    except NoShapeFoundError:
        return 400
    return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))


def integer_range(operation: str, member: str) -> tuple[int, int]:
    """The (min, max) the model allows for an integer input member."""
    shape = service_model().operation_model(operation).input_shape
    assert shape is not None
    metadata = shape.members[member].metadata
    return int(metadata["min"]), int(metadata["max"])
