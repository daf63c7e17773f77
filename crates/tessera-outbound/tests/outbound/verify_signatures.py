"""Verifies webhook signatures made by Tessera with implementations that share no code with it.

- Standard Webhooks: the official `standardwebhooks` package from PyPI, given the secret in the
  form its documentation asks for (`whsec_` + base64 of the secret's bytes), derived here.
- Persona-Signature (`t=<t>,v1=<hex hmac-sha256(secret, "<t>.<body>")>`, sets separated by one
  space): a Stripe-style verifier written below with `hmac`/`hashlib` only.

Reads {"cases": [{"name", "secret", "whsec", "body", "headers": {...}}]} on stdin and prints
{"<name>": {"standard": bool, "persona": bool, "whsec_matches": bool}} on stdout. Any exception a
verifier raises (the library raises ValueError on some malformed headers) counts as a rejection.
"""

import base64
import hashlib
import hmac
import json
import sys
import time

from standardwebhooks.webhooks import Webhook

TOLERANCE_SECS = 300


def standard_ok(secret: str, body: bytes, headers: dict) -> bool:
    whsec = "whsec_" + base64.b64encode(secret.encode("utf-8")).decode("ascii")
    try:
        Webhook(whsec).verify(body, headers)
        return True
    except Exception:  # noqa: BLE001 - every failure is a rejection
        return False


def persona_ok(secret: str, body: bytes, header: str) -> bool:
    if not header:
        return False
    now = int(time.time())
    for signature_set in header.split(" "):
        fields = {}
        for item in signature_set.split(","):
            key, sep, value = item.partition("=")
            if not sep:
                return False
            fields.setdefault(key, []).append(value)
        timestamps = fields.get("t", [])
        if len(timestamps) != 1 or not timestamps[0].isdigit():
            return False
        t = timestamps[0]
        expected = hmac.new(
            secret.encode("utf-8"), t.encode("ascii") + b"." + body, hashlib.sha256
        ).hexdigest()
        for given in fields.get("v1", []):
            if hmac.compare_digest(expected, given) and abs(now - int(t)) <= TOLERANCE_SECS:
                return True
    return False


def main() -> None:
    request = json.load(sys.stdin)
    verdicts = {}
    for case in request["cases"]:
        body = case["body"].encode("utf-8")
        headers = case["headers"]
        secret = case["secret"]
        whsec = "whsec_" + base64.b64encode(secret.encode("utf-8")).decode("ascii")
        verdicts[case["name"]] = {
            "standard": standard_ok(secret, body, headers),
            "persona": persona_ok(secret, body, headers.get("persona-signature", "")),
            "whsec_matches": case["whsec"] == whsec,
        }
    json.dump(verdicts, sys.stdout)


if __name__ == "__main__":
    main()
