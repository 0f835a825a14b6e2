"""Run the project offline: a local Neptune ML API and a CloudFormation player."""
