"""Neptune ML's jobs as resources: data processing, model training and model transform.

Each construct declares one job (Custom::NeptuneMlDataProcessingJob, ...ModelTrainingJob,
...ModelTransformJob) served by the cluster's shared handler. A deployment starts the job and
waits until it is Completed; a changed configuration (or ``run_key``) starts a new job, whose
new id flows down the chain: a new processing job gives a new training job, and a new training
job updates the endpoint serving it in place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.constructs.cluster import NeptuneCluster, select_subnets
from neptune_ml_endpoint.constructs.declaration import (
    SERVICE_TIMEOUT_MAX_SECONDS,
    check_kinds,
    check_timeout,
    checked_properties,
    declare,
    whole_seconds,
)
from neptune_ml_endpoint.contract import jobs as contract
from neptune_ml_endpoint.contract.properties import ResourceContract

VOLUME_KEY_ACTIONS = ("kms:CreateGrant", "kms:DescribeKey")
"""What SageMaker needs of the roles to encrypt the instances' volumes with a customer managed key."""
OUTPUT_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
"""What writing the job's output to S3 with SSE-KMS, and reading an upstream job's, needs of the roles."""

DEFAULT_TIMEOUT = cdk.Duration.hours(1)
START_ONLY_SERVICE_TIMEOUT = cdk.Duration.minutes(10)
"""The job resource's own ServiceTimeout when a WaitCondition does the waiting: it answers once the job started."""
_FINGERPRINT_LENGTH = 8


@runtime_checkable
class INeptuneMlJob(Protocol):
    """A Neptune ML job: declared in this app, or imported by id with ``from_job_id``."""

    @property
    def job_id(self) -> str:
        """The job's id."""
        ...


@dataclass(frozen=True)
class ImportedNeptuneMlJob:
    """A job started elsewhere (a notebook, another stack), known by its id."""

    job_id: str
    kind: type[NeptuneMlJobBase] | None = None
    """The job construct class whose ``from_job_id`` made it: the kind of job it is."""


def job_id_of(job: INeptuneMlJob | str | None, prop: str, kind: type[NeptuneMlJobBase]) -> str | None:
    """The id of a job given as a construct, an imported job or a plain id; a job construct of another kind
    than `prop` takes is refused, naming both."""
    if job is None or isinstance(job, str):
        return job
    if not hasattr(job, "job_id"):
        raise TypeError(f"{prop}: give a {kind.__name__}, one from {kind.__name__}.from_job_id, or a job id, not "
                        f"{job!r}")
    given, what = None, ""
    if isinstance(job, NeptuneMlJobBase):
        given, what = type(job), f"{job.node.path} is a {type(job).__name__}"
    elif isinstance(job, ImportedNeptuneMlJob) and job.kind is not None:
        given, what = job.kind, f"job {job.job_id!r} comes from {job.kind.__name__}.from_job_id"
    if given is not None and given is not NeptuneMlJobBase and not issubclass(given, kind):
        raise TypeError(f"{prop}: {what}; {prop} takes a {kind.__name__} (or its job id)")
    return job.job_id


@dataclass(frozen=True)
class CustomModelParameters:
    """Where a custom model's code is, for ``model_name="custom"`` (Neptune ML's custom models)."""

    source_s3_directory_path: str
    """The S3 folder holding the model's code."""
    training_entry_point_script: str | None = None
    """The training script's file name (training jobs)."""
    transform_entry_point_script: str | None = None
    """The transform script's file name."""

    def properties(self, training: bool) -> dict[str, str]:
        values = {"SourceS3DirectoryPath": self.source_s3_directory_path,
                  "TrainingEntryPointScript": self.training_entry_point_script if training else None,
                  "TransformEntryPointScript": self.transform_entry_point_script}
        return {name: value for name, value in values.items() if value is not None}


