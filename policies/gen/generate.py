#!/usr/bin/env python3
"""Build policy-sim's shipped data catalogues in policies/ from the sourced raw data in shared/.

Usage:
    python3 policies/gen/generate.py [--shared DIR] [--check]

--shared DIR  the shared folder holding the sources (default: ../shared relative to the repository
              root, i.e. a sibling of the checkout; the repository root is two levels above this file).
--check       regenerate in memory and compare byte for byte with the files in policies/; print every
              file that differs, exit 1 on any difference, 0 when all match. Nothing is written.

Sources read (paths relative to --shared); nothing in the output is typed by hand:
    seeds/000_b733094646b948fa.txt                  OVHcloud guide "How to use service accounts to connect to
                                                    OpenStack" (fr): the table of the 11 OpenStack rights
    data/ovh-permission-groups.json                 the 11 OVHcloud-managed permission groups
    data/ovh-permission-groups.README.md            its provenance (ovh/docs commit), checked and cited
    data/ovh-iam-actions.tsv                        (API operation, IAM action) pairs from ovh/ovhcloud-cli
    data/ovh-iam-actions.README.md                  its provenance (commit, sha256 of the TSV), checked and cited
    data/outscale-operations.txt                    the 235 OUTSCALE API (osc-api 1.40.1) operation names
    data/outscale-legacy-operations.tsv             ec2/elasticloadbalancing/iam/directconnect names with QA evidence
    data/outscale-legacy-operations-candidates.tsv  legacy names without QA evidence ("candidate")
    data/outscale-legacy-operations.README.md       their provenance (commits), checked and cited
    data/openstack-commands.csv                     openstack CLI commands -> main API call, permission, confidence
                                                    (CRLF line endings, accepted for this file only)
And from this folder (curated by hand, each entry sourced; see its `about`):
    openstack-commands-additions.json               the calls around each CSV command (name and display lookups),
                                                    corrections of the CSV with their reasons, commands the CSV
                                                    lacks, and openstacksdk calls
    ovh/ovh-iam-actions-1.0.tsv                     (API operation, IAM action) pairs of the v1 API sections that
                                                    ovhcloud-cli lacks (/cloud, /services, /order, ...), extracted
                                                    by extract_ovh_actions.py from /1.0 schema copies
    ovh/ovh-iam-actions-unannotated.tsv             ovhcloud-cli operations without IAM annotation (which sections
                                                    it holds, so that no section mixes the two sources)
    ovh/ovh-permission-groups.sources.tsv           the source (repository, path, commit, date) of each group, and
                                                    other public versions of a group (`older`)
    ovh/README.md                                   their provenance (commits, dates, sha256), checked and cited

Files written (into the repository's policies/):
    openstack-role-matrix.json, ovh-permission-groups.json, ovh-actions.tsv, ovh-catalogue-coverage.json,
    outscale-actions.tsv, openstack-commands.json, README.md

Output is deterministic: `\\n` line endings, a trailing newline, JSON with a 2-space indent and
ensure_ascii=False, TSV rows sorted by their first column in byte order.
Exit status: 0 success (or --check: all up to date), 1 --check found a difference, 2 a source is missing
or does not look as expected (the message says which and why).
Standard library only.
"""

import argparse
import csv
import hashlib
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path

GENERATED_BY = "policies/gen/generate.py"

# Source files, relative to --shared.
SEED_000 = "seeds/000_b733094646b948fa.txt"
OVH_GROUPS = "data/ovh-permission-groups.json"
OVH_GROUPS_README = "data/ovh-permission-groups.README.md"
OVH_ACTIONS = "data/ovh-iam-actions.tsv"
OVH_ACTIONS_README = "data/ovh-iam-actions.README.md"
OSC_OPERATIONS = "data/outscale-operations.txt"
OSC_LEGACY = "data/outscale-legacy-operations.tsv"
OSC_CANDIDATES = "data/outscale-legacy-operations-candidates.tsv"
OSC_LEGACY_README = "data/outscale-legacy-operations.README.md"
OS_COMMANDS = "data/openstack-commands.csv"
SOURCES = [  # every file the generator reads, as named in the docstring
    SEED_000,
    OVH_GROUPS,
    OVH_GROUPS_README,
    OVH_ACTIONS,
    OVH_ACTIONS_README,
    OSC_OPERATIONS,
    OSC_LEGACY,
    OSC_CANDIDATES,
    OSC_LEGACY_README,
    OS_COMMANDS,
]
# Curated in this repository, next to this file.
OS_ADDITIONS = Path(__file__).resolve().parent / "openstack-commands-additions.json"
OS_ADDITIONS_NAME = "policies/gen/openstack-commands-additions.json"
# Sourced data kept in this repository (relative to this folder), each file's provenance in ovh/README.md.
GEN_DIR = Path(__file__).resolve().parent
OVH_ACTIONS_10 = "ovh/ovh-iam-actions-1.0.tsv"
OVH_UNANNOTATED = "ovh/ovh-iam-actions-unannotated.tsv"
OVH_GROUP_SOURCES = "ovh/ovh-permission-groups.sources.tsv"
OVH_CURATED_README = "ovh/README.md"
CURATED = [OVH_ACTIONS_10, OVH_UNANNOTATED, OVH_GROUP_SOURCES, OVH_CURATED_README]
CURATED_DATA = [OVH_ACTIONS_10, OVH_UNANNOTATED, OVH_GROUP_SOURCES]

# The files whose data is copied; their checksums go into the README (the prose READMEs are only checked).
DATA_SOURCES = [SEED_000, OVH_GROUPS, OVH_ACTIONS, OSC_OPERATIONS, OSC_LEGACY, OSC_CANDIDATES, OS_COMMANDS]

# Expected sizes, as the sources' own READMEs and DOMAIN.md state them. A change in a source that changes
# one of these must be a deliberate update: fix the number here (and in tests/catalogues.rs).
MATRIX_ROLES = 11  # seed 000: "OVHcloud fournit 11 niveaux de droits"
MATRIX_PERMISSIONS = 16
OVH_GROUP_COUNT = 11  # ovh-permission-groups.README.md: "11 groups"
OVH_ACTION_ROWS = 2772  # ovh-iam-actions.README.md: "rows: 2,772"
OVH_DISTINCT_ACTIONS = 2242  # ovh-iam-actions.README.md: "distinct actions: 2,242"
OVH_RESOURCE_TYPES = 35  # ovh-iam-actions.README.md: "resource types: 35"
OVH_OPTIONAL_ROWS = 34  # ovh-iam-actions.README.md: "rows with `required=false`: 34"
# ovh-iam-actions.README.md, "Second table": "rows: 2,676; distinct actions: 2,117; resource types: 43;
# rows with `required=false`: 0", and "together the two tables have 4,356 distinct actions of 74 resource types".
OVH_10_ROWS = 2676
OVH_10_DISTINCT_ACTIONS = 2117
OVH_10_RESOURCE_TYPES = 43
OVH_10_OPTIONAL_ROWS = 0
OVH_ALL_DISTINCT_ACTIONS = 4356
OVH_ALL_RESOURCE_TYPES = 74
OVH_UNANNOTATED_ROWS = 97  # ovh-iam-actions.README.md: "without annotation: 97"
OSC_API_OPERATIONS = 235  # DOMAIN.md 2.1: "the 235 OUTSCALE API operation names of API 1.40.1"
OSC_API_READ_OPERATIONS = 73  # DOMAIN.md 2.1: "`api:Read*` expands to 73 of them"
OSC_API_SOURCE = "osc-api 1.40.1"
# outscale-legacy-operations.README.md, "Counts (main file)" and "Candidates file".
OSC_LEGACY_PER_SERVICE = {"ec2": 125, "elasticloadbalancing": 21, "iam": 45, "directconnect": 10}
OSC_CANDIDATES_PER_SERVICE = {"ec2": 55, "elasticloadbalancing": 6, "iam": 1}
OSC_LEGACY_TAGS = {"qa-testfile", "qa-call", "tpo-go-client", "osc-cli-fcu-call-list"}
OSC_QA_TAGS = {"qa-testfile", "qa-call"}
OS_CSV_HEADER = ["command", "service", "method", "path", "permission", "confidence"]
OS_CSV_ROWS = 77  # DOMAIN.md 1.8: "77 commands"
OS_SERVICES = {"nova", "glance", "cinder", "neutron", "swift", "keystone"}
OS_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}
OS_PURPOSES = {"main", "lookup", "display", "wait", "server-side"}
OS_CONFIDENCE = ("high", "medium", "low")
# Only what seed 000 itself shows may be `high` (DOMAIN.md 1.8): the two commands and the two SDK calls of its
# scripts (list-servers.py works, list-containers.py gets ForbiddenException 403).
OS_SEED_SHOWN = {"server list", "container list", "conn.compute.servers()", "conn.object_store.containers()"}
OS_ANY_ROLE = "any_openstack_role"
OS_MIN_COMMANDS = 60
# The openstack commands seeds 000 and 001 run; each must be in the catalogue.
OS_SEED_COMMANDS = [
    "server list", "container list",  # seed 000
    "token issue", "keypair create", "flavor list", "image list", "network list", "security group list",
    "server create", "floating ip create", "server add floating ip", "server show", "server remove floating ip",
    "server delete", "floating ip delete", "server image create", "image show",  # seed 001
]

