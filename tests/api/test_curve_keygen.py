"""``python -m zmtp.curve_keygen`` and its ``zmq.curve_keygen`` re-export, run as programs.

Each test runs the module in a fresh interpreter, as a user would, and checks that what it
prints is a working key pair: 40 Z85 characters each, the public key belonging to the secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zmtp import z85
from zmtp.auth import load_certificate
from zmtp.compat import path as compat_path
from zmtp.curve_keys import curve_keypair, curve_public

TIMEOUT_S = 30.0


def run(
    *args: str, module: str = "zmtp.curve_keygen", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if module.startswith("zmq."):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [compat_path(), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=cwd,
        env=env,
        check=False,
    )


def assert_pair(public: str, secret: str) -> None:
    assert len(public) == len(secret) == 40
    assert len(z85.decode(public)) == len(z85.decode(secret)) == 32
    assert curve_public(secret).decode() == public


def test_prints_a_new_pair_in_libzmqs_layout() -> None:
    first, second = run(), run()
    assert first.returncode == 0, first.stderr
    lines = first.stdout.split("\n")
    assert lines[0] == "== CURVE PUBLIC KEY =="
    assert lines[2:4] == ["", "== CURVE SECRET KEY =="]
    assert lines[5:] == [""]  # ends with a newline, nothing after the secret key
    assert_pair(lines[1], lines[4])
    assert second.stdout != first.stdout


def test_json() -> None:
    done = run("--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("\n")
    keys = json.loads(done.stdout)
    assert set(keys) == {"public", "secret"}
    assert_pair(keys["public"], keys["secret"])


def test_public_key_of_a_given_secret() -> None:
    public, secret = curve_keypair()
    done = run("--secret", secret.decode(), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"public": public.decode(), "secret": secret.decode()}


def test_invalid_secret_is_a_usage_error() -> None:
    done = run("--secret", "not a key")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "--secret: CURVE secret key must be 40 Z85 characters" in done.stderr


def test_writes_certificates(tmp_path: Path) -> None:
    missing = run("--json", "--certificate", "certs/server", cwd=tmp_path)
    assert missing.returncode == 1
    assert "cannot write the certificates" in missing.stderr
    assert missing.stdout == ""
    (tmp_path / "certs").mkdir()
    done = run("--json", "--certificate", str(tmp_path / "certs" / "server"))
    assert done.returncode == 0, done.stderr
    keys = json.loads(done.stdout)
    public_file = tmp_path / "certs" / "server.key"
    secret_file = tmp_path / "certs" / "server.key_secret"
    assert load_certificate(public_file) == (keys["public"].encode(), None)
    assert load_certificate(secret_file) == (keys["public"].encode(), keys["secret"].encode())


def test_certificates_of_a_given_secret(tmp_path: Path) -> None:
    public, secret = curve_keypair()
    done = run("--secret", secret.decode(), "--certificate", "mine", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert load_certificate(tmp_path / "mine.key_secret") == (public, secret)


@pytest.mark.parametrize(
    ("module", "prog"),
    [
        ("zmtp.curve_keygen", "python -m zmtp.curve_keygen"),
        ("zmq.curve_keygen", "python3 -m zmq.curve_keygen"),
    ],
)
def test_help_names_the_module(module: str, prog: str) -> None:
    done = run("-h", module=module)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {prog} ")
    for option in ("--json", "--secret", "--certificate"):
        assert option in done.stdout


def test_zmq_reexport_makes_pairs() -> None:
    done = run("--json", module="zmq.curve_keygen")
    assert done.returncode == 0, done.stderr
    keys = json.loads(done.stdout)
    assert_pair(keys["public"], keys["secret"])
