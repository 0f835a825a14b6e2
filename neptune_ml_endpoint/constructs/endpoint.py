"""NeptuneMlEndpoint: a Neptune ML inference endpoint as a Custom::NeptuneMlEndpoint resource."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.constructs.cluster import NeptuneCluster
from neptune_ml_endpoint.constructs.declaration import check_kinds, check_timeout, checked_properties, declare
from neptune_ml_endpoint.constructs.endpoint_base import (
    DEFAULT_VARIANT_NAME,
    ImportedNeptuneMlEndpoint,
    INeptuneMlEndpoint,
    NeptuneMlEndpointAttributes,
    NeptuneMlEndpointBase,
    check_variant_name,
)
from neptune_ml_endpoint.constructs.jobs import (
    INeptuneMlJob,
    NeptuneMlJobBase,
    NeptuneMlModelTrainingJob,
    NeptuneMlModelTransformJob,
    job_id_of,
)
from neptune_ml_endpoint.contract.values import check_endpoint_id
from neptune_ml_endpoint.schema import ModelName

DEFAULT_SERVICE_TIMEOUT = cdk.Duration.minutes(40)


class NeptuneMlEndpoint(NeptuneMlEndpointBase):
    """A Neptune ML inference endpoint serving the model of a training or transform job.

    Every endpoint of one cluster in one stack shares one handler function
    (:class:`NeptuneMlEndpointProvider`). The cluster's DB cluster parameter group must list
    the Neptune ML role (parameter ``neptune_ml_iam_role``), and that role needs the SageMaker
    and S3 permissions Neptune ML uses; pass it as ``neptune_iam_role`` to choose it explicitly.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: NeptuneCluster,
        training_job: INeptuneMlJob | None = None,
        transform_job: INeptuneMlJob | None = None,
        ml_model_training_job_id: str | None = None,
        ml_model_transform_job_id: str | None = None,
        model_name: ModelName | str | None = None,
        instance_type: str | None = None,
        instance_count: int | None = None,
        neptune_iam_role: iam.IRole | None = None,
        volume_encryption_key: kms.IKey | None = None,
        endpoint_id: str | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
        service_timeout: cdk.Duration = DEFAULT_SERVICE_TIMEOUT,
        sagemaker_variant_name: str = DEFAULT_VARIANT_NAME,
        handler_encryption_key: kms.IKey | None = None,
    ) -> None:
        """Declare the endpoint; bad values raise ValueError naming the property.

        :param cluster: the Neptune cluster whose Data API creates the endpoint.
        :param training_job: the model training job whose model to serve (a
            :class:`NeptuneMlModelTrainingJob` of the app, or one from ``from_job_id``). A new
            training job (a retrain) updates the endpoint in place. Give one of the four job props.
        :param transform_job: the model transform job whose model to serve, likewise.
        :param ml_model_training_job_id: a completed model-training job, by id.
        :param ml_model_transform_job_id: a completed model-transform job, by id.
        :param model_name: the model type; by default the one the job used.
        :param instance_type: the ML instance type; Neptune's default is ml.m5.xlarge.
        :param instance_count: how many instances; Neptune's default is 1.
        :param neptune_iam_role: the Neptune ML role (must be in the cluster's parameter group);
            by default the one the parameter group lists.
        :param volume_encryption_key: the KMS key for the instances' storage volumes; the
            Neptune ML role is granted its use when both are given.
        :param endpoint_id: the endpoint id; by default the handler derives one from the stack
            and the resource. Changing it replaces the endpoint.
        :param removal_policy: RETAIN keeps the endpoint when the resource is removed.
        :param service_timeout: how long CloudFormation waits for the handler (1 s to 1 h).
        :param sagemaker_variant_name: the SageMaker variant used by metrics.
        :param handler_encryption_key: a customer managed KMS key for the shared handler's log
            group and dead-letter queue; every endpoint of the cluster in the stack must give the
            same key, or none. A key of this app gets a key-policy statement for CloudWatch Logs.
        """
        check_kinds(neptune_iam_role=neptune_iam_role, volume_encryption_key=volume_encryption_key,
                    handler_encryption_key=handler_encryption_key, service_timeout=service_timeout)
        check_variant_name(sagemaker_variant_name)
        if training_job is not None and ml_model_training_job_id is not None:
            raise ValueError("training_job: give training_job or ml_model_training_job_id, not both")
        if transform_job is not None and ml_model_transform_job_id is not None:
            raise ValueError("transform_job: give transform_job or ml_model_transform_job_id, not both")
        try:
            properties = _endpoint_properties(
                neptune_endpoint=cluster.data_api_url,
                endpoint_id=endpoint_id,
                training_job_id=(job_id_of(training_job, "training_job", NeptuneMlModelTrainingJob)
                                 or ml_model_training_job_id),
                transform_job_id=(job_id_of(transform_job, "transform_job", NeptuneMlModelTransformJob)
                                  or ml_model_transform_job_id),
                model_name=model_name.value if isinstance(model_name, ModelName) else model_name,
                instance_type=instance_type,
                instance_count=instance_count,
                role_arn=neptune_iam_role.role_arn if neptune_iam_role else None,
                kms_key=volume_encryption_key.key_arn if volume_encryption_key else None,
            )
        except schema.PropertyError as error:
            raise schema.in_construct_terms(error) from None
        check_timeout("service_timeout", service_timeout)
        super().__init__(scope, id)

        self.provider, self._resource = declare(
            self, contract=schema.ENDPOINT, cluster=cluster, properties=properties,
            removal_policy=removal_policy, service_timeout=service_timeout,
            handler_encryption_key=handler_encryption_key,
        )
        for job in (training_job, transform_job):
            if isinstance(job, NeptuneMlJobBase):  # with a long wait, its WaitCondition
                self._resource.node.add_dependency(job.completion)

        if volume_encryption_key is not None and neptune_iam_role is not None:
            volume_encryption_key.grant(neptune_iam_role, "kms:CreateGrant", "kms:DescribeKey")
            if isinstance(neptune_iam_role, iam.Role):  # created only once the role may use the key
                self._resource.node.add_dependency(neptune_iam_role)

        self._sagemaker_variant_name = sagemaker_variant_name

    @classmethod
    def from_endpoint_attributes(
        cls,
        scope: Construct,
        id: str,
        *,
        endpoint_id: str,
        sagemaker_endpoint_name: str | None = None,
        endpoint_arn: str | None = None,
        sagemaker_variant_name: str = DEFAULT_VARIANT_NAME,
    ) -> INeptuneMlEndpoint:
        """An endpoint created elsewhere.

        :param endpoint_id: the Neptune ML endpoint id.
        :param sagemaker_endpoint_name: the SageMaker endpoint's name; Neptune names it after
            the endpoint id, the default.
        :param endpoint_arn: the endpoint's ARN; by default the SageMaker endpoint ARN in
            this stack's account and region.
        :param sagemaker_variant_name: the SageMaker variant used by metrics.
        """
        if not cdk.Token.is_unresolved(endpoint_id):
            check_endpoint_id(endpoint_id, "endpoint_id")
        check_variant_name(sagemaker_variant_name)
        return ImportedNeptuneMlEndpoint(
            scope,
            id,
            NeptuneMlEndpointAttributes(
                endpoint_id=endpoint_id,
                sagemaker_endpoint_name=sagemaker_endpoint_name,
                endpoint_arn=endpoint_arn,
                sagemaker_variant_name=sagemaker_variant_name,
            ),
        )

    @property
    def custom_resource(self) -> cdk.CustomResource:
        """The Custom::NeptuneMlEndpoint resource."""
        return self._resource

    @property
    def endpoint_id(self) -> str:
        return self._resource.get_att_string(schema.ATTR_ID)

    @property
    def endpoint_arn(self) -> str:
        return self._resource.get_att_string(schema.ATTR_ARN)

    @property
    def creation_time_in_millis(self) -> str:
        """When Neptune created the endpoint, in milliseconds since the epoch."""
        return self._resource.get_att_string(schema.ATTR_CREATION_TIME)

    @property
    def sagemaker_endpoint_name(self) -> str:
        return self._resource.get_att_string(schema.ATTR_SAGEMAKER_ENDPOINT_NAME)

    @property
    def sagemaker_endpoint_arn(self) -> str:
        return self._resource.get_att_string(schema.ATTR_SAGEMAKER_ENDPOINT_ARN)

    @property
    def sagemaker_variant_name(self) -> str:
        return self._sagemaker_variant_name

    def apply_removal_policy(self, policy: cdk.RemovalPolicy) -> None:
        """RETAIN keeps the endpoint when the resource is removed or replaced."""
        self._resource.apply_removal_policy(policy)


def _endpoint_properties(
    *,
    neptune_endpoint: str,
    endpoint_id: str | None,
    training_job_id: str | None,
    transform_job_id: str | None,
    model_name: str | None,
    instance_type: str | None,
    instance_count: int | None,
    role_arn: str | None,
    kms_key: str | None,
) -> dict[str, Any]:
    """The resource's properties, checked with the schema wherever they are not tokens."""
    if (
        instance_count is not None
        and not cdk.Token.is_unresolved(instance_count)
        and (isinstance(instance_count, bool) or not isinstance(instance_count, int))
    ):
        raise schema.PropertyError(
            "InstanceCount", f"{instance_count!r} is not a whole number", "Give an int such as 1"
        )
    candidates: dict[str, Any] = {
        "NeptuneEndpoint": neptune_endpoint,
        "Id": endpoint_id,
        "MlModelTrainingJobId": training_job_id,
        "MlModelTransformJobId": transform_job_id,
        "ModelName": model_name,
        "InstanceType": instance_type,
        "InstanceCount": instance_count,
        "NeptuneIamRoleArn": role_arn,
        "VolumeEncryptionKMSKey": kms_key,
    }
    return checked_properties(schema.ENDPOINT, candidates)
