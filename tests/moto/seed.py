"""Creates a named test scenario in a running tests/moto/server.py and prints a JSON summary.

    python seed.py --endpoint http://127.0.0.1:PORT --scenario jets-demo

Scenarios:

* ``jets-demo``: an organization whose management account is moto's default account
  (123456789012), with SCPs and RCPs enabled on the root and the OU path
  Root -> ``Workloads`` -> ``Prod``. A member account (``workloads-prod``, created with
  Organizations ``CreateAccount``; moto gives it a 12-digit id) sits in ``Prod``.
    - Root: ``FullAWSAccess`` (attached by default).
    - ``Workloads``: ``FullAWSAccess`` plus ``RegionRestriction`` (Deny, NotAction the global
      services, when ``aws:RequestedRegion`` is not us-east-1 or us-west-2), and the RCP
      ``EnforceSecureTransport``.
    - ``Prod``: ``FullAWSAccess`` replaced by ``ProdServiceAllowList``, which allows many services
      but not ``ec2``.
  In the member account: the Jets remote-runner role ``demo-dev-CodebuildRole-1A2B3C4D5E6F``
  (path ``/``, trusted by CodeBuild; created by the CloudFormation stack ``demo-dev`` as its
  resource ``CodebuildRole``, as Jets' bootstrap does) with inline ``DefaultPolicy`` (Jets'
  default services) and ``VpcPolicy`` (``ec2:*``, as Jets 6 adds it) and the AWS managed policies
  AmazonSSMReadOnlyAccess and AWSCertificateManagerReadOnly; the role ``demo-dev-BoundedRole``
  (path ``/app/``) whose boundary ``DeveloperBoundary`` allows only S3 and CloudWatch Logs and
  denies ``s3:DeleteBucket``; the user ``alice`` in the group ``developers``. In the management
  account: the role ``OrgAdmin`` allowing ``ec2:*`` (SCPs do not apply there).
* ``failed-deploy``: ``jets-demo`` plus the record a failed ``jets deploy`` in eu-west-1 leaves in
  the member account, all moto's own state: the remote runner's CodeBuild project
  ``demo-dev-remote`` with two builds (the second is the failed deploy), the log group
  ``/aws/codebuild/demo-dev-remote`` with each build's log stream (named after the build id, as
  CodeBuild names it), the failed build's log carrying CloudFormation's failure for the Lambda
  function ``Controller`` and an ``aws s3 cp`` failure, and the log group ``/jets/demo-dev/app``
  whose events include one AccessDenied from an hour ago and one from now, among other lines.
  (The stack events themselves cannot be held by moto: tests script them.)
* ``no-org``: the same IAM entities (and stack) in moto's default account, and no organization.
* ``resource-policies``: ``no-org`` plus the resources of a deploy that carry resource-based
  policies, all computed by moto itself (S3, KMS and ECR store and return the policies):
    - the bootstrap stack ``demo-dev`` also has Jets' deploy bucket (resource ``S3Bucket``),
      whose bucket policy has ``ProtectDeployedCode``: an explicit ``Deny`` of
      ``s3:DeleteObject`` on its objects to the Jets role (the deploy deletes old code zips);
    - the KMS key ``deploy-key`` whose key policy allows only ``KeyAdmin``: no statement for
      the Jets role and none for the account root, so IAM policies cannot grant its use; the
      Jets role gets ``KmsUse`` (``kms:*`` on ``*``) so that only the key policy stops it;
    - the ECR repository ``demo`` with no repository policy;
    - the user ``deployer``, whose own policy ``DeployerAccess`` allows ``s3:PutObject``,
      ``s3:DeleteObject`` and ``s3:ListBucket`` but not ``s3:GetObject``; the bucket policy
      denies it ``s3:DeleteObject`` on the objects (``NoDeletesByDeployer``) and allows it
      ``s3:GetObject`` there (``DeployerReads``, naming the user's ARN);
    - the SNS topic ``deploy-events`` with a topic policy (``EventsFromAccount``), the SQS queue
      ``deploy-jobs`` whose queue policy denies the Jets role ``sqs:SetQueueAttributes``
      (``KeepQueueSettings``) and the queue ``deploy-dlq`` without one, and the Lambda
      functions ``demo-dev-controller``, whose function policy lets API Gateway invoke it
      (``AddPermission``, statement ``ApiGatewayInvoke``), and ``demo-dev-worker`` without one.

* ``generated-org``: an organization generated from ``--accounts N --ous N --scps N`` (default
  200, 25, 25), for the organization-scale audit: SCPs and RCPs enabled; ``--ous`` OUs on two
  levels (a fifth of them under the root, the rest spread below those); the accounts spread
  round-robin over all OUs (the management account stays under the root). The SCPs cycle
  through four shapes: a region lock (``Deny`` with ``NotAction`` the global services outside
  us-east-1/us-west-2), a ``Deny`` of one service, a harmless ``Deny`` of a service a deploy does
  not use, and a service allow-list without ``ec2`` that replaces ``FullAWSAccess`` on the OU it
  is attached to; each is attached to one OU, and every fourth to an account as well. One RCP
  (``EnforceSecureTransport``) sits on the first OU.

Every call names its account with moto's ``x-moto-account-id`` header, so seeding works
whatever caller the server is set to. A test that wants the CLI to act as a member-account
principal sets the caller on the server (``POST /_iamdoctor/caller``) to one of the
``caller_arns`` in the summary: every later AWS call then runs in that account.

Random ids are seeded (``/moto-api/seed``), so a fresh server gives the same ids every time.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import urllib.request
import zipfile
from typing import Any

import boto3

MANAGEMENT_ACCOUNT = "123456789012"
CODEBUILD_ROLE = "demo-dev-CodebuildRole-1A2B3C4D5E6F"
BOUNDED_ROLE = "demo-dev-BoundedRole"
# The Jets bootstrap stack whose CodebuildRole resource is CODEBUILD_ROLE.
STACK = "demo-dev"
BOUNDED_ROLE_PATH = "/app/"
SESSION = "iam-doctor"

# Jets' config.codebuild.iam.default_policy.
JETS_DEFAULT_SERVICES = [
    "apigateway",
    "cloudformation",
    "cloudfront",
    "codebuild",
    "dynamodb",
    "ecr",
    "ecr-public",
    "events",
    "iam",
    "lambda",
    "logs",
    "route53",
    "s3",
    "sns",
    "sqs",
    "sts:GetServiceBearerToken",
    "waf",
    "wafv2",
]
JETS_MANAGED = ["AmazonSSMReadOnlyAccess", "AWSCertificateManagerReadOnly"]

GLOBAL_SERVICES = [
    "iam:*",
    "sts:*",
    "cloudfront:*",
    "route53:*",
    "organizations:*",
    "support:*",
    "budgets:*",
    "waf:*",
    "globalaccelerator:*",
    "health:*",
    "trustedadvisor:*",
]
# Prod's allow-list: many services, deliberately not ec2.
PROD_ALLOWED_SERVICES = [
    "acm",
    "apigateway",
    "cloudformation",
    "cloudfront",
    "cloudwatch",
    "codebuild",
    "dynamodb",
    "ecr",
    "ecr-public",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "states",
    "sts",
    "waf",
    "wafv2",
    "xray",
]


def doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def jets_default_policy() -> str:
    actions = [s if ":" in s else f"{s}:*" for s in JETS_DEFAULT_SERVICES]
    return doc([{"Action": actions, "Effect": "Allow", "Resource": "*"}])


CODEBUILD_TRUST = doc(
    [
        {
            "Effect": "Allow",
            "Principal": {"Service": "codebuild.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
)


def bootstrap_template(deploy_bucket: bool = False) -> dict:
    """The part of Jets' bootstrap stack that matters here: the remote runner's role, and with
    ``deploy_bucket`` Jets' deploy bucket (logical id ``S3Bucket``, as in Jets'
    ``jets_bucket.rb``; CloudFormation names it). The trust policy is given as JSON text,
    which moto stores verbatim."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Jets bootstrap (demo-dev): the remote runner's role",
        "Resources": {
            "CodebuildRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": CODEBUILD_ROLE,
                    "Path": "/",
                    "AssumeRolePolicyDocument": CODEBUILD_TRUST,
                    "Description": "Jets remote runner (demo-dev)",
                },
            }
        },
    }
    if deploy_bucket:
        template["Resources"]["S3Bucket"] = {"Type": "AWS::S3::Bucket"}
    return template