class NeptuneMlJobBase(Construct):
    """What the three job constructs share: the resource, its attributes and the removal policy."""

    _contract: ResourceContract
    fingerprint: str
    """A digest of what makes this job, upstream jobs' fingerprints included: a new one whenever the job
    (or a job before it in the chain) changes, as far as the app can see at synth time."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: NeptuneCluster,
        fields: dict[str, Any],
        job_id: str | None,
        run_key: str | None,
        clean: bool,
        sagemaker_iam_role: iam.IRole | None,
        neptune_iam_role: iam.IRole | None,
        vpc_subnets: ec2.SubnetSelection | None,
        security_groups: Sequence[ec2.ISecurityGroup] | None,
        volume_encryption_key: kms.IKey | None,
        s3_output_encryption_key: kms.IKey | None,
        removal_policy: cdk.RemovalPolicy,
        timeout: cdk.Duration,
        handler_encryption_key: kms.IKey | None,
        upstream: Sequence[object] = (),
    ) -> None:
        check_kinds(sagemaker_iam_role=sagemaker_iam_role, neptune_iam_role=neptune_iam_role,
                    security_groups=security_groups, volume_encryption_key=volume_encryption_key,
                    s3_output_encryption_key=s3_output_encryption_key, handler_encryption_key=handler_encryption_key,
                    timeout=timeout)
        subnet_ids = select_subnets(cluster.vpc, vpc_subnets).subnet_ids if vpc_subnets is not None else None
        candidates = {
            "NeptuneEndpoint": cluster.data_api_url,
            "Id": job_id,
            "RunKey": run_key,
            "Clean": True if clean else None,
            **fields,
            "SagemakerIamRoleArn": sagemaker_iam_role.role_arn if sagemaker_iam_role else None,
            "NeptuneIamRoleArn": neptune_iam_role.role_arn if neptune_iam_role else None,
            "Subnets": subnet_ids,
            "SecurityGroupIds": [group.security_group_id for group in security_groups] if security_groups else None,
            "VolumeEncryptionKMSKey": volume_encryption_key.key_arn if volume_encryption_key else None,
            "S3OutputEncryptionKMSKey": s3_output_encryption_key.key_arn if s3_output_encryption_key else None,
        }
        properties = checked_properties(self._contract, candidates)
        seconds = _check_job_timeout(timeout)
        long_wait = seconds is not None and seconds > SERVICE_TIMEOUT_MAX_SECONDS
        super().__init__(scope, id)
        self.cluster = cluster
        upstream_jobs = [job for job in upstream if isinstance(job, NeptuneMlJobBase)]
        self.fingerprint = _fingerprint(self, properties, [job.fingerprint for job in upstream_jobs], seconds)
        handle = None
        if long_wait:
            # A WaitConditionHandle cannot be reused across updates: the handle and the condition get new
            # logical ids whenever the fingerprint changes.
            handle = cdk.CfnWaitConditionHandle(self, f"Handle{self.fingerprint}")
            properties = {**properties, "CompletionSignalUrl": handle.ref, "CompletionTimeoutSeconds": seconds}
        self.provider, self._resource = declare(
            self, contract=self._contract, cluster=cluster, properties=properties, removal_policy=removal_policy,
            service_timeout=START_ONLY_SERVICE_TIMEOUT if long_wait else timeout,
            handler_encryption_key=handler_encryption_key,
        )
        for job in upstream_jobs:
            self._resource.node.add_dependency(job.completion)
        self._completion: Construct = self._resource
        if handle is not None:
            condition = cdk.CfnWaitCondition(self, f"Completion{self.fingerprint}", count=1, handle=handle.ref,
                                             timeout=str(seconds))
            cfn_resource = self._resource.node.default_child
            assert isinstance(cfn_resource, cdk.CfnResource)
            condition.node.add_dependency(cfn_resource)
            self._completion = condition
        roles = {role.node.path: role for role in (sagemaker_iam_role, neptune_iam_role) if role is not None}
        keys: dict[str, tuple[kms.IKey, list[str]]] = {}
        for key, wanted in ((volume_encryption_key, VOLUME_KEY_ACTIONS),
                            (s3_output_encryption_key, OUTPUT_KEY_ACTIONS)):
            if key is not None:
                actions = keys.setdefault(key.node.path, (key, []))[1]
                actions += [action for action in wanted if action not in actions]
        for key, actions in keys.values():
            for role in roles.values():
                key.grant(role, *actions)
                if isinstance(role, iam.Role):  # the job starts only once the role may use the key
                    self._resource.node.add_dependency(role)

    @classmethod
    def from_job_id(cls, job_id: str) -> INeptuneMlJob:
        """A job started elsewhere (a notebook, another stack), to chain from by id."""
        return ImportedNeptuneMlJob(job_id, cls)

    @property
    def custom_resource(self) -> cdk.CustomResource:
        """The job's custom resource."""
        return self._resource

    @property
    def completion(self) -> Construct:
        """What to depend on for the job's end: the custom resource, or with a timeout over an hour the
        WaitCondition after it. Jobs and endpoints given this job as a construct depend on it already."""
        return self._completion

    @property
    def job_id(self) -> str:
        """The job's id (a new one whenever the configuration or run_key changes)."""
        return self._resource.get_att_string(contract.ATTR_ID)

    @property
    def job_arn(self) -> str:
        """The ARN of the job's main SageMaker job."""
        return self._resource.get_att_string(contract.ATTR_ARN)

    @property
    def creation_time_in_millis(self) -> str:
        """When Neptune started the job, in milliseconds since the epoch ("0" when the job was adopted)."""
        return self._resource.get_att_string(contract.ATTR_CREATION_TIME)

    @property
    def output_s3_location(self) -> str:
        """Where the job's output is in S3."""
        return self._resource.get_att_string(contract.ATTR_OUTPUT_LOCATION)

    @property
    def cloudwatch_log_url(self) -> str:
        """The CloudWatch Logs console address of the job's main SageMaker job."""
        return self._resource.get_att_string(contract.ATTR_LOG_URL)

    def apply_removal_policy(self, policy: cdk.RemovalPolicy) -> None:
        """RETAIN leaves a running job running when the resource is removed or replaced."""
        self._resource.apply_removal_policy(policy)


