"""Run the project offline: a local Neptune ML API and a CloudFormation player."""

COMMAND = "neptune-ml-local"
"""The command as users type it; `python -m neptune_ml_endpoint.local` runs the same."""
