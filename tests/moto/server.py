"""Local AWS for iam-doctor's tests: moto's server plus what moto lacks.

One endpoint serves every AWS service moto implements (IAM, STS, Organizations, ...). A WSGI
wrapper in front of moto adds:

* IAM ``SimulatePrincipalPolicy``, which moto does not implement. This is a SCRIPTED STAND-IN
  FOR IAM'S SIMULATOR: DECISIONS ARE COMPUTED BY THE SIMPLE RULE IN THIS FILE, NOT BY AWS. The
  rule reads the real policies stored in moto (inline, attached managed, permissions boundary,
  a user's groups; SCPs from the account's parents up to the root) and is written independently
  of iam-doctor's Rust engine, so a test that compares the two checks one against the other.
  The rule, deliberately small:
    - ``Action``/``NotAction`` match with ``*``/``?`` wildcards, case-insensitively;
      ``Resource``/``NotResource`` the same, case-sensitively.
    - An explicit ``Deny`` wins over any ``Allow``.
    - Conditions: only ``StringEquals``, ``StringNotEquals``, ``StringLike`` and ``StringNotLike``,
      against the request's ``ContextEntries``. Any other operator, or a key that was not
      supplied, makes the statement not apply; an unsupplied key of an identity or boundary
      statement is reported in ``MissingContextValues`` (SCP keys never are, as in AWS).
    - SCPs: an action needs an ``Allow`` at every level (root, each OU, the account) and no
      ``Deny`` anywhere. The management account is exempt, and so is an organization whose root
      does not have ``SERVICE_CONTROL_POLICY`` enabled. SCP statements never appear in
      ``MatchedStatements``; an SCP denial shows only as ``AllowedByOrganizations=false``.
    - Permissions boundary statements are not listed in ``MatchedStatements`` either; the
      boundary shows as ``AllowedByPermissionsBoundary``.
    - RCPs are not evaluated (the real simulator does not either).
    - ``ResourcePolicy`` (with ``ResourceOwner``, and ``CallerArn`` when ``PolicySourceArn`` is not
      a user), which IAM's API reference says is evaluated "for IAM users only", takes part as
      the same-account evaluation logic of the IAM user guide
      (reference_policies_evaluation-logic.html, access_policies_boundaries.html) describes:
      every requested resource is treated as carrying it; a ``Deny`` of it whose ``Principal``
      matches the caller wins; an ``Allow`` naming the caller's user ARN, or ``*``, grants on its
      own (identity policy and permissions boundary need not allow); an ``Allow`` naming only the
      account (``ACCOUNT``, ``arn:aws:iam::ACCOUNT:root``) delegates to the identity policies and
      grants nothing by itself; ``Service`` principals never match a user; ``NotPrincipal``
      statements apply to every caller not listed. Its matched statements are reported with
      ``SourcePolicyType`` ``resource``. A ``ResourceOwner`` other than the caller's account is
      refused (``InvalidInput``): the rule covers the same account only.
  The response follows IAM's Query XML shape: identity statements are reported with
  ``SourcePolicyType`` ``IAM Policy`` and ``SourcePolicyId`` ``role_<role>_<policy>`` (also
  ``user_``/``group_``) for inline policies or the policy name for managed ones, as in the
  samples of IAM's API reference and in outputs users have posted.

* IAM ``SimulateCustomPolicy``, which moto does not implement either: the SAME SCRIPTED
  STAND-IN, NOT AWS. Decisions come from the rule above applied to the supplied documents only
  (nothing stored in moto takes part): ``PolicyInputList.member.N`` (identity policies,
  reported as ``SourcePolicyId`` ``PolicyInputList.N``), ``PermissionsBoundaryPolicyInputList``
  (at most one, as IAM documents), and the SCP levels of
  ``OrderedOrganizationPolicyInputList.member.N.ServiceControlPolicyInputList.member.M`` (the
  wire shape aws-sdk-iam 1.133 sends), root first: each level must allow and a Deny anywhere
  wins; ``OrganizationsDecisionDetail`` is present only when levels were sent. ``ActionNames``,
  ``ResourceArns``, ``ContextEntries``, ``MaxItems``/``Marker`` and the result-shape and
  short-page quirks work as for SimulatePrincipalPolicy. ``CallerArn`` must be an IAM user,
  group or role ARN (``InvalidInput`` otherwise, as documented); ``ResourcePolicy`` is refused
  (``InvalidInput``) because the rule does not evaluate resource policies; an unparsable
  document gives ``MalformedPolicyDocument``.

* STS ``DecodeAuthorizationMessage``, which moto does not implement: SCRIPTED, NOT AWS. AWS
  encrypts the request behind an authorization failure; here a test registers, through
  ``POST /_iamdoctor/authorization-messages {"messages": {"ENCODED": {...decoded...}}}``, the
  decoded document an encoded message stands for, and the call answers it as the
  ``DecodedMessage`` string (STS API reference, ``API_DecodeAuthorizationMessage.html``; the
  document's shape is the AWS CLI example's, ``tests/fixtures/decoded-authorization``). An
  unregistered message gets ``InvalidAuthorizationMessageException`` (400), the error the API
  reference lists for an invalid or expired message. Denying the call itself is a fault rule
  (``{"target": "DecodeAuthorizationMessage", "error": "AccessDenied"}``).

* CloudTrail ``LookupEvents``, whose event history moto does not hold: SCRIPTED, NOT AWS. A
  test records events through ``POST /_iamdoctor/cloudtrail-events {"events": [RECORD, ...]}``
  (each RECORD a CloudTrail record as ``CloudTrailEvent`` carries it: ``eventTime``,
  ``eventSource``, ``eventName``, ``awsRegion``, ``userIdentity``, ``errorCode`` ...), and
  LookupEvents answers them as the CloudTrail API reference (``API_LookupEvents.html``,
  ``API_Event.html``) describes: the events of the request's Region only, newest first, within
  ``StartTime``/``EndTime``, filtered by at most one ``LookupAttributes`` item (more is
  ``InvalidLookupAttributesException``), at most ``MaxResults`` (1 to 50, default 50; else
  ``InvalidMaxResultsException``) per page with a ``NextToken``; each ``Event`` with
  ``EventId``, ``EventName``, ``ReadOnly``, ``EventTime`` (epoch seconds), ``EventSource``,
  ``Username`` (an assumed role's session name, an IAM user's name), ``Resources`` and the
  record as the ``CloudTrailEvent`` string. Its rate limit is AWS's: a third request within
  one second is refused with ``ThrottlingException`` (counted as ``lookup_throttled`` in the
  stats). ``DELETE /_iamdoctor/cloudtrail-events`` forgets the events.

* The record of a failed deploy, where moto cannot hold it (SCRIPTED, NOT AWS, each labelled
  with the response header ``x-iamdoctor-scripted``):
    - CloudFormation ``DescribeStackEvents``: moto records only the events of its own stack
      operations, which never fail on authorization and have no nested stacks. Events
      registered with ``POST /_iamdoctor/stack-events`` are answered for their stack (by name
      or stack id, in the registered region only), newest first as given, paged by
      ``page_size`` with an opaque ``NextToken``, in the Query XML shape of the API reference's
      sample (``DescribeStackEventsResult/StackEvents/member``). Any other stack is moto's own
      (a missing one is moto's ``ValidationError``).
    - CodeBuild ``BatchGetBuilds``: moto leaves ``logs.groupName``/``streamName`` unset and never
      lists ``buildsNotFound``. The wrapper fills them as CodeBuild does by default (group
      ``/aws/codebuild/<project>``, stream the part of the build id after ``:``) unless the
      project's ``logsConfig.cloudWatchLogs`` names a group or stream, and lists the ids moto did
      not find in ``buildsNotFound`` (API reference, BatchGetBuilds response).
    - CodeBuild ``ListBuildsForProject``: moto lists builds oldest first whatever ``sortOrder``
      says; the wrapper answers newest first, the documented default (``DESCENDING``, by build
      number), unless ``ASCENDING`` is asked.
    - CloudWatch Logs ``FilterLogEvents``: moto treats a pattern that starts with ``?`` as
      matching every event. The wrapper applies the documented alternative-terms form (``?term``
      or ``?"a phrase"``: an event matches when it contains any of them, case-sensitively) to
      moto's answer. Other patterns are moto's own.

* Fault injection, latency, call statistics and a chosen caller identity, through
  ``/_iamdoctor/...`` control endpoints (JSON), so tests can exercise retries, throttling,
  access errors and concurrency limits.

* AWS managed policies on demand: moto can load all ~1,600 of them into every account, which
  makes ``GetAccountAuthorizationDetails`` list them all. Instead, a managed policy under
  ``arn:aws:iam::aws:policy/`` is copied from moto's own data into the account the first time
  a request names it (attach, get, boundary), so the account shows what is in use, as AWS does.

* Organizations calls from a member account are answered from the management account's
  organization (moto would answer "not found"), as if the caller had delegated read access;
  ``POST /_iamdoctor/quirks {"member_org_access": "denied"}`` answers them with
  ``AccessDeniedException`` instead, as AWS does for a member without delegation.

* Faults for S3: ``GET /BUCKET?policy`` is named ``s3:GetBucketPolicy`` (stats and fault
  targets), and an injected S3 error has S3's REST XML shape (``<Error><Code>``). S3 bucket
  policies, KMS key policies and ECR repository policies themselves are moto's own, and so
  are SNS topic policies, SQS queue policies and Lambda function policies. Lambda's
  ``GET /2015-03-31/functions/NAME/policy`` is named ``lambda:GetPolicy``, and an injected
  Lambda error has the REST-JSON shape (``x-amzn-ErrorType``).

Control endpoints (all JSON):
  POST   /_iamdoctor/faults   {"rules": [{"target": "SimulatePrincipalPolicy",
                               "error": "Throttling", "count": 1, "status": 400,
                               "message": "...", "params": {"ChildId": "..."}}]}
                              target: an operation name, "service:Operation", "service:*" or
                              "*"; count omitted: every matching call fails; params (optional):
                              all must equal the request's parameters. Adds to current rules.
                              "retry_after_ms": n (optional) adds the AWS header
                              ``x-amz-retry-after: n`` (milliseconds), which the AWS SDKs use as
                              the delay before the next attempt instead of their own backoff:
                              a test of "still throttled after every retry" then takes
                              milliseconds instead of the half minute of real backoff.
  DELETE /_iamdoctor/faults   clears all rules
  POST   /_iamdoctor/latency  {"ms": 30}: added to every AWS call
  GET    /_iamdoctor/stats    {"calls": {"iam:SimulatePrincipalPolicy": n, ...},
                               "max_in_flight": n, "in_flight": n, "faults_fired": n,
                               "lookup_throttled": n}
  DELETE /_iamdoctor/stats    resets the counters
  POST   /_iamdoctor/caller   {"arn": "arn:aws:sts::111122223333:assumed-role/Role/session"}:
                              STS GetCallerIdentity answers this ARN, and every AWS call without
                              an explicit x-moto-account-id header runs in the ARN's account.
                              {"arn": null} or DELETE: back to moto's default caller.
  POST   /_iamdoctor/quirks   {"simulate_result_shape": "per-resource" | "per-action",
                               "simulate_short_pages": bool | n, "org_empty_pages": bool,
                               "member_org_access": "read" | "denied",
                               "org_target_page_size": n}
                              simulate_short_pages: true answers half of MaxItems per page,
                              a number n answers at most n results per page (both simulators).
                              org_target_page_size: n > 0 pages ListTargetsForPolicy at most n
                              targets a page (AWS pages it by MaxResults, at most 20; moto answers
                              every target in one page): the wrapper slices moto's answer and
                              issues its own NextToken.
  POST   /_iamdoctor/authorization-messages  {"messages": {"ENCODED": {decoded document}}}
  POST   /_iamdoctor/cloudtrail-events       {"events": [CloudTrail record, ...]}
  DELETE /_iamdoctor/cloudtrail-events       forgets the recorded events
  POST   /_iamdoctor/stack-events
                              {"region": "eu-west-1", "page_size": 100, "stacks": [{"name":
                               "demo-dev", "id": "arn:aws:cloudformation:...:stack/demo-dev/..",
                               "events": [{"LogicalResourceId": "...", "ResourceType": "...",
                               "ResourceStatus": "CREATE_FAILED", "ResourceStatusReason": "...",
                               "Timestamp": "2026-11-23T10:12:43Z", "PhysicalResourceId": "..."},
                               ...]}]}: scripted DescribeStackEvents answers (newest first);
                              StackId/StackName default to the stack's. DELETE clears them.
  POST   /_iamdoctor/reset    resets moto's state and every setting above
  GET    /_iamdoctor/health   {"ok": true}

Usage: python server.py PORT [--exit-on-stdin-eof]
PORT 0 picks a free port. Prints "READY <port>" once listening. With --exit-on-stdin-eof the
server stops when its stdin closes, so it never outlives a test process that crashed.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

# MOTO_ACCOUNT_ID would override the per-request account that the caller setting relies on.
os.environ.pop("MOTO_ACCOUNT_ID", None)

from werkzeug.serving import make_server  # noqa: E402

from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
CONTROL_PREFIX = "/_iamdoctor/"
DEFAULT_ACCOUNT = "123456789012"
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"
# Sent as a header with every simulated answer, so no one mistakes it for AWS's verdict.
STAND_IN_LABEL = (
    "scripted stand-in for IAM's simulator: decisions computed by this simple rule, not by AWS"
)

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")

# Default HTTP status and message per error code, used when a fault rule gives none.
ERROR_DEFAULTS: dict[str, tuple[int, str]] = {
    "Throttling": (400, "Rate exceeded"),
    "ThrottlingException": (400, "Rate exceeded"),
    "TooManyRequestsException": (
        400,
        "You have sent too many requests in too short a period of time. The quota helps "
        "protect against denial-of-service attacks. Try again later.",
    ),
    "AccessDenied": (403, "User: {caller} is not authorized to perform: {action}"),
    "AccessDeniedException": (400, "You don't have permissions to access this resource."),
    "AWSOrganizationsNotInUseException": (
        400,
        "Your account is not a member of an organization.",
    ),
    "ServiceUnavailable": (503, "Service is unavailable"),
    "ServiceUnavailableException": (503, "Service is unavailable"),
    "InternalFailure": (500, "An internal error occurred"),
    "ServiceFailure": (500, "An internal error occurred"),
    "ServiceException": (500, "An internal error occurred"),
    "NoSuchEntity": (404, "The entity could not be found."),
    "InvalidClientTokenId": (403, "The security token included in the request is invalid."),
    "ExpiredToken": (400, "The security token included in the request is expired"),
}

# Organizations list operations and the key holding their items (for the empty-page quirk).
ORG_LIST_KEYS = {
    "ListParents": "Parents",
    "ListChildren": "Children",
    "ListRoots": "Roots",
    "ListPoliciesForTarget": "Policies",
    "ListPolicies": "Policies",
    "ListAccounts": "Accounts",
    "ListAccountsForParent": "Accounts",
    "ListOrganizationalUnitsForParent": "OrganizationalUnits",
    "ListTargetsForPolicy": "Targets",
}
EMPTY_PAGE_TOKEN = "iamdoctor-empty-page"
TARGETS_TOKEN = "iamdoctor-targets-"
# What a member account may call without delegated access.
ORG_MEMBER_ALLOWED = {"DescribeOrganization", "LeaveOrganization"}


# --------------------------------------------------------------------------------------------
# Wrapper state
# --------------------------------------------------------------------------------------------


@dataclass
class FaultRule:
    target: str
    error: str
    count: int | None
    status: int | None
    message: str | None
    params: dict[str, str]
    retry_after_ms: int | None = None

    def matches(self, service: str, operation: str, params: dict[str, str]) -> bool:
        t = self.target
        if t not in ("*", operation, f"{service}:{operation}", f"{service}:*"):
            return False
        return all(params.get(k) == v for k, v in self.params.items())


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    rules: list[FaultRule] = field(default_factory=list)
    latency_ms: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    faults_fired: int = 0
    caller_arn: str | None = None
    quirks: dict[str, Any] = field(default_factory=dict)
    # ListTargetsForPolicy answers being paged by the wrapper (org_target_page_size).
    target_listings: dict[str, list] = field(default_factory=dict)
    # Scripted DecodeAuthorizationMessage: encoded message -> decoded document.
    authorization_messages: dict[str, Any] = field(default_factory=dict)
    # Scripted CloudTrail event history, and the times of recent LookupEvents requests.
    trail_events: list[dict[str, Any]] = field(default_factory=list)
    lookup_times: list[float] = field(default_factory=list)
    lookup_throttled: int = 0
    # Scripted DescribeStackEvents: (region, stack name or id) -> (stack, page size).
    stack_events: dict[tuple[str, str], tuple[dict, int]] = field(default_factory=dict)

    def reset_settings(self) -> None:
        with self.lock:
            self.rules = []
            self.latency_ms = 0
            self.caller_arn = None
            self.quirks = default_quirks()
            self.stack_events = {}
            self.calls = {}
            self.max_in_flight = self.in_flight
            self.faults_fired = 0
            self.authorization_messages = {}
            self.trail_events = []
            self.lookup_times = []
            self.lookup_throttled = 0


def default_quirks() -> dict[str, Any]:
    return {
        "simulate_result_shape": "per-resource",
        "simulate_short_pages": False,
        "org_empty_pages": False,
        "member_org_access": "read",
        "org_target_page_size": 0,
    }


STATE = State(quirks=default_quirks())


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def request_id() -> str:
    return str(uuid.uuid4())


def json_response(start_response: Any, status: int, body: Any, headers: list | None = None):
    data = json.dumps(body).encode()
    hdrs = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(f"{status} {status_text(status)}", hdrs + (headers or []))
    return [data]


def raw_response(start_response: Any, status: int, body: str, content_type: str, extra=None):
    data = body.encode()
    hdrs = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(data))),
        ("x-amzn-RequestId", request_id()),
    ]
    start_response(f"{status} {status_text(status)}", hdrs + (extra or []))
    return [data]


def status_text(status: int) -> str:
    return {
        200: "OK",
        400: "Bad Request",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }.get(status, "Status")


def query_error(start_response, namespace: str, status: int, code: str, message: str, extra=None):
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id()}</RequestId>"
        "</ErrorResponse>"
    )
    return raw_response(start_response, status, body, "text/xml", extra)


def s3_error(start_response, status: int, code: str, message: str, extra=None):
    """S3's REST XML error shape: ``<Error>`` at the root, as S3's API reference shows it."""
    body = (
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{request_id()}</RequestId></Error>"
    )
    return raw_response(start_response, status, body, "application/xml", extra)


def json_error(start_response, status: int, code: str, message: str, extra=None):
    body = json.dumps({"__type": code, "Message": message})
    return raw_response(
        start_response,
        status,
        body,
        "application/x-amz-json-1.1",
        [("x-amzn-ErrorType", code)] + (extra or []),
    )


def read_body(environ: dict) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    set_body(environ, body)
    return body


def set_body(environ: dict, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def flat_params(environ: dict, body: bytes) -> dict[str, str]:
    """Query-protocol parameters (form body and query string) or top-level JSON fields."""
    params: dict[str, str] = {}
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace")):
        if not source:
            continue
        if source.lstrip().startswith("{"):
            try:
                doc = json.loads(source)
            except ValueError:
                continue
            for k, v in doc.items():
                if isinstance(v, (str, int, float, bool)):
                    params[k] = str(v)
            continue
        for k, vs in parse_qs(source, keep_blank_values=True).items():
            params[k] = vs[-1]
    return params


def classify(environ: dict, params: dict[str, str]) -> tuple[str, str]:
    """(service, operation) of an AWS request, from its SigV4 scope and target or Action."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = CREDENTIAL_SCOPE.search(auth)
    service = m.group(2) if m else "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        operation = target.split(".")[-1]
    elif service == "s3":
        operation = s3_operation(environ)
    elif service == "lambda":
        operation = lambda_operation(environ)
    else:
        operation = params.get("Action", environ.get("REQUEST_METHOD", "?"))
    return service, operation