# Citations written into policies/README.md; each must appear verbatim in the named shared README.
CITATIONS = {
    OVH_ACTIONS_README: [
        "github.com/ovh/ovhcloud-cli",
        "internal/assets/api-schemas/*.json",
        "546f3c828123905ea58b7c54c1d7b0cb86ed0e9e",
        "2025-10-02",
        "10,752,738 bytes",
    ],
    OVH_GROUPS_README: [
        "github.com/ovh/docs",
        "pages/account_and_service_management/account_information/iam-permission-groups/guide.en-gb.md",
        "a1c6bd12928d1489716d87f41bcbf51794585d7e",
        "36c697157722e485c942ec20baedc4fd802dc16c",
        "updated: 2023-12-06",
    ],
    OSC_LEGACY_README: [
        "https://docs.outscale.com/en/userguide/EIM-Policy-Elements.html",
        "outscale-ggi/terraform-provider-outscale",
        "a6a06a69e5aae1efac996637db389d676c3b768c",
        "outscale/osc-cli",
        "e738fd6591fcf9dc5b73c4fcdd8817acb42f1060",
        "ec2:DescribeAccountAttributes",
    ],
    SEED_000: ["updated: 2023-08-08"],
}
# The same, for ovh/README.md in this repository.
CURATED_CITATIONS = [
    "github.com/UrielCh/api-ovh-node",
    "code/gen/models/ovh-api",
    "4bb5f1487f2fa700a1e3b24390c71df361aa9ed6",
    "2024-06-07",
    "546f3c828123905ea58b7c54c1d7b0cb86ed0e9e",
    "5e19dac3743de239e7d7aa213c1c1a229807071f",
]

MATRIX_SOURCE = (
    'OVHcloud guide "How to use service accounts to connect to OpenStack" (updated 2023-08-08), '
    "table of the 11 OpenStack rights"
)
# The table writes "glance"; every service is emitted with its product capitalisation.
SERVICE_NAMES = {
    "nova": "Nova",
    "swift": "Swift",
    "glance": "Glance",
    "cinder": "Cinder",
    "neutron": "Neutron",
    "ai training": "AI Training",
}
ROLE_PREFIX = "publicCloudProject:"
OVH_ACTIONS_HEADER = ["schema", "method", "path", "action", "required", "resourceType"]
OSC_LEGACY_HEADER = ["service", "operation", "source"]
HTTP_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}
OVH_GROUP_SOURCES_HEADER = ["name", "id", "status", "source", "path", "commit", "date", "note"]
OVH_GROUP_STATUSES = {"shipped", "older"}

# What the OVHcloud action catalogue covers (policies/ovh-catalogue-coverage.json). The schemas held and the action
# families they define are computed from data/ovh-iam-actions.tsv; what follows is what the TSV cannot show: the APIs
# known to be missing (ovh-iam-actions.README.md, "IMPORTANT GAP" and "Refresh attempt") and the resource types whose
# actions come from API sections the catalogue does not hold. An action name under a missing prefix is "not in the
# shipped catalogue", never "not an OVHcloud action".
OVH_SOURCE_CLI = (
    "github.com/ovh/ovhcloud-cli internal/assets/api-schemas, commit 546f3c828123905ea58b7c54c1d7b0cb86ed0e9e "
    "(2025-10-02)"
)
OVH_SOURCE_10 = (
    "eu.api.ovh.com/1.0 schema as copied in github.com/UrielCh/api-ovh-node code/gen/models/ovh-api, commit "
    "4bb5f1487f2fa700a1e3b24390c71df361aa9ed6 (2024-06-07)"
)
# Schema files known to exist (listed in ovhcloud-cli's internal/assets/api-schemas at later commits, per
# ovh-iam-actions.README.md) that neither table holds. Their action names are not known here, so they have no
# prefixes: they are listed so that the catalogue says what it lacks. An entry with prefixes makes every action
# under them "not in the shipped catalogue".
OVH_MISSING_APIS = [
    {
        "api": "v2 backupServices",
        "schema": "backupservices_v2.json",
        "prefixes": [],
        "why": "the v2 Backup Services API (backupservices_v2.json) is not in the shipped catalogue",
    },
    {
        "api": "v2 baremetal",
        "schema": "baremetal_v2.json",
        "prefixes": [],
        "why": "the v2 bare-metal API (baremetal_v2.json) is not in the shipped catalogue",
    },
    {
        "api": "v2 webhosting",
        "schema": "webhosting_v2.json",
        "prefixes": [],
        "why": "the v2 web hosting API (webhosting_v2.json) is not in the shipped catalogue",
    },
]
# Resource types a held schema names but that other, unheld API sections name too: an unknown action of these is
# judged by its family (the operation part before its first `/`), not by its resource type.
OVH_PARTIAL_TYPES = {
    "account": "every v1 API section names its account-level actions `account:apiovh:SECTION/...`; the catalogue "
    "holds only the sections listed in `families`",
}
# A resource type is held in full when it is the main resource type of a held schema: the one with the most action
# rows, or at least this share of them (`domain` in domain.json, next to `dnsZone`). A resource type that a held
# schema names only in a few operations (`pccVMware` in ip.json and vrack.json: its own API is not held) is partial.
OVH_OWNER_SHARE = 0.25


class SourceError(Exception):
    """A source file is missing or does not look as expected (exit status 2)."""


def require(condition, message):
    if not condition:
        raise SourceError(message)


def byte_key(text):
    return text.encode("utf-8")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


class Sources:
    """Reads the source files once, remembering their bytes for the README's checksum table."""

    def __init__(self, root):
        self.root = root
        self.raw = {}

    def text(self, rel):
        path = self.root / rel
        if not path.is_file():
            raise SourceError(f"missing source file {path}")
        data = path.read_bytes()
        self.raw[rel] = data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SourceError(f"{path}: not UTF-8 ({err})") from err
        require("\r" not in text, f"{path}: has CR characters; expected `\\n` line endings")
        return text

    def text_crlf(self, rel):
        """A file written with CRLF line endings (the shared openstack-commands.csv): every line must end with
        `\\r\\n`, and no other CR may appear; returned with `\\n` line endings."""
        path = self.root / rel
        if not path.is_file():
            raise SourceError(f"missing source file {path}")
        data = path.read_bytes()
        self.raw[rel] = data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SourceError(f"{path}: not UTF-8 ({err})") from err
        require(text.endswith("\r\n"), f"{path}: expected CRLF line endings, and a final one")
        require(text.count("\n") == text.count("\r\n"), f"{path}: mixes LF and CRLF line endings")
        body = text.replace("\r\n", "\n")
        require("\r" not in body, f"{path}: has a CR that is not part of a CRLF line ending")
        return body

    def lines(self, rel):
        return self.text(rel).splitlines()

    def tsv(self, rel, header):
        lines = self.lines(rel)
        require(lines, f"{self.root / rel}: empty file")
        first = lines[0].split("\t")
        require(first == header, f"{self.root / rel}: header is {first}, expected {header}")
        rows = []
        for number, line in enumerate(lines[1:], start=2):
            fields = line.split("\t")
            require(
                len(fields) == len(header),
                f"{self.root / rel}:{number}: {len(fields)} fields, expected {len(header)}: {line!r}",
            )
            require(
                all(f and f == f.strip() for f in fields),
                f"{self.root / rel}:{number}: empty field or surrounding whitespace: {line!r}",
            )
            rows.append(fields)
        return rows


def dump_json(value):
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def dump_tsv(header, rows):
    out = ["\t".join(header)]
    for row in rows:
        for field in row:
            require("\t" not in field and "\n" not in field, f"field {field!r} contains a tab or newline")
        out.append("\t".join(row))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------------------
# a. openstack-role-matrix.json


def table_cells(line):
    """Cells of one markdown table row `| a | b |` (outer pipes dropped, cells stripped)."""
    body = line.strip()
    require(body.startswith("|") and body.endswith("|"), f"{SEED_000}: not a table row: {line!r}")
    return [cell.strip() for cell in body[1:-1].split("|")]


