"""NeptuneMlEndpoint: the custom resource it declares, its checks, attributes, grants and metrics."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Capture, Match, Template
from constructs_support import (
    CLUSTER_ADDRESS,
    as_list,
    joined_text,
    literal_cluster,
    new_stack,
    policy_statements,
    resources,
)

from neptune_ml_endpoint import INeptuneMlEndpoint, ModelName, NeptuneMlEndpoint
from neptune_ml_endpoint.schema import (
    ATTRIBUTES,
    CLOUDFORMATION_KEYS,
    MODEL_NAMES,
    PROPERTY_NAMES,
    RESOURCE_TYPE,
    parse_properties,
)

LONG_ID = "AnEndpointWhoseConstructIdIsFarLongerThanCrhelperRuleNamesAllowForSure"


class Declared:
    """A stack with several endpoints and the constructs that use them."""

    def __init__(self) -> None:
        self.stack = new_stack()
        cluster = literal_cluster(self.stack)
        self.role = iam.Role(
            self.stack, "NeptuneMlRole", assumed_by=iam.ServicePrincipal("rds.amazonaws.com")
        )
        self.key = kms.Key(self.stack, "VolumeKey")
        self.full = NeptuneMlEndpoint(
            self.stack,
            "Full",
            cluster=cluster,
            ml_model_training_job_id="training-1",
            model_name=ModelName.RGCN,  # type: ignore[attr-defined]  # members come from schema
            instance_type="ml.m5.2xlarge",
            instance_count=2,
            neptune_iam_role=self.role,
            volume_encryption_key=self.key,
            endpoint_id="my-endpoint",
        )
        self.retained = NeptuneMlEndpoint(
            self.stack,
            "Retained",
            cluster=cluster,
            ml_model_transform_job_id="transform-1",
            removal_policy=cdk.RemovalPolicy.RETAIN,
            service_timeout=cdk.Duration.minutes(5),
        )
        self.long = NeptuneMlEndpoint(self.stack, LONG_ID, cluster=cluster, ml_model_training_job_id="t")
        self.invoker = iam.Role(
            self.stack, "Invoker", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
        )
        self.full.grant_invoke(self.invoker)
        self.alarm_metric = self.full.metric_invocation5xx_errors(period=cdk.Duration.minutes(1))
        cloudwatch.Alarm(self.stack, "Errors", metric=self.alarm_metric, threshold=1, evaluation_periods=1)
        for attribute, value in {
            "Arn": self.full.endpoint_arn,
            "Id": self.full.endpoint_id,
            "Created": self.full.creation_time_in_millis,
            "SageMakerName": self.full.sagemaker_endpoint_name,
            "SageMakerArn": self.full.sagemaker_endpoint_arn,
        }.items():
            cdk.CfnOutput(self.stack, attribute, value=value)
        self.template = Template.from_stack(self.stack)

    def logical_id(self, endpoint: NeptuneMlEndpoint) -> str:
        return str(self.stack.resolve(endpoint.custom_resource.node.default_child.logical_id))  # type: ignore[union-attr]

    def resource(self, endpoint: NeptuneMlEndpoint) -> dict[str, Any]:
        found: dict[str, Any] = resources(self.template, RESOURCE_TYPE)[self.logical_id(endpoint)]
        return found


@pytest.fixture(scope="module")
def declared() -> Declared:
    return Declared()


def test_properties_are_the_schema_names_and_nothing_else(declared: Declared) -> None:
    for endpoint in resources(declared.template, RESOURCE_TYPE).values():
        assert set(endpoint["Properties"]) <= set(PROPERTY_NAMES) | CLOUDFORMATION_KEYS
    declared.template.has_resource_properties(
        RESOURCE_TYPE,
        Match.object_equals(
            {
                "ServiceToken": Match.any_value(),
                "ServiceTimeout": "2400",
                "NeptuneEndpoint": f"https://{CLUSTER_ADDRESS}:8182",
                "Id": "my-endpoint",
                "MlModelTrainingJobId": "training-1",
                "ModelName": "rgcn",
                "InstanceType": "ml.m5.2xlarge",
                "InstanceCount": 2,
                "NeptuneIamRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("NeptuneMlRole"), "Arn"]},
                "VolumeEncryptionKMSKey": {"Fn::GetAtt": [Match.string_like_regexp("VolumeKey"), "Arn"]},
            }
        ),
    )


def test_properties_as_cloudformation_sends_them_pass_the_handler_parser(declared: Declared) -> None:
    properties = declared.resource(declared.retained)["Properties"]
    as_sent = {key: str(value) for key, value in properties.items() if isinstance(value, (str, int))}
    spec = parse_properties(as_sent)
    assert spec.neptune_endpoint == f"https://{CLUSTER_ADDRESS}:8182"
    assert spec.api_fields == {"mlModelTransformJobId": "transform-1"}


def test_service_timeout_is_set(declared: Declared) -> None:
    assert declared.resource(declared.retained)["Properties"]["ServiceTimeout"] == "300"


def test_retain_policy_keeps_the_endpoint(declared: Declared) -> None:
    retained = declared.resource(declared.retained)
    assert (retained["DeletionPolicy"], retained["UpdateReplacePolicy"]) == ("Retain", "Retain")
    full = declared.resource(declared.full)
    assert (full["DeletionPolicy"], full["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_apply_removal_policy_reaches_the_custom_resource() -> None:
    stack = new_stack()
    endpoint = NeptuneMlEndpoint(stack, "E", cluster=literal_cluster(stack), ml_model_training_job_id="t")
    endpoint.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    Template.from_stack(stack).has_resource(RESOURCE_TYPE, {"DeletionPolicy": "Retain"})


def test_logical_ids_leave_room_for_crhelper_rule_names(declared: Declared) -> None:
    for logical_id in resources(declared.template, RESOURCE_TYPE):
        assert len(logical_id) + 8 <= 64, logical_id
    long_id = declared.logical_id(declared.long)
    assert len(long_id) == 56
    assert long_id.startswith(LONG_ID[:40])
    short_id = declared.logical_id(declared.full)
    assert short_id.startswith("Full") and len(short_id) == len("Full") + 8  # left as CDK made it


def test_shortened_logical_id_is_stable_and_used_for_the_polling_rule(declared: Declared) -> None:
    again = Declared()
    assert again.logical_id(again.long) == declared.logical_id(declared.long)
    rule_arns = [
        joined_text(resource)
        for statement in policy_statements(declared.template)
        if "events:PutRule" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    assert any(arn.endswith(f":rule/{declared.logical_id(declared.long)}*") for arn in rule_arns)


def test_attributes_are_the_schema_attributes(declared: Declared) -> None:
    endpoint_id = declared.logical_id(declared.full)
    outputs = declared.template.find_outputs("*")
    got = {name: output["Value"] for name, output in outputs.items()}
    assert got == {
        "Arn": {"Fn::GetAtt": [endpoint_id, "Arn"]},
        "Id": {"Fn::GetAtt": [endpoint_id, "Id"]},
        "Created": {"Fn::GetAtt": [endpoint_id, "CreationTimeInMillis"]},
        "SageMakerName": {"Fn::GetAtt": [endpoint_id, "SageMakerEndpointName"]},
        "SageMakerArn": {"Fn::GetAtt": [endpoint_id, "SageMakerEndpointArn"]},
    }
    assert {value["Fn::GetAtt"][1] for value in got.values()} == set(ATTRIBUTES)


def test_neptune_ml_role_may_use_the_volume_key_before_the_endpoint_is_created(declared: Declared) -> None:
    role_id = str(declared.stack.resolve(declared.role.role_name)["Ref"])
    key_id = str(declared.stack.resolve(declared.key.key_arn)["Fn::GetAtt"][0])
    policies = {
        policy_id: policy
        for policy_id, policy in resources(declared.template, "AWS::IAM::Policy").items()
        if policy["Properties"]["Roles"] == [{"Ref": role_id}]
    }
    assert len(policies) == 1
    ((policy_id, policy),) = policies.items()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements == [
        {
            "Action": ["kms:CreateGrant", "kms:DescribeKey"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
        }
    ]
    assert policy_id in declared.resource(declared.full)["DependsOn"]


def test_grant_invoke_allows_invoking_the_sagemaker_endpoint(declared: Declared) -> None:
    declared.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("Invoker")}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "sagemaker:InvokeEndpoint",
                        "Effect": "Allow",
                        "Resource": {
                            "Fn::GetAtt": [declared.logical_id(declared.full), "SageMakerEndpointArn"]
                        },
                    }
                ]
            },
        },
    )


def test_metrics_name_the_sagemaker_endpoint_and_variant(declared: Declared) -> None:
    dimensions = Capture()
    declared.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SageMaker",
            "MetricName": "Invocation5XXErrors",
            "Statistic": "Sum",
            "Period": 60,
            "Dimensions": dimensions,
        },
    )
    endpoint_id = declared.logical_id(declared.full)
    assert sorted(dimensions.as_array(), key=lambda d: d["Name"]) == [
        {"Name": "EndpointName", "Value": {"Fn::GetAtt": [endpoint_id, "SageMakerEndpointName"]}},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]


@pytest.mark.parametrize(
    ("method", "metric_name", "statistic"),
    [
        ("metric_invocations", "Invocations", "Sum"),
        ("metric_model_latency", "ModelLatency", "Average"),
        ("metric_invocation4xx_errors", "Invocation4XXErrors", "Sum"),
        ("metric_invocation5xx_errors", "Invocation5XXErrors", "Sum"),
    ],
)
def test_named_metrics(declared: Declared, method: str, metric_name: str, statistic: str) -> None:
    metric = getattr(declared.full, method)()
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        "AWS/SageMaker",
        metric_name,
        statistic,
    )
    assert getattr(declared.full, method)(statistic="Maximum").statistic == "Maximum"


def test_imported_endpoint_grants_and_measures_by_name() -> None:
    stack = new_stack()
    imported: INeptuneMlEndpoint = NeptuneMlEndpoint.from_endpoint_attributes(
        stack, "Imported", endpoint_id="My-Endpoint"
    )
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    imported.grant_invoke(role)
    assert imported.sagemaker_endpoint_name == "My-Endpoint"
    metric = imported.metric("Invocations")
    assert stack.resolve(metric.dimensions) == {"EndpointName": "My-Endpoint", "VariantName": "AllTraffic"}
    (statement,) = policy_statements(Template.from_stack(stack))
    assert statement["Action"] == "sagemaker:InvokeEndpoint"
    assert joined_text(statement["Resource"]) == (
        "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/my-endpoint"
    )


def test_imported_endpoint_with_given_names() -> None:
    stack = new_stack()
    arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/other"
    imported = NeptuneMlEndpoint.from_endpoint_attributes(
        stack, "Imported", endpoint_id="neptune-id", sagemaker_endpoint_name="other", endpoint_arn=arn
    )
    assert (imported.endpoint_id, imported.sagemaker_endpoint_name) == ("neptune-id", "other")
    assert imported.endpoint_arn == imported.sagemaker_endpoint_arn == arn


def test_an_imported_mixed_case_arn_is_granted_as_iam_evaluates_it() -> None:
    stack = new_stack()
    imported = NeptuneMlEndpoint.from_endpoint_attributes(
        stack, "Imported", endpoint_id="Recs-AbC",
        endpoint_arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/Recs-AbC",
    )
    imported.grant_invoke(iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
    (statement,) = policy_statements(Template.from_stack(stack))
    assert statement["Resource"] == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/recs-abc"


def test_model_name_enum_is_the_schema_model_names() -> None:
    assert [member.value for member in ModelName] == list(MODEL_NAMES)
    assert ModelName("kge") is ModelName.KGE  # type: ignore[attr-defined]


GOOD: dict[str, Any] = {"ml_model_training_job_id": "training-1"}


@pytest.mark.parametrize(
    ("props", "named"),
    [
        ({}, r"ml_model_training_job_id \(MlModelTrainingJobId\)"),
        ({**GOOD, "ml_model_transform_job_id": "transform-1"}, r"ml_model_transform_job_id \(MlModelTransformJobId\)"),
        ({**GOOD, "instance_count": 0}, r"instance_count \(InstanceCount\)"),
        ({**GOOD, "instance_count": "2"}, r"instance_count \(InstanceCount\)"),
        ({**GOOD, "instance_count": True}, r"instance_count \(InstanceCount\)"),
        ({**GOOD, "model_name": "gcn"}, r"model_name \(ModelName\)"),
        ({**GOOD, "endpoint_id": "../x"}, r"endpoint_id \(Id\)"),
        ({**GOOD, "instance_type": "m5.large"}, r"instance_type \(InstanceType\)"),
        ({"ml_model_training_job_id": "bad id"}, r"ml_model_training_job_id \(MlModelTrainingJobId\)"),
        ({**GOOD, "service_timeout": cdk.Duration.hours(2)}, "service_timeout"),
        ({**GOOD, "service_timeout": cdk.Duration.millis(500)}, "service_timeout"),
    ],
)
def test_bad_props_fail_at_synth_time_naming_the_property(props: dict[str, Any], named: str) -> None:
    stack = new_stack()
    cluster = literal_cluster(stack)
    children_before = len(stack.node.children)
    with pytest.raises(ValueError, match=f"^{named}: "):
        NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, **props)
    assert len(stack.node.children) == children_before


def test_imported_role_with_a_malformed_arn_is_rejected() -> None:
    stack = new_stack()
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:user/not-a-role")
    with pytest.raises(ValueError, match=r"^neptune_iam_role \(NeptuneIamRoleArn\): "):
        NeptuneMlEndpoint(
            stack, "E", cluster=literal_cluster(stack), ml_model_training_job_id="t", neptune_iam_role=role
        )


def test_literal_cluster_address_is_checked() -> None:
    with pytest.raises(ValueError, match=r"^cluster_endpoint_address: 'bad host/x' is not a host name"):
        literal_cluster(new_stack(), address="bad host/x")


def test_tokens_are_passed_through_unchecked() -> None:
    stack = new_stack()
    text = {
        name: cdk.CfnParameter(stack, name).value_as_string
        for name in ("JobId", "EndpointId", "Model", "InstanceType")
    }
    count = cdk.CfnParameter(stack, "Count", type="Number").value_as_number
    NeptuneMlEndpoint(
        stack,
        "E",
        cluster=literal_cluster(stack),
        ml_model_training_job_id=text["JobId"],
        endpoint_id=text["EndpointId"],
        model_name=text["Model"],
        instance_type=text["InstanceType"],
        instance_count=count,  # type: ignore[arg-type]
    )
    Template.from_stack(stack).has_resource_properties(
        RESOURCE_TYPE,
        {
            "MlModelTrainingJobId": {"Ref": "JobId"},
            "Id": {"Ref": "EndpointId"},
            "ModelName": {"Ref": "Model"},
            "InstanceType": {"Ref": "InstanceType"},
            "InstanceCount": {"Ref": "Count"},
        },
    )


def _endpoint(stack: cdk.Stack, construct_id: str, endpoint_id: str = "shared-id") -> NeptuneMlEndpoint:
    return NeptuneMlEndpoint(stack, construct_id, cluster=literal_cluster(stack, prefix=construct_id),
                             ml_model_training_job_id="job-1", endpoint_id=endpoint_id)


def test_an_explicit_id_another_endpoint_of_the_stack_has_is_refused_at_synth() -> None:
    stack = new_stack()
    _endpoint(stack, "First")

    with pytest.raises(ValueError, match=r"^endpoint_id \(Id\): 'shared-id' is also the id of Stack/First, in "
                                         r"the same account and region\. Give each its own id"):
        _endpoint(stack, "Second")


@pytest.mark.parametrize(("second_stack", "refused"), [
    ({"stack_name": "Other"}, True),  # another stack of the same account and region
    ({"stack_name": "Shared"}, False),  # another version of the same stack
    ({"stack_name": "Other", "env": cdk.Environment(region="eu-west-1")}, False),  # another region
])
def test_an_explicit_id_is_the_apps_once_per_account_and_region(second_stack: dict[str, Any], refused: bool) -> None:
    app = cdk.App()
    _endpoint(cdk.Stack(app, "One", stack_name="Shared"), "Endpoint")
    other = cdk.Stack(app, "Two", **second_stack)

    if refused:
        with pytest.raises(ValueError, match="'shared-id' is also the id of One/Endpoint"):
            _endpoint(other, "Endpoint")
    else:
        _endpoint(other, "Endpoint")
        _endpoint(other, "Own", endpoint_id="own-id")


@pytest.mark.parametrize(("props", "message"), [
    ({"neptune_iam_role": "arn:aws:iam::123456789012:role/R"},
     "neptune_iam_role: give an iam.IRole, such as iam.Role.from_role_arn(self, 'Role', arn), not 'arn:aws:iam"),
    ({"volume_encryption_key": "alias/key"}, "volume_encryption_key: give a kms.IKey, such as kms.Key.from_key_arn("),
    ({"service_timeout": 600}, "service_timeout: give a Duration, such as Duration.minutes(40), not 600"),
    ({"service_timeout": cdk.Duration.millis(1500)}, "service_timeout: 1 second 500 millis is not a whole number"),
    ({"sagemaker_variant_name": ""}, "sagemaker_variant_name: '' is not a SageMaker variant name"),
])
def test_a_prop_of_the_wrong_kind_is_refused_naming_it_and_how_to_make_one(props: dict[str, Any],
                                                                            message: str) -> None:
    stack = new_stack()

    with pytest.raises((TypeError, ValueError), match="^" + re.escape(message)):
        NeptuneMlEndpoint(stack, "Endpoint", cluster=literal_cluster(stack), ml_model_training_job_id="job-1",
                          **props)


def test_an_imported_endpoint_with_a_bad_id_is_refused_naming_endpoint_id() -> None:
    with pytest.raises(ValueError, match=r"^endpoint_id: 'bad id!' is not a valid endpoint id"):
        NeptuneMlEndpoint.from_endpoint_attributes(new_stack(), "Imported", endpoint_id="bad id!")
