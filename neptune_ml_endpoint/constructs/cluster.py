"""How an endpoint finds its Neptune cluster: address, port, IAM resource and VPC placement."""

from __future__ import annotations

import hashlib
import json
import re
import weakref

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_neptune as neptune
from constructs import IConstruct

from neptune_ml_endpoint.contract.values import HOST_NAME, PORT_MAX

_CLUSTER_RESOURCE_ID = re.compile(r"^cluster-[A-Za-z0-9]+$")
NO_INSTANCE_WARNING = "neptune-ml-endpoint:clusterWithoutInstance"

DEFAULT_PORT = 8182


def select_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> ec2.SelectedSubnets:
    """The subnets a SubnetSelection picks in vpc (the VPC's default selection for None)."""
    chosen = selection or ec2.SubnetSelection()
    return vpc.select_subnets(
        availability_zones=chosen.availability_zones, one_per_az=chosen.one_per_az,
        subnet_filters=chosen.subnet_filters, subnet_group_name=chosen.subnet_group_name,
        subnets=chosen.subnets, subnet_type=chosen.subnet_type,
    )


class NeptuneCluster:
    """A Neptune cluster whose Data API serves the ML endpoint operations.

    Create one with :meth:`from_cfn_db_cluster` (a cluster in the same app) or
    :meth:`from_cluster_attributes` (an existing cluster).
    """

    def __init__(
        self,
        *,
        cluster_endpoint_address: str,
        port: int | str,
        cluster_resource_id: str,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        vpc_subnets: ec2.SubnetSelection | None = None,
    ) -> None:
        """Prefer the ``from_*`` class methods; this takes the same values."""
        self.cluster_endpoint_address = cluster_endpoint_address
        self.cluster_resource_id = cluster_resource_id
        self.vpc = vpc
        self.security_group = security_group
        self.vpc_subnets = vpc_subnets
        self._port = port
        self._cfn_cluster: neptune.CfnDBCluster | None = None

    @classmethod
    def from_cfn_db_cluster(
        cls,
        cfn_cluster: neptune.CfnDBCluster,
        *,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        vpc_subnets: ec2.SubnetSelection | None = None,
    ) -> NeptuneCluster:
        """A cluster declared in this app as an L1 ``AWS::Neptune::DBCluster``.

        The endpoints and jobs on it wait for its ``AWS::Neptune::DBInstance`` resources in its stack (those
        whose ``db_cluster_identifier`` is the cluster's ``ref`` or its literal identifier): its Data API answers
        only once one is available. Without one, synth warns once.

        :param vpc: the VPC of the cluster's subnet group.
        :param security_group: a security group of the cluster; the handler is let in through it.
        :param vpc_subnets: where the handler runs; subnets that reach the cluster and,
            through a NAT gateway or VPC endpoints, EventBridge, Lambda and CloudFormation.
        """
        cluster = cls(
            cluster_endpoint_address=cfn_cluster.attr_endpoint,
            port=cfn_cluster.attr_port,
            cluster_resource_id=cfn_cluster.attr_cluster_resource_id,
            vpc=vpc,
            security_group=security_group,
            vpc_subnets=vpc_subnets,
        )
        cluster._cfn_cluster = cfn_cluster
        return cluster

    @classmethod
    def from_cluster_attributes(
        cls,
        *,
        cluster_endpoint_address: str,
        port: int | str = DEFAULT_PORT,
        cluster_resource_id: str,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        vpc_subnets: ec2.SubnetSelection | None = None,
    ) -> NeptuneCluster:
        """An existing cluster.

        :param cluster_endpoint_address: the cluster endpoint's host name.
        :param port: the cluster's port.
        :param cluster_resource_id: the ``cluster-XXXX`` resource id (not the cluster's name).
        :param vpc: the cluster's VPC.
        :param security_group: a security group of the cluster; the handler is let in through it.
        :param vpc_subnets: where the handler runs.
        """
        if not cdk.Token.is_unresolved(cluster_endpoint_address) and not HOST_NAME.match(cluster_endpoint_address):
            raise ValueError(
                f"cluster_endpoint_address: {cluster_endpoint_address!r} is not a host name. Give the cluster "
                "endpoint's name alone (no https://, no :port), such as my-graph.cluster-abc.us-east-1.neptune."
                "amazonaws.com")
        if not cdk.Token.is_unresolved(port):
            if isinstance(port, bool) or not re.fullmatch(r"\s*[0-9]+(\.0*)?\s*", str(port)):
                raise ValueError(f"port: {port!r} is not a port number. Give the cluster's port, such as 8182")
            port = int(float(port))
            if not 1 <= port <= PORT_MAX:
                raise ValueError(f"port: {port} is outside 1-{PORT_MAX}. Give the cluster's port, such as 8182")
        if not cdk.Token.is_unresolved(cluster_resource_id) and not _CLUSTER_RESOURCE_ID.match(cluster_resource_id):
            raise ValueError(
                f"cluster_resource_id: {cluster_resource_id!r} is not a cluster resource id. Give the cluster's "
                "DbClusterResourceId (cluster-XXXX, from aws neptune describe-db-clusters), not its name")
        return cls(
            cluster_endpoint_address=cluster_endpoint_address,
            port=port,
            cluster_resource_id=cluster_resource_id,
            vpc=vpc,
            security_group=security_group,
            vpc_subnets=vpc_subnets,
        )

    @property
    def port_as_string(self) -> str:
        """The port as a (possibly token) string."""
        if isinstance(self._port, str):
            return self._port
        if cdk.Token.is_unresolved(self._port):
            return cdk.Token.as_string(self._port)
        return str(int(self._port))

    @property
    def port_as_number(self) -> int | float:
        """The port as a (possibly token) number, for security group rules."""
        return self._port if isinstance(self._port, int) else cdk.Token.as_number(self._port)

    @property
    def data_api_url(self) -> str:
        """The Data API address, ``https://<cluster endpoint>:<port>``."""
        return f"https://{self.cluster_endpoint_address}:{self.port_as_string}"

    @property
    def resource_arn(self) -> str:
        """The ``neptune-db`` resource ARN that IAM policies for the Data API name."""
        return (
            f"arn:{cdk.Aws.PARTITION}:neptune-db:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"
            f"{self.cluster_resource_id}/*"
        )

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Allow grantee the given ``neptune-db:`` actions on this cluster's Data API."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=[self.resource_arn]
        )

    def wait_for_instances(self, resource: IConstruct) -> None:
        """Make resource depend, at synth, on the DB instances of a cluster declared in the app."""
        if self._cfn_cluster is not None:
            cdk.Aspects.of(resource).add(_AfterInstances(self._cfn_cluster, resource))

    def unique_key(self, scope: IConstruct) -> str:
        """A short key that is the same for every reference to this cluster in scope's stack."""
        stack = cdk.Stack.of(scope)
        identity = stack.resolve(
            [self.cluster_endpoint_address, self.port_as_string, self.cluster_resource_id]
        )
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        return digest[:8].upper()