def parse_matrix(text):
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("| Droits Openstack")]
    require(len(starts) == 1, f"{SEED_000}: expected one line starting `| Droits Openstack`, found {len(starts)}")
    start = starts[0]
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    require(len(table) >= 2, f"{SEED_000}: the role table has no separator row")
    header, separator, body = table_cells(table[0]), table_cells(table[1]), table[2:]

    require(header[0] == "Droits Openstack", f"{SEED_000}: first header cell is {header[0]!r}")
    columns = header[1:]
    require(
        len(columns) == MATRIX_PERMISSIONS,
        f"{SEED_000}: role table has {len(columns)} permission columns, expected {MATRIX_PERMISSIONS}",
    )
    require(
        len(separator) == len(header) and all(re.fullmatch(r":?-{3,}:?", c) for c in separator),
        f"{SEED_000}: malformed separator row {table[1]!r}",
    )
    permissions = []
    for column in columns:
        match = re.fullmatch(r"([A-Za-z][A-Za-z ]*[A-Za-z]): ([a-z][a-z_]*[a-z])", column)
        require(match is not None, f"{SEED_000}: column header {column!r} is not `Service: permission`")
        service = SERVICE_NAMES.get(match.group(1).lower())
        require(service is not None, f"{SEED_000}: unknown service {match.group(1)!r} in column {column!r}")
        permissions.append({"name": match.group(2), "service": service})
    names = [p["name"] for p in permissions]
    require(len(set(names)) == len(names), f"{SEED_000}: duplicate permission column in {names}")

    require(
        len(body) == MATRIX_ROLES,
        f"{SEED_000}: role table has {len(body)} role rows, expected {MATRIX_ROLES}",
    )
    roles = []
    marked = 0
    for line in body:
        cells = table_cells(line)
        require(
            len(cells) == 1 + MATRIX_PERMISSIONS,
            f"{SEED_000}: row has {len(cells) - 1} permission cells, expected {MATRIX_PERMISSIONS}: {line!r}",
        )
        action = cells[0]
        require(
            re.fullmatch(r"publicCloudProject:(openstack|ai):[a-z][A-Za-z]*", action) is not None,
            f"{SEED_000}: row label {action!r} is not a publicCloudProject:{{openstack|ai}}:role action",
        )
        granted = []
        for name, cell in zip(names, cells[1:]):
            require(cell in ("", "x"), f"{SEED_000}: cell {cell!r} in row {action} is neither empty nor `x`")
            if cell == "x":
                granted.append(name)
        marked += len(granted)
        roles.append({"action": action, "permissions": granted})
    actions = [r["action"] for r in roles]
    require(len(set(actions)) == len(actions), f"{SEED_000}: duplicate role row in {actions}")

    table_text = "\n".join(body)
    x_count = len(re.findall(r"(?<=\|)\s*x\s*(?=\|)", table_text))
    require(marked == x_count, f"{SEED_000}: parsed {marked} granted cells but the table has {x_count} `x`")

    check_matrix_facts(names, roles)
    matrix = {
        "source": MATRIX_SOURCE,
        "generated_by": GENERATED_BY,
        "permissions": permissions,
        "roles": roles,
    }
    return matrix, marked


def check_matrix_facts(names, roles):
    """The facts of DOMAIN.md 1.7 that are easy to get wrong; the table must show them."""
    by_action = {r["action"]: set(r["permissions"]) for r in roles}

    def role(short):
        action = f"{ROLE_PREFIX}openstack:{short}"
        require(action in by_action, f"{SEED_000}: role {action} missing from the table")
        return by_action[action]

    admin = role("administrator")
    ai = {n for n in names if n.startswith("ai_training")}
    require(ai == {"ai_training_all", "ai_training_read"}, f"{SEED_000}: AI Training columns are {sorted(ai)}")
    require(len(admin) == 14, f"{SEED_000}: administrator has {len(admin)} permissions, expected 14")
    require(not admin & ai, f"{SEED_000}: administrator has an AI Training permission: {sorted(admin & ai)}")
    require(admin == set(names) - ai, f"{SEED_000}: administrator lacks {sorted(set(names) - ai - admin)}")
    backup = role("backupOperator")
    require(
        "image_import" in backup and "image_manage" not in backup,
        f"{SEED_000}: backupOperator should have image_import and not image_manage: {sorted(backup)}",
    )
    require(
        "network_secgroup_manage" not in role("networkOperator"),
        f"{SEED_000}: networkOperator should lack network_secgroup_manage",
    )
    supervisor = role("infrastructureSupervisor")
    expected = {"compute_read", "image_read", "volume_read", "network_read", "network_secgroup_read"}
    require(
        supervisor == expected,
        f"{SEED_000}: infrastructureSupervisor is {sorted(supervisor)}, expected {sorted(expected)}",
    )


# ---------------------------------------------------------------------------------------------------------
# b. ovh-permission-groups.json


def parse_groups(text):
    try:
        groups = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceError(f"{OVH_GROUPS}: invalid JSON ({err})") from err
    require(isinstance(groups, list), f"{OVH_GROUPS}: top level is not an array")
    require(len(groups) == OVH_GROUP_COUNT, f"{OVH_GROUPS}: {len(groups)} groups, expected {OVH_GROUP_COUNT}")
    entries = 0
    for index, group in enumerate(groups):
        where = f"{OVH_GROUPS}: group #{index}"
        require(isinstance(group, dict), f"{where} is not an object")
        for key in ("urn", "name"):
            require(isinstance(group.get(key), str) and group[key], f"{where} has no string `{key}`")
        perms = group.get("permissions")
        require(isinstance(perms, dict), f"{where} ({group['name']}) has no `permissions` object")
        require(
            set(perms) <= {"allow", "except", "deny"},
            f"{where} ({group['name']}): unexpected permission lists {sorted(set(perms))}",
        )
        for kind, items in perms.items():
            require(isinstance(items, list), f"{where} ({group['name']}): `{kind}` is not a list")
            for item in items:
                require(
                    isinstance(item, dict) and isinstance(item.get("action"), str) and item["action"],
                    f"{where} ({group['name']}): `{kind}` entry {item!r} has no `action`",
                )
            entries += len(items)
    names = [g["name"] for g in groups]
    require(len(set(names)) == len(names), f"{OVH_GROUPS}: duplicate group name in {names}")
    # The quirks the README says are kept as written; losing one means the source changed under us.
    require("globalBillingAccoun" in names, f"{OVH_GROUPS}: the `globalBillingAccoun` (sic) group is gone")
    technical = [g for g in groups if g["name"] == "globalTechnicalAccount"]
    require(
        len(technical) == 1 and technical[0]["urn"].endswith("globalTechnicalAccount "),
        f"{OVH_GROUPS}: globalTechnicalAccount's urn no longer has its documented trailing space",
    )
    openstack = [g for g in groups if g["name"] == "openstackAdmin"]
    require(
        len(openstack) == 1
        and [a["action"] for a in openstack[0]["permissions"].get("allow", [])]
        == [f"{ROLE_PREFIX}openstack:*"],
        f"{OVH_GROUPS}: openstackAdmin does not allow exactly {ROLE_PREFIX}openstack:*",
    )
    return groups, entries


# ---------------------------------------------------------------------------------------------------------
# c. ovh-actions.tsv


def read_ovh_table(sources, rel, expected_rows, expected_optional):
    """The rows of one (operation, action) table, each field checked."""
    rows = sources.tsv(rel, OVH_ACTIONS_HEADER)
    require(len(rows) == expected_rows, f"{rel}: {len(rows)} rows, expected {expected_rows}")
    optional_rows = 0
    for number, (schema, method, path, action, required, resource_type) in enumerate(rows, start=2):
        where = f"{rel}:{number}"
        require(schema.endswith(".json"), f"{where}: schema {schema!r} is not a .json file name")
        require(method in HTTP_METHODS, f"{where}: unknown HTTP method {method!r}")
        require(path.startswith("/") and ";" not in path, f"{where}: path {path!r} is not `/...` without `;`")
        require(
            re.fullmatch(r"[A-Za-z0-9]+:[A-Za-z0-9]+:\S+", action) is not None,
            f"{where}: action {action!r} is not `resourceType:namespace:operation`",
        )
        require(required in ("true", "false"), f"{where}: required is {required!r}, expected true/false")
        require(
            resource_type == action.split(":", 1)[0],
            f"{where}: resourceType {resource_type!r} is not the prefix of {action!r}",
        )
        optional_rows += required == "false"
    require(
        optional_rows == expected_optional,
        f"{rel}: {optional_rows} rows with required=false, expected {expected_optional}",
    )
    return rows


def parse_ovh_actions(sources, curated):
    """Both tables merged: ovhcloud-cli's (2025) and the /1.0 copies (2024) of the sections ovhcloud-cli lacks."""
    main = read_ovh_table(sources, OVH_ACTIONS, OVH_ACTION_ROWS, OVH_OPTIONAL_ROWS)
    older = read_ovh_table(curated, OVH_ACTIONS_10, OVH_10_ROWS, OVH_10_OPTIONAL_ROWS)
    for rel, rows, actions, types in (
        (OVH_ACTIONS, main, OVH_DISTINCT_ACTIONS, OVH_RESOURCE_TYPES),
        (OVH_ACTIONS_10, older, OVH_10_DISTINCT_ACTIONS, OVH_10_RESOURCE_TYPES),
    ):
        found = len({r[3] for r in rows})
        require(found == actions, f"{rel}: {found} distinct actions, expected {actions}")
        found = len({r[5] for r in rows})
        require(found == types, f"{rel}: {found} resource types, expected {types}")
    # No API section mixes the two sources: the /1.0 table has no path that ovhcloud-cli's schemas have (with or
    # without an annotation), and no schema file name of both.
    unannotated = curated.tsv(OVH_UNANNOTATED, ["schema", "method", "path"])
    require(
        len(unannotated) == OVH_UNANNOTATED_ROWS,
        f"{OVH_UNANNOTATED}: {len(unannotated)} rows, expected {OVH_UNANNOTATED_ROWS}",
    )
    held = {r[2] for r in main} | {r[2] for r in unannotated}
    mixed = sorted({r[2] for r in older if r[2] in held}, key=byte_key)
    require(not mixed, f"{OVH_ACTIONS_10}: paths that {OVH_ACTIONS} holds too: {mixed[:5]}")
    both = sorted({r[0] for r in main} & {r[0] for r in older}, key=byte_key)
    require(not both, f"{OVH_ACTIONS_10}: schema names that {OVH_ACTIONS} has too: {both}")

    rows = [tuple(r) + (OVH_SOURCE_CLI,) for r in main] + [tuple(r) + (OVH_SOURCE_10,) for r in older]
    resource_types = {}
    required_by = {}  # action -> {"METHOD path": required?}
    for schema, method, path, action, required, resource_type, _source in rows:
        require(
            resource_types.setdefault(action, resource_type) == resource_type,
            f"{schema}: action {action} has two resource types",
        )
        operation = f"{method} {path}"
        operations = required_by.setdefault(action, {})
        # The same (operation, action) pair appears under two byte-identical schema files; a pair marked
        # both ways (never seen) counts as required.
        operations[operation] = operations.get(operation, False) or required == "true"
    require(
        len(required_by) == OVH_ALL_DISTINCT_ACTIONS,
        f"{OVH_ACTIONS} + {OVH_ACTIONS_10}: {len(required_by)} distinct actions, expected {OVH_ALL_DISTINCT_ACTIONS}",
    )
    types = set(resource_types.values())
    require(
        len(types) == OVH_ALL_RESOURCE_TYPES,
        f"{OVH_ACTIONS} + {OVH_ACTIONS_10}: {len(types)} resource types, expected {OVH_ALL_RESOURCE_TYPES}",
    )
    out = []
    for action in sorted(required_by, key=byte_key):
        entries = [op if req else f"{op} (optional)" for op, req in required_by[action].items()]
        out.append([action, resource_types[action], ";".join(sorted(set(entries), key=byte_key))])
    stats = {
        "raw_rows": rows,
        "rows": len(rows),
        "rows_cli": len(main),
        "rows_10": len(older),
        "schemas_cli": len({r[0] for r in main}),
        "schemas_10": len({r[0] for r in older}),
        "actions": len(out),
        "resource_types": len(types),
        "operations": len({f"{r[1]} {r[2]}" for r in rows}),
        "schemas": len({r[0] for r in rows}),
    }
    return out, stats