def _check_job_timeout(timeout: cdk.Duration) -> int | None:
    """1 s to 12 hours (a WaitCondition's most); the seconds, or None for a token (then at most 1 hour)."""
    if timeout.is_unresolved():
        check_timeout("timeout", timeout)
        return None
    seconds = whole_seconds("timeout", timeout) or 0
    if not 1 <= seconds <= contract.MAX_WAIT_SECONDS:
        raise ValueError(f"timeout: {timeout.to_human_string()} is outside 1 s to 12 hours (the longest an "
                         "AWS::CloudFormation::WaitCondition waits). Give a Duration such as Duration.hours(3)")
    return seconds


def _fingerprint(scope: Construct, properties: dict[str, Any], upstream: list[str], seconds: int | None) -> str:
    """The job's configuration as the template states it (tokens as their intrinsics), upstream fingerprints
    and the timeout, hashed."""
    resolved = cdk.Stack.of(scope).resolve(properties)
    text = json.dumps([resolved, upstream, seconds], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:_FINGERPRINT_LENGTH]


class NeptuneMlDataProcessingJob(NeptuneMlJobBase):
    """Neptune ML data processing: turns graph data exported to S3 into training data."""

    _contract = schema.DATA_PROCESSING

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: NeptuneCluster,
        input_data_s3_location: str,
        processed_data_s3_location: str,
        previous_data_processing_job: INeptuneMlJob | str | None = None,
        processing_instance_type: str | None = None,
        processing_instance_volume_size_in_gb: int | None = None,
        processing_timeout: cdk.Duration | None = None,
        model_type: str | None = None,
        config_file_name: str | None = None,
        sagemaker_iam_role: iam.IRole | None = None,
        neptune_iam_role: iam.IRole | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        volume_encryption_key: kms.IKey | None = None,
        s3_output_encryption_key: kms.IKey | None = None,
        job_id: str | None = None,
        run_key: str | None = None,
        clean: bool = False,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
        timeout: cdk.Duration = DEFAULT_TIMEOUT,
        handler_encryption_key: kms.IKey | None = None,
    ) -> None:
        """Declare the job; bad values raise ValueError naming the prop.

        :param cluster: the Neptune cluster whose Data API runs the job.
        :param input_data_s3_location: the graph data exported to S3 (Neptune export's output).
        :param processed_data_s3_location: where the processed data goes.
        :param previous_data_processing_job: a completed processing job of earlier data, for
            incremental processing.
        :param processing_instance_type: the processing instance type; Neptune picks one by default.
        :param processing_instance_volume_size_in_gb: the processing instance's volume.
        :param processing_timeout: the job's own limit; Neptune's default is 24 hours.
        :param model_type: ``heterogeneous`` or ``kge``; Neptune chooses by default.
        :param config_file_name: the export's training configuration file name.
        :param sagemaker_iam_role: the role SageMaker runs the job with.
        :param neptune_iam_role: the Neptune ML role (listed in the cluster's parameter group).
        :param vpc_subnets: the cluster VPC's subnets for the job's instances.
        :param security_groups: the security groups of the job's instances.
        :param volume_encryption_key: the key for the instances' volumes (the roles get its use).
        :param s3_output_encryption_key: the key for the output in S3 (the roles get its use).
        :param job_id: an explicit job id; by default each configuration gets one derived from the
            stack and the resource. With an explicit id, a changed configuration is refused.
        :param run_key: any text; a new value runs the job again with the same configuration
            (for example when the data in S3 changed).
        :param clean: cancelling a running job on delete also deletes its S3 artifacts.
        :param removal_policy: RETAIN leaves a running job running when the resource goes.
        :param timeout: how long the deployment waits for the job, 1 s to 12 hours. Up to an hour the
            job resource waits itself; longer, it answers once the job started and a
            WaitCondition holds the stack until the job ends. A job still running shortly before
            the time is up is cancelled and the deployment fails.
        :param handler_encryption_key: the shared handler's KMS key (see NeptuneMlEndpoint).
        """
        super().__init__(
            scope, id, cluster=cluster,
            fields={
                "InputDataS3Location": input_data_s3_location,
                "ProcessedDataS3Location": processed_data_s3_location,
                "PreviousDataProcessingJobId": job_id_of(
                    previous_data_processing_job, "previous_data_processing_job", NeptuneMlDataProcessingJob),
                "ProcessingInstanceType": processing_instance_type,
                "ProcessingInstanceVolumeSizeInGB": processing_instance_volume_size_in_gb,
                "ProcessingTimeOutInSeconds": whole_seconds("processing_timeout", processing_timeout),
                "ModelType": model_type,
                "ConfigFileName": config_file_name,
            },
            job_id=job_id, run_key=run_key, clean=clean, sagemaker_iam_role=sagemaker_iam_role,
            neptune_iam_role=neptune_iam_role, vpc_subnets=vpc_subnets, security_groups=security_groups,
            volume_encryption_key=volume_encryption_key, s3_output_encryption_key=s3_output_encryption_key,
            removal_policy=removal_policy, timeout=timeout, handler_encryption_key=handler_encryption_key,
            upstream=[previous_data_processing_job],
        )