LAMBDA_TRUST = doc(
    [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
)


class Seeder:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")

    def client(self, service: str, account: str = MANAGEMENT_ACCOUNT, region: str = "us-east-1"):
        """A boto3 client acting in ``account`` whatever caller the server is set to."""
        c = boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

        def add_header(request, **_):
            request.headers["x-moto-account-id"] = account

        c.meta.events.register("before-send.*.*", add_header)
        return c

    def seed_random(self, value: int) -> None:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/seed?a={value}", method="POST")
        urllib.request.urlopen(req, timeout=30).read()

    def iam_entities(self, account: str, deploy_bucket: bool = False) -> dict:
        """The Jets role, a bounded role, and a user in a group, in ``account``."""
        iam = self.client("iam", account)
        # The Jets bootstrap stack creates the remote runner's role, so `check --stack demo-dev`
        # finds it through CloudFormation (DescribeStackResource -> the role's name). moto runs
        # the template and creates the role in this account; its policies are added with IAM
        # calls below (moto would store a template's inline `Policies` as objects, not JSON).
        cfn = self.client("cloudformation", account)
        stack_id = cfn.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(bootstrap_template(deploy_bucket)),
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )["StackId"]
        codebuild = iam.get_role(RoleName=CODEBUILD_ROLE)["Role"]
        iam.put_role_policy(
            RoleName=CODEBUILD_ROLE,
            PolicyName="DefaultPolicy",
            PolicyDocument=jets_default_policy(),
        )
        iam.put_role_policy(
            RoleName=CODEBUILD_ROLE,
            PolicyName="VpcPolicy",
            PolicyDocument=doc([{"Action": ["ec2:*"], "Effect": "Allow", "Resource": "*"}]),
        )
        for name in JETS_MANAGED:
            iam.attach_role_policy(
                RoleName=CODEBUILD_ROLE, PolicyArn=f"arn:aws:iam::aws:policy/{name}"
            )

        boundary = iam.create_policy(
            PolicyName="DeveloperBoundary",
            PolicyDocument=doc(
                [
                    {
                        "Sid": "Storage",
                        "Effect": "Allow",
                        "Action": ["s3:*", "logs:*"],
                        "Resource": "*",
                    },
                    {
                        "Sid": "KeepBuckets",
                        "Effect": "Deny",
                        "Action": "s3:DeleteBucket",
                        "Resource": "*",
                    },
                ]
            ),
        )["Policy"]
        bounded = iam.create_role(
            RoleName=BOUNDED_ROLE,
            Path=BOUNDED_ROLE_PATH,
            AssumeRolePolicyDocument=LAMBDA_TRUST,
            PermissionsBoundary=boundary["Arn"],
        )["Role"]
        iam.put_role_policy(
            RoleName=BOUNDED_ROLE,
            PolicyName="AppAccess",
            PolicyDocument=doc(
                [{"Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": "*"}]
            ),
        )

        logs_read = iam.create_policy(
            PolicyName="LogsReadOnly",
            PolicyDocument=doc(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:Describe*", "logs:Get*", "logs:FilterLogEvents"],
                        "Resource": "*",
                    }
                ]
            ),
        )["Policy"]
        iam.create_group(GroupName="developers")
        iam.put_group_policy(
            GroupName="developers",
            PolicyName="DevelopersAccess",
            PolicyDocument=doc(
                [
                    {
                        "Sid": "DescribeStacks",
                        "Effect": "Allow",
                        "Action": "cloudformation:Describe*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "S3InHomeRegion",
                        "Effect": "Allow",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
                    },
                ]
            ),
        )
        iam.attach_group_policy(GroupName="developers", PolicyArn=logs_read["Arn"])
        alice = iam.create_user(UserName="alice")["User"]
        iam.add_user_to_group(GroupName="developers", UserName="alice")
        iam.put_user_policy(
            UserName="alice",
            PolicyName="NoIamWrites",
            PolicyDocument=doc(
                [{"Effect": "Deny", "Action": ["iam:Create*", "iam:Delete*"], "Resource": "*"}]
            ),
        )
        return {
            "stacks": {STACK: {"stack_id": stack_id, "CodebuildRole": CODEBUILD_ROLE}},
            "roles": {"codebuild": codebuild["Arn"], "bounded": bounded["Arn"]},
            "users": {"alice": alice["Arn"]},
            "groups": {"developers": f"arn:aws:iam::{account}:group/developers"},
            "policies": {"DeveloperBoundary": boundary["Arn"], "LogsReadOnly": logs_read["Arn"]},
            "caller_arns": {
                "codebuild": f"arn:aws:sts::{account}:assumed-role/{CODEBUILD_ROLE}/{SESSION}",
                "bounded": f"arn:aws:sts::{account}:assumed-role/{BOUNDED_ROLE}/{SESSION}",
                "alice": alice["Arn"],
            },
        }

    def jets_demo(self) -> dict:
        org = self.client("organizations")
        organization = org.create_organization(FeatureSet="ALL")["Organization"]
        root_id = org.list_roots()["Roots"][0]["Id"]
        for policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            org.enable_policy_type(RootId=root_id, PolicyType=policy_type)
        workloads = org.create_organizational_unit(ParentId=root_id, Name="Workloads")[
            "OrganizationalUnit"
        ]["Id"]
        prod = org.create_organizational_unit(ParentId=workloads, Name="Prod")[
            "OrganizationalUnit"
        ]["Id"]
        status = org.create_account(
            Email="workloads-prod@example.com", AccountName="workloads-prod"
        )
        member = status["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=member, SourceParentId=root_id, DestinationParentId=prod)

        region = org.create_policy(
            Name="RegionRestriction",
            Description="Deny regional services outside us-east-1 and us-west-2",
            Type="SERVICE_CONTROL_POLICY",
            Content=doc(
                [
                    {
                        "Sid": "DenyOutsideApprovedRegions",
                        "Effect": "Deny",
                        "NotAction": GLOBAL_SERVICES,
                        "Resource": "*",
                        "Condition": {
                            "StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}
                        },
                    }
                ]
            ),
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=region, TargetId=workloads)

        allow_list = org.create_policy(
            Name="ProdServiceAllowList",
            Description="Services allowed in Prod",
            Type="SERVICE_CONTROL_POLICY",
            Content=doc(
                [
                    {
                        "Sid": "AllowListedServices",
                        "Effect": "Allow",
                        "Action": [f"{s}:*" for s in PROD_ALLOWED_SERVICES],
                        "Resource": "*",
                    }
                ]
            ),
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=allow_list, TargetId=prod)
        org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=prod)

        rcp = org.create_policy(
            Name="EnforceSecureTransport",
            Description="Deny access to S3 without TLS",
            Type="RESOURCE_CONTROL_POLICY",
            Content=doc(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=rcp, TargetId=workloads)

        entities = self.iam_entities(member)
        mgmt_iam = self.client("iam", MANAGEMENT_ACCOUNT)
        org_admin = mgmt_iam.create_role(
            RoleName="OrgAdmin", AssumeRolePolicyDocument=CODEBUILD_TRUST
        )["Role"]
        mgmt_iam.put_role_policy(
            RoleName="OrgAdmin",
            PolicyName="Ec2Admin",
            PolicyDocument=doc([{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]),
        )
        entities["roles"]["org_admin"] = org_admin["Arn"]
        entities["caller_arns"]["org_admin"] = (
            f"arn:aws:sts::{MANAGEMENT_ACCOUNT}:assumed-role/OrgAdmin/{SESSION}"
        )
        return {
            "scenario": "jets-demo",
            "management_account_id": MANAGEMENT_ACCOUNT,
            "member_account_id": member,
            "account_id": member,
            "organization_id": organization["Id"],
            "root_id": root_id,
            "ou_ids": {"Workloads": workloads, "Prod": prod},
            "ou_path": [root_id, workloads, prod],
            "scp_ids": {
                "FullAWSAccess": "p-FullAWSAccess",
                "RegionRestriction": region,
                "ProdServiceAllowList": allow_list,
            },
            "rcp_ids": {"RCPFullAWSAccess": "p-RCPFullAWSAccess", "EnforceSecureTransport": rcp},
            **entities,
        }

    def failed_deploy(self) -> dict:
        summary = self.jets_demo()
        account = summary["member_account_id"]
        region = "eu-west-1"
        role_arn = summary["roles"]["codebuild"]
        caller = summary["caller_arns"]["codebuild"]
        project = f"{STACK}-remote"
        codebuild = self.client("codebuild", account, region)
        codebuild.create_project(
            name=project,
            source={"type": "S3", "location": "demo-dev-s3bucket/jets/code/code.zip"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
            },
            serviceRole=role_arn,
        )
        builds = [codebuild.start_build(projectName=project)["build"]["id"] for _ in range(2)]
        logs = self.client("logs", account, region)
        group = f"/aws/codebuild/{project}"
        logs.create_log_group(logGroupName=group)
        now = int(time.time() * 1000)
        lambda_denied = (
            f"User: {caller} is not authorized to perform: lambda:CreateFunction on resource: "
            f"arn:aws:lambda:{region}:{account}:function:demo-dev-controller with an explicit deny "
            "in a service control policy"
        )
        s3_denied = (
            f"upload failed: ./app.zip to s3://demo-dev-assets/app.zip An error occurred "
            f"(AccessDenied) when calling the PutObject operation: User: {caller} is not "
            "authorized to perform: s3:PutObject on resource: "
            '"arn:aws:s3:::demo-dev-assets/app.zip" with an explicit deny in a service control policy'
        )
        logs_of = {
            builds[0]: ["[Container] Entering phase BUILD", "Deploy complete"],
            builds[1]: [
                "[Container] Entering phase BUILD",
                "Deploying to eu-west-1...",
                f"2026-11-23 10:12:43 UTC  Controller  AWS::Lambda::Function  CREATE_FAILED  "
                f'Resource handler returned message: "{lambda_denied} (Service: Lambda, Status '
                "Code: 403, Request ID: 3c1f2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b)\" (RequestToken: "
                "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d, HandlerErrorCode: AccessDenied)",
                s3_denied,
                "[Container] Phase complete: BUILD State: FAILED",
            ],
        }
        for build, lines in logs_of.items():
            stream = build.split(":", 1)[1]
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[
                    {"timestamp": now - 60_000 + i, "message": line} for i, line in enumerate(lines)
                ],
            )
        app_group = "/jets/demo-dev/app"
        logs.create_log_group(logGroupName=app_group)
        logs.create_log_stream(logGroupName=app_group, logStreamName="deploy")
        events_denied = (
            f"An error occurred (AccessDeniedException) when calling the PutRule operation: "
            f"User: {caller} is not authorized to perform: events:PutRule on resource: "
            f"arn:aws:events:{region}:{account}:rule/demo-dev-cron with an explicit deny in a "
            "service control policy"
        )
        sns_denied = (
            f"User: {caller} is not authorized to perform: sns:CreateTopic on resource: "
            f"arn:aws:sns:{region}:{account}:demo-dev-old with an explicit deny in a service "
            "control policy"
        )
        logs.put_log_events(
            logGroupName=app_group,
            logStreamName="deploy",
            logEvents=[
                {"timestamp": now - 3_600_000, "message": sns_denied},
                {"timestamp": now - 1_000, "message": "Starting the scheduler"},
                {"timestamp": now - 500, "message": events_denied},
                {"timestamp": now - 100, "message": "Retrying in 5 seconds"},
            ],
        )
        return {
            **summary,
            "scenario": "failed-deploy",
            "region": region,
            "project": project,
            "builds": builds,
            "build_log_group": group,
            "app_log_group": app_group,
        }

    def generated_org(
        self, accounts: int = 200, ous: int = 25, scps: int = 25, org: Any = None
    ) -> dict:
        """``org``: an Organizations client (default: boto3 against the server), or
        ``DirectOrganizations`` inside the server's own process."""
        org = org or self.client("organizations")
        organization = org.create_organization(FeatureSet="ALL")["Organization"]
        root_id = org.list_roots()["Roots"][0]["Id"]
        for policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            org.enable_policy_type(RootId=root_id, PolicyType=policy_type)
        top = max(1, ous // 5)
        ou_ids: list[str] = []
        for i in range(min(top, ous)):
            ou_ids.append(
                org.create_organizational_unit(ParentId=root_id, Name=f"Dept-{i + 1}")[
                    "OrganizationalUnit"
                ]["Id"]
            )
        for i in range(ous - len(ou_ids)):
            parent = ou_ids[i % top]
            ou_ids.append(
                org.create_organizational_unit(ParentId=parent, Name=f"Team-{i + 1}")[
                    "OrganizationalUnit"
                ]["Id"]
            )
        account_ids: list[str] = []
        for i in range(accounts):
            status = org.create_account(
                Email=f"member-{i + 1}@example.com", AccountName=f"member-{i + 1}"
            )
            account = status["CreateAccountStatus"]["AccountId"]
            org.move_account(
                AccountId=account, SourceParentId=root_id, DestinationParentId=ou_ids[i % ous]
            )
            account_ids.append(account)

        shapes = [
            (
                "RegionLock",
                [
                    {
                        "Sid": "DenyOutsideApprovedRegions",
                        "Effect": "Deny",
                        "NotAction": GLOBAL_SERVICES,
                        "Resource": "*",
                        "Condition": {
                            "StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}
                        },
                    }
                ],
            ),
            ("DenyDynamoDB", [{"Sid": "NoDynamoDB", "Effect": "Deny", "Action": "dynamodb:*",
                               "Resource": "*"}]),
            ("DenyRedshift", [{"Sid": "NoRedshift", "Effect": "Deny", "Action": "redshift:*",
                               "Resource": "*"}]),
            ("ServiceAllowList", [{"Sid": "AllowListedServices", "Effect": "Allow",
                                   "Action": [f"{s}:*" for s in PROD_ALLOWED_SERVICES],
                                   "Resource": "*"}]),
        ]
        scp_ids: dict[str, str] = {}
        attachments: dict[str, list[str]] = {}
        for i in range(scps):
            shape, statements = shapes[i % len(shapes)]
            name = f"{shape}-{i + 1}"
            policy_id = org.create_policy(
                Name=name, Description=name, Type="SERVICE_CONTROL_POLICY",
                Content=doc(statements),
            )["Policy"]["PolicySummary"]["Id"]
            scp_ids[name] = policy_id
            targets = [ou_ids[i % len(ou_ids)]]
            if i % 4 == 3 and account_ids:
                targets.append(account_ids[(i * 7) % len(account_ids)])
            for target in targets:
                org.attach_policy(PolicyId=policy_id, TargetId=target)
                if shape == "ServiceAllowList":
                    try:
                        org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=target)
                    except org.exceptions.ClientError:
                        pass
            attachments[name] = targets
        rcp = org.create_policy(
            Name="EnforceSecureTransport",
            Description="Deny access to S3 without TLS",
            Type="RESOURCE_CONTROL_POLICY",
            Content=doc(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=rcp, TargetId=ou_ids[0])
        return {
            "scenario": "generated-org",
            "management_account_id": MANAGEMENT_ACCOUNT,
            "organization_id": organization["Id"],
            "root_id": root_id,
            "ou_ids": ou_ids,
            "account_ids": account_ids,
            "scp_ids": scp_ids,
            "scp_targets": attachments,
            "rcp_ids": {"RCPFullAWSAccess": "p-RCPFullAWSAccess", "EnforceSecureTransport": rcp},
        }

    def no_org(self) -> dict:
        entities = self.iam_entities(MANAGEMENT_ACCOUNT)
        return {"scenario": "no-org", "account_id": MANAGEMENT_ACCOUNT, **entities}

    def resource_policies(self) -> dict:
        account = MANAGEMENT_ACCOUNT
        entities = self.iam_entities(account, deploy_bucket=True)
        role_arn = entities["roles"]["codebuild"]
        deployer_arn = self.deployer(account)
        bucket = self.client("cloudformation", account).describe_stack_resource(
            StackName=STACK, LogicalResourceId="S3Bucket"
        )["StackResourceDetail"]["PhysicalResourceId"]
        self.client("s3", account).put_bucket_policy(
            Bucket=bucket,
            Policy=doc(
                [
                    {
                        "Sid": "ProtectDeployedCode",
                        "Effect": "Deny",
                        "Principal": {"AWS": role_arn},
                        "Action": "s3:DeleteObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    },
                    {
                        "Sid": "NoDeletesByDeployer",
                        "Effect": "Deny",
                        "Principal": {"AWS": deployer_arn},
                        "Action": "s3:DeleteObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    },
                    {
                        "Sid": "DeployerReads",
                        "Effect": "Allow",
                        "Principal": {"AWS": deployer_arn},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    },
                ]
            ),
        )

        iam = self.client("iam", account)
        key_admin = iam.create_role(RoleName="KeyAdmin", AssumeRolePolicyDocument=LAMBDA_TRUST)[
            "Role"
        ]["Arn"]
        iam.put_role_policy(
            RoleName=CODEBUILD_ROLE,
            PolicyName="KmsUse",
            PolicyDocument=doc([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]),
        )
        key = self.client("kms", account).create_key(
            Description="deploy-key",
            Policy=doc(
                [
                    {
                        "Sid": "KeyAdminOnly",
                        "Effect": "Allow",
                        "Principal": {"AWS": key_admin},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ]
            ),
        )["KeyMetadata"]
        repo = self.client("ecr", account).create_repository(repositoryName="demo")["repository"]
        messaging = self.messaging(account, role_arn, key_admin)
        return {
            "scenario": "resource-policies",
            "account_id": account,
            "bucket": bucket,
            "bucket_arn": f"arn:aws:s3:::{bucket}",
            "key_arn": key["Arn"],
            "key_admin": key_admin,
            "repository_arn": repo["repositoryArn"],
            "repository_uri": repo["repositoryUri"],
            "deployer_arn": deployer_arn,
            **messaging,
            **entities,
        }

    def deployer(self, account: str) -> str:
        """The user ``deployer``: S3 uploads and deletes, no reads."""
        iam = self.client("iam", account)
        arn = iam.create_user(UserName="deployer")["User"]["Arn"]
        iam.put_user_policy(
            UserName="deployer",
            PolicyName="DeployerAccess",
            PolicyDocument=doc(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
                        "Resource": "*",
                    }
                ]
            ),
        )
        return arn

    def messaging(self, account: str, role_arn: str, function_role: str) -> dict:
        """A topic with a policy, a queue with one and one without, a function with a function
        policy and one without (moto stores and returns all of them)."""
        topic = self.client("sns", account).create_topic(Name="deploy-events")["TopicArn"]
        self.client("sns", account).set_topic_attributes(
            TopicArn=topic,
            AttributeName="Policy",
            AttributeValue=doc(
                [
                    {
                        "Sid": "EventsFromAccount",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        "Action": "sns:Publish",
                        "Resource": topic,
                    }
                ]
            ),
        )
        sqs = self.client("sqs", account)
        queue_url = sqs.create_queue(QueueName="deploy-jobs")["QueueUrl"]
        queue_arn = f"arn:aws:sqs:us-east-1:{account}:deploy-jobs"
        sqs.set_queue_attributes(
            QueueUrl=queue_url,
            Attributes={
                "Policy": doc(
                    [
                        {
                            "Sid": "KeepQueueSettings",
                            "Effect": "Deny",
                            "Principal": {"AWS": role_arn},
                            "Action": "sqs:SetQueueAttributes",
                            "Resource": queue_arn,
                        }
                    ]
                )
            },
        )
        sqs.create_queue(QueueName="deploy-dlq")
        lam = self.client("lambda", account)
        functions = {}
        for name in ("demo-dev-controller", "demo-dev-worker"):
            functions[name] = lam.create_function(
                FunctionName=name,
                Runtime="ruby3.3",
                Role=function_role,
                Handler="handler.lambda_handler",
                Code={"ZipFile": handler_zip()},
            )["FunctionArn"]
        lam.add_permission(
            FunctionName="demo-dev-controller",
            StatementId="ApiGatewayInvoke",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
        )
        return {
            "topic_arn": topic,
            "queue_arn": queue_arn,
            "queue_without_policy_arn": f"arn:aws:sqs:us-east-1:{account}:deploy-dlq",
            "function_arn": functions["demo-dev-controller"],
            "function_without_policy_arn": functions["demo-dev-worker"],
        }


class DirectOrganizations:
    """The Organizations calls ``generated_org`` makes, answered by moto's backend in the
    calling process instead of through the API: seeding thousands of accounts through the API
    takes minutes (about 80 s per 1,000 accounts on a 2-core machine). Only usable inside the
    server's process (``scripts/bench-org`` runs it there); the organization is the same."""

    class exceptions:  # noqa: N801 - mirrors boto3's `client.exceptions`
        ClientError = Exception

    def __init__(self) -> None:
        from moto.organizations.models import organizations_backends

        self.backend = organizations_backends[MANAGEMENT_ACCOUNT]["aws"]

    def create_organization(self, **kwargs: Any) -> dict:
        return self.backend.create_organization(region="us-east-1", **kwargs)

    def list_roots(self) -> dict:
        return self.backend.list_roots()

    def enable_policy_type(self, **kwargs: Any) -> dict:
        return self.backend.enable_policy_type(**kwargs)

    def create_organizational_unit(self, **kwargs: Any) -> dict:
        return self.backend.create_organizational_unit(**kwargs)

    def create_account(self, **kwargs: Any) -> dict:
        return self.backend.create_account(**kwargs)

    def move_account(self, **kwargs: Any) -> None:
        self.backend.move_account(**kwargs)

    def create_policy(self, **kwargs: Any) -> dict:
        return self.backend.create_policy(**kwargs)

    def attach_policy(self, **kwargs: Any) -> None:
        self.backend.attach_policy(**kwargs)

    def detach_policy(self, **kwargs: Any) -> None:
        self.backend.detach_policy(**kwargs)


def handler_zip() -> bytes:
    """A function package: one Ruby file (moto stores it; nothing runs it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("handler.rb", "def lambda_handler(event:, context:) = event\n")
    return out.getvalue()


SCENARIOS = {
    "jets-demo": Seeder.jets_demo,
    "failed-deploy": Seeder.failed_deploy,
    "no-org": Seeder.no_org,
    "resource-policies": Seeder.resource_policies,
    "generated-org": Seeder.generated_org,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--random-seed", type=int, default=7, help="seed for moto's random ids")
    parser.add_argument("--accounts", type=int, default=200, help="generated-org: accounts")
    parser.add_argument("--ous", type=int, default=25, help="generated-org: OUs")
    parser.add_argument("--scps", type=int, default=25, help="generated-org: SCPs")
    args = parser.parse_args()
    seeder = Seeder(args.endpoint)
    seeder.seed_random(args.random_seed)
    if args.scenario == "generated-org":
        summary = seeder.generated_org(args.accounts, args.ous, args.scps)
    else:
        summary = SCENARIOS[args.scenario](seeder)
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
