#!/usr/bin/env python3
"""Extract the OVHcloud IAM action catalogue from OVHcloud API schema files.

Usage:
    python3 extract_ovh_actions.py SCHEMA_DIR [OUT_TSV] [--missing MISSING_TSV] [--held TSV]...

SCHEMA_DIR holds OVHcloud API schema JSON files, e.g. a copy of
internal/assets/api-schemas/ from github.com/ovh/ovhcloud-cli, or TypeScript copies of
the /1.0 schemas (`*.ts` files of the shape
    // imported from https://eu.api.ovh.com:443/1.0/cloud.json
    export const schema: Schema = { ...the JSON... }
as in code/gen/models/ovh-api/ of github.com/UrielCh/api-ovh-node); such a file is named
in the output by the URL's part after /1.0/ (`cloud.json`, `dedicated/server.json`).
OUT_TSV defaults to ovh-iam-actions.tsv next to this script.
--held TSV (repeatable): a TSV with a `path` column (an earlier OUT_TSV or MISSING_TSV);
a schema file any of whose paths is in one of them is skipped whole, so that an API
section is taken from one source only.

Understands two layouts:
  * OpenAPI 3 (what ovhcloud-cli ships): {"paths": {path: {method: op}}},
    with the IAM annotation in op["x-iam-actions"] (or op["iamActions"]);
  * the legacy OVH /1.0 layout: {"apis": [{"path": ..., "operations":
    [{"httpMethod": ..., "iamActions": [...]}]}]}.
Each annotation is a list of {"name": ..., "required": bool, "description"?}.

Output: one TSV row per (operation, action), sorted, with the header
    schema  method  path  action  required  resourceType
where resourceType is the part of the action name before the first ':'.
A summary (files, operations, operations without annotation) goes to stderr;
--missing writes the operations that carry no IAM annotation.
Standard library only.
"""
import json
import os
import re
import sys

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
IAM_KEYS = ("x-iam-actions", "iamActions")
HEADER = ["schema", "method", "path", "action", "required", "resourceType"]


def iter_operations(doc):
    """Yield (method, path, operation dict) for both schema layouts."""
    if isinstance(doc.get("paths"), dict):
        for path, item in doc["paths"].items():
            if not isinstance(item, dict):
                continue
            for method, op in item.items():
                if method.lower() in HTTP_METHODS and isinstance(op, dict):
                    yield method.upper(), path, op
    if isinstance(doc.get("apis"), list):
        for api in doc["apis"]:
            path = api.get("path", "")
            for op in api.get("operations", []) or []:
                if isinstance(op, dict):
                    yield str(op.get("httpMethod", "")).upper(), path, op


def iam_actions(op):
    """Return the IAM annotation list of an operation, or None if absent."""
    for key in IAM_KEYS:
        if key in op:
            val = op[key]
            return val if isinstance(val, list) else [val]
    return None


TS_HEAD = "export const schema: Schema = "


def read_schema(full, name):
    """(name in the output, parsed document) of a .json schema or a .ts copy of one."""
    with open(full, encoding="utf-8") as fh:
        text = fh.read()
    if not name.endswith(".ts"):
        return name, json.loads(text)
    url = re.search(r"// imported from (\S+)", text)
    start = text.find(TS_HEAD)
    if url is None or start < 0 or "/1.0/" not in url.group(1):
        raise ValueError("not a TypeScript copy of a /1.0 schema")
    body = text[start + len(TS_HEAD):].rstrip().rstrip(";")
    return url.group(1).split("/1.0/", 1)[1], json.loads(body)


def schema_paths(doc):
    return {path for _method, path, _op in iter_operations(doc)}


def read_held(paths_tsv):
    with open(paths_tsv, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    column = lines[0].split("\t").index("path")
    return {line.split("\t")[column] for line in lines[1:]}


def to_bool_text(val):
    if isinstance(val, bool):
        return "true" if val else "false"
    if isinstance(val, str):
        return "true" if val.strip().lower() in ("true", "1", "yes") else "false"
    return "true" if val else "false"


def clean(text):
    return str(text).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def main(argv):
    args = list(argv[1:])
    missing_out = None
    if "--missing" in args:
        i = args.index("--missing")
        missing_out = args[i + 1]
        del args[i:i + 2]
    held = set()
    while "--held" in args:
        i = args.index("--held")
        held |= read_held(args[i + 1])
        del args[i:i + 2]
    if not args:
        sys.stderr.write(__doc__)
        return 2
    schema_dir = args[0]
    here = os.path.dirname(os.path.abspath(__file__))
    out_tsv = args[1] if len(args) > 1 else os.path.join(here, "ovh-iam-actions.tsv")

    rows = set()
    missing = []
    stats = {"files": 0, "skipped": [], "held": [], "operations": 0, "annotated": 0,
             "empty_annotation": 0, "odd_entries": 0}
    for file_name in sorted(os.listdir(schema_dir)):
        if not file_name.endswith((".json", ".ts")):
            continue
        full = os.path.join(schema_dir, file_name)
        try:
            name, doc = read_schema(full, file_name)
        except (OSError, ValueError) as exc:
            stats["skipped"].append("%s (%s)" % (file_name, exc.__class__.__name__))
            continue
        if not isinstance(doc, dict):
            stats["skipped"].append("%s (not an object)" % file_name)
            continue
        if held and schema_paths(doc) & held:
            stats["held"].append(name)
            continue
        stats["files"] += 1
        for method, path, op in iter_operations(doc):
            stats["operations"] += 1
            actions = iam_actions(op)
            if actions is None:
                missing.append((name, method, path))
                continue
            stats["annotated"] += 1
            if not actions:
                stats["empty_annotation"] += 1
                missing.append((name, method, path))
                continue
            for act in actions:
                if isinstance(act, dict):
                    action = act.get("name")
                    required = act.get("required", True)
                elif isinstance(act, str):
                    action, required = act, True
                else:
                    action = None
                if not action:
                    stats["odd_entries"] += 1
                    continue
                action = clean(action).strip()
                rows.add((name, method, path, action, to_bool_text(required),
                          action.split(":", 1)[0]))

    with open(out_tsv, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(HEADER) + "\n")
        for row in sorted(rows):
            fh.write("\t".join(clean(c) for c in row) + "\n")
    if missing_out:
        with open(missing_out, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("schema\tmethod\tpath\n")
            for row in sorted(missing):
                fh.write("\t".join(row) + "\n")

    actions = {r[3] for r in rows}
    rtypes = {r[5] for r in rows}
    sys.stderr.write(
        "files read: %d; skipped: %s; held elsewhere: %s\noperations: %d; with annotation: %d; "
        "without annotation: %d (of which empty list: %d); odd entries: %d\n"
        "rows: %d; distinct actions: %d; resource types: %d\nwrote %s\n"
        % (stats["files"], ", ".join(stats["skipped"]) or "none", ", ".join(stats["held"]) or "none",
           stats["operations"], stats["annotated"], len(missing),
           stats["empty_annotation"], stats["odd_entries"], len(rows),
           len(actions), len(rtypes), out_tsv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