def check_ovh_actions_readme(sources, curated):
    """The READMEs of the tables state each one's sha256; each table must be that version."""
    for where, readme_rel, rel, label in (
        (sources, OVH_ACTIONS_README, OVH_ACTIONS, "the TSV"),
        (curated, OVH_CURATED_README, OVH_ACTIONS_10, "ovh-iam-actions-1.0.tsv"),
        (curated, OVH_CURATED_README, OVH_UNANNOTATED, "ovh-iam-actions-unannotated.tsv"),
        (curated, OVH_CURATED_README, OVH_GROUP_SOURCES, "ovh-permission-groups.sources.tsv"),
    ):
        readme = where.text(readme_rel)
        match = re.search(rf"sha256 of {re.escape(label)}: `([0-9a-f]{{64}})`", readme)
        require(match is not None, f"{readme_rel}: no `sha256 of {label}` line")
        actual = sha256_hex(where.raw[rel])
        require(
            match.group(1) == actual,
            f"{rel}: sha256 {actual} differs from the {match.group(1)} its README describes; "
            "update the README (and the expected counts here) together with the table",
        )


def path_roots(paths):
    """The literal head of each path (up to two segments, stopping at a `{param}`), without any head that another
    one already covers; several heads of one first segment (`/iam/policy`, `/iam/resource`, ...) become it."""
    heads = set()
    for path in paths:
        out = []
        for seg in path.strip("/").split("/")[:2]:
            if seg.startswith("{") or not seg:
                break
            out.append(seg)
        heads.add("/" + "/".join(out))
    heads = {h for h in heads if not any(o != h and h.startswith(o + "/") for o in heads)}
    firsts = {h.split("/")[1] for h in heads}
    if len(heads) > 2 and len(firsts) == 1:
        heads = {"/" + firsts.pop()}
    return sorted(heads, key=byte_key)


def family_of(action):
    """The family of an `apiovh` action: the operation part before its first `/`, or "" for a top-level one."""
    operation = action.split(":", 2)[2]
    return operation.split("/", 1)[0] if "/" in operation else ""


def build_coverage(rows):
    """policies/ovh-catalogue-coverage.json: the schemas held, the resource types and action families they define,
    and the APIs known to be missing."""
    by_schema = {}
    for schema, _method, path, action, _required, resource_type, source in rows:
        entry = by_schema.setdefault(schema, {"paths": set(), "types": Counter(), "actions": set(), "source": source})
        entry["paths"].add(path)
        entry["types"][resource_type] += 1
        entry["actions"].add(action)
    schemas = []
    owned = set()
    for schema in sorted(by_schema, key=byte_key):
        entry = by_schema[schema]
        total = sum(entry["types"].values())
        top = max(entry["types"].values())
        for resource_type, count in entry["types"].items():
            if count == top or count >= OVH_OWNER_SHARE * total:
                owned.add(resource_type)
        schemas.append({
            "file": schema,
            "path_roots": path_roots(entry["paths"]),
            "resource_types": sorted(entry["types"], key=byte_key),
            "actions": len(entry["actions"]),
            "source": entry["source"],
        })
    types = {}
    for schema, _method, _path, action, _required, resource_type, _source in rows:
        require(action.split(":")[1] == "apiovh", f"{OVH_ACTIONS}: action {action} is not in the apiovh namespace")
        entry = types.setdefault(resource_type, {"schemas": set(), "families": set()})
        entry["schemas"].add(schema)
        entry["families"].add(family_of(action))
    missing = []
    for api in OVH_MISSING_APIS:
        for prefix in api["prefixes"]:
            require(
                re.fullmatch(r"[A-Za-z0-9]+:apiovh:([A-Za-z0-9]+/)?", prefix) is not None,
                f"missing API {api['api']}: prefix {prefix!r} is not `type:apiovh:` or `type:apiovh:family/`",
            )
            held = [a for s in by_schema.values() for a in s["actions"] if a.startswith(prefix)]
            # A prefix that names a whole resource type may share it with held schemas (publicCloudProject in
            # cloud_v2.json); a family prefix must not already be held, or the catalogue has that API after all.
            if prefix.endswith("/"):
                require(
                    not held,
                    f"missing API {api['api']}: the catalogue now holds {len(held)} `{prefix}` actions; "
                    "update OVH_MISSING_APIS",
                )
        require(api["schema"] not in by_schema, f"missing API {api['api']}: {api['schema']} is held now")
        missing.append(dict(api))
    for name in OVH_PARTIAL_TYPES:
        require(name in types, f"OVH_PARTIAL_TYPES names {name}, which no held schema has")
    whole_type_gaps = {
        p.split(":", 1)[0]: api["api"] for api in OVH_MISSING_APIS for p in api["prefixes"] if p.endswith(":apiovh:")
    }
    resource_types = []
    for name in sorted(types, key=byte_key):
        entry = types[name]
        if name in whole_type_gaps:
            coverage, why = "partial", f"the `{whole_type_gaps[name]}` API is missing (see `missing`)"
        elif name in OVH_PARTIAL_TYPES:
            coverage, why = "partial", OVH_PARTIAL_TYPES[name]
        elif name not in owned:
            coverage = "partial"
            why = (
                "not the main resource type of any held schema (named in a few operations of "
                + ", ".join(sorted(entry["schemas"], key=byte_key))
                + "): its own API may not be held"
            )
        else:
            coverage, why = "full", None
        resource_types.append({
            "name": name,
            "coverage": coverage,
            "why": why,
            "schemas": sorted(entry["schemas"], key=byte_key),
            "families": sorted(entry["families"], key=byte_key),
        })
    coverage = {
        "about": (
            "What policies/ovh-actions.tsv covers. `schemas`: the API schema files it was extracted from, with the "
            "path roots of their operations and the resource types their actions name. `resource_types`: for each "
            "resource type, the schemas naming it and its action families (the operation part before the first "
            "`/`; \"\" for a top-level action such as `vps:apiovh:reboot`). `full`: it is the main resource type of a "
            "held schema, so an unlisted action of it is one that no operation of that API needs; `partial`: "
            "other, unheld APIs name it too, so only an unlisted action of a listed family is judged. `missing`: "
            "APIs known to be absent; an action under one of their prefixes is not in the shipped catalogue, "
            "which says nothing about whether it exists."
        ),
        "generated_by": GENERATED_BY,
        "sources": [OVH_SOURCE_CLI, OVH_SOURCE_10],
        "schemas": schemas,
        "resource_types": resource_types,
        "missing": missing,
    }
    return coverage


def parse_group_sources(sources, groups):
    """The source of each shipped group (exactly one `shipped` row, same id) and other public versions (`older`)."""
    rows = sources.tsv(OVH_GROUP_SOURCES, OVH_GROUP_SOURCES_HEADER)
    ids = {g["name"]: g.get("id") for g in groups}
    shipped = Counter()
    for number, (name, group_id, status, _source, _path, commit, _date, _note) in enumerate(rows, start=2):
        where = f"{OVH_GROUP_SOURCES}:{number}"
        require(name in ids, f"{where}: {name!r} is not a group of {OVH_GROUPS}")
        require(status in OVH_GROUP_STATUSES, f"{where}: status {status!r} is not one of {sorted(OVH_GROUP_STATUSES)}")
        require(re.fullmatch(r"[0-9a-f]{40}", commit) is not None, f"{where}: commit {commit!r} is not a full hash")
        if status == "shipped":
            shipped[name] += 1
            require(group_id == ids[name], f"{where}: id {group_id} is not the shipped {name}'s id {ids[name]}")
        else:
            require(group_id != ids[name], f"{where}: an `older` {name} must be another object than the shipped one")
    for name in ids:
        require(shipped[name] == 1, f"{OVH_GROUP_SOURCES}: {name} has {shipped[name]} `shipped` rows, expected 1")
    return rows


# ---------------------------------------------------------------------------------------------------------
# d. outscale-actions.tsv


