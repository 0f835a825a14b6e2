"""ARNs and CloudWatch log links of the SageMaker resources behind endpoints and jobs."""

from __future__ import annotations


def sagemaker_arn(region: str, account: str, resource: str, name: str) -> str:
    """A SageMaker ARN (SageMaker lowercases names in ARNs)."""
    return f"arn:{_partition(region)}:sagemaker:{region}:{account}:{resource}/{name.lower()}"


def log_url(region: str, group: str, stream_prefix: str | None = None) -> str:
    """The CloudWatch console link to a SageMaker log group (its streams for one resource)."""
    prefix = f";prefix={stream_prefix}" if stream_prefix else ""
    return f"https://console.aws.amazon.com/cloudwatch/home?region={region}#logStream:group=/aws/sagemaker/{group}{prefix}"


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
