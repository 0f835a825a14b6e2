"""NeptuneCluster: the Data API address, the IAM resource and the provider key."""

from __future__ import annotations

from constructs_support import CLUSTER_ADDRESS, CLUSTER_RESOURCE_ID, literal_cluster, new_stack


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