def parse_outscale(sources):
    rows = []
    operations = sources.lines(OSC_OPERATIONS)
    for number, name in enumerate(operations, start=1):
        require(
            re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) is not None,
            f"{OSC_OPERATIONS}:{number}: {name!r} is not an operation name",
        )
        rows.append([f"api:{name}", "confirmed", OSC_API_SOURCE])
    require(
        len(operations) == OSC_API_OPERATIONS,
        f"{OSC_OPERATIONS}: {len(operations)} names, expected {OSC_API_OPERATIONS}",
    )
    reads = sum(1 for name in operations if name.startswith("Read"))
    require(
        reads == OSC_API_READ_OPERATIONS,
        f"{OSC_OPERATIONS}: {reads} Read* names, expected {OSC_API_READ_OPERATIONS}",
    )

    counts = {}
    for rel, status, expected, qa_required in (
        (OSC_LEGACY, "confirmed", OSC_LEGACY_PER_SERVICE, True),
        (OSC_CANDIDATES, "candidate", OSC_CANDIDATES_PER_SERVICE, False),
    ):
        legacy = sources.tsv(rel, OSC_LEGACY_HEADER)
        for number, (service, operation, source) in enumerate(legacy, start=2):
            where = f"{rel}:{number}"
            require(service in OSC_LEGACY_PER_SERVICE, f"{where}: unknown service {service!r}")
            require(
                re.fullmatch(r"[A-Z][A-Za-z0-9]*", operation) is not None,
                f"{where}: {operation!r} is not an operation name",
            )
            tags = source.split(";")
            require(set(tags) <= OSC_LEGACY_TAGS, f"{where}: unknown evidence tag in {source!r}")
            # The README's inclusion rule: the main file needs QA evidence, the candidates have none.
            require(
                bool(set(tags) & OSC_QA_TAGS) == qa_required,
                f"{where}: evidence {source!r} does not fit the file's inclusion rule",
            )
            rows.append([f"{service}:{operation}", status, source])
        found = dict(Counter(service for service, _, _ in legacy))
        require(found == expected, f"{rel}: rows per service are {found}, expected {expected}")
        counts[status] = found

    actions = [row[0] for row in rows]
    duplicates = sorted(a for a, n in Counter(actions).items() if n > 1)
    require(not duplicates, f"outscale sources: action(s) listed twice: {duplicates}")
    rows.sort(key=lambda row: byte_key(row[0]))
    stats = {
        "api": len(operations),
        "confirmed": sum(counts["confirmed"].values()),
        "candidate": sum(counts["candidate"].values()),
        "confirmed_per_service": counts["confirmed"],
        "candidate_per_service": counts["candidate"],
        "total": len(rows),
    }
    return rows, stats


# ---------------------------------------------------------------------------------------------------------
# e. openstack-commands.json


def parse_os_csv(text):
    """The shared CSV: one row per command, its main call, permission and confidence (free text in places:
    `(+ ...)` lookups, `then ...` second calls, `{action}` bodies)."""
    rows = list(csv.reader(io.StringIO(text)))
    require(rows and rows[0] == OS_CSV_HEADER, f"{OS_COMMANDS}: header is {rows[:1]}, expected {OS_CSV_HEADER}")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        where = f"{OS_COMMANDS}:{number}"
        require(len(row) == len(OS_CSV_HEADER), f"{where}: {len(row)} fields, expected {len(OS_CSV_HEADER)}")
        command, service, method, path, permission, confidence = (f.strip() for f in row)
        require(command.startswith("openstack "), f"{where}: command {command!r} does not start with `openstack `")
        require(service in OS_SERVICES, f"{where}: unknown service {service!r}")
        require(confidence in OS_CONFIDENCE, f"{where}: confidence {confidence!r} is not one of {OS_CONFIDENCE}")
        require(method in OS_METHODS, f"{where}: unknown HTTP method {method!r}")
        main = re.match(r"(\(from token body\)|/\S*)(?: \{([A-Za-z-]+)\})?", path)
        require(main is not None, f"{where}: path {path!r} does not start with `/` or `(from token body)`")
        main_path = None if main.group(1).startswith("(") else main.group(1)
        rest = path[main.end():]
        # Every other `METHOD [service] /path` the row names: `(+ GET ...)`, `then PUT ...`, `(after GET ...)`.
        mentioned = [
            (m, p.split("?")[0])
            for m, p in re.findall(r"\b(GET|POST|PUT|DELETE|PATCH|HEAD)\s+(?:[a-z]+\s+)?(/[^\s,)]*)", rest)
        ]
        perm = re.match(r"([a-z_]+)", permission)
        require(perm is not None, f"{where}: permission {permission!r} does not start with a name")
        main_permission = OS_ANY_ROLE if perm.group(1) == "none" else perm.group(1)
        extra = re.findall(r"\b([a-z]+_[a-z_]+)\b", permission[perm.end():])
        out.append({
            "line": number, "csv": command, "service": service, "method": method, "path": main_path,
            "body": main.group(2), "permission": main_permission, "extra_permissions": extra,
            "mentioned": mentioned, "confidence": confidence,
        })
    require(len(out) == OS_CSV_ROWS, f"{OS_COMMANDS}: {len(out)} rows, expected {OS_CSV_ROWS}")
    return out


def load_os_additions():
    try:
        data = OS_ADDITIONS.read_bytes()
    except OSError as err:
        raise SourceError(f"cannot read {OS_ADDITIONS_NAME}: {err}") from err
    try:
        return json.loads(data.decode("utf-8")), data
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SourceError(f"{OS_ADDITIONS_NAME}: invalid JSON ({err})") from err


OS_CALL_KEYS = {"service", "method", "path", "body", "permission", "purpose", "when", "optional", "source"}


def check_os_call(call, permissions, where):
    require(set(call) <= OS_CALL_KEYS, f"{where}: unknown keys {sorted(set(call) - OS_CALL_KEYS)}")
    for key in ("service", "method", "path", "permission", "purpose", "source"):
        require(isinstance(call.get(key), str) and call[key], f"{where}: no `{key}`")
    require(call["service"] in OS_SERVICES, f"{where}: unknown service {call['service']!r}")
    require(call["method"] in OS_METHODS, f"{where}: unknown method {call['method']!r}")
    require(re.fullmatch(r"/[A-Za-z0-9_./{}-]*", call["path"]) is not None, f"{where}: bad path {call['path']!r}")
    require(
        call["permission"] in permissions or call["permission"] == OS_ANY_ROLE,
        f"{where}: permission {call['permission']!r} is not one of the matrix's {len(permissions)} nor {OS_ANY_ROLE}",
    )
    require(call["purpose"] in OS_PURPOSES, f"{where}: purpose {call['purpose']!r} is not one of {sorted(OS_PURPOSES)}")
    if "body" in call:
        require(re.fullmatch(r"[A-Za-z-]+", call["body"] or "") is not None, f"{where}: bad body {call['body']!r}")
        require(call["path"].endswith("/action"), f"{where}: a body action needs an `/action` path")
    if "when" in call:
        when = call["when"]
        require(
            isinstance(when, list) and when and all(re.fullmatch(r"--[a-z][a-z-]*", w or "") for w in when),
            f"{where}: `when` must be a list of `--option` names",
        )
    if "optional" in call:
        require(isinstance(call["optional"], str) and call["optional"], f"{where}: `optional` must say why")
    # Canonical key order in the output.
    return {k: call[k] for k in ("service", "method", "path", "body", "permission", "purpose", "when", "optional", "source") if k in call}


def resolve_os_call(item, refs, csv_row, permissions, where, corrections):
    """One call of an additions entry: a ref name, a ref with overrides, the CSV's main call, or a full call."""
    if isinstance(item, str):
        require(item in refs, f"{where}: unknown ref {item!r}")
        return check_os_call(dict(refs[item]), permissions, where)
    require(isinstance(item, dict), f"{where}: a call is a ref name or an object")
    item = dict(item)
    if item.pop("main", False):
        require(csv_row is not None, f"{where}: `main` is only for entries built from a CSV row")
        call = {
            "service": csv_row["service"], "method": csv_row["method"], "path": csv_row["path"],
            "permission": csv_row["permission"], "purpose": "main",
        }
        if csv_row["body"]:
            call["body"] = csv_row["body"]
        correction = item.pop("correction", None)
        changed = [k for k in ("method", "path", "permission") if k in item and item[k] != call[k]]
        require(
            bool(changed) == bool(correction),
            f"{where}: a change of the CSV's {changed or 'main call'} needs a `correction` saying why, and only then",
        )
        if correction:
            corrections.append(correction)
        call.update(item)
        require(call.get("path"), f"{where}: the CSV row names no path; give one with a correction")
        return check_os_call(call, permissions, where)
    if "ref" in item:
        name = item.pop("ref")
        require(name in refs, f"{where}: unknown ref {name!r}")
        call = dict(refs[name])
        call.update(item)
        return check_os_call(call, permissions, where)
    return check_os_call(item, permissions, where)


