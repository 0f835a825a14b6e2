"""Which resource class serves a request: one per CloudFormation resource type."""

from __future__ import annotations

from typing import Any

from custom_resource import NeptuneMlResource, Request, RequestFailed
from ml_endpoint_resource import MlEndpointResource
from ml_job_resource import JOB_TYPES, MlJobResource

from neptune_ml_endpoint.schema import RESOURCE_TYPE, RESOURCE_TYPES


def resource_for(request: Request, function_arn: str = "") -> NeptuneMlResource[Any, Any]:
    """The resource that decides this request; an event without ResourceType is an endpoint's.

    function_arn (the invocation's own) is what a job's watcher invokes.
    """
    if request.resource_type in ("", RESOURCE_TYPE):
        return MlEndpointResource(request)
    if request.resource_type in JOB_TYPES:
        return MlJobResource(request, function_arn=function_arn)
    raise RequestFailed(f"ResourceType {request.resource_type!r} is not served by this handler; it serves "
                        f"{', '.join(RESOURCE_TYPES)}", request.physical_id or None)