class NeptuneMlModelTrainingJob(NeptuneMlJobBase):
    """Neptune ML model training: hyperparameter tuning over the processed data; serves endpoints."""

    _contract = schema.MODEL_TRAINING

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: NeptuneCluster,
        data_processing_job: INeptuneMlJob | str,
        train_model_s3_location: str,
        previous_training_job: INeptuneMlJob | str | None = None,
        model_name: str | None = None,
        base_processing_instance_type: str | None = None,
        training_instance_type: str | None = None,
        training_instance_volume_size_in_gb: int | None = None,
        training_timeout: cdk.Duration | None = None,
        max_hpo_number_of_training_jobs: int | None = None,
        max_hpo_parallel_training_jobs: int | None = None,
        enable_managed_spot_training: bool | None = None,
        max_wait_time: cdk.Duration | None = None,
        enable_inter_container_traffic_encryption: bool | None = None,
        custom_model_training_parameters: CustomModelParameters | None = None,
        sagemaker_iam_role: iam.IRole | None = None,
        neptune_iam_role: iam.IRole | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        volume_encryption_key: kms.IKey | None = None,
        s3_output_encryption_key: kms.IKey | None = None,
        job_id: str | None = None,
        run_key: str | None = None,
        clean: bool = False,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
        timeout: cdk.Duration = DEFAULT_TIMEOUT,
        handler_encryption_key: kms.IKey | None = None,
    ) -> None:
        """Declare the job; bad values raise ValueError naming the prop.

        :param data_processing_job: the processing job to train on (a construct, an imported job
            or an id). A new processing job starts a new training job.
        :param train_model_s3_location: where the trained models go.
        :param previous_training_job: a completed training job to start from (warm start).
        :param model_name: ``rgcn``, ``transe``, ``distmult``, ``rotate`` or ``custom``; by default
            the one the processing job chose.
        :param base_processing_instance_type: the instance type that prepares training.
        :param training_instance_type: the training instance type.
        :param training_instance_volume_size_in_gb: the training instance's volume.
        :param training_timeout: the job's own limit; Neptune's default is 24 hours.
        :param max_hpo_number_of_training_jobs: training jobs hyperparameter tuning runs (Neptune: 2).
        :param max_hpo_parallel_training_jobs: how many run at once (Neptune: 2).
        :param enable_managed_spot_training: train on spot instances.
        :param max_wait_time: with spot training, the longest wait for capacity and training.
        :param enable_inter_container_traffic_encryption: encrypt traffic between containers.
        :param custom_model_training_parameters: the custom model's code, for ``model_name="custom"``.

        The other props are as for :class:`NeptuneMlDataProcessingJob`.
        """
        super().__init__(
            scope, id, cluster=cluster,
            fields={
                "DataProcessingJobId": job_id_of(
                    data_processing_job, "data_processing_job", NeptuneMlDataProcessingJob),
                "TrainModelS3Location": train_model_s3_location,
                "PreviousModelTrainingJobId": job_id_of(
                    previous_training_job, "previous_training_job", NeptuneMlModelTrainingJob),
                "ModelName": model_name,
                "BaseProcessingInstanceType": base_processing_instance_type,
                "TrainingInstanceType": training_instance_type,
                "TrainingInstanceVolumeSizeInGB": training_instance_volume_size_in_gb,
                "TrainingTimeOutInSeconds": whole_seconds("training_timeout", training_timeout),
                "MaxHPONumberOfTrainingJobs": max_hpo_number_of_training_jobs,
                "MaxHPOParallelTrainingJobs": max_hpo_parallel_training_jobs,
                "EnableManagedSpotTraining": enable_managed_spot_training,
                "MaxWaitTime": whole_seconds("max_wait_time", max_wait_time),
                "EnableInterContainerTrafficEncryption": enable_inter_container_traffic_encryption,
                "CustomModelTrainingParameters": custom_model_training_parameters.properties(training=True)
                if custom_model_training_parameters else None,
            },
            job_id=job_id, run_key=run_key, clean=clean, sagemaker_iam_role=sagemaker_iam_role,
            neptune_iam_role=neptune_iam_role, vpc_subnets=vpc_subnets, security_groups=security_groups,
            volume_encryption_key=volume_encryption_key, s3_output_encryption_key=s3_output_encryption_key,
            removal_policy=removal_policy, timeout=timeout, handler_encryption_key=handler_encryption_key,
            upstream=[data_processing_job, previous_training_job],
        )