def build_os_catalogue(text, permissions):
    rows = parse_os_csv(text)
    additions, raw = load_os_additions()
    require(isinstance(additions, dict), f"{OS_ADDITIONS_NAME}: top level is not an object")
    for key in ("about", "upstream", "permission_rule", "pseudo_permissions", "refs", "from_csv", "added", "sdk"):
        require(key in additions, f"{OS_ADDITIONS_NAME}: no `{key}`")
    require(
        list(additions["pseudo_permissions"]) == [OS_ANY_ROLE],
        f"{OS_ADDITIONS_NAME}: pseudo_permissions must define exactly {OS_ANY_ROLE}",
    )
    refs = additions["refs"]
    for name, ref in refs.items():
        require(isinstance(ref, dict), f"{OS_ADDITIONS_NAME}: ref {name} is not an object")
        if name != "server_action":  # a partial call, completed where used
            check_os_call(ref, permissions, f"{OS_ADDITIONS_NAME}: ref {name}")

    by_csv = {row["csv"]: row for row in rows}
    require(len(by_csv) == len(rows), f"{OS_COMMANDS}: a command is listed twice")
    seen_csv = set()
    commands = []
    for index, entry in enumerate(additions["from_csv"]):
        where = f"{OS_ADDITIONS_NAME}: from_csv[{index}]"
        row = by_csv.get(entry.get("csv"))
        require(row is not None, f"{where}: `csv` {entry.get('csv')!r} is no command of {OS_COMMANDS}")
        require(row["csv"] not in seen_csv, f"{where}: CSV row {row['csv']!r} used twice")
        seen_csv.add(row["csv"])
        where = f"{where} ({row['csv']})"
        words = entry.get("command", "")
        require(
            re.fullmatch(r"[a-z0-9]+( [a-z0-9]+)*", words) is not None
            and (row["csv"] + " ").startswith(f"openstack {words} "),
            f"{where}: command {words!r} is not the start of the CSV's command",
        )
        corrections = list(entry.get("corrections", []))
        calls = [
            resolve_os_call(item, refs, row, permissions, f"{where} call {i}", corrections)
            for i, item in enumerate(entry.get("calls", []))
        ]
        # What the CSV row names besides its main call must be in the calls.
        for method, path in row["mentioned"]:
            require(
                any(c["method"] == method and c["path"] == path for c in calls),
                f"{where}: the CSV names the call {method} {path}; the entry does not make it",
            )
        for extra in row["extra_permissions"]:
            require(extra in permissions, f"{OS_COMMANDS}:{row['line']}: unknown permission {extra!r}")
            require(
                any(c["permission"] == extra for c in calls),
                f"{where}: the CSV names {extra}; no call of the entry needs it",
            )
        commands.append(os_command(entry, words, row["csv"], row["service"], row["confidence"],
                                   f"{OS_COMMANDS}:{row['line']}", calls, corrections, where))
    missing = [row["csv"] for row in rows if row["csv"] not in seen_csv]
    require(not missing, f"{OS_ADDITIONS_NAME}: no from_csv entry for CSV rows {missing}")

    for index, entry in enumerate(additions["added"]):
        where = f"{OS_ADDITIONS_NAME}: added[{index}] ({entry.get('command')})"
        words = entry.get("command", "")
        require(re.fullmatch(r"[a-z0-9]+( [a-z0-9]+)*", words) is not None, f"{where}: bad command words")
        require(entry.get("usage", "").startswith(f"openstack {words}"), f"{where}: usage must start with the command")
        require(entry.get("service") in OS_SERVICES, f"{where}: unknown service")
        require(entry.get("confidence") in OS_CONFIDENCE, f"{where}: bad confidence")
        calls = [
            resolve_os_call(item, refs, None, permissions, f"{where} call {i}", [])
            for i, item in enumerate(entry.get("calls", []))
        ]
        commands.append(os_command(entry, words, entry["usage"], entry["service"], entry["confidence"],
                                   OS_ADDITIONS_NAME, calls, [], where))

    keys = [(c["command"], c.get("variant") or "") for c in commands]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    require(not duplicates, f"openstack commands listed twice: {duplicates}")
    names = {c["command"] for c in commands}
    absent = [c for c in OS_SEED_COMMANDS if c not in names]
    require(not absent, f"openstack commands of seeds 000/001 missing from the catalogue: {absent}")
    require(len(names) >= OS_MIN_COMMANDS, f"only {len(names)} openstack commands, expected at least {OS_MIN_COMMANDS}")
    for c in commands:
        if c.get("variant"):
            require((c["command"], "") in keys, f"variant {c['variant']} of {c['command']} has no default entry")
    commands.sort(key=lambda c: (byte_key(c["command"]), byte_key(c.get("variant") or "")))

    sdk = []
    for index, entry in enumerate(additions["sdk"]):
        where = f"{OS_ADDITIONS_NAME}: sdk[{index}] ({entry.get('sdk')})"
        name = entry.get("sdk", "")
        require(re.fullmatch(r"conn\.[a-z_]+\.[a-z_]+\([a-z_=A-Za-z]*\)", name) is not None, f"{where}: bad sdk name")
        require(entry.get("confidence") in OS_CONFIDENCE, f"{where}: bad confidence")
        call = check_os_call({k: v for k, v in entry.items() if k not in ("sdk", "confidence")} | {"purpose": "main"},
                             permissions, where)
        require(entry["confidence"] != "high" or name in OS_SEED_SHOWN, f"{where}: only seed-shown calls are high")
        del call["purpose"]
        sdk.append({"sdk": name, **call, "confidence": entry["confidence"]})
    require(len({s["sdk"] for s in sdk}) == len(sdk), f"{OS_ADDITIONS_NAME}: an sdk call is listed twice")
    sdk.sort(key=lambda s: byte_key(s["sdk"]))

    # One API call, one permission: the same (method, path, body) never needs two permissions, so an API call
    # alone (`GET /v2.1/servers`) has one answer. A variant is a flow of its own and is exempt: the CSV gives
    # `image create --import` image_import for the POST /v2/images that plain `image create` does with image_manage.
    needs = {}
    plain = [(c["command"], call) for c in commands if not c.get("variant") for call in c["calls"]]
    for where, call in plain + [(s["sdk"], s) for s in sdk]:
        key = (call["method"], call["path"], call.get("body"))
        previous = needs.setdefault(key, (call["permission"], where))
        require(
            previous[0] == call["permission"],
            f"{' '.join(k for k in key if k)} needs {previous[0]} for {previous[1]} but {call['permission']} for {where}",
        )

    catalogue = {
        "source": f"{OS_COMMANDS} (shared data) and {OS_ADDITIONS_NAME} (curated, sourced)",
        "generated_by": GENERATED_BY,
        "upstream": additions["upstream"],
        "permission_rule": additions["permission_rule"],
        "pseudo_permissions": additions["pseudo_permissions"],
        "commands": commands,
        "sdk": sdk,
    }
    confidence = Counter(c["confidence"] for c in commands)
    stats = {
        "commands": len(commands),
        "names": len(names),
        "from_csv": len(additions["from_csv"]),
        "added": len(additions["added"]),
        "corrected": sum(1 for c in commands if c.get("corrections")),
        "sdk": len(sdk),
        "api_calls": len(needs),
        "confidence": {k: confidence.get(k, 0) for k in OS_CONFIDENCE},
        "services": dict(sorted(Counter(c["service"] for c in commands).items())),
        "additions_sha256": sha256_hex(raw),
    }
    return catalogue, stats


def os_command(entry, words, usage, service, confidence, origin, calls, corrections, where):
    require(calls, f"{where}: no calls")
    require(isinstance(entry.get("source"), str) and entry["source"], f"{where}: no `source`")
    require(confidence != "high" or words in OS_SEED_SHOWN, f"{where}: only what seed 000 shows may be `high`")
    variant = entry.get("variant")
    require(variant is None or re.fullmatch(r"--[a-z][a-z-]*", variant), f"{where}: bad variant {variant!r}")
    command = {"command": words}
    if variant:
        command["variant"] = variant
    command.update({"usage": usage, "service": service, "confidence": confidence, "origin": origin,
                    "source": entry["source"], "calls": calls})
    if corrections:
        command["corrections"] = corrections
    if entry.get("note"):
        command["note"] = entry["note"]
    return command


# ---------------------------------------------------------------------------------------------------------
# f. README.md


def check_citations(sources, curated):
    for rel, needles in CITATIONS.items():
        text = sources.text(rel)
        for needle in needles:
            require(needle in text, f"{rel}: no longer mentions {needle!r}, which policies/README.md cites")
    text = curated.text(OVH_CURATED_README)
    for needle in CURATED_CITATIONS:
        require(needle in text, f"{OVH_CURATED_README}: no longer mentions {needle!r}, which policies/README.md cites")


