"""Which operation a request line asks for: the resources served and their operations."""

from __future__ import annotations

from dataclasses import dataclass

from neptune_ml_endpoint.local.api.errors import UNSUPPORTED_OPERATION, ApiError


@dataclass(frozen=True)
class Resource:
    """A collection path and its four operations (create/start, list, get, delete/cancel)."""

    name: str
    start: str
    list: str
    get: str
    remove: str

    @property
    def path(self) -> str:
        return f"/ml/{self.name}"


ENDPOINTS = Resource("endpoints", "CreateMLEndpoint", "ListMLEndpoints", "GetMLEndpoint", "DeleteMLEndpoint")
PROCESSING = Resource("dataprocessing", "StartMLDataProcessingJob", "ListMLDataProcessingJobs",
                      "GetMLDataProcessingJob", "CancelMLDataProcessingJob")
TRAINING = Resource("modeltraining", "StartMLModelTrainingJob", "ListMLModelTrainingJobs",
                    "GetMLModelTrainingJob", "CancelMLModelTrainingJob")
TRANSFORM = Resource("modeltransform", "StartMLModelTransformJob", "ListMLModelTransformJobs",
                     "GetMLModelTransformJob", "CancelMLModelTransformJob")
JOB_KINDS = (PROCESSING, TRAINING, TRANSFORM)
RESOURCES = (ENDPOINTS, *JOB_KINDS)
OPERATIONS: tuple[str, ...] = tuple(
    operation for r in RESOURCES for operation in (r.start, r.get, r.remove, r.list))


def route(method: str, path: str) -> tuple[Resource, str, str | None]:
    """(resource, operation, raw id from the path or None) for a request line."""
    for resource in RESOURCES:
        if path == resource.path:
            operations, raw_id = {"POST": resource.start, "GET": resource.list}, None
            break
        if path.startswith(resource.path + "/"):
            operations, raw_id = {"GET": resource.get, "DELETE": resource.remove}, path[len(resource.path) + 1:]
            break
    else:
        raise ApiError(
            UNSUPPORTED_OPERATION,
            f"Nothing is served at {path!r}; this API serves the ML operations under "
            f"{', '.join(r.path for r in RESOURCES)}",
            status=404,
        )
    if method not in operations:
        raise ApiError(
            UNSUPPORTED_OPERATION,
            f"{method} is not supported on {path!r}; use {' or '.join(operations)}",
        )
    return resource, operations[method], raw_id
