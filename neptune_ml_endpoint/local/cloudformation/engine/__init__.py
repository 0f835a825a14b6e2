"""CloudFormation's decisions: templates and cloud assemblies, ordering, intrinsics, the custom-resource protocol, what a stack remembers."""
