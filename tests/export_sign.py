#!/usr/bin/env python3
"""Sign requests with the vendors' own Python SDKs, for tests/export_signing.rs.

Reads a JSON array of cases on stdin and prints, for each, the headers the SDK would send:
- {"cloud": "ovh", "endpoint": "ovh-eu", "application_key", "application_secret", "consumer_key",
   "path": "/v2/iam/policy", "time": 1780000000}: the `ovh` client's `raw_call("GET", path)`, with the
   clock fixed at `time` and the server's time equal to it; the request is captured, never sent.
- {"cloud": "osc", "access_key", "secret_key", "region", "endpoint": "https://api.eu-west-2.outscale.com/api/v1",
   "operation": "ReadUsers", "body": "{}", "date": "20260601T123456Z"}: osc-sdk-python's `Authentication`
   with the host and path its `Call.api` derives from the endpoint, the date fixed.
"""
import json
import sys


def ovh_case(case):
    import ovh
    import ovh.client

    fixed = case["time"]
    ovh.client.time.time = lambda: fixed
    client = ovh.Client(
        endpoint=case["endpoint"],
        application_key=case["application_key"],
        application_secret=case["application_secret"],
        consumer_key=case["consumer_key"],
    )
    client._time_delta = 0
    captured = {}

    class Capture:
        def request(self, method, target, headers=None, data=None, timeout=None):
            captured.update({"method": method, "url": target, "headers": dict(headers), "body": data})
            return None

    client._session = Capture()
    client.raw_call("GET", case["path"])
    return {"url": captured["url"], "headers": captured["headers"]}


def osc_case(case):
    from urllib3.util import parse_url
    from osc_sdk_python.authentication import Authentication
    from osc_sdk_python.credentials import Profile

    profile = Profile(access_key=case["access_key"], secret_key=case["secret_key"], region=case["region"])
    # As Call.api: endpoint + "/" + action, then host and path from the URL.
    parsed = parse_url(case["endpoint"] + "/" + case["operation"])
    auth = Authentication(profile, parsed.host)
    date = case["date"]
    auth.build_dates = lambda: (date, date[:8])
    headers = auth.forge_headers_signed(parsed.path, case["body"])
    headers.pop("User-Agent", None)
    return {"host": parsed.host, "path": parsed.path, "headers": headers}


def main():
    cases = json.load(sys.stdin)
    out = [ovh_case(c) if c["cloud"] == "ovh" else osc_case(c) for c in cases]
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
