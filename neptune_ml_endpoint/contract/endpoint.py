"""The Custom::NeptuneMlEndpoint contract: CreateMLEndpoint's fields as properties, and the attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from neptune_ml_endpoint.contract.properties import PropertySpec, ResourceContract
from neptune_ml_endpoint.contract.values import (
    DEFAULT_INSTANCE_TYPE,
    PropertyError,
    check_endpoint_id,
    check_instance_count,
    check_instance_type,
    check_job_id,
    check_kms_key,
    check_model_name,
    check_neptune_endpoint,
    check_role_arn,
)

RESOURCE_TYPE = "Custom::NeptuneMlEndpoint"

PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec(
        "NeptuneEndpoint", None, check_neptune_endpoint,
        "The cluster's Data API address, https://<cluster endpoint>:<port>.", required=True,
        construct_prop="cluster",
    ),
    PropertySpec(
        "Id", "id", check_endpoint_id,
        "The endpoint id; by default one is derived from the stack and the resource.",
        construct_prop="endpoint_id",
    ),
    PropertySpec(
        "MlModelTrainingJobId", "mlModelTrainingJobId",
        check_job_id,
        "The completed model-training job whose model the endpoint serves.",
        construct_prop="ml_model_training_job_id",
    ),
    PropertySpec(
        "MlModelTransformJobId", "mlModelTransformJobId",
        check_job_id,
        "The completed model-transform job whose model the endpoint serves.",
        construct_prop="ml_model_transform_job_id",
    ),
    PropertySpec(
        "ModelName", "modelName", check_model_name,
        "rgcn for heterogeneous graphs; kge, transe, distmult or rotate for knowledge graphs.",
        construct_prop="model_name",
    ),
    PropertySpec(
        "InstanceType", "instanceType", check_instance_type,
        f"The ML instance type; Neptune's default is {DEFAULT_INSTANCE_TYPE}.",
        construct_prop="instance_type",
    ),
    PropertySpec(
        "InstanceCount", "instanceCount", check_instance_count,
        "How many instances serve the endpoint; Neptune's default is 1.",
        construct_prop="instance_count",
    ),
    PropertySpec(
        "NeptuneIamRoleArn", "neptuneIamRoleArn", check_role_arn,
        "The role Neptune uses for SageMaker and S3; must be in the cluster's parameter group.",
        construct_prop="neptune_iam_role",
    ),
    PropertySpec(
        "VolumeEncryptionKMSKey", "volumeEncryptionKMSKey", check_kms_key,
        "The KMS key SageMaker uses to encrypt the instances' storage volumes.",
        construct_prop="volume_encryption_key",
    ),
)

# Attributes the resource returns (Fn::GetAtt names).
ATTR_ARN = "Arn"
ATTR_ID = "Id"
ATTR_CREATION_TIME = "CreationTimeInMillis"
ATTR_SAGEMAKER_ENDPOINT_NAME = "SageMakerEndpointName"
ATTR_SAGEMAKER_ENDPOINT_ARN = "SageMakerEndpointArn"
ATTRIBUTES = (
    ATTR_ARN, ATTR_ID, ATTR_CREATION_TIME, ATTR_SAGEMAKER_ENDPOINT_NAME, ATTR_SAGEMAKER_ENDPOINT_ARN,
)


def _check_job_choice(values: Mapping[str, Any]) -> None:
    check_job_choice(values.get("MlModelTrainingJobId"), values.get("MlModelTransformJobId"))


def check_job_choice(training_job_id: object, transform_job_id: object) -> None:
    """Exactly one of the two job ids must be given."""
    if training_job_id is None and transform_job_id is None:
        raise PropertyError(
            "MlModelTrainingJobId",
            "neither MlModelTrainingJobId nor MlModelTransformJobId is set",
            "Set exactly one of them to the id of a completed Neptune ML job",
        )
    if training_job_id is not None and transform_job_id is not None:
        raise PropertyError(
            "MlModelTransformJobId",
            "both MlModelTrainingJobId and MlModelTransformJobId are set",
            "Set only one of them: the training job or the transform job whose model to serve",
        )


ENDPOINT = ResourceContract(RESOURCE_TYPE, "endpoint", PROPERTIES, ATTRIBUTES, _check_job_choice)
PROPERTY_NAMES = ENDPOINT.property_names


@dataclass(frozen=True)
class EndpointSpec:
    """The parsed, checked properties of one endpoint."""

    neptune_endpoint: str
    endpoint_id: str | None = None
    api_fields: Mapping[str, Any] = field(default_factory=dict)

    def create_request(self, endpoint_id: str, update: bool) -> dict[str, Any]:
        """Keyword arguments for boto3's neptunedata.create_ml_endpoint."""
        request: dict[str, Any] = {"id": endpoint_id, **self.api_fields}
        if update:
            request["update"] = True
        return request

    @property
    def role_arn(self) -> str | None:
        value = self.api_fields.get("neptuneIamRoleArn")
        return str(value) if value is not None else None


def parse_properties(raw: Mapping[str, Any]) -> EndpointSpec:
    """Check CloudFormation's properties (strings) and convert them to the API's types.

    Raises PropertyError for the first problem found: unknown keys, a missing
    NeptuneEndpoint, no or both job ids, or a value outside its limits.
    """
    parsed = ENDPOINT.parse(raw)
    api_fields = dict(parsed.api_fields)
    endpoint_id = api_fields.pop("id", None)
    return EndpointSpec(neptune_endpoint=parsed.own["NeptuneEndpoint"], endpoint_id=endpoint_id,
                        api_fields=api_fields)


def in_construct_terms(error: PropertyError) -> PropertyError:
    """The error naming the construct's keyword argument too: ``instance_count (InstanceCount): ...``."""
    return ENDPOINT.in_construct_terms(error)
