"""Schemathesis hooks for scripts/contract_fuzz.py.

An Idempotency-Key names one request: the fuzzer's generator repeats values, and the
same key with another request is rightly refused (422 idempotency_key_reused). Each
valid key it sends is made unique; an invalid one is left for the negative checks.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and VALID_KEY.match(str(headers[name])):
            headers[name] = str(uuid.uuid4())
    case.headers = headers
