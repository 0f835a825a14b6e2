"""NeptuneCluster: the Data API address, the IAM resource and the provider key."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_neptune as neptune
from aws_cdk.assertions import Annotations, Match, Template
from constructs_support import (
    CLUSTER_ADDRESS,
    CLUSTER_RESOURCE_ID,
    imported_network,
    literal_cluster,
    new_stack,
    resources,
)

from neptune_ml_endpoint import NeptuneCluster, NeptuneMlEndpoint
from neptune_ml_endpoint.schema import RESOURCE_TYPE


def test_literal_attributes_give_a_literal_data_api_url() -> None:
    stack = new_stack()
    assert literal_cluster(stack).data_api_url == f"https://{CLUSTER_ADDRESS}:8182"
    assert literal_cluster(stack, port="8183", prefix="P").data_api_url == f"https://{CLUSTER_ADDRESS}:8183"


def test_port_given_as_text_becomes_a_number_for_security_group_rules() -> None:
    stack = new_stack()
    assert literal_cluster(stack, port="8183").port_as_number == 8183


def test_resource_arn_names_the_cluster_resource_id_in_this_account_and_region() -> None:
    stack = new_stack()
    resolved = stack.resolve(literal_cluster(stack).resource_arn)
    assert resolved == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":neptune-db:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{CLUSTER_RESOURCE_ID}/*",
            ],
        ]
    }


def test_unique_key_depends_on_the_cluster_not_on_the_object() -> None:
    stack = new_stack()
    first = literal_cluster(stack, prefix="A").unique_key(stack)
    assert literal_cluster(stack, prefix="B").unique_key(stack) == first
    assert literal_cluster(stack, port=8183, prefix="C").unique_key(stack) != first
    assert literal_cluster(stack, resource_id="cluster-OTHER", prefix="D").unique_key(stack) != first


def _cluster_in_app(stack: cdk.Stack, name: str) -> tuple[neptune.CfnDBCluster, NeptuneCluster]:
    vpc, security_group = imported_network(stack, prefix=name)
    cfn_cluster = neptune.CfnDBCluster(stack, name)
    return cfn_cluster, NeptuneCluster.from_cfn_db_cluster(cfn_cluster, vpc=vpc, security_group=security_group)


def test_resources_on_a_cluster_of_the_app_wait_for_its_instances_declared_before_or_after() -> None:
    stack = new_stack()
    cfn_cluster, cluster = _cluster_in_app(stack, "Cluster")
    other, _ = _cluster_in_app(stack, "Other")
    early = neptune.CfnDBInstance(stack, "Early", db_instance_class="db.r6g.large", db_cluster_identifier=cfn_cluster.ref)
    NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, ml_model_training_job_id="job-1")
    late = neptune.CfnDBInstance(stack, "Late", db_instance_class="db.r6g.large", db_cluster_identifier=cfn_cluster.ref)
    neptune.CfnDBInstance(stack, "Elsewhere", db_instance_class="db.r6g.large", db_cluster_identifier=other.ref)

    [endpoint] = resources(Template.from_stack(stack), RESOURCE_TYPE).values()

    assert {stack.get_logical_id(instance) for instance in (early, late)} <= set(endpoint["DependsOn"])
    assert not [name for name in endpoint["DependsOn"] if name.startswith("Elsewhere")]
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp(".*cannot wait for an.*"))


def test_a_cluster_of_the_app_without_an_instance_gets_one_synth_warning() -> None:
    stack = new_stack()
    _, cluster = _cluster_in_app(stack, "Cluster")
    for name in ("First", "Second"):
        NeptuneMlEndpoint(stack, name, cluster=cluster, ml_model_training_job_id="job-1")

    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(".*cannot wait for an.*"))

    assert [warning.id for warning in warnings] == ["/Stack/Cluster"]
    assert str(warnings[0].entry.data).startswith(
        "the Neptune ML endpoints and jobs on cluster Stack/Cluster cannot wait for an AWS::Neptune::DBInstance: "
        "none in its stack names it")


def test_an_instance_naming_the_cluster_by_its_literal_identifier_counts() -> None:
    stack = new_stack()
    vpc, security_group = imported_network(stack)
    cfn_cluster = neptune.CfnDBCluster(stack, "Cluster", db_cluster_identifier="My-Graph")
    cluster = NeptuneCluster.from_cfn_db_cluster(cfn_cluster, vpc=vpc, security_group=security_group)
    NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, ml_model_training_job_id="job-1")
    instance = neptune.CfnDBInstance(stack, "Instance", db_instance_class="db.r6g.large",
                                     db_cluster_identifier="my-graph")

    [endpoint] = resources(Template.from_stack(stack), RESOURCE_TYPE).values()

    assert stack.get_logical_id(instance) in endpoint["DependsOn"]
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp(".*cannot wait for an.*"))


@pytest.mark.parametrize(("attributes", "message"), [
    ({"port": "abc"}, "port: 'abc' is not a port number. Give the cluster's port, such as 8182"),
    ({"port": 99999}, "port: 99999 is outside 1-65535. Give the cluster's port"),
    ({"port": "0"}, "port: 0 is outside 1-65535"),
    ({"port": 8182.5}, "port: 8182.5 is not a port number"),
    ({"port": True}, "port: True is not a port number"),
    ({"address": "https://my-graph.cluster-abc.us-east-1.neptune.amazonaws.com"},
     ("cluster_endpoint_address: 'https://my-graph.cluster-abc.us-east-1.neptune.amazonaws.com' is not a host "
      "name. Give the cluster endpoint's name alone (no https://, no :port)")),
    ({"address": "my-graph.cluster-abc.us-east-1.neptune.amazonaws.com:8182"},
     "cluster_endpoint_address: 'my-graph.cluster-abc.us-east-1.neptune.amazonaws.com:8182' is not a host name"),
    ({"address": ""}, "cluster_endpoint_address: '' is not a host name"),
    ({"resource_id": "my-graph"}, ("cluster_resource_id: 'my-graph' is not a cluster resource id. Give the "
                                   "cluster's DbClusterResourceId")),
])
def test_bad_cluster_attributes_are_refused_naming_the_attribute(attributes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        literal_cluster(new_stack(), **attributes)


def test_a_bad_address_from_the_constructor_is_refused_at_synth_naming_the_cluster_prop() -> None:
    stack = new_stack()
    vpc, security_group = imported_network(stack)
    cluster = NeptuneCluster(cluster_endpoint_address="my-graph.example.com:8182", port=8182,
                             cluster_resource_id=CLUSTER_RESOURCE_ID, vpc=vpc, security_group=security_group)

    with pytest.raises(ValueError, match=r"^cluster \(NeptuneEndpoint\): .* is not a Neptune Data API address"):
        NeptuneMlEndpoint(stack, "Endpoint", cluster=cluster, ml_model_training_job_id="job-1")


def test_token_attributes_are_left_to_deploy_time() -> None:
    stack = new_stack()
    port = cdk.CfnParameter(stack, "Port", type="Number")
    resource_id = cdk.CfnParameter(stack, "ResourceId")

    cluster = literal_cluster(stack, port=port.value_as_number, resource_id=resource_id.value_as_string)

    assert cdk.Token.is_unresolved(cluster.data_api_url)
