#!/usr/bin/env python3
"""Schemathesis against the real binary: every operation of the served OpenAPI document,
signed in as a store's owner and as a cashier of that store, on SQLite or PostgreSQL.

    scripts/contract_fuzz.py --binary target/debug/comanda --backend sqlite
    scripts/contract_fuzz.py --binary target/debug/comanda --backend postgres

Each run starts a fresh server on its own database, signs the two people in through the
API (the owner enrols a second factor as the owner must), and runs Schemathesis with
every check: no server error, every answer as the document says (status, content type,
headers, body schema), and the negative-data checks. A failure exits 1 with
Schemathesis' report, whose reproduction is a curl line.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWNER_PASSWORD = "contract owner passphrase"
CASHIER_PASSWORD = "contract cashier passphrase"

# Operations that end the caller's own session or credentials: run, they would sign the
# rest of the run out. Their behaviour is covered by the identity tests.
SELF_ENDING = [
    "post_auth_logout",
    "post_auth_refresh",
    "post_me_password",
    "delete_me_totp",
    "delete_me_sessions_session_id",
    "post_me_totp",
    "post_me_totp_confirm",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, json.loads(text) if text else None


def totp(secret, at=None):
    """RFC 6238: SHA-1, 30-second steps, six digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def expect(what, got, status):
    if got[0] != status:
        sys.exit(f"{what}: expected {status}, got {got[0]} {got[1]}")
    return got[1]


def sign_in(base):
    """The owner, with a second factor, and a cashier of the first store."""
    login = expect(
        "owner sign-in",
        call(base, "POST", "/api/v1/auth/login", body={"login": "owner", "password": OWNER_PASSWORD}),
        200,
    )
    token = login["access_token"]
    enrolment = expect("TOTP enrolment", call(base, "POST", "/api/v1/me/totp", token, {}), 200)
    secret = enrolment["secret"]
    expect("TOTP confirmation", call(base, "POST", "/api/v1/me/totp/confirm", token, {"code": totp(secret)}), 200)
    # A code is good once: the next sign-in waits for the next step.
    time.sleep(31 - time.time() % 30)
    owner = expect(
        "owner sign-in with a code",
        call(base, "POST", "/api/v1/auth/login", body={"login": "owner", "password": OWNER_PASSWORD, "totp": totp(secret)}),
        200,
    )["access_token"]
    stores = expect("stores", call(base, "GET", "/api/v1/stores", owner), 200)["items"]
    store = stores[0]["id"]
    expect(
        "cashier",
        call(base, "POST", "/api/v1/users", owner, {
            "login": "caixa", "display_name": "Caixa", "role": "cashier",
            "store_ids": [store], "password": "first " + CASHIER_PASSWORD,
        }),
        201,
    )
    first = expect(
        "cashier sign-in",
        call(base, "POST", "/api/v1/auth/login", body={"login": "caixa", "password": "first " + CASHIER_PASSWORD}),
        200,
    )["access_token"]
    expect(
        "cashier's own password",
        call(base, "POST", "/api/v1/me/password", first, {
            "current_password": "first " + CASHIER_PASSWORD, "new_password": CASHIER_PASSWORD,
        }),
        204,
    )
    cashier = expect(
        "cashier sign-in with the new password",
        call(base, "POST", "/api/v1/auth/login", body={"login": "caixa", "password": CASHIER_PASSWORD}),
        200,
    )["access_token"]
    return {"owner": owner, "cashier": cashier}, store


def wait_ready(base, server, log):
    for _ in range(600):
        if server.poll() is not None:
            sys.exit(f"the server stopped:\n{open(log).read()}")
        try:
            with urllib.request.urlopen(base + "/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    sys.exit("the server was not ready within 60 s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres", default=os.environ.get(
        "COMANDA_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--max-examples", type=int, default=5)
    parser.add_argument("--stateful-examples", type=int, default=30,
                        help="scenarios of the stateful phase, per person")
    parser.add_argument("--max-time", type=int, default=80, help="seconds per person for the phases but the stateful one")
    parser.add_argument("--schemathesis", default=shutil.which("schemathesis") or "schemathesis")
    parser.add_argument("--operation", action="append", default=[],
                        help="only this operation id (repeatable), to look at one")
    args = parser.parse_args()
    # The fuzzer runs in a folder of its own: paths given relative to here are made whole.
    args.binary = os.path.abspath(args.binary)
    if os.sep in args.schemathesis:
        args.schemathesis = os.path.abspath(args.schemathesis)

    work = tempfile.mkdtemp(prefix="comanda-contract-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    fuzz_env = dict(os.environ)
    fuzz_env["SCHEMATHESIS_HOOKS"] = "contract_fuzz_hooks"
    fuzz_env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))
    env.update({
        "COMANDA_LISTEN": f"127.0.0.1:{port}",
        "COMANDA_DATA_DIR": os.path.join(work, "data"),
        "COMANDA_BOOTSTRAP_PASSWORD": OWNER_PASSWORD,
        "COMANDA_LOG_FORMAT": "json",
        # Sessions outlive the run.
        "COMANDA_ACCESS_TOKEN_MINUTES": "60",
    })
    database = None
    if args.backend == "postgres":
        database = f"comanda_contract_{port}"
        admin = args.postgres
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {database}"], check=True)
        env["COMANDA_DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + database
        # Instances sharing PostgreSQL are given their key for secrets at rest.
        env["COMANDA_SECRET_KEY"] = base64.b64encode(os.urandom(32)).decode()
    log = os.path.join(work, "server.log")
    failed = False
    with open(log, "w") as out:
        server = subprocess.Popen([args.binary, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(base, server, log)
        tokens, store = sign_in(base)
        fuzz_env["COMANDA_FUZZ_STORE_ID"] = store
        for person, token in tokens.items():
            # The stateful phase runs on its own, bounded by its examples rather than by
            # time: Schemathesis 4.32 can fail internally when its time budget ends a
            # stateful phase midway.
            for phases, budget in (
                ("examples,coverage,fuzzing",
                 ["--max-examples", str(args.max_examples), "--max-time", str(args.max_time)]),
                ("stateful", ["--max-examples", str(args.stateful_examples)]),
            ):
                print(f"\n==> Schemathesis on {args.backend}, as the {person}: {phases}", flush=True)
                command = [
                    args.schemathesis,
                    "--config-file", os.path.join(ROOT, ".ci", "schemathesis.toml"),
                    "run", f"{base}/api/v1/openapi.json",
                    "--header", f"Authorization: Bearer {token}",
                    "--checks", "all",
                    "--phases", phases,
                    "--request-timeout", "20",
                    "--seed", "26",
                    "--no-color",
                    "--report", "junit",
                    "--report-dir", os.path.join(work, f"report-{person}-{phases.split(',')[0]}"),
                    *budget,
                ]
                for operation in SELF_ENDING:
                    command += ["--exclude-operation-id", operation]
                for operation in args.operation:
                    command += ["--include-operation-id", operation]
                # In the run's own folder: Schemathesis keeps a cache where it runs.
                result = subprocess.run(command, env=fuzz_env, cwd=work)
                failed |= result.returncode != 0
        panics = [line for line in open(log) if "panicked" in line]
        if panics:
            print("the server panicked:\n" + "".join(panics[:5]))
            failed = True
    finally:
        server.terminate()
        server.wait(timeout=30)
        if database:
            subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"])
        if failed:
            print(f"server log and reports kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
