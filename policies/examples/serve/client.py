"""Ask `policy-sim serve` from a Python web service: may this caller do this?

A service like the one in "Extending OpenStack" (a Flask app that validates each caller's Keystone token,
then decides from the caller's roles and project) hands the decision to policy-sim instead of writing it
in code. Start the decision service beside the application:

    policy-sim serve --openstack-policy policies/examples/serve/myservice-policy.yaml

then, per request, send the token body Keystone returned when the service validated the caller's token
(`GET /v3/auth/tokens`), the rule and the target:

    python3 policies/examples/serve/client.py policies/examples/serve/token.json

(`POLICY_SIM_URL` names another address: `http://127.0.0.1:9000`.)

For OVHcloud IAM or OUTSCALE EIM policies (`policy-sim serve --policies ...`), use `may()` below: the
request is the `check --requests` line shape, {"identity", "action", "resource", "context"?, "at"?}.

Needs `requests` (pip install requests). Only the standard library otherwise.
"""

import json
import os
import sys

import requests

SERVICE = os.environ.get("POLICY_SIM_URL", "http://127.0.0.1:8181")
# One session: its connections are kept alive from one decision to the next.
session = requests.Session()


def allowed(token_body, rule, target=None, timeout=2.0):
    """The oslo.policy form: True when `rule` allows the token's caller on `target` (default: the
    token's own project and user). Raises on anything but an answer: a service must not read an error
    as a yes."""
    request = {"credentials": token_body, "rule": rule}
    if target is not None:
        request["target"] = target
    reply = session.post(f"{SERVICE}/v1/check", json=request, timeout=timeout)
    if reply.status_code != 200:
        raise RuntimeError(f"policy-sim: {reply.status_code} {reply.json().get('error')}")
    return reply.json()["decision"] == "allow"


def may(identity, action, resource, context=None, explain=False, timeout=2.0):
    """The IAM form: the whole answer (`decision`, `reason`, `summary`, the trace's decisive entries;
    every policy considered with explain=True)."""
    request = {"identity": identity, "action": action, "resource": resource}
    if context:
        request["context"] = context
    url = f"{SERVICE}/v1/check" + ("?trace=full" if explain else "")
    reply = session.post(url, json=request, timeout=timeout)
    if reply.status_code != 200:
        raise RuntimeError(f"policy-sim: {reply.status_code} {reply.json().get('error')}")
    return reply.json()


def main():
    with open(sys.argv[1] if len(sys.argv) > 1 else "policies/examples/serve/token.json") as f:
        token = json.load(f)
    project = token["token"]["project"]["id"]
    # The caller's own project, then another one.
    for target in ({"project_id": project}, {"project_id": "another-project"}):
        verdict = allowed(token, "myservice:thing:list", target)
        print(f"myservice:thing:list on project {target['project_id']}: "
              f"{'allowed' if verdict else 'forbidden (HTTP 403)'}")


if __name__ == "__main__":
    main()
