"""Hooks of the OpenAPI fuzz test (test/integration/openapi-fuzz.serial.test.ts).

The API limits failed authentications per client address (api/plugins/security.ts) and trusts X-Forwarded-For
from loopback. The fuzzer presents wrong tokens on purpose (its ignored_auth check); from one address it would
soon get only 429s and test nothing else. Each request therefore comes from its own address of 198.18.0.0/15
(RFC 2544 benchmarking), so the limit neither blinds the fuzzer nor locks out the stack's other clients.
"""
import itertools

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance as builtin_positive_data_acceptance

_addresses = itertools.count(1)


@schemathesis.hook
def map_headers(ctx, headers):
    # At generation, not before_call: a check that drops or replaces a header (missing Authorization, a wrong
    # token) works on a copy of the generated case and keeps this one.
    n = next(_addresses) % (2 * 65536)
    return {**(headers or {}), "X-Forwarded-For": f"198.{18 + n // 65536}.{(n // 256) % 256}.{n % 256}"}


# Rules JSON Schema cannot state, each refused with 400 naming the field and documented on that route's 400:
# password strength by distinct characters, and rules across fields or against the inventory. A schema-valid
# request refused for one of these (and only these) is not a contract breach; any other 400 still fails.
BEYOND_SCHEMA = (
    "is too weak (too few distinct characters)",
    "password must not contain the",
    "duplicate mailbox",
    "would exceed 32 characters",
    "is a reserved login name (set database.user)",
    "unknown node",
)


def _only_rules_beyond_schema(response) -> bool:
    if response.status_code != 400:
        return False
    try:
        details = response.json().get("details") or []
    except ValueError:
        return False
    return bool(details) and all(any(rule in str(d.get("message", "")) for rule in BEYOND_SCHEMA) for d in details)


@schemathesis.check
def positive_data_accepted_but_rules_beyond_schema(ctx, response, case):
    """schemathesis' positive_data_acceptance (disabled in schemathesis.toml), less the refusals above."""
    if _only_rules_beyond_schema(response):
        return None
    return builtin_positive_data_acceptance(ctx, response, case)
