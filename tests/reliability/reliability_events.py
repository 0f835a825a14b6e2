"""Hypothesis strategies for CloudFormation's side of a Custom::NeptuneMlEndpoint.

Properties start from a valid set and are then changed a few times: a key removed, a value
replaced by an odd one (unicode, long, empty, a number or boolean as CloudFormation renders
it, a path, a list or an object), or an unknown key added. `API_URL` stands for the local
Neptune ML API's address, which is known only once it runs.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import FAILING_JOB_PREFIX

API_URL = "<local Neptune ML API>"
UNREACHABLE_URL = "http://127.0.0.1:9"
SERVICE_TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:demo-NeptuneMlEndpointHandler"
REQUEST_TYPES = ("Create", "Update", "Delete")
LOGICAL_ID_MAX_LENGTH = 255  # CloudFormation's limits
STACK_NAME_MAX_LENGTH = 128
UNSAFE_IDS = ("../x", "a/b", "%2F", "..", "a%2Fb", "x?y=1", "a#b", "a b")


def _passes(check: Callable[[str], object]) -> Callable[[str], bool]:
    def passes(value: str) -> bool:
        try:
            check(value)
        except schema.PropertyError:
            return False
        return True
    return passes


_ID_TEXT = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=schema.ENDPOINT_ID_MAX_LENGTH)
endpoint_ids = _ID_TEXT.filter(schema.is_endpoint_id)
job_ids = st.one_of(
    st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=40),
    st.builds(lambda suffix: FAILING_JOB_PREFIX + suffix, st.text(string.ascii_lowercase, min_size=1, max_size=8)),
).filter(_passes(lambda v: schema.check_job_id(v, "MlModelTrainingJobId")))

VALID_VALUES: dict[str, st.SearchStrategy[str]] = {
    "NeptuneEndpoint": st.sampled_from([API_URL, API_URL, API_URL + "/", UNREACHABLE_URL]),
    "Id": endpoint_ids,
    "MlModelTrainingJobId": job_ids,
    "MlModelTransformJobId": job_ids,
    "ModelName": st.sampled_from(schema.MODEL_NAMES),
    "InstanceType": st.sampled_from([schema.DEFAULT_INSTANCE_TYPE, "ml.c5.2xlarge", "ml.g4dn.xlarge"]),
    "InstanceCount": st.integers(1, schema.INSTANCE_COUNT_MAX).map(str),
    "NeptuneIamRoleArn": st.sampled_from(["arn:aws:iam::123456789012:role/NeptuneMlRole",
                                          "arn:aws-cn:iam::123456789012:role/path/Neptune"]),
    "VolumeEncryptionKMSKey": st.sampled_from(["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab",
                                               "alias/neptune-ml"]),
}

odd_strings = st.one_of(
    st.text(max_size=30),
    st.text(min_size=200, max_size=3000),
    st.sampled_from(["", " ", "true", "false", "null", "None", "0", "-1", "1.5", "1e3", "NaN", "\u00e9ndpoint",
                     "\U0001f600", "\x00", "\n", *UNSAFE_IDS]),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
odd_values: st.SearchStrategy[Any] = st.one_of(
    odd_strings,
    odd_strings,
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
)


@st.composite
def valid_properties(draw: st.DrawFn) -> dict[str, Any]:
    """A property set the handler accepts (bar the cluster address, which may be unreachable)."""
    properties: dict[str, Any] = {"ServiceToken": SERVICE_TOKEN,
                                  "NeptuneEndpoint": draw(VALID_VALUES["NeptuneEndpoint"])}
    job = draw(st.sampled_from(["MlModelTrainingJobId", "MlModelTransformJobId"]))
    properties[job] = draw(VALID_VALUES[job])
    for name in ("Id", "ModelName", "InstanceType", "InstanceCount", "NeptuneIamRoleArn", "VolumeEncryptionKMSKey"):
        if draw(st.booleans()):
            properties[name] = draw(VALID_VALUES[name])
    if draw(st.booleans()):
        properties["ServiceTimeout"] = str(draw(st.integers(1, 3600)))
    return properties


@st.composite
def properties(draw: st.DrawFn) -> dict[str, Any]:
    """A valid set, or one changed by up to three removals, odd values or unknown keys."""
    chosen = draw(valid_properties())
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        change = draw(st.sampled_from(["remove", "odd value", "unknown key"]))
        if change == "remove":
            chosen.pop(draw(st.sampled_from(sorted(chosen))), None)
        elif change == "odd value":
            chosen[draw(st.sampled_from(schema.PROPERTY_NAMES))] = draw(odd_values)
        else:
            chosen[draw(st.text(min_size=1, max_size=40))] = draw(odd_values)
    return chosen


logical_ids = st.text(string.ascii_letters + string.digits, min_size=1, max_size=LOGICAL_ID_MAX_LENGTH)

# A physical id comes from the resource's own answers: an endpoint id, or the id crhelper makes
# after a failed Create (stack name, logical id, 8 random characters). Other short text stands
# for a resource whose history is unknown. (Arbitrary text of CloudFormation's 1 KB limit is out
# of scope: 1024 control characters alone take 6 KB as JSON, so no answer echoing them could fit.)
physical_ids = st.one_of(
    endpoint_ids,
    st.sampled_from(UNSAFE_IDS),
    st.builds(
        lambda stack, logical, suffix: f"{stack}_{logical}_{suffix}",
        st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=STACK_NAME_MAX_LENGTH),
        logical_ids,
        st.text(string.ascii_uppercase + string.digits, min_size=8, max_size=8),
    ),
    st.text(min_size=1, max_size=64),
)

def with_api_url(values: dict[str, Any], url: str) -> dict[str, Any]:
    """The properties with API_URL (and API_URL + "/") replaced by the running API's address."""
    return {key: value.replace(API_URL, url) if isinstance(value, str) else value for key, value in values.items()}