def render_readme(sources, curated, matrix_cells, group_entries, ovh, osc, ostack, absent, plain, coverage, group_sources):
    n = "{:,}".format
    group_source_rows = "\n".join(
        f"| {name} | `{group_id}` | {status} | {source}, `{path}` | `{commit[:12]}` | {date} | {note} |"
        for name, group_id, status, source, path, commit, date, note in group_sources
    )
    full = [t["name"] for t in coverage["resource_types"] if t["coverage"] == "full"]
    partial = [t["name"] for t in coverage["resource_types"] if t["coverage"] == "partial"]
    schema_rows = "\n".join(
        f"| `{s['file']}` | {', '.join(f'`{r}`' for r in s['path_roots'])} | {', '.join(s['resource_types'])} | {s['actions']} |"
        for s in coverage["schemas"]
    )
    missing_rows = "\n".join(
        f"- `{m['schema']}`: {m['why']}; "
        + (
            "its actions: " + ", ".join(f"`{p}...`" for p in m["prefixes"])
            if m["prefixes"]
            else "its action names are not known here"
        )
        + "."
        for m in coverage["missing"]
    )
    confirmed = osc["confirmed_per_service"]
    candidate = osc["candidate_per_service"]
    legacy_services = ", ".join(f"{s} {confirmed.get(s, 0)}" for s in OSC_LEGACY_PER_SERVICE)
    candidate_services = ", ".join(f"{s} {candidate[s]}" for s in OSC_CANDIDATES_PER_SERVICE)
    checksums = "\n".join(f"| `{rel}` | `{sha256_hex(sources.raw[rel])}` |" for rel in DATA_SOURCES)
    curated_checksums = "\n".join(
        f"| `gen/{rel}` | `{sha256_hex(curated.raw[rel])}` |" for rel in CURATED_DATA
    )
    return f"""# policies/: shipped data catalogues

<!-- Generated by {GENERATED_BY}; do not edit by hand. -->

Everything in this folder except `examples/` and `gen/` is **generated** by `gen/generate.py` from the sourced raw
data in the shared folder (`../shared/`, a sibling of the repository) and in `gen/` (curated or sourced files kept
with the generator: `gen/openstack-commands-additions.json`, and `gen/ovh/`, each with its provenance). No list here
is typed by hand: to change one, fix its source or the generator, then regenerate.

| file | what it is | size |
|---|---|---|
| `openstack-role-matrix.json` | the OpenStack role matrix: which of the 16 OpenStack permissions each of the 11 OVHcloud role actions (`publicCloudProject:openstack:*`, `publicCloudProject:ai:*`) carries | {MATRIX_ROLES} roles x {MATRIX_PERMISSIONS} permissions, {matrix_cells} of {MATRIX_ROLES * MATRIX_PERMISSIONS} cells granted |
| `ovh-permission-groups.json` | the OVHcloud-managed IAM permission groups (globalAdmin, globalReadOnly, openstackAdmin, ...), each with its `allow`/`except` actions | {OVH_GROUP_COUNT} groups, {n(group_entries)} action entries |
| `ovh-catalogue-coverage.json` | what `ovh-actions.tsv` covers: the API schemas it holds (path roots, resource types), each resource type's action families and whether it is held in full, and the APIs known to be missing | {len(coverage["schemas"])} schemas, {len(coverage["resource_types"])} resource types ({len(full)} full, {len(partial)} partial), {len(coverage["missing"])} missing APIs |
| `ovh-actions.tsv` | the OVHcloud IAM action catalogue: `action`, `resourceType`, and the API operations (`METHOD path`, `;`-joined) that need the action; ` (optional)` marks an operation for which it only filters a listing (`required: false`) | {n(ovh["actions"])} actions, {ovh["resource_types"]} resource types |
| `outscale-actions.tsv` | every known OUTSCALE EIM action name with its `status` (`confirmed` or `candidate`) and `source` (evidence) | {n(osc["total"])} actions: {osc["api"]} `api:`, {osc["confirmed"]} confirmed legacy, {osc["candidate"]} candidates |
| `openstack-commands.json` | the `openstack` CLI command catalogue: each command (and variant) as the list of API calls the CLI makes (service, method, path, purpose, the `--options` that trigger it) with the OpenStack permission each needs, its source and confidence; plus openstacksdk calls | {ostack["commands"]} entries ({ostack["names"]} commands): {ostack["confidence"]["high"]} high, {ostack["confidence"]["medium"]} medium, {ostack["confidence"]["low"]} low confidence; {ostack["sdk"]} SDK calls; {ostack["api_calls"]} distinct API calls |
| `README.md` | this page (generated too) | |
| `examples/` | example policies, written by hand (not generated) | |

TSV files have a header line, tab-separated columns and rows sorted by `action` in byte order.

## Sources

### `openstack-role-matrix.json`
The table of the 11 OpenStack rights in the OVHcloud guide "How to use service accounts to connect to OpenStack"
(French version, `updated: 2023-08-08`; shared file `{SEED_000}`). Permissions are in the table's column
order, roles in its row order, each role's permissions in column order. Service names are written with their
product capitalisation (the table writes `glance`). The generator refuses a table that is not 11 x 16 or that
breaks the facts DOMAIN.md 1.7 relies on (administrator has 14 permissions and no AI Training one,
backupOperator has `image_import` but not `image_manage`, networkOperator lacks `network_secgroup_manage`,
infrastructureSupervisor is exactly the five `*_read` permissions of Nova, Glance, Cinder and Neutron).

### `ovh-permission-groups.json`
Copied unchanged from `{OVH_GROUPS}` (same objects, same order; only re-serialised). That file was
transcribed from the ovh/docs guide "List of permission groups managed by OVHcloud"
(github.com/ovh/docs, `pages/account_and_service_management/account_information/iam-permission-groups/guide.en-gb.md`,
commit `a1c6bd12928d1489716d87f41bcbf51794585d7e`, front matter `updated: 2023-12-06`). Quirks kept as written:
the billing group's name and urn are `globalBillingAccoun` (no final "t"), and globalTechnicalAccount's urn ends
with a space (`"urn:v1:eu:permissionsGroup:ovh:globalTechnicalAccount "`). Another version of the guide (commit
`36c697157722e485c942ec20baedc4fd802dc16c`, same `updated` date) adds `sharepoint:apiovh:*` to that group's
allow list and `sharepoint:apiovh:serviceInfos/edit` to its except list; which one is newer is unknown. The live
`GET /iam/permissionsGroup` may list other or newer groups.

The source of each group, and other public versions of a group, from `gen/{OVH_GROUP_SOURCES}` (`shipped`: the object
in `ovh-permission-groups.json`; `older`: another object of that name, not shipped). The generator checks that each
group has exactly one `shipped` row with its id, and that an `older` row is another object.

| group | id | status | source | commit | date | note |
|---|---|---|---|---|---|---|
{group_source_rows}

### `ovh-actions.tsv`
Built from two tables ({n(ovh["rows"])} (operation, action) rows, {n(ovh["operations"])} distinct `METHOD path`
pairs, {ovh["schemas"]} schema files), both made by the same script from the IAM annotations of OVHcloud API schemas:
- `{OVH_ACTIONS}` ({n(ovh["rows_cli"])} rows, {ovh["schemas_cli"]} schemas): the `x-iam-actions` annotations of the
  schemas shipped in github.com/ovh/ovhcloud-cli, `internal/assets/api-schemas/*.json`, commit
  `546f3c828123905ea58b7c54c1d7b0cb86ed0e9e` (2025-10-02);
- `gen/{OVH_ACTIONS_10}` ({n(ovh["rows_10"])} rows, {ovh["schemas_10"]} schemas): the `iamActions` annotations of the
  EU API's `/1.0` schemas as copied in github.com/UrielCh/api-ovh-node, `code/gen/models/ovh-api/*.ts`, commit
  `4bb5f1487f2fa700a1e3b24390c71df361aa9ed6` (2024-06-07), for the API sections ovhcloud-cli lacks only (`/cloud`,
  `/services`, `/order`, `/dedicatedCloud`, `/license/*`, ...). The generator checks that no path of this table is
  an operation of ovhcloud-cli's schemas (`gen/{OVH_UNANNOTATED}` lists those without annotation), so no API
  section mixes the two.

The generator checks that each table's sha256 is the one their README states. Action names are curated by OVHcloud, not derivable from method and path:
`POST /vps/{{serviceName}}/createSnapshot` needs `vps:apiovh:snapshot/create` (there is no
`vps:apiovh:createSnapshot`).

### `ovh-catalogue-coverage.json`
Computed from the same rows: what the action catalogue covers, so that an action it lacks is judged fairly.
Per schema file, the path roots of its operations and the resource types its actions name:

| schema | path roots | resource types | actions |
|---|---|---|---|
{schema_rows}

Per resource type, the schemas naming it and its action families (the operation part before the first `/`; `""`
for a top-level action such as `vps:apiovh:reboot`). A resource type is **full** when it is the main one of a held
schema (the most rows, or at least {int(OVH_OWNER_SHARE * 100)}% of them): an action of it that the catalogue lacks
is one that no operation of that API needs (a typo, an invented or an obsolete name). It is **partial** when unheld APIs
may name it too ({", ".join(f"`{p}`" for p in partial)}): then only an unlisted action of a listed family is judged so,
and never one under a missing API's prefix.
Full: {", ".join(f"`{f}`" for f in full)}.

An action of a resource type no held schema names, of a family a partial resource type lacks, or under a prefix of
an API listed below, is "not in the shipped catalogue", which says nothing about whether it exists. Schema files
known to exist (ovhcloud-cli lists them at later commits) that the catalogue does not hold:
{missing_rows}

### `outscale-actions.tsv`
- `api:{{Operation}}`: the {osc["api"]} operation names of the OUTSCALE API 1.40.1 (`outscale/osc-api`,
  `outscale.yaml`; shared file `{OSC_OPERATIONS}`); status `confirmed`, source `{OSC_API_SOURCE}`.
- `{{service}}:{{Operation}}` for the legacy services (service codes from
  https://docs.outscale.com/en/userguide/EIM-Policy-Elements.html: `ec2` = FCU, `elasticloadbalancing` = LBU,
  `iam` = EIM, `directconnect` = DirectLink), from `{OSC_LEGACY}` (status `confirmed`; {legacy_services})
  and `{OSC_CANDIDATES}` (status `candidate`; {candidate_services}). `source` is copied from those files: `;`-joined
  evidence tags. `qa-testfile` / `qa-call`: OUTSCALE's own QA suite (`outscale-ggi/terraform-provider-outscale`,
  commit `a6a06a69e5aae1efac996637db389d676c3b768c`) has a test file for, or calls, the operation; every
  `confirmed` legacy row has one of these. `tpo-go-client` (the old Terraform provider's hand-written Go clients)
  and `osc-cli-fcu-call-list` (`outscale/osc-cli` commit `e738fd6591fcf9dc5b73c4fcdd8817acb42f1060`, a
  bash-completion list copied from an older AWS EC2 list) only corroborate; a name they alone show is a
  `candidate`.

### `openstack-commands.json`
Built from `{OS_COMMANDS}` ({OS_CSV_ROWS} rows: each command's usage, service, main API call, permission and confidence;
CRLF line endings) and `{OS_ADDITIONS_NAME}` (curated in this repository, sha256 `{ostack["additions_sha256"]}`):
the calls the CLI makes around each CSV command (name lookups such as `find_image`, display lookups whose error the CLI
swallows, marked `optional`), every call's source in the upstream code (python-openstackclient for what the CLI calls;
nova / glance / cinder / neutron policy defaults for what each call needs; commits in `upstream`), corrections of the
CSV, each with its reason ({ostack["corrected"]} entries carry one), {ostack["added"]} commands the CSV lacks, and
{ostack["sdk"]} openstacksdk calls. Per service: {", ".join(f"{k} {v}" for k, v in ostack["services"].items())}.
The generator checks that every call the CSV mentions (`(+ GET ...)`, `then PUT ...`) and every extra permission
it names is in the entry, that a change of the CSV's main call comes with a correction, that every permission is one
of the matrix's {MATRIX_PERMISSIONS} or `{OS_ANY_ROLE}` (Keystone login: some OpenStack role authorized, inferred), that
one (method, path, action) always needs the same permission (a variant such as `image create --import` is a flow of
its own and is exempt), that every command of seeds 000 and 001 is present,
and that only what seed 000 shows (`server list`, `container list` and the two SDK calls of its scripts) is `high`.

## Known gaps
- **OpenStack command catalogue**: which OpenStack roles OVHcloud's role-adapter hands out for each permission, and its
  services' policy files, are not public: reader defaults are mapped to `*_read`, member defaults to `*_manage`
  (inferred). Calls nova or neutron make server-side with the caller's token are noted, not modelled. Only the
  options listed in each call's `when` change the calls; other options are ignored.
- **OVHcloud schemas of two vintages**: `{OVH_ACTIONS}` (ovhcloud-cli, 2025-10-02) lacks the v1 `/cloud/project`
  API (its `cloud.json`, 10,752,738 bytes, could not be obtained) and `/services`; those and the other v1 sections
  it lacks come from `gen/{OVH_ACTIONS_10}`, copies of the `/1.0` schemas dated 2024-06-07, so actions OVHcloud added
  to them since are missing. The v2 schemas {", ".join(f"`{m['schema']}`" for m in coverage["missing"])} are not held
  at all. An action absent from `ovh-actions.tsv` is therefore not proof that it does not exist:
  `ovh-catalogue-coverage.json` says which APIs are held (and from which source), and policy-sim calls an action
  of an API it does not hold "not in the shipped catalogue". To refresh, rerun `extract_ovh_actions.py` (see
  `{OVH_ACTIONS_README}`), then update the expected counts in `gen/generate.py` and `tests/catalogues.rs`, and
  `OVH_MISSING_APIS`.
- No API operation carries a `publicCloudProject:openstack:*` action: the OpenStack role actions exist only in
  the role matrix and the permission groups.
- {n(absent)} of the {n(plain)} distinct wildcard-free action names in `ovh-permission-groups.json` (a 2023 guide) are
  not in `ovh-actions.tsv`: most look like older or beta names (`voip:apiovh:easyPabx/*`,
  `dedicatedServer:apiovh:serviceMonitoring/*`, `publicCloudProject:apiovh:dataIntegration/*`), a few belong to
  products without a held schema (`dedicatedNVMeoF`).
- **OUTSCALE legacy lists are partial**: `ec2` is a lower bound and `elasticloadbalancing` is likely incomplete; `iam`
  and `directconnect` are probably (close to) complete. The official FCU/LBU/EIM/DirectLink references were not
  read in full. `ec2:DescribeAccountAttributes` is a recognised name whose operation the QA suite finds not
  implemented.
- **Candidates are "unknown", not errors**: a `candidate` may or may not exist. A policy naming one (or any name not
  in this file) should be linted as an unknown action, never rejected: OUTSCALE accepts unknown action names when
  a policy is created (they grant nothing).

## Regenerate and check
```
python3 policies/gen/generate.py            # rewrite the generated files from ../shared
python3 policies/gen/generate.py --check    # exit 1 and name the file if any generated file is stale
python3 policies/gen/generate.py --shared /path/to/shared
```
Python 3, standard library only. The generator exits 2 with a message when a source is missing or does not look
as expected (table shape, counts the sources' READMEs state, the seed facts above). `cargo test --test catalogues`
runs `--check` when `../shared` exists, and checks the generated files' key facts in any case.

## Source data files (sha256)
| file (under the shared folder) | sha256 |
|---|---|
{checksums}

| file (sourced, kept in this repository under `policies/`; provenance in `gen/{OVH_CURATED_README}`) | sha256 |
|---|---|
{curated_checksums}
"""