def s3_operation(environ: dict) -> str:
    """The S3 REST operations iam-doctor calls, by method and subresource; the HTTP method for
    any other S3 request (the seed's)."""
    method = environ.get("REQUEST_METHOD", "?")
    subresources = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if method == "GET" and "policy" in subresources:
        return "GetBucketPolicy"
    return method


def lambda_operation(environ: dict) -> str:
    """The Lambda REST operation iam-doctor calls (``GetPolicy``); the HTTP method otherwise."""
    method = environ.get("REQUEST_METHOD", "?")
    if method == "GET" and re.fullmatch(r"/[^/]+/functions/[^/]+/policy/?", environ.get("PATH_INFO", "")):
        return "GetPolicy"
    return method


def account_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and re.fullmatch(r"\d{12}", parts[4]):
        return parts[4]
    return None


def request_account(environ: dict) -> str:
    """The account moto will use for this request (header, else access key, else default)."""
    explicit = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
    if explicit:
        return explicit
    m = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    if m:
        from moto.iam.models import get_account_id_from

        return get_account_id_from(m.group(1))
    return DEFAULT_ACCOUNT


# --------------------------------------------------------------------------------------------
# AWS managed policies on demand
# --------------------------------------------------------------------------------------------

_AWS_POLICY_DATA: dict[str, Any] | None = None
_AWS_POLICY_LOCK = threading.RLock()