class NeptuneMlModelTransformJob(NeptuneMlJobBase):
    """Neptune ML model transform: computes the model's artifacts for new data, without retraining."""

    _contract = schema.MODEL_TRANSFORM

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: NeptuneCluster,
        model_transform_output_s3_location: str,
        data_processing_job: INeptuneMlJob | str | None = None,
        training_job: INeptuneMlJob | str | None = None,
        training_job_name: str | None = None,
        base_processing_instance_type: str | None = None,
        base_processing_instance_volume_size_in_gb: int | None = None,
        custom_model_transform_parameters: CustomModelParameters | None = None,
        sagemaker_iam_role: iam.IRole | None = None,
        neptune_iam_role: iam.IRole | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        volume_encryption_key: kms.IKey | None = None,
        s3_output_encryption_key: kms.IKey | None = None,
        job_id: str | None = None,
        run_key: str | None = None,
        clean: bool = False,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
        timeout: cdk.Duration = DEFAULT_TIMEOUT,
        handler_encryption_key: kms.IKey | None = None,
    ) -> None:
        """Declare the job; bad values raise ValueError naming the prop.

        :param model_transform_output_s3_location: where the transform's output goes.
        :param data_processing_job: the processing job of the data to transform (with training_job).
        :param training_job: the training job whose model to use (with data_processing_job).
        :param training_job_name: instead of both: a completed SageMaker training job's name.
        :param base_processing_instance_type: the instance type that prepares the transform.
        :param base_processing_instance_volume_size_in_gb: that instance's volume.
        :param custom_model_transform_parameters: the custom model's code, for a custom model.

        The other props are as for :class:`NeptuneMlDataProcessingJob`.
        """
        super().__init__(
            scope, id, cluster=cluster,
            fields={
                "ModelTransformOutputS3Location": model_transform_output_s3_location,
                "DataProcessingJobId": job_id_of(
                    data_processing_job, "data_processing_job", NeptuneMlDataProcessingJob),
                "MlModelTrainingJobId": job_id_of(training_job, "training_job", NeptuneMlModelTrainingJob),
                "TrainingJobName": training_job_name,
                "BaseProcessingInstanceType": base_processing_instance_type,
                "BaseProcessingInstanceVolumeSizeInGB": base_processing_instance_volume_size_in_gb,
                "CustomModelTransformParameters": custom_model_transform_parameters.properties(training=False)
                if custom_model_transform_parameters else None,
            },
            job_id=job_id, run_key=run_key, clean=clean, sagemaker_iam_role=sagemaker_iam_role,
            neptune_iam_role=neptune_iam_role, vpc_subnets=vpc_subnets, security_groups=security_groups,
            volume_encryption_key=volume_encryption_key, s3_output_encryption_key=s3_output_encryption_key,
            removal_policy=removal_policy, timeout=timeout, handler_encryption_key=handler_encryption_key,
            upstream=[data_processing_job, training_job],
        )


__all__ = [
    "CustomModelParameters", "INeptuneMlJob", "NeptuneMlDataProcessingJob", "NeptuneMlJobBase",
    "NeptuneMlModelTrainingJob", "NeptuneMlModelTransformJob",
]