# ---------------------------------------------------------------------------------------------------------


def build(shared):
    """Return {file name under policies/: content} and a summary, or raise SourceError."""
    sources = Sources(shared)
    curated = Sources(GEN_DIR)
    matrix, cells = parse_matrix(sources.text(SEED_000))
    groups, group_entries = parse_groups(sources.text(OVH_GROUPS))
    group_sources = parse_group_sources(curated, groups)
    ovh_rows, ovh_stats = parse_ovh_actions(sources, curated)
    check_ovh_actions_readme(sources, curated)
    coverage = build_coverage(ovh_stats.pop("raw_rows"))
    osc_rows, osc_stats = parse_outscale(sources)
    os_catalogue, os_stats = build_os_catalogue(
        sources.text_crlf(OS_COMMANDS), [p["name"] for p in matrix["permissions"]]
    )
    check_citations(sources, curated)
    known = {row[0] for row in ovh_rows}
    plain = {
        item["action"]
        for group in groups
        for items in group["permissions"].values()
        for item in items
        if "*" not in item["action"]
    }
    absent = plain - known
    # Every file listed in SOURCES (and the docstring) is read, and nothing else.
    require(set(sources.raw) == set(SOURCES), f"internal: sources read {sorted(sources.raw)} != SOURCES")
    require(set(curated.raw) == set(CURATED), f"internal: curated files read {sorted(curated.raw)} != CURATED")
    files = {
        "openstack-role-matrix.json": dump_json(matrix),
        "ovh-permission-groups.json": dump_json(groups),
        "ovh-actions.tsv": dump_tsv(["action", "resourceType", "operations"], ovh_rows),
        "ovh-catalogue-coverage.json": dump_json(coverage),
        "outscale-actions.tsv": dump_tsv(["action", "status", "source"], osc_rows),
        "openstack-commands.json": dump_json(os_catalogue),
        "README.md": render_readme(
            sources, curated, cells, group_entries, ovh_stats, osc_stats, os_stats, len(absent), len(plain), coverage,
            group_sources,
        ),
    }
    summary = (
        f"matrix: {len(matrix['roles'])} roles x {len(matrix['permissions'])} permissions, {cells} granted cells; "
        f"permission groups: {len(groups)} ({group_entries} action entries); "
        f"ovh actions: {ovh_stats['actions']} (from {ovh_stats['rows']} rows); "
        f"outscale actions: {osc_stats['total']} "
        f"({osc_stats['api']} api, {osc_stats['confirmed']} confirmed legacy, {osc_stats['candidate']} candidates); "
        f"openstack commands: {os_stats['commands']} ({os_stats['confidence']}), {os_stats['sdk']} sdk calls"
    )
    return files, summary


def main(argv=None):
    repo = Path(__file__).resolve().parent.parent.parent
    parser = argparse.ArgumentParser(description="Generate policies/ catalogues from the shared sources.")
    parser.add_argument(
        "--shared", type=Path, default=repo.parent / "shared", help="shared folder (default: %(default)s)"
    )
    parser.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    args = parser.parse_args(argv)

    try:
        require(args.shared.is_dir(), f"shared folder {args.shared} not found (use --shared DIR)")
        files, summary = build(args.shared)
    except SourceError as err:
        print(f"generate.py: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"generate.py: error: cannot read a source: {err}", file=sys.stderr)
        return 2

    out_dir = repo / "policies"
    if args.check:
        stale = []
        for name, content in files.items():
            path = out_dir / name
            expected = content.encode("utf-8")
            if not path.is_file():
                stale.append(f"policies/{name}: missing")
            elif path.read_bytes() != expected:
                stale.append(f"policies/{name}: differs from what the generator produces")
        for line in stale:
            print(line)
        if stale:
            print(f"{len(stale)} generated file(s) out of date; run `python3 {GENERATED_BY}`")
            return 1
        print(f"all {len(files)} generated files are up to date ({summary})")
        return 0

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = out_dir / name
        data = content.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            print(f"unchanged policies/{name}")
        else:
            path.write_bytes(data)
            print(f"wrote     policies/{name}")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
