"""The resource contracts: each custom resource type's properties, limits and attributes, written once.

The constructs check props with them at synth time, the Lambda handler parses CloudFormation's
string properties with them, and the local Neptune ML API validates requests with the same
limits. Standard library only: the package is copied into the handler's asset.
"""
