#!/usr/bin/env python3
"""Build policies/openstack-policy-defaults.json, the registered oslo.policy defaults policy-sim ships.

Usage:
    python3 policies/gen/oslo_defaults.py [--shared DIR] [--check]

--shared DIR  the shared folder holding the sources (default: ../shared beside the repository root).
--check       regenerate in memory and compare byte for byte with the file on disk; exit 1 on a difference.

Source read (relative to --shared); nothing in the output is typed by hand:
    data/openstack-policy-defaults.json   the default rules of nova, glance, cinder, neutron and keystone as the
                                          services register them under the `oslo.policy.policies` entry point
                                          (extracted from the services' own PyPI packages)

Written: policies/openstack-policy-defaults.json, the same rules without their prose descriptions: per service
the package version and, per rule, `name`, `check_str`, `scope_types`, `operations` (method, path; a list of methods becomes one operation per method) and
`deprecated_rule` (`name`, `check_str`, `deprecated_since`) or null. Rule order is the services' registration
order. Deterministic output: `\\n` line endings, 1-space indent, a trailing newline.
Exit status: 0 success (or --check: up to date), 1 --check found a difference, 2 the source is missing or
does not look as expected. Standard library only.
"""

import argparse
import json
import sys
from pathlib import Path

SOURCE = "data/openstack-policy-defaults.json"
OUTPUT = "openstack-policy-defaults.json"
SERVICES = ["nova", "glance", "cinder", "neutron", "keystone"]
SCOPES = {"project", "domain", "system"}
# The counts the source's README states; a change must be deliberate (fix here and in tests/oslo.rs).
RULES = {"nova": 214, "glance": 67, "cinder": 167, "neutron": 372, "keystone": 204}


def fail(message):
    print(f"oslo_defaults.py: {message}", file=sys.stderr)
    sys.exit(2)


def operations(service, rule):
    """One operation per method: keystone registers some operations with a list of methods (HEAD and GET)."""
    out = []
    for o in rule["operations"]:
        methods = o["method"] if isinstance(o["method"], list) else [o["method"]]
        for m in methods:
            if not isinstance(m, str) or not isinstance(o["path"], str):
                fail(f"{SOURCE}: {service} `{rule['name']}` has an operation that is not method + path: {o}")
            out.append({"method": m, "path": o["path"]})
    return out


def build(shared):
    path = shared / SOURCE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")
    services = data.get("services")
    if not isinstance(services, dict) or sorted(services) != sorted(SERVICES):
        fail(f"{SOURCE}: expected the services {SERVICES}")
    out = {"generated_by": "policies/gen/oslo_defaults.py", "source": SOURCE.split("/")[-1],
           "oslo.policy": data.get("oslo.policy"), "services": {}}
    for name in SERVICES:
        service = services[name]
        rules = []
        seen = set()
        for rule in service["rules"]:
            if rule["name"] in seen:
                fail(f"{SOURCE}: {name} registers `{rule['name']}` twice")
            seen.add(rule["name"])
            if not isinstance(rule["check_str"], str):
                fail(f"{SOURCE}: {name} `{rule['name']}` has a check_str that is not a string")
            if not set(rule["scope_types"]) <= SCOPES:
                fail(f"{SOURCE}: {name} `{rule['name']}` has unknown scope types {rule['scope_types']}")
            dep = rule.get("deprecated_rule")
            if dep is not None:
                dep = {"name": dep["name"], "check_str": dep["check_str"],
                       "deprecated_since": dep.get("deprecated_since")}
            rules.append({
                "name": rule["name"],
                "check_str": rule["check_str"],
                "scope_types": rule["scope_types"],
                "operations": operations(name, rule),
                "deprecated_rule": dep,
            })
        if len(rules) != RULES[name]:
            fail(f"{SOURCE}: {name} has {len(rules)} rules, expected {RULES[name]}")
        out["services"][name] = {"package_version": service["package_version"], "rules": rules}
    return json.dumps(out, indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parent.parent.parent
    parser.add_argument("--shared", type=Path, default=root.parent / "shared")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = build(args.shared)
    target = root / "policies" / OUTPUT
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            print(f"policies/{OUTPUT} is stale: run python3 policies/gen/oslo_defaults.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
