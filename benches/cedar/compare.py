#!/usr/bin/env python3
"""Compare policy-sim's and Cedar's decisions on the same requests, line by line.

  compare.py decisions POLICY_SIM.jsonl CEDAR.jsonl
      POLICY_SIM.jsonl: `policy-sim check --requests … --format json` output (one answer a line);
      CEDAR.jsonl: the harness's output (`{"decision": "allow"|"deny", …}` a line).
      Prints the agreement count and every disagreement; exits 1 if there is one.

  compare.py tests POLICY_SIM.jsonl CEDAR_REQUESTS.jsonl > tests.json
      Writes a test file for `cedar run-tests`: each request with its own principal entity, expecting
      policy-sim's decision; then every test `cedar run-tests` reports as failed is a disagreement.
"""
import json
import sys


def policy_sim_decisions(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            v = json.loads(line)
            verdict = v.get("decision", v.get("verdict"))
            if isinstance(verdict, dict):
                verdict = verdict.get("effect", verdict.get("decision"))
            if verdict is None:
                sys.exit(f"{path}:{n}: no decision in {line[:200]}")
            out.append("allow" if str(verdict).lower().startswith("allow") else "deny")
    return out


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("decisions", "tests"):
        sys.exit(__doc__)
    ours = policy_sim_decisions(sys.argv[2])
    if sys.argv[1] == "tests":
        tests = []
        with open(sys.argv[3]) as f:
            for n, (line, decision) in enumerate(zip(f, ours), 1):
                r = json.loads(line)
                tests.append({
                    "name": f"line{n}",
                    "request": {k: r[k] for k in ("principal", "action", "resource", "context")},
                    "entities": [r["entity"]],
                    "decision": decision,
                    "reason": [],
                    "num_errors": 0,
                })
        json.dump(tests, sys.stdout)
        return
    theirs = []
    errors = 0
    with open(sys.argv[3]) as f:
        for line in f:
            v = json.loads(line)
            theirs.append(v["decision"])
            errors += bool(v.get("errors"))
    if len(ours) != len(theirs):
        sys.exit(f"{len(ours)} policy-sim answers but {len(theirs)} Cedar answers")
    differ = [(i + 1, a, b) for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    allowed = sum(d == "allow" for d in ours)
    print(f"{len(ours) - len(differ)} of {len(ours)} decisions agree "
          f"({allowed} allowed by policy-sim); Cedar answers with erroring policies: {errors}")
    for n, a, b in differ[:20]:
        print(f"  line {n}: policy-sim {a}, Cedar {b}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
