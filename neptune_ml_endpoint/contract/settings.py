"""The handler's settings: environment variables of the Lambda function, each optional.

The local player sets short values so deployments finish in seconds.
"""


ENV_CONNECT_TIMEOUT = "NEPTUNE_ML_ENDPOINT_CONNECT_TIMEOUT"  # seconds to connect to Neptune (5)
ENV_READ_TIMEOUT = "NEPTUNE_ML_ENDPOINT_READ_TIMEOUT"  # seconds to wait for a response (15)
ENV_MAX_ATTEMPTS = "NEPTUNE_ML_ENDPOINT_MAX_ATTEMPTS"  # botocore attempts per call, first included (4)
ENV_CLIENT_TIMEOUT_RETRIES = "NEPTUNE_ML_ENDPOINT_CLIENT_TIMEOUT_RETRIES"  # extra tries after a 408 (2)
ENV_THROTTLE_RETRIES = "NEPTUNE_ML_ENDPOINT_THROTTLE_RETRIES"  # extra tries once botocore's end in 429 (3)
ENV_WAIT_FIRST_SECONDS = "NEPTUNE_ML_ENDPOINT_WAIT_FIRST_SECONDS"  # first pause between status checks (1)
ENV_WAIT_MAX_SECONDS = "NEPTUNE_ML_ENDPOINT_WAIT_MAX_SECONDS"  # longest pause between status checks (4)
ENV_SAFETY_MARGIN_SECONDS = "NEPTUNE_ML_ENDPOINT_SAFETY_MARGIN_SECONDS"  # invocation time kept back (120)
