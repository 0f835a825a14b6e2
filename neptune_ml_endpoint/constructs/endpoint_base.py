"""What every Neptune ML endpoint offers, declared here or imported: ids, grants and metrics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

DEFAULT_VARIANT_NAME = "AllTraffic"
"""The production variant Neptune ML gives its SageMaker endpoints."""

METRICS_NAMESPACE = "AWS/SageMaker"
_VARIANT_NAME = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")


def check_variant_name(name: str) -> None:
    """A SageMaker production variant's name, when known at synth time."""
    if not cdk.Token.is_unresolved(name) and not _VARIANT_NAME.match(name):
        raise ValueError(f"sagemaker_variant_name: {name!r} is not a SageMaker variant name. Use 1-63 letters, "
                         f"digits and hyphens, such as {DEFAULT_VARIANT_NAME} (Neptune ML's)")


class INeptuneMlEndpoint(cdk.IResource, Protocol):
    """A Neptune ML inference endpoint (a SageMaker endpoint serving a Neptune ML model)."""

    @property
    def endpoint_id(self) -> str:
        """The Neptune ML endpoint id."""
        ...

    @property
    def endpoint_arn(self) -> str:
        """The endpoint's ARN as Neptune reports it."""
        ...

    @property
    def sagemaker_endpoint_name(self) -> str:
        """The name of the SageMaker endpoint behind it."""
        ...

    @property
    def sagemaker_endpoint_arn(self) -> str:
        """The ARN of the SageMaker endpoint behind it."""
        ...

    @property
    def sagemaker_variant_name(self) -> str:
        """The SageMaker production variant that serves it."""
        ...

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow grantee to call sagemaker:InvokeEndpoint on it."""
        ...

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """A SageMaker endpoint metric of its variant."""
        ...


@dataclass(frozen=True)
class NeptuneMlEndpointAttributes:
    """What identifies an endpoint; the keyword arguments of ``from_endpoint_attributes``."""

    endpoint_id: str
    sagemaker_endpoint_name: str | None = None
    endpoint_arn: str | None = None
    sagemaker_variant_name: str = DEFAULT_VARIANT_NAME


class NeptuneMlEndpointBase(cdk.Resource):
    """Grants and metrics shared by declared and imported endpoints."""

    @property
    def endpoint_id(self) -> str:
        raise NotImplementedError

    @property
    def endpoint_arn(self) -> str:
        raise NotImplementedError

    @property
    def sagemaker_endpoint_name(self) -> str:
        raise NotImplementedError

    @property
    def sagemaker_endpoint_arn(self) -> str:
        raise NotImplementedError

    @property
    def sagemaker_variant_name(self) -> str:
        raise NotImplementedError

    @property
    def attributes(self) -> NeptuneMlEndpointAttributes:
        """This endpoint's attributes, to import it elsewhere with ``from_endpoint_attributes``."""
        return NeptuneMlEndpointAttributes(
            endpoint_id=self.endpoint_id,
            sagemaker_endpoint_name=self.sagemaker_endpoint_name,
            endpoint_arn=self.sagemaker_endpoint_arn,
            sagemaker_variant_name=self.sagemaker_variant_name,
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow grantee to call sagemaker:InvokeEndpoint on the SageMaker endpoint."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint"],
            resource_arns=[self.sagemaker_endpoint_arn],
        )

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """A metric in AWS/SageMaker for this endpoint's variant; props are MetricOptions."""
        dimensions = {
            "EndpointName": self.sagemaker_endpoint_name,
            "VariantName": self.sagemaker_variant_name,
            **props.pop("dimensions_map", {}),
        }
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE, metric_name=metric_name, dimensions_map=dimensions, **props
        )

    def metric_invocations(self, **props: Any) -> cloudwatch.Metric:
        """Requests sent to the endpoint (sum)."""
        return self.metric("Invocations", **{"statistic": cloudwatch.Stats.SUM, **props})

    def metric_invocations_per_instance(self, **props: Any) -> cloudwatch.Metric:
        """Requests per instance behind the endpoint (sum)."""
        return self.metric("InvocationsPerInstance", **{"statistic": cloudwatch.Stats.SUM, **props})

    def metric_model_latency(self, **props: Any) -> cloudwatch.Metric:
        """Time the model takes to answer, in microseconds (average)."""
        return self.metric("ModelLatency", **{"statistic": cloudwatch.Stats.AVERAGE, **props})

    def metric_overhead_latency(self, **props: Any) -> cloudwatch.Metric:
        """Time SageMaker adds to each request, in microseconds (average)."""
        return self.metric("OverheadLatency", **{"statistic": cloudwatch.Stats.AVERAGE, **props})

    def metric_invocation4xx_errors(self, **props: Any) -> cloudwatch.Metric:
        """Requests that failed with a 4xx status (sum)."""
        return self.metric("Invocation4XXErrors", **{"statistic": cloudwatch.Stats.SUM, **props})

    def metric_invocation5xx_errors(self, **props: Any) -> cloudwatch.Metric:
        """Requests that failed with a 5xx status (sum)."""
        return self.metric("Invocation5XXErrors", **{"statistic": cloudwatch.Stats.SUM, **props})


class ImportedNeptuneMlEndpoint(NeptuneMlEndpointBase):
    """An endpoint created elsewhere, known by its attributes."""

    def __init__(self, scope: Construct, id: str, attributes: NeptuneMlEndpointAttributes) -> None:
        super().__init__(scope, id)
        self._endpoint_id = attributes.endpoint_id
        self._sagemaker_endpoint_name = attributes.sagemaker_endpoint_name or attributes.endpoint_id
        self._sagemaker_endpoint_arn = (
            lowercase_endpoint_name(attributes.endpoint_arn)
            if attributes.endpoint_arn
            else sagemaker_endpoint_arn(self, self._sagemaker_endpoint_name)
        )
        self._sagemaker_variant_name = attributes.sagemaker_variant_name

    @property
    def endpoint_id(self) -> str:
        return self._endpoint_id

    @property
    def endpoint_arn(self) -> str:
        return self._sagemaker_endpoint_arn

    @property
    def sagemaker_endpoint_name(self) -> str:
        return self._sagemaker_endpoint_name

    @property
    def sagemaker_endpoint_arn(self) -> str:
        return self._sagemaker_endpoint_arn

    @property
    def sagemaker_variant_name(self) -> str:
        return self._sagemaker_variant_name


def lowercase_endpoint_name(arn: str) -> str:
    """A SageMaker endpoint ARN as IAM evaluates it: SageMaker lowercases the name (tokens pass as they are)."""
    if cdk.Token.is_unresolved(arn) or ":endpoint/" not in arn:
        return arn
    prefix, name = arn.split(":endpoint/", 1)
    return f"{prefix}:endpoint/{name.lower()}"


def sagemaker_endpoint_arn(scope: Construct, endpoint_name: str) -> str:
    """The ARN of a SageMaker endpoint in scope's stack (SageMaker lowercases names in ARNs)."""
    name = endpoint_name if cdk.Token.is_unresolved(endpoint_name) else endpoint_name.lower()
    return cdk.Stack.of(scope).format_arn(
        service="sagemaker",
        resource="endpoint",
        resource_name=name,
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )
