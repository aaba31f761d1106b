#!/usr/bin/env python3
"""The two-step login against `portal-mfa serve`, with the Python standard library only.

    PORTAL_MFA_URL=http://127.0.0.1:8750 PORTAL_MFA_EMAIL=devon@example.com \\
    PORTAL_MFA_PASSWORD=... python3 two_step_login.py

1. POST /v1/sign-in with the email and password: a user without MFA is signed in at once;
   otherwise the answer is a short-lived, single-use challenge (the password is not sent again).
2. POST /v1/sign-in/complete with the challenge and a code from the authenticator app
   (PORTAL_MFA_CODE, or typed at the prompt): a bearer session.
3. GET /v1/status with the session, then DELETE /v1/sessions/current (sign out).

The password and code come from the environment or a prompt, never from argv. Errors are
{"error": {"code", "message"}} with the CLI's stable codes; this prints the code and exits 1.
"""
import getpass
import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ.get("PORTAL_MFA_URL", "http://127.0.0.1:8750").rstrip("/")


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode("utf-8")
            return resp.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        err = json.loads(e.read().decode("utf-8") or "{}").get("error", {})
        raise ApiError(e.code, err.get("code", "unknown"), err.get("message", "")) from None


def main():
    email = os.environ.get("PORTAL_MFA_EMAIL") or input("Email: ")
    password = os.environ.get("PORTAL_MFA_PASSWORD") or getpass.getpass("Password: ")
    status, step = call("POST", "/v1/sign-in", {"email": email, "password": password})
    if step["status"] == "second-factor":
        code = os.environ.get("PORTAL_MFA_CODE") or input("Code from the authenticator app: ")
        status, step = call("POST", "/v1/sign-in/complete", {"challenge": step["challenge"], "proof": {"kind": "code", "code": code}})
    session = step["token"]
    print(f"signed in as {step['user']['email']} (second factor: {step['secondFactor']}) until {step['expiresAt']}")
    _, me = call("GET", "/v1/status", token=session)
    print(f"MFA: {me['mfa']}, recovery codes left: {me['recoveryCodesLeft']}")
    call("DELETE", "/v1/sessions/current", token=session)
    print("signed out")


if __name__ == "__main__":
    try:
        main()
    except ApiError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