def aws_policy_data() -> dict[str, Any]:
    global _AWS_POLICY_DATA
    with _AWS_POLICY_LOCK:
        if _AWS_POLICY_DATA is None:
            from moto.iam.aws_managed_policies import aws_managed_policies_data

            _AWS_POLICY_DATA = json.loads(aws_managed_policies_data)
        return _AWS_POLICY_DATA


def ensure_aws_managed(account: str, arn: str) -> Any | None:
    """The AWS managed policy ``arn`` in ``account``'s IAM backend, copied in on first use."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    with _AWS_POLICY_LOCK:
        backend = iam_backends[account]["aws"]
        existing = backend.managed_policies.get(arn)
        if existing is not None:
            return existing
        name = arn.rsplit("/", 1)[-1]
        data = aws_policy_data().get(name)
        if data is None:
            return None
        policy = AWSManagedPolicy.from_data(name, account, "us-east-1", data)
        if policy.arn != arn:
            return None
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[policy.arn] = policy
        return policy


def materialise_named_aws_policies(account: str, params: dict[str, str]) -> None:
    for value in params.values():
        if value.startswith(AWS_MANAGED_PREFIX):
            ensure_aws_managed(account, value)


# --------------------------------------------------------------------------------------------
# The simulator's rule
# --------------------------------------------------------------------------------------------

SUPPORTED_CONDITIONS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike"}
DECISION_RANK = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def wildcard(pattern: str, value: str, case_insensitive: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.IGNORECASE | re.DOTALL if case_insensitive else re.DOTALL
    return re.fullmatch(regex, value, flags) is not None


class SimError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Stmt:
    body: dict
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass
class Source:
    """One policy document taking part in a simulation."""

    policy_id: str
    kind: str  # inline | aws-managed | user-managed | permission-boundary | input
    arn: str | None
    attachment: tuple[str, str] | None  # (user|group|role, entity name) for inline policies
    name: str
    statements: list[Stmt]


def decode_document(text: Any) -> str:
    if isinstance(text, dict):
        return json.dumps(text)
    text = str(text)
    try:
        json.loads(text)
        return text
    except ValueError:
        return unquote(text)


def skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def parse_statements(text: str) -> list[Stmt]:
    """Statements of a policy with the 1-based line/column of their opening and closing braces."""
    text = decode_document(text)
    doc = json.loads(text)
    spans: list[tuple[int, int]] = []
    dec = json.JSONDecoder()
    i = skip_ws(text, 0)
    if i < len(text) and text[i] == "{":
        i += 1
        while True:
            i = skip_ws(text, i)
            if i >= len(text) or text[i] == "}":
                break
            key, i = dec.raw_decode(text, i)
            i = skip_ws(text, i) + 1  # the colon
            i = skip_ws(text, i)
            value_start = i
            _, i = dec.raw_decode(text, i)
            if key == "Statement":
                if text[value_start] == "[":
                    j = value_start + 1
                    while True:
                        j = skip_ws(text, j)
                        if text[j] == "]":
                            break
                        _, k = dec.raw_decode(text, j)
                        spans.append((j, k - 1))
                        j = skip_ws(text, k)
                        if text[j] == ",":
                            j += 1
                else:
                    spans.append((value_start, i - 1))
            i = skip_ws(text, i)
            if i < len(text) and text[i] == ",":
                i += 1
    bodies = as_list(doc.get("Statement"))
    out = []
    for n, body in enumerate(bodies):
        if not isinstance(body, dict):
            continue
        start, end = spans[n] if n < len(spans) else (0, 0)
        out.append(Stmt(body, line_col(text, start), line_col(text, end)))
    return out


def context_lookup(context: dict[str, list[str]], key: str) -> list[str] | None:
    return context.get(key.lower())


def statement_applies(
    stmt: dict, action: str, resource: str, context: dict[str, list[str]]
) -> tuple[bool, list[str]]:
    """Whether a statement applies to the request, and the context keys it lacked."""
    if "Action" in stmt:
        if not any(wildcard(p, action, True) for p in as_list(stmt["Action"])):
            return False, []
    elif "NotAction" in stmt:
        if any(wildcard(p, action, True) for p in as_list(stmt["NotAction"])):
            return False, []
    else:
        return False, []
    if "Resource" in stmt:
        if not any(wildcard(p, resource, False) for p in as_list(stmt["Resource"])):
            return False, []
    elif "NotResource" in stmt:
        if any(wildcard(p, resource, False) for p in as_list(stmt["NotResource"])):
            return False, []
    applies = True
    missing: list[str] = []
    for operator, block in (stmt.get("Condition") or {}).items():
        if not isinstance(block, dict):
            applies = False
            continue
        for key, wanted in block.items():
            supplied = context_lookup(context, key)
            if supplied is None:
                missing.append(key)
                applies = False
                continue
            if operator not in SUPPORTED_CONDITIONS:
                applies = False
                continue
            wanted = [str(w) for w in as_list(wanted)]
            if operator == "StringEquals":
                ok = any(s == w for s in supplied for w in wanted)
            elif operator == "StringNotEquals":
                ok = not any(s == w for s in supplied for w in wanted)
            elif operator == "StringLike":
                ok = any(wildcard(w, s, False) for s in supplied for w in wanted)
            else:
                ok = not any(wildcard(w, s, False) for s in supplied for w in wanted)
            if not ok:
                applies = False
    return applies, missing


@dataclass
class Outcome:
    decision: str
    matched: list[tuple[Source, Stmt]]
    missing: list[str]
    orgs_allowed: bool | None
    boundary_allowed: bool | None


@dataclass
class Principal:
    account: str
    identity: list[Source]
    boundary: Source | None
    scp_levels: list[list[Source]] | None  # root first; None when SCPs do not apply
    in_org: bool
    # ``ResourcePolicy`` of the request and the IAM user it is evaluated for (``CallerArn``, or
    # the ``PolicySourceArn`` user): None when no resource policy was given.
    resource_policy: Source | None = None
    caller_arn: str = ""


def names_caller(element: Any, caller_arn: str, account: str) -> str | None:
    """How a ``Principal`` element names the caller: "direct" for its user ARN or everyone
    (``*``), "account" for its account only (``ACCOUNT`` or ``arn:aws:iam::ACCOUNT:root``,
    which delegates to the account's identity policies), None when it does not name it
    (``Service`` and ``Federated`` principals never name an IAM user)."""
    if element == "*":
        return "direct"
    if not isinstance(element, dict):
        return None
    found = None
    for value in as_list(element.get("AWS")):
        if value == "*" or value == caller_arn:
            return "direct"
        if value in (account, f"arn:aws:iam::{account}:root"):
            found = "account"
    return found


def resource_statements(
    p: Principal, action: str, resource: str, context: dict[str, list[str]]
) -> tuple[list[tuple[Source, Stmt]], list[tuple[Source, Stmt]]]:
    """The resource policy's statements that deny the caller, and those that grant it on their
    own (an ``Allow`` naming its user ARN or ``*``). An ``Allow`` naming only the account grants
    nothing by itself: the identity policies must allow."""
    denies: list[tuple[Source, Stmt]] = []
    grants: list[tuple[Source, Stmt]] = []
    src = p.resource_policy
    if src is None:
        return denies, grants
    for st in src.statements:
        applies, _ = statement_applies(st.body, action, resource, context)
        if not applies:
            continue
        effect = st.body.get("Effect")
        if "NotPrincipal" in st.body:
            # NotPrincipal: every caller it does not list; AWS documents it with Deny only.
            listed = names_caller(st.body["NotPrincipal"], p.caller_arn, p.account)
            how = "direct" if listed is None and effect == "Deny" else None
        else:
            how = names_caller(st.body.get("Principal"), p.caller_arn, p.account)
        if how is None:
            continue
        if effect == "Deny":
            denies.append((src, st))
        elif effect == "Allow" and how == "direct":
            grants.append((src, st))
    return denies, grants


def evaluate(p: Principal, action: str, resource: str, context: dict[str, list[str]]) -> Outcome:
    orgs_allowed: bool | None = True if p.in_org else None
    scp_denied = scp_unallowed = False
    if p.scp_levels is not None:
        for level in p.scp_levels:
            level_allows = False
            for src in level:
                for st in src.statements:
                    applies, _ = statement_applies(st.body, action, resource, context)
                    if not applies:
                        continue
                    if st.body.get("Effect") == "Deny":
                        scp_denied = True
                    elif st.body.get("Effect") == "Allow":
                        level_allows = True
            if not level_allows:
                scp_unallowed = True
        orgs_allowed = not (scp_denied or scp_unallowed)

    boundary_allowed: bool | None = None
    boundary_denied = False
    missing: list[str] = []
    if p.boundary is not None:
        boundary_grants = False
        for st in p.boundary.statements:
            applies, miss = statement_applies(st.body, action, resource, context)
            missing.extend(miss)
            if applies and st.body.get("Effect") == "Deny":
                boundary_denied = True
            elif applies and st.body.get("Effect") == "Allow":
                boundary_grants = True
        boundary_allowed = boundary_grants and not boundary_denied

    if scp_denied:
        return Outcome("explicitDeny", [], [], False, boundary_allowed)
    if scp_unallowed:
        return Outcome("implicitDeny", [], [], False, boundary_allowed)

    denies: list[tuple[Source, Stmt]] = []
    allows: list[tuple[Source, Stmt]] = []
    for src in p.identity:
        for st in src.statements:
            applies, miss = statement_applies(st.body, action, resource, context)
            missing.extend(miss)
            if not applies:
                continue
            if st.body.get("Effect") == "Deny":
                denies.append((src, st))
            elif st.body.get("Effect") == "Allow":
                allows.append((src, st))
    missing = list(dict.fromkeys(missing))
    resource_denies, resource_grants = resource_statements(p, action, resource, context)
    if denies or resource_denies:
        return Outcome(
            "explicitDeny", denies + resource_denies, missing, orgs_allowed, boundary_allowed
        )
    if boundary_denied:
        return Outcome("explicitDeny", [], missing, orgs_allowed, boundary_allowed)
    if allows and (p.boundary is None or boundary_allowed):
        return Outcome("allowed", allows, missing, orgs_allowed, boundary_allowed)
    if resource_grants:
        # Same account: a resource policy naming the user grants on its own, and the
        # permissions boundary does not limit it (access_policies_boundaries.html).
        return Outcome("allowed", resource_grants, missing, orgs_allowed, boundary_allowed)
    return Outcome("implicitDeny", [], missing, orgs_allowed, boundary_allowed)


# ---- reading the principal from moto -------------------------------------------------------


def managed_source(policy: Any, kind: str | None = None) -> Source:
    doc = next((v.document for v in policy.versions if v.is_default), policy.versions[0].document)
    if kind is None:
        kind = "aws-managed" if ":iam::aws:policy" in policy.arn else "user-managed"
    return Source(policy.name, kind, policy.arn, None, policy.name, parse_statements(doc))


def inline_sources(entity_type: str, entity: Any) -> list[Source]:
    return [
        Source(
            f"{entity_type}_{entity.name}_{name}",
            "inline",
            None,
            (entity_type, entity.name),
            name,
            parse_statements(doc),
        )
        for name, doc in entity.policies.items()
    ]


def entity_sources(entity_type: str, entity: Any) -> list[Source]:
    out = inline_sources(entity_type, entity)
    out += [managed_source(pol) for pol in entity.managed_policies.values()]
    return out


def split_entity_arn(arn: str) -> tuple[str, str, str, str]:
    """(account, entity type, path, name) of an IAM user, group or role ARN."""
    m = re.fullmatch(r"arn:aws[\w-]*:iam::(\d{12}):(user|group|role)(/(?:.*/)?)?([^/]+)", arn)
    if not m:
        raise SimError(
            400,
            "InvalidInput",
            f"Invalid Entity Arn: {arn} does not clearly define entity type and name.",
        )
    return m.group(1), m.group(2), m.group(3) or "/", m.group(4)


def org_chain(account: str) -> tuple[bool, list[list[Source]] | None]:
    """Whether ``account`` is in an organization, and its SCP levels root first (None if exempt)."""
    from moto.organizations.models import organizations_backends

    own = organizations_backends[account]["aws"]
    if own.org is not None:
        return True, None  # the management account
    owner = organizations_backends.master_accounts.get(account)
    if owner is None:
        return False, None
    org_backend = organizations_backends[owner[0]][owner[1]]
    root = next((ou for ou in org_backend.ou if ou.type == "ROOT"), None)
    enabled = root is not None and any(
        t.get("Type") == "SERVICE_CONTROL_POLICY" and t.get("Status") == "ENABLED"
        for t in root.policy_types
    )
    if not enabled:
        return True, None
    node: Any = org_backend.get_account_by_id(account)
    chain = []
    while node is not None:
        chain.append(node)
        parent = node.parent_id
        node = next((ou for ou in org_backend.ou if ou.id == parent), None) if parent else None
    levels = []
    for node in reversed(chain):
        level = []
        for pol in node.attached_policies:
            if pol.type == "SERVICE_CONTROL_POLICY":
                level.append(
                    Source(pol.id, "scp", pol.arn, None, pol.name, parse_statements(pol.content))
                )
        levels.append(level)
    return True, levels


@dataclass
class Exclusions:
    types: set[str]
    arns: list[str]
    inline: list[tuple[str, str, str]]  # (policy name, attachment type, attachment name pattern)

    def excludes(self, src: Source) -> bool:
        if src.kind in self.types:
            return True
        if src.kind == "permission-boundary" and "permission-boundary" in self.types:
            return True
        if src.arn and any(wildcard(a, src.arn, False) for a in self.arns):
            return True
        if src.attachment:
            for name, att_type, att_name in self.inline:
                if (
                    name == src.name
                    and att_type == src.attachment[0]
                    and wildcard(att_name, src.attachment[1], False)
                ):
                    return True
        return False


def load_principal(
    arn: str, extra: list[str], boundary_override: list[str], excl: Exclusions
) -> Principal:
    from moto.iam.models import iam_backends

    account, entity_type, path, name = split_entity_arn(arn)
    backend = iam_backends[account]["aws"]
    identity: list[Source] = []
    boundary_arn = None
    if entity_type == "role":
        role = next((r for r in backend.roles.values() if r.name == name), None)
        if role is None or role.path != path:
            raise SimError(404, "NoSuchEntity", f"The role with name {name} cannot be found.")
        identity += entity_sources("role", role)
        boundary_arn = role.permissions_boundary_arn
    elif entity_type == "user":
        user = backend.users.get(name)
        if user is None or user.path != path:
            raise SimError(404, "NoSuchEntity", f"The user with name {name} cannot be found.")
        identity += entity_sources("user", user)
        for group in backend.groups.values():
            if any(u.name == user.name for u in group.users):
                identity += entity_sources("group", group)
        boundary_arn = getattr(user, "permissions_boundary_arn", None)
    else:
        group = backend.groups.get(name)
        if group is None or group.path != path:
            raise SimError(404, "NoSuchEntity", f"The group with name {name} cannot be found.")
        identity += entity_sources("group", group)

    for n, doc in enumerate(extra, start=1):
        identity.append(
            Source(f"PolicyInputList.{n}", "input", None, None, "", parse_statements(doc))
        )
    identity = [s for s in identity if not excl.excludes(s)]

    boundary = None
    if boundary_override:
        stmts = [st for doc in boundary_override for st in parse_statements(doc)]
        boundary = Source(
            "PermissionsBoundaryPolicyInputList.1", "permission-boundary", None, None, "", stmts
        )
    elif boundary_arn:
        pol = backend.managed_policies.get(boundary_arn)
        if pol is None and boundary_arn.startswith(AWS_MANAGED_PREFIX):
            pol = ensure_aws_managed(account, boundary_arn)
        if pol is not None:
            boundary = managed_source(pol, "permission-boundary")
    if boundary is not None and "permission-boundary" in excl.types:
        boundary = None

    in_org, levels = org_chain(account)
    if "scp" in excl.types:
        levels = None
    return Principal(account, identity, boundary, levels, in_org)


# ---- the SimulatePrincipalPolicy operation -------------------------------------------------


def members(params: dict[str, list[str]], prefix: str) -> list[str]:
    pattern = re.compile(re.escape(prefix) + r"\.member\.(\d+)$")
    found = [(int(m.group(1)), v[-1]) for k, v in params.items() if (m := pattern.match(k))]
    return [v for _, v in sorted(found)]


def struct_members(params: dict[str, list[str]], prefix: str) -> list[dict[str, Any]]:
    """``Prefix.member.N.Field[.member.M]`` parameters as a list of dicts (lists for members)."""
    pattern = re.compile(re.escape(prefix) + r"\.member\.(\d+)\.(.+)$")
    items: dict[int, dict[str, Any]] = {}
    for key, values in params.items():
        m = pattern.match(key)
        if not m:
            continue
        n, rest = int(m.group(1)), m.group(2)
        item = items.setdefault(n, {})
        sub = re.match(r"(.+)\.member\.(\d+)$", rest)
        if sub:
            item.setdefault(sub.group(1), {})[int(sub.group(2))] = values[-1]
        else:
            item[rest] = values[-1]
    out = []
    for n in sorted(items):
        item = items[n]
        for k, v in list(item.items()):
            if isinstance(v, dict):
                item[k] = [v[i] for i in sorted(v)]
        out.append(item)
    return out


def encode_marker(offset: int, total: int) -> str:
    raw = json.dumps({"offset": offset, "total": total}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_marker(marker: str, total: int) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(marker.encode()))
        offset = int(data["offset"])
        if data["total"] != total or not 0 <= offset <= total:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError) as err:
        raise SimError(
            400, "InvalidInput", "The marker is invalid or does not match this request."
        ) from err


def statement_xml(src: Source, st: Stmt) -> str:
    kind = "resource" if src.kind == "resource" else "IAM Policy"
    return (
        f"<member><SourcePolicyId>{escape(src.policy_id)}</SourcePolicyId>"
        f"<SourcePolicyType>{kind}</SourcePolicyType>"
        f"<StartPosition><Line>{st.start[0]}</Line><Column>{st.start[1]}</Column></StartPosition>"
        f"<EndPosition><Line>{st.end[0]}</Line><Column>{st.end[1]}</Column></EndPosition>"
        "</member>"
    )


def common_xml(o: Outcome) -> str:
    matched = "".join(statement_xml(s, st) for s, st in o.matched)
    missing = "".join(f"<member>{escape(k)}</member>" for k in o.missing)
    out = (
        f"<MatchedStatements>{matched}</MatchedStatements>"
        f"<MissingContextValues>{missing}</MissingContextValues>"
    )
    if o.boundary_allowed is not None:
        out += (
            "<PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>"
            f"{str(o.boundary_allowed).lower()}</AllowedByPermissionsBoundary>"
            "</PermissionsBoundaryDecisionDetail>"
        )
    return out


def resource_result_xml(resource: str, o: Outcome) -> str:
    return (
        f"<member><EvalResourceName>{escape(resource)}</EvalResourceName>"
        f"<EvalResourceDecision>{o.decision}</EvalResourceDecision>{common_xml(o)}"
        "<EvalDecisionDetails/></member>"
    )


def aggregate(outcomes: list[Outcome]) -> Outcome:
    worst = max(outcomes, key=lambda o: DECISION_RANK[o.decision]).decision
    matched: list[tuple[Source, Stmt]] = []
    seen = set()
    for o in outcomes:
        if o.decision != worst:
            continue
        for s, st in o.matched:
            key = (s.policy_id, st.start)
            if key not in seen:
                seen.add(key)
                matched.append((s, st))
    missing = list(dict.fromkeys(k for o in outcomes for k in o.missing))
    orgs = [o.orgs_allowed for o in outcomes if o.orgs_allowed is not None]
    bounds = [o.boundary_allowed for o in outcomes if o.boundary_allowed is not None]
    return Outcome(
        worst,
        matched,
        missing,
        all(orgs) if orgs else None,
        all(bounds) if bounds else None,
    )


def result_xml(
    action: str, resource_name: str, o: Outcome, per_resource: list[tuple[str, Outcome]] | None
) -> str:
    out = (
        f"<member><EvalActionName>{escape(action)}</EvalActionName>"
        f"<EvalResourceName>{escape(resource_name)}</EvalResourceName>"
        f"<EvalDecision>{o.decision}</EvalDecision>{common_xml(o)}"
    )
    if o.orgs_allowed is not None:
        out += (
            "<OrganizationsDecisionDetail><AllowedByOrganizations>"
            f"{str(o.orgs_allowed).lower()}</AllowedByOrganizations></OrganizationsDecisionDetail>"
        )
    if per_resource is not None:
        out += "<EvalDecisionDetails/><ResourceSpecificResults>"
        out += "".join(resource_result_xml(r, ro) for r, ro in per_resource)
        out += "</ResourceSpecificResults>"
    return out + "</member>"


def simulate_principal_policy(params: dict[str, list[str]]) -> str:
    """The SimulatePrincipalPolicy response body (scripted stand-in, see the file header)."""
    source_arn = (params.get("PolicySourceArn") or [""])[-1]
    actions = members(params, "ActionNames")
    if not source_arn or not actions:
        raise SimError(400, "ValidationError", "PolicySourceArn and ActionNames are required.")
    given_resources = members(params, "ResourceArns")
    context = request_context(params)
    exclusions = Exclusions(set(), [], [])
    for item in struct_members(params, "PolicyExclusionList"):
        if "PolicyType" in item:
            exclusions.types.add(item["PolicyType"])
        if "PolicyArn" in item:
            exclusions.arns.append(item["PolicyArn"])
        if "InlinePolicyIdentifier.PolicyName" in item:
            exclusions.inline.append(
                (
                    item["InlinePolicyIdentifier.PolicyName"],
                    item.get("InlinePolicyIdentifier.AttachmentType", ""),
                    item.get("InlinePolicyIdentifier.AttachmentName", "*"),
                )
            )
    max_items = max_items_of(params)
    try:
        principal = load_principal(
            source_arn,
            members(params, "PolicyInputList"),
            members(params, "PermissionsBoundaryPolicyInputList"),
            exclusions,
        )
    except (ValueError, KeyError) as err:
        raise SimError(500, "PolicyEvaluation", f"A policy could not be evaluated: {err}") from err
    add_resource_policy(principal, params, source_arn)
    return results_xml(
        "SimulatePrincipalPolicy", params, principal, actions, given_resources, context, max_items
    )


USER_ARN = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):user/(?:.*/)?[^/]+")


def add_resource_policy(principal: Principal, params: dict[str, list[str]], source_arn: str) -> None:
    """``ResourcePolicy``, ``ResourceOwner`` and ``CallerArn`` of a SimulatePrincipalPolicy call.
    IAM's API reference: the resource policy is evaluated "for IAM users only"; "CallerArn is
    required if you include a ResourcePolicy and the PolicySourceArn is not the ARN for an IAM
    user"; ResourceOwner "is required only if you specify a resource-based policy and account
    that owns the resource is different from the account that owns the simulated calling user"
    (this stand-in covers the same account only)."""
    document = (params.get("ResourcePolicy") or [None])[-1]
    if not document:
        return
    caller = (params.get("CallerArn") or [None])[-1] or source_arn
    m = USER_ARN.fullmatch(caller)
    if m is None:
        raise SimError(
            400,
            "InvalidInput",
            f"A ResourcePolicy is evaluated for IAM users only: {caller} is not an IAM user ARN "
            "(give CallerArn).",
        )
    owner = (params.get("ResourceOwner") or [None])[-1]
    if owner is not None:
        owner_account = account_of_arn(owner) or owner
        if owner_account != m.group(1):
            raise SimError(
                400,
                "InvalidInput",
                "iam-doctor's scripted stand-in evaluates a ResourcePolicy of the caller's own "
                f"account only, not of ResourceOwner {owner}.",
            )
    principal.resource_policy = input_source("ResourcePolicy", "resource", document)
    principal.caller_arn = caller


def max_items_of(params: dict[str, list[str]]) -> int:
    try:
        max_items = int((params.get("MaxItems") or ["100"])[-1])
    except ValueError:
        max_items = 0
    if not 1 <= max_items <= 1000:
        raise SimError(400, "ValidationError", "MaxItems must be between 1 and 1000.")
    return max_items


def request_context(params: dict[str, list[str]]) -> dict[str, list[str]]:
    """``ContextEntries.member.N`` as lower-cased key -> values."""
    context: dict[str, list[str]] = {}
    for entry in struct_members(params, "ContextEntries"):
        key = entry.get("ContextKeyName")
        if key:
            context[key.lower()] = as_list(entry.get("ContextKeyValues", []))
    return context


def results_xml(
    operation: str,
    params: dict[str, list[str]],
    principal: Principal,
    actions: list[str],
    given_resources: list[str],
    context: dict[str, list[str]],
    max_items: int,
) -> str:
    """One page of ``EvaluationResults`` (shape and paging quirks as in the file header)."""
    resources = given_resources or ["*"]
    per_action = STATE.quirks.get("simulate_result_shape") == "per-action"
    if per_action:
        keys: list[tuple[str, str | None]] = [(a, None) for a in actions]
    else:
        keys = [(a, r) for a in actions for r in resources]
    total = len(keys)
    marker = (params.get("Marker") or [None])[-1]
    offset = decode_marker(marker, total) if marker else 0
    page_size = max_items
    short = STATE.quirks.get("simulate_short_pages")
    if isinstance(short, int) and not isinstance(short, bool) and short > 0:
        page_size = min(max_items, short)
    elif short:
        page_size = max(1, max_items // 2)
    page = keys[offset : offset + page_size]
    next_offset = offset + len(page)

    members_xml = []
    for action, resource in page:
        if resource is not None:
            o = evaluate(principal, action, resource, context)
            per_res = [(resource, o)] if given_resources else None
            members_xml.append(result_xml(action, resource, o, per_res))
        else:
            outcomes = [(r, evaluate(principal, action, r, context)) for r in resources]
            agg = aggregate([o for _, o in outcomes])
            name = resources[0] if len(resources) == 1 else "*"
            members_xml.append(result_xml(action, name, agg, outcomes if given_resources else None))
    truncated = next_offset < total
    marker_xml = f"<Marker>{encode_marker(next_offset, total)}</Marker>" if truncated else ""
    return (
        f'<{operation}Response xmlns="{IAM_NS}"><{operation}Result>'
        f"<EvaluationResults>{''.join(members_xml)}</EvaluationResults>"
        f"<IsTruncated>{str(truncated).lower()}</IsTruncated>{marker_xml}"
        f"</{operation}Result>"
        f"<ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )


# ---- the SimulateCustomPolicy operation ----------------------------------------------------

ORG_LEVELS = "OrderedOrganizationPolicyInputList"
LEVEL_PARAM = re.compile(re.escape(ORG_LEVELS) + r"\.member\.(\d+)\.(.+)$")
LEVEL_SCP = re.compile(r"ServiceControlPolicyInputList\.member\.(\d+)")
# CallerArn: "the ARN of the IAM user, group, or role ... You cannot specify the ARN of an
# assumed role, federated user, or a service principal" (IAM API reference).
CALLER_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:(user|group|role)/(?:.*/)?[^/]+")


def organization_levels(params: dict[str, list[str]]) -> list[list[str]] | None:
    """SCP documents per level, root first, from
    ``OrderedOrganizationPolicyInputList.member.N.ServiceControlPolicyInputList.member.M`` (the
    shape aws-sdk-iam 1.133 sends). An empty list is sent as the bare parameter name, so a level
    may appear as ``...member.N.ServiceControlPolicyInputList=``: a level with no SCP. None when
    the list was not sent at all."""
    levels: dict[int, dict[int, str]] = {}
    sent = ORG_LEVELS in params
    for key, values in params.items():
        m = LEVEL_PARAM.match(key)
        if not m:
            continue
        sent = True
        level = levels.setdefault(int(m.group(1)), {})
        scp = LEVEL_SCP.fullmatch(m.group(2))
        if scp:
            level[int(scp.group(1))] = values[-1]
        elif m.group(2) != "ServiceControlPolicyInputList":
            raise SimError(400, "InvalidInput", f"Unknown parameter {key}.")
    if not sent:
        return None
    count = max(levels, default=0)
    return [
        [levels.get(n, {})[i] for i in sorted(levels.get(n, {}))] for n in range(1, count + 1)
    ]


def input_source(policy_id: str, kind: str, text: str) -> Source:
    try:
        return Source(policy_id, kind, None, None, "", parse_statements(text))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise SimError(
            400, "MalformedPolicyDocument", f"{policy_id} is not a valid policy: {err}"
        ) from err


def simulate_custom_policy(params: dict[str, list[str]]) -> str:
    """The SimulateCustomPolicy response body: SCRIPTED STAND-IN, decisions by the same simple
    rule as SimulatePrincipalPolicy (file header), from the supplied documents only: identity
    policies (``PolicyInputList``), at most one permissions boundary, and SCP levels root first
    (each level must allow, a Deny anywhere wins). Nothing stored in moto takes part."""
    actions = members(params, "ActionNames")
    if not actions:
        raise SimError(400, "ValidationError", "ActionNames is required.")
    policies = members(params, "PolicyInputList")
    if "PolicyInputList" not in params and not policies:
        raise SimError(
            400,
            "ValidationError",
            "1 validation error detected: Value null at 'policyInputList' failed to satisfy "
            "constraint: Member must not be null",
        )
    caller = (params.get("CallerArn") or [None])[-1]
    if caller is not None and not CALLER_ARN.fullmatch(caller):
        raise SimError(
            400,
            "InvalidInput",
            f"Invalid CallerArn {caller}: it must be an IAM user, group or role ARN, not an "
            "assumed role, federated user or service principal.",
        )
    if params.get("ResourcePolicy"):
        raise SimError(
            400,
            "InvalidInput",
            "ResourcePolicy is not evaluated by iam-doctor's scripted stand-in for the simulator.",
        )
    boundaries = members(params, "PermissionsBoundaryPolicyInputList")
    if len(boundaries) > 1:
        raise SimError(
            400, "InvalidInput", "You can input only one permissions boundary policy."
        )
    max_items = max_items_of(params)
    identity = [
        input_source(f"PolicyInputList.{n}", "input", doc)
        for n, doc in enumerate(policies, start=1)
    ]
    boundary = (
        input_source("PermissionsBoundaryPolicyInputList.1", "permission-boundary", boundaries[0])
        if boundaries
        else None
    )
    levels_docs = organization_levels(params)
    levels = None
    if levels_docs:
        levels = [
            [
                input_source(f"{ORG_LEVELS}.{n}.{i}", "scp", doc)
                for i, doc in enumerate(level, start=1)
            ]
            for n, level in enumerate(levels_docs, start=1)
        ]
    principal = Principal("", identity, boundary, levels, levels is not None)
    return results_xml(
        "SimulateCustomPolicy",
        params,
        principal,
        actions,
        members(params, "ResourceArns"),
        request_context(params),
        max_items,
    )


# --------------------------------------------------------------------------------------------
# STS GetCallerIdentity with a chosen caller
# --------------------------------------------------------------------------------------------


def caller_identity_xml(arn: str) -> str:
    from moto.iam.models import iam_backends

    account = account_of_arn(arn) or DEFAULT_ACCOUNT
    backend = iam_backends[account]["aws"]
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
    user_id = account
    if resource.startswith("assumed-role/"):
        parts = resource.split("/")
        role_name = parts[1] if len(parts) > 1 else ""
        session = parts[-1]
        role = next((r for r in backend.roles.values() if r.name == role_name), None)
        role_id = (
            role.id
            if role is not None
            else "AROA" + uuid.uuid5(uuid.NAMESPACE_URL, arn).hex[:17].upper()
        )
        user_id = f"{role_id}:{session}"
    elif resource.startswith("user/"):
        user = backend.users.get(resource.rsplit("/", 1)[-1])
        user_id = (
            user.id
            if user is not None
            else "AIDA" + uuid.uuid5(uuid.NAMESPACE_URL, arn).hex[:17].upper()
        )
    return (
        f'<GetCallerIdentityResponse xmlns="{STS_NS}"><GetCallerIdentityResult>'
        f"<Arn>{escape(arn)}</Arn><UserId>{escape(user_id)}</UserId>"
        f"<Account>{account}</Account></GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )


# --------------------------------------------------------------------------------------------
# SCRIPTED: STS DecodeAuthorizationMessage and CloudTrail LookupEvents (see the module doc)
# --------------------------------------------------------------------------------------------

# LookupEvents: "limited to two per second, per account, per Region" (API_LookupEvents.html).
LOOKUPS_PER_SECOND = 2
LOOKUP_PAGE_MAX = 50
TRAIL_ATTRIBUTES = {
    "EventId": "EventId",
    "EventName": "EventName",
    "ReadOnly": "ReadOnly",
    "Username": "Username",
    "EventSource": "EventSource",
    "AccessKeyId": "AccessKeyId",
}


def decode_authorization_message_xml(params: dict[str, str]) -> str | None:
    """The scripted answer, or None for a message no test registered."""
    encoded = params.get("EncodedMessage", "")
    with STATE.lock:
        decoded = STATE.authorization_messages.get(encoded)
    if decoded is None:
        return None
    return (
        f'<DecodeAuthorizationMessageResponse xmlns="{STS_NS}"><DecodeAuthorizationMessageResult>'
        f"<DecodedMessage>{escape(json.dumps(decoded, separators=(',', ':')))}</DecodedMessage>"
        "</DecodeAuthorizationMessageResult>"
        f"<ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata>"
        "</DecodeAuthorizationMessageResponse>"
    )


def epoch_of(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def trail_event(record: dict[str, Any]) -> dict[str, Any]:
    """An ``Event`` of LookupEvents for a CloudTrail record (API_Event.html)."""
    identity = record.get("userIdentity") or {}
    arn = identity.get("arn", "")
    if identity.get("type") == "AssumedRole":
        username = arn.rsplit("/", 1)[-1]
    else:
        username = identity.get("userName", "")
    event = {
        "EventId": record.get("eventID") or str(uuid.uuid4()),
        "EventName": record.get("eventName", ""),
        "ReadOnly": str(record.get("readOnly", False)).lower(),
        "AccessKeyId": identity.get("accessKeyId", ""),
        "EventTime": epoch_of(record["eventTime"]),
        "EventSource": record.get("eventSource", ""),
        "Username": username,
        "Resources": [
            {"ResourceType": r.get("type", ""), "ResourceName": r.get("ARN", "")}
            for r in record.get("resources") or []
        ],
        "CloudTrailEvent": json.dumps(record),
    }
    return {"event": event, "region": record.get("awsRegion", "")}


def lookup_events(environ: dict, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    now = time.monotonic()
    with STATE.lock:
        STATE.lookup_times = [t for t in STATE.lookup_times if now - t < 1.0]
        if len(STATE.lookup_times) >= LOOKUPS_PER_SECOND:
            STATE.lookup_throttled += 1
            return 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
        STATE.lookup_times.append(now)
        stored = list(STATE.trail_events)
    m = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    region = m.group(1) if m else "us-east-1"
    attributes = request.get("LookupAttributes") or []
    if len(attributes) > 1:
        return 400, {
            "__type": "InvalidLookupAttributesException",
            "message": "LookupAttributes can contain only one item",
        }
    max_results = int(request.get("MaxResults", LOOKUP_PAGE_MAX))
    if not 1 <= max_results <= LOOKUP_PAGE_MAX:
        return 400, {
            "__type": "InvalidMaxResultsException",
            "message": f"MaxResults must be between 1 and {LOOKUP_PAGE_MAX}",
        }
    start = float(request.get("StartTime", 0))
    end = float(request.get("EndTime", time.time()))
    if start > end:
        return 400, {"__type": "InvalidTimeRangeException", "message": "StartTime is after EndTime"}
    events = [
        e["event"]
        for e in stored
        if e["region"] == region and start <= e["event"]["EventTime"] <= end
    ]
    for a in attributes:
        key = TRAIL_ATTRIBUTES.get(a.get("AttributeKey", ""))
        if key is None:
            return 400, {
                "__type": "InvalidLookupAttributesException",
                "message": f"unsupported AttributeKey {a.get('AttributeKey')}",
            }
        events = [e for e in events if str(e.get(key, "")) == a.get("AttributeValue")]
    events.sort(key=lambda e: e["EventTime"], reverse=True)
    offset = 0
    token = request.get("NextToken")
    if token:
        try:
            offset = int(base64.b64decode(token).decode())
        except ValueError:
            return 400, {"__type": "InvalidNextTokenException", "message": "bad NextToken"}
    page = events[offset : offset + max_results]
    body: dict[str, Any] = {"Events": page}
    if offset + max_results < len(events):
        body["NextToken"] = base64.b64encode(str(offset + max_results).encode()).decode()
    return 200, body


# --------------------------------------------------------------------------------------------
# The WSGI wrapper
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# The record of a failed deploy: SCRIPTED where moto cannot hold it (see the header)
# --------------------------------------------------------------------------------------------

CFN_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
SCRIPTED_HEADER = "x-iamdoctor-scripted"
STACK_EVENT_FIELDS = (
    "StackId",
    "EventId",
    "StackName",
    "LogicalResourceId",
    "PhysicalResourceId",
    "ResourceType",
    "Timestamp",
    "ResourceStatus",
    "ResourceStatusReason",
)


def request_region(environ: dict) -> str:
    m = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return m.group(1) if m else "us-east-1"


def register_stack_events(payload: dict) -> dict:
    region = str(payload["region"])
    page_size = int(payload.get("page_size", 100))
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    with STATE.lock:
        for stack in payload["stacks"]:
            name, stack_id = str(stack["name"]), str(stack["id"])
            events = []
            for n, event in enumerate(stack["events"]):
                event = {str(k): str(v) for k, v in event.items()}
                unknown = set(event) - set(STACK_EVENT_FIELDS)
                if unknown:
                    raise KeyError(sorted(unknown))
                event.setdefault("StackId", stack_id)
                event.setdefault("StackName", name)
                event.setdefault("EventId", f"{event.get('LogicalResourceId', name)}-{n}")
                events.append(event)
            entry = ({"name": name, "id": stack_id, "events": events}, page_size)
            STATE.stack_events[(region, name)] = entry
            STATE.stack_events[(region, stack_id)] = entry
        return {"stacks": len(STATE.stack_events)}


def describe_stack_events_xml(stack: dict, page_size: int, token: str | None) -> str:
    events = stack["events"]
    start = decode_marker(token, len(events)) if token else 0
    page = events[start : start + page_size]
    members = "".join(
        "<member>"
        + "".join(f"<{k}>{escape(e[k])}</{k}>" for k in STACK_EVENT_FIELDS if k in e)
        + "</member>"
        for e in page
    )
    end = start + len(page)
    next_token = f"<NextToken>{encode_marker(end, len(events))}</NextToken>" if end < len(events) else ""
    return (
        f'<DescribeStackEventsResponse xmlns="{CFN_NS}"><DescribeStackEventsResult>'
        f"<StackEvents>{members}</StackEvents>{next_token}</DescribeStackEventsResult>"
        f"<ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata>"
        "</DescribeStackEventsResponse>"
    )


def alternative_terms(pattern: str) -> list[str] | None:
    """The terms of a ``?a ?"b c"`` filter pattern, or None for any other form."""
    terms = re.findall(r'\?(?:"([^"]*)"|(\S+))', pattern)
    rebuilt = " ".join(f'?"{q}"' if q else f"?{w}" for q, w in terms)
    if not terms or rebuilt != " ".join(pattern.split()):
        return None
    return [q or w for q, w in terms]


def complete_builds(response: dict, requested: list[str], account: str, region: str) -> dict:
    from moto.codebuild.models import codebuild_backends

    backend = codebuild_backends[account][region]
    found = set()
    for build in response.get("builds", []):
        found.add(build.get("id"))
        logs = build.setdefault("logs", {})
        project = build.get("projectName", "")
        config: dict = {}
        meta = backend.codebuild_projects.get(project)
        if meta is not None:
            config = (meta.project_metadata.get("logsConfig") or {}).get("cloudWatchLogs") or {}
        if config.get("status", "ENABLED") == "ENABLED":
            logs.setdefault("groupName", config.get("groupName") or f"/aws/codebuild/{project}")
            stream_id = str(build.get("id", "")).split(":", 1)[-1]
            prefix = config.get("streamName")
            logs.setdefault("streamName", f"{prefix}/{stream_id}" if prefix else stream_id)
    response["buildsNotFound"] = [i for i in requested if i not in found]
    return response


class Wrapper:
    def __init__(self, moto_app: Any):
        self.moto_app = moto_app

    def __call__(self, environ: dict, start_response: Any):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self.control(environ, start_response, path[len(CONTROL_PREFIX) :])
        if path.startswith("/moto-api"):
            return self.moto_app(environ, start_response)
        body = read_body(environ)
        params = flat_params(environ, body)
        service, operation = classify(environ, params)
        with STATE.lock:
            name = f"{service}:{operation}"
            STATE.calls[name] = STATE.calls.get(name, 0) + 1
            STATE.in_flight += 1
            STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
            latency = STATE.latency_ms
        try:
            if latency:
                time.sleep(latency / 1000)
            return self.aws_call(environ, start_response, body, params, service, operation)
        finally:
            with STATE.lock:
                STATE.in_flight -= 1

    # ---- AWS calls ---------------------------------------------------------------------

    def aws_call(self, environ, start_response, body, params, service, operation):
        caller = STATE.caller_arn
        if caller and not environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            caller_account = account_of_arn(caller)
            if caller_account:
                environ["HTTP_X_MOTO_ACCOUNT_ID"] = caller_account
        account = request_account(environ)
        is_json = bool(environ.get("HTTP_X_AMZ_TARGET"))

        rule = self.take_fault(service, operation, params)
        if rule is not None:
            status, message = ERROR_DEFAULTS.get(rule.error, (400, rule.error))
            status = rule.status or status
            message = rule.message or message.format(
                caller=caller or f"arn:aws:iam::{account}:user/moto",
                action=f"{service}:{operation}",
            )
            extra = []
            if rule.retry_after_ms is not None:
                extra.append(("x-amz-retry-after", str(rule.retry_after_ms)))
            if is_json or service == "lambda":
                return json_error(start_response, status, rule.error, message, extra)
            if service == "s3":
                return s3_error(start_response, status, rule.error, message, extra)
            ns = STS_NS if service == "sts" else IAM_NS
            return query_error(start_response, ns, status, rule.error, message, extra)

        if service == "iam":
            if operation == "SimulatePrincipalPolicy":
                return self.simulate(start_response, body, simulate_principal_policy)
            if operation == "SimulateCustomPolicy":
                return self.simulate(start_response, body, simulate_custom_policy)
            materialise_named_aws_policies(account, params)
        elif service == "sts" and operation == "GetCallerIdentity" and caller:
            return raw_response(start_response, 200, caller_identity_xml(caller), "text/xml")
        elif service == "sts" and operation == "DecodeAuthorizationMessage":
            xml = decode_authorization_message_xml(params)
            if xml is None:
                return query_error(
                    start_response,
                    STS_NS,
                    400,
                    "InvalidAuthorizationMessageException",
                    "The error returned if the message passed to DecodeAuthorizationMessage was "
                    "invalid. This can happen if the token contains invalid characters, such as "
                    "line breaks, or if the message has expired.",
                )
            return raw_response(start_response, 200, xml, "text/xml")
        elif service == "cloudtrail" and operation == "LookupEvents":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = {}
            status, answer = lookup_events(environ, request)
            if status != 200:
                return json_error(
                    start_response, status, answer["__type"], answer["message"]
                )
            return raw_response(
                start_response, 200, json.dumps(answer), "application/x-amz-json-1.1"
            )
        elif service == "organizations":
            routed = self.route_organizations(environ, start_response, body, account, operation)
            if routed is not None:
                return routed
        elif service == "cloudformation" and operation == "DescribeStackEvents":
            key = (request_region(environ), params.get("StackName", ""))
            with STATE.lock:
                scripted = STATE.stack_events.get(key)
            if scripted is not None:
                try:
                    xml = describe_stack_events_xml(
                        scripted[0], scripted[1], params.get("NextToken")
                    )
                except SimError as err:
                    return query_error(start_response, CFN_NS, 400, "ValidationError", err.message)
                return raw_response(
                    start_response, 200, xml, "text/xml", [(SCRIPTED_HEADER, "stack-events")]
                )
        elif service == "codebuild" and operation in ("BatchGetBuilds", "ListBuildsForProject"):
            return self.completed_codebuild(environ, start_response, body, operation)
        elif service == "logs" and operation == "FilterLogEvents":
            return self.filtered_log_events(environ, start_response, body)
        return self.moto_app(environ, start_response)

    def moto_answer(self, environ, body: bytes) -> tuple[str, list, bytes]:
        """moto's own response, to complete it before it is sent."""
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        set_body(environ, body)
        chunks = self.moto_app(environ, capture)
        data = b"".join(chunks)
        return captured["status"], captured["headers"], data

    def completed_codebuild(self, environ, start_response, body, operation):
        status, headers, data = self.moto_answer(environ, body)
        if not status.startswith("200"):
            start_response(status, headers)
            return [data]
        request = json.loads(body or b"{}")
        response = json.loads(data or b"{}")
        if operation == "BatchGetBuilds":
            response = complete_builds(
                response,
                [str(i) for i in request.get("ids", [])],
                request_account(environ),
                request_region(environ),
            )
        elif request.get("sortOrder", "DESCENDING") == "DESCENDING":
            response["ids"] = list(reversed(response.get("ids", [])))
        return raw_response(
            start_response,
            200,
            json.dumps(response),
            "application/x-amz-json-1.1",
            [(SCRIPTED_HEADER, f"codebuild {operation}")],
        )

    def filtered_log_events(self, environ, start_response, body):
        request = json.loads(body or b"{}")
        terms = alternative_terms(str(request.get("filterPattern", "")))
        status, headers, data = self.moto_answer(environ, body)
        if terms is None or not status.startswith("200"):
            start_response(status, headers)
            return [data]
        response = json.loads(data or b"{}")
        response["events"] = [
            e for e in response.get("events", []) if any(t in e.get("message", "") for t in terms)
        ]
        return raw_response(
            start_response,
            200,
            json.dumps(response),
            "application/x-amz-json-1.1",
            [(SCRIPTED_HEADER, "logs FilterLogEvents alternative terms")],
        )

    def take_fault(self, service: str, operation: str, params: dict[str, str]) -> FaultRule | None:
        with STATE.lock:
            for rule in STATE.rules:
                if rule.count is not None and rule.count <= 0:
                    continue
                if rule.matches(service, operation, params):
                    if rule.count is not None:
                        rule.count -= 1
                    STATE.faults_fired += 1
                    return rule
        return None

    def simulate(self, start_response, body: bytes, operation):
        params = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        try:
            xml = operation(params)
        except SimError as err:
            return query_error(start_response, IAM_NS, err.status, err.code, err.message)
        return raw_response(
            start_response, 200, xml, "text/xml", [("x-iamdoctor-simulator", STAND_IN_LABEL)]
        )

    def route_organizations(self, environ, start_response, body, account, operation):
        from moto.organizations.models import organizations_backends

        owner = organizations_backends.master_accounts.get(account)
        if owner is not None:
            if (
                STATE.quirks.get("member_org_access") == "denied"
                and operation not in ORG_MEMBER_ALLOWED
                and not self.is_delegated_admin(owner, account)
            ):
                return json_error(
                    start_response,
                    400,
                    "AccessDeniedException",
                    "You don't have permissions to access this resource.",
                )
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = owner[0]
        if STATE.quirks.get("org_empty_pages") and operation in ORG_LIST_KEYS:
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                return None
            token = request.get("NextToken")
            if not token:
                page = {ORG_LIST_KEYS[operation]: [], "NextToken": EMPTY_PAGE_TOKEN}
                return raw_response(
                    start_response, 200, json.dumps(page), "application/x-amz-json-1.1"
                )
            if token == EMPTY_PAGE_TOKEN:
                request.pop("NextToken")
                set_body(environ, json.dumps(request).encode())
        page_size = int(STATE.quirks.get("org_target_page_size") or 0)
        if operation == "ListTargetsForPolicy" and page_size > 0:
            return self.paged_targets(environ, start_response, body, page_size)
        return None

    def paged_targets(self, environ, start_response, body: bytes, page_size: int):
        """ListTargetsForPolicy in pages of at most ``page_size`` (and the request's MaxResults),
        as AWS pages it: moto's answer to the first page's request, sliced, with the wrapper's
        NextToken. Later pages are served from that answer (moto rebuilds the whole list on
        every call, which for FullAWSAccess in a large organization takes longer than AWS)."""
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return None
        token = request.pop("NextToken", None) or ""
        size = min(page_size, int(request.pop("MaxResults", page_size) or page_size))
        listing, _, offset_text = token[len(TARGETS_TOKEN) :].rpartition("-")
        with STATE.lock:
            cached = STATE.target_listings.get(listing) if token.startswith(TARGETS_TOKEN) else None
        if cached is None:
            set_body(environ, json.dumps(request).encode())
            captured: dict[str, Any] = {}

            def capture(status, headers, exc_info=None):
                captured["status"] = status
                return lambda data: None

            answer = b"".join(self.moto_app(environ, capture))
            status = int(str(captured.get("status", "500"))[:3])
            if status != 200:
                return raw_response(
                    start_response, status, answer.decode(), "application/x-amz-json-1.1"
                )
            cached = json.loads(answer or b"{}").get("Targets", [])
            listing = uuid.uuid4().hex
            offset = 0
            with STATE.lock:
                STATE.target_listings[listing] = cached
        else:
            offset = int(offset_text or 0)
        page: dict[str, Any] = {"Targets": cached[offset : offset + size]}
        if offset + size < len(cached):
            page["NextToken"] = f"{TARGETS_TOKEN}{listing}-{offset + size}"
        else:
            with STATE.lock:
                STATE.target_listings.pop(listing, None)
        return raw_response(start_response, 200, json.dumps(page), "application/x-amz-json-1.1")

    @staticmethod
    def is_delegated_admin(owner: tuple[str, str], account: str) -> bool:
        from moto.organizations.models import organizations_backends

        backend = organizations_backends[owner[0]][owner[1]]
        return any(a.account.id == account for a in backend.admins)

    # ---- control endpoints -------------------------------------------------------------

    def control(self, environ, start_response, name: str):
        method = environ.get("REQUEST_METHOD", "GET")
        raw = read_body(environ)
        try:
            payload = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return json_response(start_response, 400, {"error": "body is not JSON"})
        try:
            result = self.control_action(method, name.strip("/"), payload)
        except (KeyError, TypeError, ValueError) as err:
            return json_response(start_response, 400, {"error": f"bad request: {err!r}"})
        if result is None:
            return json_response(start_response, 404, {"error": f"no control {method} {name}"})
        return json_response(start_response, 200, result)

    def control_action(self, method: str, name: str, payload: dict) -> Any:
        if name == "health":
            return {"ok": True}
        if name == "faults" and method == "POST":
            rules = [
                FaultRule(
                    target=str(r["target"]),
                    error=str(r["error"]),
                    count=int(r["count"]) if r.get("count") is not None else None,
                    status=int(r["status"]) if r.get("status") is not None else None,
                    message=r.get("message"),
                    params={str(k): str(v) for k, v in (r.get("params") or {}).items()},
                    retry_after_ms=(
                        int(r["retry_after_ms"]) if r.get("retry_after_ms") is not None else None
                    ),
                )
                for r in payload["rules"]
            ]
            with STATE.lock:
                STATE.rules.extend(rules)
                return {"rules": len(STATE.rules)}
        if name == "faults" and method == "DELETE":
            with STATE.lock:
                STATE.rules = []
            return {"rules": 0}
        if name == "latency" and method == "POST":
            ms = int(payload["ms"])
            if ms < 0:
                raise ValueError("ms must not be negative")
            with STATE.lock:
                STATE.latency_ms = ms
            return {"ms": ms}
        if name == "stats" and method == "GET":
            with STATE.lock:
                return {
                    "calls": dict(sorted(STATE.calls.items())),
                    "max_in_flight": STATE.max_in_flight,
                    "in_flight": STATE.in_flight,
                    "faults_fired": STATE.faults_fired,
                    "lookup_throttled": STATE.lookup_throttled,
                }
        if name == "stats" and method == "DELETE":
            with STATE.lock:
                STATE.calls = {}
                STATE.max_in_flight = STATE.in_flight
                STATE.faults_fired = 0
                STATE.lookup_throttled = 0
            return {"ok": True}
        if name == "caller" and method in ("POST", "DELETE"):
            arn = payload.get("arn") if method == "POST" else None
            if arn is not None and not account_of_arn(str(arn)):
                raise ValueError(f"not an ARN with an account: {arn}")
            with STATE.lock:
                STATE.caller_arn = arn
            return {"arn": arn}
        if name == "authorization-messages" and method == "POST":
            messages = {str(k): v for k, v in payload["messages"].items()}
            with STATE.lock:
                STATE.authorization_messages.update(messages)
                return {"messages": len(STATE.authorization_messages)}
        if name == "cloudtrail-events" and method == "POST":
            events = [trail_event(r) for r in payload["events"]]
            with STATE.lock:
                STATE.trail_events.extend(events)
                return {"events": len(STATE.trail_events)}
        if name == "cloudtrail-events" and method == "DELETE":
            with STATE.lock:
                STATE.trail_events = []
            return {"events": 0}
        if name == "quirks" and method == "POST":
            unknown = set(payload) - set(default_quirks())
            if unknown:
                raise KeyError(sorted(unknown))
            with STATE.lock:
                STATE.quirks.update(payload)
                return dict(STATE.quirks)
        if name == "stack-events" and method == "POST":
            return register_stack_events(payload)
        if name == "stack-events" and method == "DELETE":
            with STATE.lock:
                STATE.stack_events = {}
            return {"stacks": 0}
        if name == "reset" and method == "POST":
            from moto.moto_api._internal.models import moto_api_backend
            from moto.organizations.models import organizations_backends

            moto_api_backend.reset()
            organizations_backends.master_accounts.clear()
            STATE.reset_settings()
            return {"ok": True}
        return None


class QuietHandler(MotoRequestHandler):
    """moto's request handler without a log line per request."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


def exit_when_stdin_closes() -> None:
    """Ends the server once its parent closes our stdin, even if the parent died abruptly."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main(argv: list[str]) -> int:
    args = argv[1:]
    watch_stdin = "--exit-on-stdin-eof" in args
    args = [a for a in args if a != "--exit-on-stdin-eof"]
    if len(args) != 1 or not args[0].isdigit():
        print("usage: server.py PORT [--exit-on-stdin-eof]   (PORT 0 picks one)", file=sys.stderr)
        return 2
    app = Wrapper(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", int(args[0]), app, threaded=True, request_handler=QuietHandler
    )
    server.daemon_threads = True
    if watch_stdin:
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(f"READY {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
