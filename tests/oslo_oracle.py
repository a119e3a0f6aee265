#!/usr/bin/env python3
"""The differential oracle for tests/oslo_diff.rs: oslo.policy itself answers each case.

Reads JSON Lines on stdin, one case a line, and writes one JSON line per case on stdout:
    {"id", "files": [TEXT, ...], "defaults": [RuleDefault-shaped objects] | SERVICE names,
     "enforce_new_defaults": bool, "token": {...}, "target": {...} | null, "rule": NAME}
    -> {"id", "result": true | false} or {"id", "error": "ExceptionType: message"}

Each case builds a fresh oslo.policy Enforcer: the defaults are registered (RuleDefault with scope types and
DeprecatedRule), the files are its policy file and policy.d files (written to a temporary directory), and
`enforce(rule, target, creds)` answers. The credentials are read from the token as policy-sim documents it
(src/oslo/creds.rs): oslopolicy-checker's reading plus keystonemiddleware's domain_id, user_domain_id,
project_domain_id and is_admin_project. Run it with the Python of a venv holding oslo.policy (.ci/run makes
one under target/oslo-venv).
"""

import json
import logging
import os
import sys
import tempfile
import warnings

from oslo_config import cfg
from oslo_policy import policy

logging.disable(logging.CRITICAL)
warnings.simplefilter("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "policies", "openstack-policy-defaults.json"), encoding="utf-8") as f:
    SHIPPED = json.load(f)["services"]


def creds_from_token(body):
    token = dict(body["token"])
    creds = dict(token)
    creds["roles"] = [r["name"] for r in token["roles"]]
    creds["user_id"] = token["user"]["id"]
    dom = token["user"].get("domain", {})
    if isinstance(dom, dict) and "id" in dom:
        creds["user_domain_id"] = dom["id"]
    if token.get("project"):
        creds["project_id"] = token["project"]["id"]
        pdom = token["project"].get("domain")
        if isinstance(pdom, dict) and "id" in pdom:
            creds["project_domain_id"] = pdom["id"]
    if token.get("system"):
        creds["system_scope"] = "all"
    if token.get("domain"):
        creds["domain_id"] = token["domain"]["id"]
    creds["is_admin_project"] = token.get("is_admin_project", True)
    creds["is_admin"] = False
    return creds


def default_target(creds):
    target = {"user_id": creds["user_id"]}
    if creds.get("project_id"):
        target["project_id"] = creds["project_id"]
    return target


def rule_default(d):
    dep = d.get("deprecated_rule")
    deprecated = None
    if dep:
        deprecated = policy.DeprecatedRule(
            dep["name"], dep["check_str"], deprecated_reason="test",
            deprecated_since=dep.get("deprecated_since") or "X")
    return policy.RuleDefault(d["name"], d["check_str"], scope_types=d.get("scope_types") or None,
                              deprecated_rule=deprecated)


CACHE = {}


def answer(case, tmp):
    key = json.dumps([case.get("files", []), case.get("defaults", []), case.get("enforce_new_defaults", True)])
    enforcer = CACHE.get(key)
    if enforcer is None:
        CACHE.clear()
        enforcer = build(case, tmp)
        CACHE[key] = enforcer
    creds = creds_from_token(case["token"])
    target = case.get("target")
    if target is None:
        target = default_target(creds)
    return bool(enforcer.enforce(case["rule"], target, creds))


def build(case, tmp):
    """A fresh Enforcer for the case's files and defaults (kept while the next cases share them)."""
    conf = cfg.ConfigOpts()
    conf([], project="oracle")
    files = case.get("files", [])
    policy_file = os.path.join(tmp, "policy.yaml")
    dirs = os.path.join(tmp, "policy.d")
    for name in os.listdir(dirs):
        os.unlink(os.path.join(dirs, name))
    if files:
        with open(policy_file, "w", encoding="utf-8") as f:
            f.write(files[0])
        for i, text in enumerate(files[1:]):
            # policy.d files are applied in sorted name order
            with open(os.path.join(dirs, f"{i:04d}.yaml"), "w", encoding="utf-8") as f:
                f.write(text)
    elif os.path.exists(policy_file):
        os.unlink(policy_file)
    enforcer = policy.Enforcer(conf, policy_file=policy_file if files else "absent.yaml")
    conf.set_override("enforce_new_defaults", case.get("enforce_new_defaults", True), group="oslo_policy")
    conf.set_override("policy_dirs", [dirs], group="oslo_policy")
    defaults = []
    for d in case.get("defaults", []):
        if isinstance(d, str):
            defaults.extend(SHIPPED[d]["rules"])
        else:
            defaults.append(d)
    seen = {}
    for d in defaults:  # a later default replaces an earlier one of the same name
        seen[d["name"]] = d
    enforcer.register_defaults([rule_default(d) for d in seen.values()])
    enforcer.load_rules()
    return enforcer


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "policy.d"))
        for line in sys.stdin:
            if not line.strip():
                continue
            case = json.loads(line)
            out = {"id": case.get("id")}
            try:
                out["result"] = answer(case, tmp)
            except Exception as e:  # the service would fail the request: report the exception's type
                out["error"] = f"{type(e).__name__}: {e}"
            sys.stdout.write(json.dumps(out) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
