"""NeptuneMlWorkflow: from graph data exported to S3 to a serving endpoint, in one construct.

It declares data processing, model training and an endpoint serving the trained model; with
`incremental_data`, also the processing of newer data and a model transform, and the endpoint then
serves the existing model on the newer data without retraining. Changing `data_version` retrains:
new processing and training jobs, then the endpoint updated in place (same id, `update: true`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from neptune_ml_endpoint.constructs.cluster import NeptuneCluster
from neptune_ml_endpoint.constructs.declaration import check_kinds
from neptune_ml_endpoint.constructs.endpoint import NeptuneMlEndpoint
from neptune_ml_endpoint.constructs.jobs import (
    DEFAULT_TIMEOUT,
    NeptuneMlDataProcessingJob,
    NeptuneMlModelTrainingJob,
    NeptuneMlModelTransformJob,
    _check_job_timeout,
)
from neptune_ml_endpoint.contract.values import PropertyError

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
DEFAULT_DATA_VERSION = "1"
DEFAULT_PROCESSING_INSTANCE_TYPE = "ml.r5.large"
DEFAULT_TRAINING_INSTANCE_TYPE = "ml.m5.2xlarge"
DEFAULT_ENDPOINT_INSTANCE_TYPE = "ml.m5.xlarge"


@dataclass(frozen=True)
class IncrementalData:
    """Newer graph data to serve with the model already trained, without retraining (Neptune ML's
    incremental workflow: processing with the earlier processing job, then a model transform)."""

    input_data_s3_location: str
    """The newer export (Neptune export's output) in S3."""
    data_version: str
    """Names the newer data; a new value processes and transforms again."""


class NeptuneMlWorkflow(Construct):
    """Data processing, model training and an endpoint serving the model, chained.

    S3 layout under ``output_s3_location``: ``<data_version>/processed/``,
    ``<data_version>/training/`` and, for incremental data, ``incremental/<version>/processed/``
    and ``.../transform/``. Every job's output stays in S3 after the stack is gone.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: NeptuneCluster,
        input_data_s3_location: str,
        output_s3_location: str,
        data_version: str = DEFAULT_DATA_VERSION,
        incremental_data: IncrementalData | None = None,
        model_type: str | None = None,
        model_name: str | None = None,
        processing_instance_type: str = DEFAULT_PROCESSING_INSTANCE_TYPE,
        training_instance_type: str = DEFAULT_TRAINING_INSTANCE_TYPE,
        max_hpo_number_of_training_jobs: int | None = None,
        max_hpo_parallel_training_jobs: int | None = None,
        enable_managed_spot_training: bool | None = None,
        max_wait_time: cdk.Duration | None = None,
        warm_start_from: str | None = None,
        endpoint_instance_type: str = DEFAULT_ENDPOINT_INSTANCE_TYPE,
        endpoint_instance_count: int | None = None,
        endpoint_id: str | None = None,
        neptune_iam_role: iam.IRole | None = None,
        sagemaker_iam_role: iam.IRole | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        volume_encryption_key: kms.IKey | None = None,
        s3_output_encryption_key: kms.IKey | None = None,
        processing_timeout: cdk.Duration = DEFAULT_TIMEOUT,
        training_timeout: cdk.Duration = DEFAULT_TIMEOUT,
        job_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
        endpoint_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
        handler_encryption_key: kms.IKey | None = None,
    ) -> None:
        """Declare the workflow; bad values raise ValueError naming the prop.

        :param cluster: the Neptune cluster whose Data API runs the jobs and the endpoint.
        :param input_data_s3_location: the graph data Neptune export wrote to S3.
        :param output_s3_location: the S3 prefix under which every job writes (see the class).
        :param data_version: names the data at input_data_s3_location; a new value (after a new
            export) runs new processing and training jobs and updates the endpoint in place.
        :param incremental_data: newer data to serve with the trained model, without retraining.
        :param model_type: ``heterogeneous`` or ``kge``; Neptune chooses by default.
        :param model_name: ``rgcn``, ``transe``, ``distmult`` or ``rotate``; by default the
            processing job's choice.
        :param processing_instance_type: the processing instance (default ml.r5.large).
        :param training_instance_type: the training instance (default ml.m5.2xlarge).
        :param max_hpo_number_of_training_jobs: hyperparameter tuning's training jobs (Neptune: 2).
        :param max_hpo_parallel_training_jobs: how many at once (Neptune: 2).
        :param enable_managed_spot_training: train on spot instances.
        :param max_wait_time: with spot training, the longest wait for capacity and training.
        :param warm_start_from: a completed training job to start each training from.
        :param endpoint_instance_type: the endpoint's instance (default ml.m5.xlarge).
        :param endpoint_instance_count: the endpoint's instances (Neptune: 1).
        :param endpoint_id: an explicit endpoint id; by default a derived one.
        :param neptune_iam_role: the Neptune ML role (listed in the cluster's parameter group).
        :param sagemaker_iam_role: the role SageMaker runs the jobs with.
        :param vpc_subnets: the cluster VPC's subnets for the jobs' instances.
        :param security_groups: the jobs' security groups.
        :param volume_encryption_key: the KMS key of the instances' volumes (jobs and endpoint).
        :param s3_output_encryption_key: the KMS key of the jobs' output in S3.
        :param processing_timeout: how long a deploy waits for processing (up to 12 hours).
        :param training_timeout: how long a deploy waits for training (up to 12 hours; over an hour,
            a WaitCondition waits).
        :param job_removal_policy: RETAIN leaves running jobs running when they are removed.
        :param endpoint_removal_policy: RETAIN keeps the endpoint when the stack goes.
        :param handler_encryption_key: the shared handler's KMS key.
        """
        check_kinds(neptune_iam_role=neptune_iam_role, sagemaker_iam_role=sagemaker_iam_role,
                    security_groups=security_groups, volume_encryption_key=volume_encryption_key,
                    s3_output_encryption_key=s3_output_encryption_key, handler_encryption_key=handler_encryption_key,
                    processing_timeout=processing_timeout, training_timeout=training_timeout,
                    max_wait_time=max_wait_time)
        _check_version("data_version", data_version)
        if incremental_data is not None:
            _check_version("incremental_data.data_version", incremental_data.data_version)
        for prop, timeout in (("processing_timeout", processing_timeout), ("training_timeout", training_timeout)):
            try:
                _check_job_timeout(timeout)
            except ValueError as error:
                raise ValueError(f"{prop}{str(error).removeprefix('timeout')}") from None
        output = output_s3_location.rstrip("/")
        if not cdk.Token.is_unresolved(output_s3_location):
            if not output.startswith("s3://") or len(output) <= len("s3://"):
                raise ValueError(f"output_s3_location: {output_s3_location!r} is not an S3 URI. Give a prefix such as "
                                 "s3://my-bucket/neptune-ml/")
            source = input_data_s3_location.rstrip("/")
            if not cdk.Token.is_unresolved(source) and f"{output}/".startswith(f"{source}/"):
                raise ValueError(f"output_s3_location: {output}/ is inside input_data_s3_location {source}/, so a "
                                 "retrain's processing would read the earlier jobs' output as graph data. Give an "
                                 "output prefix outside the export")
            for other in scope.node.root.node.find_all():
                if isinstance(other, NeptuneMlWorkflow) and other._output == output:
                    raise ValueError(f"output_s3_location: the workflow {other.node.path} writes under {output}/ too; "
                                     "two workflows there overwrite each other's processed data and models in S3. "
                                     "Give each workflow its own output_s3_location")
        super().__init__(scope, id)
        self._output: str = output
        shared = {
            "cluster": cluster, "neptune_iam_role": neptune_iam_role, "sagemaker_iam_role": sagemaker_iam_role,
            "vpc_subnets": vpc_subnets, "security_groups": security_groups,
            "volume_encryption_key": volume_encryption_key, "s3_output_encryption_key": s3_output_encryption_key,
            "removal_policy": job_removal_policy, "handler_encryption_key": handler_encryption_key,
        }
        with _in_workflow_terms(run_key="data_version", processed_data_s3_location="output_s3_location"):
            self.data_processing_job = NeptuneMlDataProcessingJob(
                self, "DataProcessing", input_data_s3_location=input_data_s3_location,
                processed_data_s3_location=f"{output}/{data_version}/processed/", run_key=data_version,
                model_type=model_type, processing_instance_type=processing_instance_type, timeout=processing_timeout,
                **shared,  # type: ignore[arg-type]
            )
        """The data processing job of the data at input_data_s3_location."""
        with _in_workflow_terms(train_model_s3_location="output_s3_location",
                                previous_training_job="warm_start_from"):
            self.training_job = NeptuneMlModelTrainingJob(
                self, "Training", data_processing_job=self.data_processing_job,
                train_model_s3_location=f"{output}/{data_version}/training/", model_name=model_name,
                training_instance_type=training_instance_type, previous_training_job=warm_start_from,
                max_hpo_number_of_training_jobs=max_hpo_number_of_training_jobs,
                max_hpo_parallel_training_jobs=max_hpo_parallel_training_jobs,
                enable_managed_spot_training=enable_managed_spot_training, max_wait_time=max_wait_time,
                timeout=training_timeout, **shared,  # type: ignore[arg-type]
            )
        """The model training job."""
        self.incremental_processing_job: NeptuneMlDataProcessingJob | None = None
        """With incremental_data: the processing of the newer data."""
        self.transform_job: NeptuneMlModelTransformJob | None = None
        """With incremental_data: the model transform the endpoint serves."""
        if incremental_data is not None:
            prefix = f"{output}/incremental/{incremental_data.data_version}"
            with _in_workflow_terms(input_data_s3_location="incremental_data.input_data_s3_location",
                                    processed_data_s3_location="output_s3_location",
                                    run_key="incremental_data.data_version",
                                    model_transform_output_s3_location="output_s3_location"):
                self.incremental_processing_job = NeptuneMlDataProcessingJob(
                    self, "IncrementalProcessing", input_data_s3_location=incremental_data.input_data_s3_location,
                    processed_data_s3_location=f"{prefix}/processed/", run_key=incremental_data.data_version,
                    previous_data_processing_job=self.data_processing_job, model_type=model_type,
                    processing_instance_type=processing_instance_type, timeout=processing_timeout,
                    **shared,  # type: ignore[arg-type]
                )
                self.transform_job = NeptuneMlModelTransformJob(
                    self, "Transform", data_processing_job=self.incremental_processing_job,
                    training_job=self.training_job, model_transform_output_s3_location=f"{prefix}/transform/",
                    timeout=processing_timeout, **shared,  # type: ignore[arg-type]
                )
        with _in_workflow_terms(instance_type="endpoint_instance_type", instance_count="endpoint_instance_count",
                                removal_policy="endpoint_removal_policy"):
            self.endpoint = NeptuneMlEndpoint(
                self, "Endpoint", cluster=cluster, endpoint_id=endpoint_id,
                training_job=self.training_job if self.transform_job is None else None,
                transform_job=self.transform_job, instance_type=endpoint_instance_type,
                instance_count=endpoint_instance_count, neptune_iam_role=neptune_iam_role,
                volume_encryption_key=volume_encryption_key, removal_policy=endpoint_removal_policy,
                handler_encryption_key=handler_encryption_key,
            )
        """The endpoint serving the trained (or transformed) model."""


@contextlib.contextmanager
def _in_workflow_terms(**renamed: str) -> Iterator[None]:
    """A PropertyError of an inner construct, naming the workflow's prop that set the value instead of the
    inner construct's (`instance_count` of the endpoint is the workflow's `endpoint_instance_count`)."""
    try:
        yield
    except PropertyError as error:
        prop, _, detail = error.property_name.partition(" ")
        raise PropertyError(f"{renamed.get(prop, prop)} {detail}".strip(), error.problem, error.fix) from None


def _check_version(prop: str, value: str) -> None:
    if cdk.Token.is_unresolved(value):
        raise ValueError(f"{prop}: must be known at synth time (it names S3 prefixes and the jobs' RunKey). "
                         "Give a literal such as '2026-11-30', for example from context")
    if not _VERSION.match(value):
        raise ValueError(f"{prop}: {value!r} is not a version name. Use 1-63 letters, digits, '.', '_' and '-', "
                         "starting with a letter or digit, such as '2026-11-30'")
