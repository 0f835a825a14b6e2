"""CDK constructs for Neptune ML: inference endpoints and the jobs before them."""

from neptune_ml_endpoint.constructs.cluster import NeptuneCluster
from neptune_ml_endpoint.constructs.endpoint import NeptuneMlEndpoint
from neptune_ml_endpoint.constructs.endpoint_base import INeptuneMlEndpoint, NeptuneMlEndpointAttributes
from neptune_ml_endpoint.constructs.jobs import (
    CustomModelParameters,
    INeptuneMlJob,
    NeptuneMlDataProcessingJob,
    NeptuneMlModelTrainingJob,
    NeptuneMlModelTransformJob,
)
from neptune_ml_endpoint.constructs.provider import NeptuneMlEndpointProvider
from neptune_ml_endpoint.constructs.workflow import IncrementalData, NeptuneMlWorkflow
from neptune_ml_endpoint.schema import ModelName

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
