"""The property schema: CloudFormation's strings in, the API's types out, clear errors."""

from __future__ import annotations

import pytest

from neptune_ml_endpoint import schema

URL = "https://db.cluster-abc.us-east-1.neptune.amazonaws.com:8182"


def test_strings_are_converted_to_api_types() -> None:
    spec = schema.parse_properties(
        {"ServiceToken": "arn:x", "ServiceTimeout": "600", "NeptuneEndpoint": URL,
         "MlModelTrainingJobId": "job-1", "InstanceCount": "2", "ModelName": "rgcn"}
    )
    assert spec.neptune_endpoint == URL
    assert spec.create_request("ep-1", update=True) == {
        "id": "ep-1", "mlModelTrainingJobId": "job-1", "instanceCount": 2, "modelName": "rgcn", "update": True,
    }


@pytest.mark.parametrize(
    ("properties", "named"),
    [
        ({"NeptuneEndpoint": URL}, "MlModelTrainingJobId"),
        ({"NeptuneEndpoint": URL, "MlModelTrainingJobId": "a", "MlModelTransformJobId": "b"}, "MlModelTransformJobId"),
        ({"MlModelTrainingJobId": "a"}, "NeptuneEndpoint"),
        ({"NeptuneEndpoint": URL, "MlModelTrainingJobId": "a", "InstanceCount": "0"}, "InstanceCount"),
        ({"NeptuneEndpoint": URL, "MlModelTrainingJobId": "a", "InstanceCount": "1.5"}, "InstanceCount"),
        ({"NeptuneEndpoint": URL, "MlModelTrainingJobId": "a", "ModelName": "gcn"}, "ModelName"),
        ({"NeptuneEndpoint": URL, "MlModelTrainingJobId": "a", "Id": "../x"}, "Id"),
        ({"NeptuneEndpoint": URL, "MlModelTrainingJobId": "a", "Id": "a" * 64}, "Id"),
        ({"NeptuneEndpoint": URL, "MlModelTrainingJobId": "a", "InstanceCont": "1"}, "'InstanceCont'"),
        ({"NeptuneEndpoint": "ftp://x", "MlModelTrainingJobId": "a"}, "NeptuneEndpoint"),
    ],
)
def test_bad_input_names_the_property(properties: dict[str, str], named: str) -> None:
    with pytest.raises(schema.PropertyError) as raised:
        schema.parse_properties(properties)
    assert raised.value.property_name == named
    assert str(raised.value).startswith(named)
    assert raised.value.fix


@pytest.mark.parametrize("endpoint_id", ["a", "A-1", "x" * 63, "ep-2024-01"])
def test_valid_endpoint_ids(endpoint_id: str) -> None:
    assert schema.is_endpoint_id(endpoint_id)


@pytest.mark.parametrize("endpoint_id", ["", "-a", "a-", "a/b", "%2F", "a_b", "x" * 64, "é"])
def test_invalid_endpoint_ids(endpoint_id: str) -> None:
    assert not schema.is_endpoint_id(endpoint_id)


@pytest.mark.parametrize("address", [
    "https://my-graph.cluster-abc.us-east-1.neptune.amazonaws.com:8182", "https://db.example.com",
    "http://127.0.0.1:8182/", "https://[::1]:8182",
])
def test_valid_neptune_endpoints(address: str) -> None:
    assert schema.parse_connection({"NeptuneEndpoint": address})[0] == address.rstrip("/")


@pytest.mark.parametrize("address", [
    "https://:8182", "https://db.example.com:8182:8182", "https://db.example.com:0",
    "https://db.example.com:99999", "https://https://db.example.com", "db.example.com:8182",
    "https://db.example.com:8182/path", "https://-db.example.com",
])
def test_invalid_neptune_endpoints_name_the_property(address: str) -> None:
    with pytest.raises(ValueError, match=r"^NeptuneEndpoint: .* is not a Neptune Data API address\. Give"):
        schema.parse_connection({"NeptuneEndpoint": address})
