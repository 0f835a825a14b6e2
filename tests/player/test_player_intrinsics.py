"""Template values resolved as CloudFormation resolves them, with simulated values for other resources."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neptune_ml_endpoint.local.cloudformation.engine.intrinsics import (
    ResolveError,
    StackIdentity,
    TemplateResolver,
    cloudformation_strings,
    exported,
    stack_output,
)
from neptune_ml_endpoint.local.cloudformation.engine.stack_plan import (
    export_conflicts,
    simulated_attribute,
    simulated_ref,
)

IDENTITY = StackIdentity("Demo", "arn:aws:cloudformation:us-east-1:123456789012:stack/Demo/1")
TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "test"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"},
        "NoDefault": {"Type": "String"},
    },
    "Conditions": {
        "IsTest": {"Fn::Equals": [{"Ref": "Env"}, "test"]},
        "IsProd": {"Fn::Not": [{"Condition": "IsTest"}]},
    },
    "Mappings": {"Sizes": {"test": {"Count": 1}}},
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role"},
        "Cluster": {"Type": "AWS::Neptune::DBCluster"},
        "Endpoint": {"Type": "Custom::NeptuneMlEndpoint"},
    },
}


def resolver(**parameters: str) -> TemplateResolver:
    resources = TEMPLATE["Resources"]

    def get_att(logical_id: str, attribute: str) -> Any:
        if logical_id == "Endpoint":
            return {"Id": "endpoint-1"}[attribute]
        return simulated_attribute(IDENTITY, logical_id, resources[logical_id]["Type"], attribute)

    def ref(logical_id: str) -> Any:
        return "endpoint-1" if logical_id == "Endpoint" else simulated_ref(
            IDENTITY, logical_id, resources[logical_id]["Type"])

    return TemplateResolver(TEMPLATE, IDENTITY, ref, get_att, parameters)


@pytest.mark.parametrize(("value", "expected"), [
    ({"Ref": "AWS::Region"}, "us-east-1"),
    ({"Ref": "Env"}, "test"),
    ({"Ref": "Zones"}, ["a", "b"]),
    ({"Fn::GetAtt": ["Role", "Arn"]}, "arn:aws:iam::123456789012:role/Role"),
    ({"Fn::GetAtt": "Endpoint.Id"}, "endpoint-1"),
    ({"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, {"Ref": "Endpoint"}, 3]]}, "Demo-endpoint-1-3"),
    ({"Fn::Sub": "${AWS::AccountId}/${Endpoint.Id}/${!Literal}"}, "123456789012/endpoint-1/${Literal}"),
    ({"Fn::Sub": ["${Name}:${Env}", {"Name": {"Ref": "Endpoint"}}]}, "endpoint-1:test"),
    ({"Fn::Select": ["1", {"Fn::Split": [",", "x,y,z"]}]}, "y"),
    ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
    ({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Count"]}, 1),
    ({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, "us-east-1a"),
    ({"A": {"Fn::If": ["IsTest", {"Ref": "AWS::NoValue"}, 1]}, "B": [1, {"Ref": "AWS::NoValue"}]}, {"B": [1]}),
])
def test_intrinsic_functions_resolve(value: Any, expected: Any) -> None:
    assert resolver().resolve(value) == expected


def test_the_simulated_cluster_has_a_stable_address_and_resource_id() -> None:
    endpoint = resolver().resolve({"Fn::GetAtt": ["Cluster", "Endpoint"]})

    assert endpoint == resolver().resolve({"Fn::GetAtt": ["Cluster", "Endpoint"]})
    assert endpoint.endswith(".us-east-1.neptune.amazonaws.com")
    assert resolver().resolve({"Fn::GetAtt": ["Cluster", "Port"]}) == "8182"
    assert resolver().resolve({"Fn::GetAtt": ["Cluster", "ClusterResourceId"]}).startswith("cluster-")


def test_an_import_resolves_to_the_value_another_stack_exports() -> None:
    exports = {"Shared:JobId": "processing-1"}
    imports = TemplateResolver(TEMPLATE, IDENTITY, str, lambda *_: "", {}, lambda name: exported(exports, name))

    assert imports.resolve({"Fn::Join": ["/", [{"Fn::ImportValue": {"Fn::Sub": "Shared:JobId"}}, "x"]]}) == (
        "processing-1/x")


def test_a_stack_output_is_read_from_the_deployed_stack_by_name() -> None:
    outputs = {"Data": {"JobId": "processing-2"}}
    reads = TemplateResolver(TEMPLATE, IDENTITY, str, lambda *_: "", {}, get_stack_output=lambda argument:
                             stack_output(outputs, argument))
    reference = {"Fn::GetStackOutput": {"StackName": "Data", "Region": {"Ref": "AWS::Region"}, "OutputName": "JobId"}}

    assert reads.resolve(reference) == "processing-2"
    with pytest.raises(ResolveError, match="^Fn::GetStackOutput: no deployed stack Data has an output Other. Deploy"):
        reads.resolve({"Fn::GetStackOutput": {"StackName": "Data", "OutputName": "Other"}})


def test_an_export_another_stack_imports_may_neither_change_nor_go() -> None:
    old = {"A:Job": "job-1", "A:Bucket": "s3://b", "A:Unused": "1"}
    importers = {"A:Job": ["Serving"], "A:Bucket": ["Serving", "Reports"]}

    assert export_conflicts(old, {**old, "A:Unused": "2", "A:New": "x"}, importers) == ""
    assert export_conflicts(old, {**old, "A:Job": "job-2"}, importers) == (
        "Export A:Job cannot be updated as it is in use by Serving")
    assert export_conflicts(old, {"A:Job": "job-1"}, importers) == (
        "Export A:Bucket cannot be deleted as it is in use by Serving, Reports")


def test_given_parameter_values_win_over_defaults() -> None:
    assert resolver(Env="prod").resolve({"Fn::If": ["IsProd", "big", "small"]}) == "big"


@pytest.mark.parametrize(("value", "message"), [
    ({"Ref": "NoDefault"}, "--parameters NoDefault="),
    ({"Ref": "Missing"}, "no parameter or resource"),
    ({"Fn::GetAtt": ["Missing", "Arn"]}, "no resource 'Missing'"),
    ({"Fn::ImportValue": "Shared"}, "No export named Shared found"),
    ({"Fn::Select": [5, ["a"]]}, "outside"),
])
def test_what_cannot_be_resolved_says_why(value: Any, message: str) -> None:
    with pytest.raises(ResolveError, match=message.replace("(", r"\(")):
        resolver().resolve(value)


scalars = st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=False), st.text())
values = st.recursive(scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20)


@given(values)
def test_custom_resources_receive_strings_only(value: Any) -> None:
    def leaves(item: Any) -> list[Any]:
        if isinstance(item, dict):
            return [leaf for child in item.values() for leaf in leaves(child)]
        if isinstance(item, list):
            return [leaf for child in item for leaf in leaves(child)]
        return [item]

    assert all(isinstance(leaf, str) for leaf in leaves(cloudformation_strings(value)))


def test_numbers_and_booleans_become_cloudformation_strings() -> None:
    assert cloudformation_strings({"Count": 2, "Update": True, "Off": False, "Ratio": 0.5}) == {
        "Count": "2", "Update": "true", "Off": "false", "Ratio": "0.5"}
