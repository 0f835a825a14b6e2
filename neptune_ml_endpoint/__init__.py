"""Amazon Neptune ML inference endpoints and jobs as CloudFormation resources.

    from neptune_ml_endpoint import NeptuneCluster, NeptuneMlDataProcessingJob, NeptuneMlEndpoint

The CDK classes load on first use, so the local Neptune ML API and the Lambda
handler can import this package without aws-cdk-lib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neptune_ml_endpoint.constructs import (
        CustomModelParameters,
        IncrementalData,
        INeptuneMlEndpoint,
        INeptuneMlJob,
        ModelName,
        NeptuneCluster,
        NeptuneMlDataProcessingJob,
        NeptuneMlEndpoint,
        NeptuneMlEndpointAttributes,
        NeptuneMlEndpointProvider,
        NeptuneMlModelTrainingJob,
        NeptuneMlModelTransformJob,
        NeptuneMlWorkflow,
    )

__all__ = [
    "CustomModelParameters",
    "INeptuneMlEndpoint",
    "INeptuneMlJob",
    "IncrementalData",
    "ModelName",
    "NeptuneCluster",
    "NeptuneMlDataProcessingJob",
    "NeptuneMlEndpoint",
    "NeptuneMlEndpointAttributes",
    "NeptuneMlEndpointProvider",
    "NeptuneMlModelTrainingJob",
    "NeptuneMlModelTransformJob",
    "NeptuneMlWorkflow",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("neptune_ml_endpoint.constructs"), name)
    raise AttributeError(f"module 'neptune_ml_endpoint' has no attribute {name!r}")
