"""Stand-ins for the AWS services a custom resource meets: the HTTPS ResponseURL, EventBridge and Lambda, the Lambda runtime."""
