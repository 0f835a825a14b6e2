"""The resource contracts, written once (in `neptune_ml_endpoint.contract`), and their index.

The constructs check props against them at synth time, the Lambda handler parses
CloudFormation's string properties with them, and the local Neptune ML API validates requests
with the same limits. Standard library only: this module and the contract package are copied
into the handler's asset.
"""

from __future__ import annotations

from neptune_ml_endpoint.contract.endpoint import (
    ATTR_ARN,
    ATTR_CREATION_TIME,
    ATTR_ID,
    ATTR_SAGEMAKER_ENDPOINT_ARN,
    ATTR_SAGEMAKER_ENDPOINT_NAME,
    ATTRIBUTES,
    ENDPOINT,
    PROPERTIES,
    PROPERTY_NAMES,
    RESOURCE_TYPE,
    EndpointSpec,
    check_job_choice,
    in_construct_terms,
    parse_properties,
)
from neptune_ml_endpoint.contract.jobs import (
    DATA_PROCESSING,
    DATA_PROCESSING_TYPE,
    JOB_CONTRACTS,
    MODEL_TRAINING,
    MODEL_TRAINING_TYPE,
    MODEL_TRANSFORM,
    MODEL_TRANSFORM_TYPE,
    JobSpec,
    parse_job_properties,
)
from neptune_ml_endpoint.contract.properties import (
    CLOUDFORMATION_KEYS,
    PropertySpec,
    ResourceContract,
    parse_connection,
)
from neptune_ml_endpoint.contract.settings import (
    ENV_CLIENT_TIMEOUT_RETRIES,
    ENV_CONNECT_TIMEOUT,
    ENV_MAX_ATTEMPTS,
    ENV_READ_TIMEOUT,
    ENV_SAFETY_MARGIN_SECONDS,
    ENV_THROTTLE_RETRIES,
    ENV_WAIT_FIRST_SECONDS,
    ENV_WAIT_MAX_SECONDS,
)
from neptune_ml_endpoint.contract.values import (
    DEFAULT_INSTANCE_TYPE,
    ENDPOINT_ID_MAX_LENGTH,
    INSTANCE_COUNT_MAX,
    MODEL_NAMES,
    ModelName,
    PropertyError,
    check_endpoint_id,
    check_instance_count,
    check_instance_type,
    check_job_id,
    check_kms_key,
    check_model_name,
    check_neptune_endpoint,
    check_role_arn,
    is_endpoint_id,
)

CONTRACTS: dict[str, ResourceContract] = {RESOURCE_TYPE: ENDPOINT, **JOB_CONTRACTS}
"""Every resource type the handler serves, by CloudFormation type name."""
RESOURCE_TYPES = tuple(CONTRACTS)

__all__ = [
    "ATTRIBUTES", "ATTR_ARN", "ATTR_CREATION_TIME", "ATTR_ID", "ATTR_SAGEMAKER_ENDPOINT_ARN",
    "ATTR_SAGEMAKER_ENDPOINT_NAME", "CLOUDFORMATION_KEYS", "CONTRACTS", "DATA_PROCESSING", "DATA_PROCESSING_TYPE",
    "DEFAULT_INSTANCE_TYPE", "ENDPOINT", "ENDPOINT_ID_MAX_LENGTH", "ENV_CLIENT_TIMEOUT_RETRIES",
    "ENV_CONNECT_TIMEOUT", "ENV_MAX_ATTEMPTS", "ENV_READ_TIMEOUT", "ENV_SAFETY_MARGIN_SECONDS",
    "ENV_THROTTLE_RETRIES", "ENV_WAIT_FIRST_SECONDS", "ENV_WAIT_MAX_SECONDS", "INSTANCE_COUNT_MAX",
    "JOB_CONTRACTS", "MODEL_NAMES", "MODEL_TRAINING", "MODEL_TRAINING_TYPE", "MODEL_TRANSFORM",
    "MODEL_TRANSFORM_TYPE", "PROPERTIES", "PROPERTY_NAMES", "RESOURCE_TYPE", "RESOURCE_TYPES", "EndpointSpec",
    "JobSpec", "ModelName", "PropertyError", "PropertySpec", "ResourceContract", "check_endpoint_id",
    "check_instance_count", "check_instance_type", "check_job_choice", "check_job_id", "check_kms_key",
    "check_model_name", "check_neptune_endpoint", "check_role_arn", "in_construct_terms", "is_endpoint_id",
    "parse_connection", "parse_job_properties", "parse_properties",
]
