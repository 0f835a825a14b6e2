"""The CloudFormation player: deploys the example app's template against the local Neptune ML API."""