@jsii.implements(cdk.IAspect)
class _AfterInstances:
    """Adds the dependency once the whole app is declared, so instances declared after the resource count."""

    def __init__(self, cfn_cluster: neptune.CfnDBCluster, resource: IConstruct) -> None:
        self._cfn_cluster = cfn_cluster
        self._resource = resource

    def visit(self, node: IConstruct) -> None:
        if node is not self._resource:
            return
        stack = cdk.Stack.of(self._cfn_cluster)
        names = [stack.resolve(self._cfn_cluster.ref)]  # the cluster's Ref, or its literal identifier
        if self._cfn_cluster.db_cluster_identifier and not cdk.Token.is_unresolved(
                self._cfn_cluster.db_cluster_identifier):
            names.append(self._cfn_cluster.db_cluster_identifier.lower())
        instances = [child for child in stack.node.find_all() if isinstance(child, neptune.CfnDBInstance)
                     and _lowered(stack.resolve(child.db_cluster_identifier)) in names]
        if instances:
            node.node.add_dependency(*instances)
        elif self._cfn_cluster not in _WARNED:
            _WARNED.add(self._cfn_cluster)
            cdk.Annotations.of(self._cfn_cluster).add_warning_v2(
                NO_INSTANCE_WARNING,
                f"the Neptune ML endpoints and jobs on cluster {self._cfn_cluster.node.path} cannot wait for an "
                "AWS::Neptune::DBInstance: none in its stack names it (db_cluster_identifier=<cluster>.ref, or its "
                "identifier), and its Data API answers only once one is available. Declare one there, or "
                "acknowledge this warning if its instances are made elsewhere")


_WARNED: weakref.WeakSet[neptune.CfnDBCluster] = weakref.WeakSet()
"""The clusters already warned about, so that each is warned about once, not once per resource."""


def _lowered(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
