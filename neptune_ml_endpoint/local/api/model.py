"""What botocore's `neptunedata` service model says about the API this server imitates."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # botocore's model takes a tenth of a second to import: only once a request needs it
    from botocore.model import ServiceModel, Shape, StructureShape

SERVICE_NAME = "neptunedata"


@functools.cache
def service_model() -> ServiceModel:
    """The neptunedata model (2023-08-01) that boto3 clients are built from."""
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def error_http_status(code: str) -> int:
    """The HTTP status the model gives an error code; 400 for codes it does not model."""
    from botocore.model import NoShapeFoundError

    try:
        shape = service_model().shape_for(code)
    except NoShapeFoundError:
        return 400
    return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))


def integer_range(operation: str, member: str) -> tuple[int, int]:
    """The (min, max) the model allows for an integer input member."""
    metadata = input_shape(operation).members[member].metadata
    return int(metadata["min"]), int(metadata["max"])


def body_members(operation: str) -> dict[str, Shape]:
    """The input members an operation sends in its JSON body (not in its path or query)."""
    members = input_shape(operation).members
    return {name: member for name, member in members.items() if "location" not in member.serialization}


def required_members(shape: Shape) -> list[str]:
    """The members the model marks required in a structure shape (an operation's input or a nested one)."""
    return list(getattr(shape, "required_members", []))


def input_shape(operation: str) -> StructureShape:
    """An operation's input shape."""
    from botocore.model import StructureShape

    shape = service_model().operation_model(operation).input_shape
    assert isinstance(shape, StructureShape)
    return shape
