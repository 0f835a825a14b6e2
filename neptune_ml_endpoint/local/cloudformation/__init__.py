"""The local CloudFormation: engine/ (its decisions), aws/ (stand-ins for the services a custom resource
meets), cli/ (the deploy, update and destroy commands) and testing (doubles for tests and benchmarks)."""
