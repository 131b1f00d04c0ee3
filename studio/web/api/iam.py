"""As much of IAM's query API as the SageMaker SDK asks before it trains: GetRole (the SDK
3.x reads a role's ARN and trust policy) and SimulatePrincipalPolicy (it checks the role may
do what a job needs). Roles grant nothing in Studio, policies do: a key's role is its
profile's execution role (studio/web/api/sts.py), and simulating it answers what Studio's own
policy check (`domains.permissions.may`) decides for the profile.

A key sees only its own execution role: any other is NoSuchEntity, another account's too."""

from urllib.parse import quote

from django.http import HttpRequest, HttpResponse

from domains.permissions import may
from domains.services.roles import execution_role
from studio.web.api import query_protocol
from studio.web.api.auth import Caller
from studio.web.api.query_protocol import QueryError, QueryService, members
from studio.web.api.sts import ROLE_ARN, role_id, role_name

NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
VERSION = "2010-05-08"
# The services whose actions Studio's policies govern; any other action (ecr:, logs:,
# cloudwatch:, iam:PassRole...) has nothing in Studio to deny it.
GOVERNED = ("sagemaker:", "s3:")
# SageMaker may assume a Studio execution role, as the trust policy of one on AWS says.
TRUST_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
    '{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)
MAX_ACTIONS = 100


def _no_such_role(name: str) -> QueryError:
    return QueryError("NoSuchEntity", f"The role with name {name} cannot be found.", 404)


def _own_role(caller: Caller) -> str:
    return execution_role(caller.profile)


def get_role(caller: Caller, params: dict[str, str]) -> str:
    name = params.get("RoleName", "")
    if not name:
        raise QueryError("ValidationError", "RoleName is required.")
    arn = _own_role(caller)
    if name != role_name(arn):
        raise _no_such_role(name)
    path = "/" + arn.split(":role/", 1)[1].removesuffix(name)
    account = caller.profile.domain.account_id
    return members(
        {
            "Role": members(
                {
                    "Path": path,
                    "RoleName": name,
                    "RoleId": role_id(account, name),
                    "Arn": arn,
                    "CreateDate": f"{caller.profile.domain.created_at:%Y-%m-%dT%H:%M:%SZ}",
                    "AssumeRolePolicyDocument": quote(TRUST_POLICY),
                    "MaxSessionDuration": "43200",
                }
            )
        },
        escaped=True,
    )


def _listed(params: dict[str, str], name: str) -> list[str]:
    """A query-protocol list: `<name>.member.1`, `.2`, ... in order."""
    values = []
    while (value := params.get(f"{name}.member.{len(values) + 1}")) is not None:
        values.append(value)
        if len(values) > MAX_ACTIONS:
            raise QueryError("ValidationError", f"{name} holds at most {MAX_ACTIONS} members.")
    return values


def simulate_principal_policy(caller: Caller, params: dict[str, str]) -> str:
    source = params.get("PolicySourceArn", "")
    actions = _listed(params, "ActionNames")
    if not source:
        raise QueryError("ValidationError", "PolicySourceArn is required.")
    if not actions:
        raise QueryError("ValidationError", "ActionNames must name at least one action.")
    match = ROLE_ARN.fullmatch(source)
    own = _own_role(caller)
    if match is None or source != own:
        raise _no_such_role(match["name"] if match else source)
    results = []
    for action in actions:
        governed = action.lower().startswith(GOVERNED)
        allowed = not governed or may(caller.user, action, domain=caller.profile.domain)
        results.append(
            "<member>"
            + members(
                {
                    "EvalActionName": action,
                    "EvalResourceName": "*",
                    "EvalDecision": "allowed" if allowed else "implicitDeny",
                }
            )
            + "<MatchedStatements/><MissingContextValues/></member>"
        )
    return (
        f"<IsTruncated>false</IsTruncated><EvaluationResults>{''.join(results)}</EvaluationResults>"
    )


IAM = QueryService(
    signing_name="iam",
    namespace=NAMESPACE,
    version=VERSION,
    operations={"GetRole": get_role, "SimulatePrincipalPolicy": simulate_principal_policy},
)


def dispatch(request: HttpRequest) -> HttpResponse:
    return query_protocol.dispatch(IAM, request)
