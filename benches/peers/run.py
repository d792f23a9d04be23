#!/usr/bin/env python3
"""rampart against the tools a user would otherwise pick, each pair timed alternately in one run
on the same input; prints a Markdown table of medians and paired ratios (BENCHMARKS.md).

One command, on a machine prepared by .ci/run (which builds the two binaries below) plus:

    pip install python3-saml==1.16.0 xmlsec argon2-cffi django bcrypt
    apt-get install age redis-server

    python3 benches/peers/run.py                 # everything
    python3 benches/peers/run.py --only saml,files --rounds 11

This script installs nothing. It needs, in $CARGO_TARGET_DIR (default ./target):
    release/examples/peers and release/rampart, which .ci/run builds with
    benches/peers/build
A section whose tool or module is missing is skipped with a message saying what to install.

Method: every round runs rampart and each peer back to back (the order rotating per round), the
ratio of each round is taken from that round's pair, and the table gives the median of the
per-operation times and the median of the per-round ratios. In-process peers run in this
Python process on one thread; rampart runs in its own process (benches/peers/rampart_peers.rs)
on one thread, so "per core" throughput is 1 / time for both (the Redis rows excepted: 64 in
flight on one connection, 2 runtime threads, the same for both sides).
"""

import argparse
import base64
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
PEERS_BIN = os.path.join(TARGET, "release", "examples", "peers")
CLI_BIN = os.path.join(TARGET, "release", "rampart")
BUILD_HELP = "build them with benches/peers/build"

rows = []  # (section, operation, rampart, peer, ratio text, target text)


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def skip(section, why):
    say(f"!!! SKIPPING {section}: {why}")
    rows.append((section, f"skipped: {why}", "", "", "", ""))


class Rust:
    """The long-lived rampart_peers process: `OP N` in, one JSON line out."""

    def __init__(self, redis_url=None):
        args = [PEERS_BIN] + (["--redis", redis_url] if redis_url else [])
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, op, n=1):
        self.p.stdin.write(f"{op} {n}\n")
        self.p.stdin.flush()
        reply = json.loads(self.p.stdout.readline())
        if "error" in reply:
            raise RuntimeError(f"{op}: {reply['error']}")
        return reply

    def per_op(self, op, n):
        return self.ask(op, n)["ns"] / n / 1e9

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def py_per_op(f, n):
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) / n


def calibrate(f, target_s):
    """How many calls of f (returning seconds per op for n ops) fill about target_s."""
    per = f(1)
    return max(1, int(target_s / max(per, 1e-9)))


def fmt_time(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"


def paired(section, rounds, contenders, target_s=0.3, slower_is_peer=True):
    """contenders: [(name, per_op(n) -> seconds)], the first is rampart. Alternates them for
    `rounds` rounds (order rotating), and returns {name: [seconds per op]}."""
    sizes = [calibrate(f, target_s) for _, f in contenders]
    times = {name: [] for name, _ in contenders}
    for r in range(rounds):
        order = list(range(len(contenders)))
        order = order[r % len(order):] + order[: r % len(order)]
        for i in order:
            name, f = contenders[i]
            times[name].append(f(sizes[i]))
    say(f"  {section}: " + ", ".join(f"{n} {fmt_time(statistics.median(t))}" for n, t in times.items()))
    return times


def ratio_rows(section, times, rampart, peers):
    """Rows for rampart against each peer: median time per op and median per-round ratio
    peer/rampart (how many times faster rampart is)."""
    ours = times[rampart]
    for peer, target in peers:
        theirs = times[peer]
        ratios = sorted(t / o for t, o in zip(theirs, ours))
        rows.append(
            (
                section,
                peer,
                fmt_time(statistics.median(ours)),
                fmt_time(statistics.median(theirs)),
                f"{statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})",
                target,
            )
        )


# --- SAML ---------------------------------------------------------------------------------


def saml(rust, info, rounds):
    try:
        import xmlsec
        from lxml import etree
        from onelogin.saml2 import utils as saml_utils
        from onelogin.saml2.response import OneLogin_Saml2_Response
        from onelogin.saml2.settings import OneLogin_Saml2_Settings
    except ImportError as e:
        return skip("saml", f"{e} (pip install python3-saml==1.16.0 xmlsec)")
    import importlib.metadata as md

    version = md.version("python3-saml")
    # Time is frozen at rampart's `now` (one minute after IssueInstant), as python3-saml's own
    # tests do: the fixture's validity window is in 2030.
    saml_utils.OneLogin_Saml2_Utils.now = staticmethod(lambda: info["saml_now_unix"])
    settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": "https://sp.example.com/metadata",
                "assertionConsumerService": {
                    "url": "https://sp.example.com/saml/acs",
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
            },
            "idp": {
                "entityId": "https://idp.example.com/metadata",
                "singleSignOnService": {
                    "url": "https://idp.example.com/sso",
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "x509cert": info["idp_cert_pem"],
            },
            "security": {"wantAssertionsSigned": True, "rejectDeprecatedAlgorithm": True},
        }
    )
    form = info["saml_response_b64"]
    request = {
        "https": "on",
        "http_host": "sp.example.com",
        "script_name": "/saml/acs",
        "server_port": "443",
        "get_data": {},
        "post_data": {"SAMLResponse": form},
    }

    def python3_saml():
        r = OneLogin_Saml2_Response(settings, form)
        if not r.is_valid(request, info["saml_request_id"], raise_exceptions=True):
            raise AssertionError("python3-saml refused the response")
        return r.get_nameid()

    assert python3_saml() == info["saml_name_id"], "both must log in the same user"

    key = xmlsec.Key.from_memory(info["idp_cert_pem"].encode(), xmlsec.constants.KeyDataFormatCertPem)
    assertion_tag = "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"

    def xmlsec_check(tree=None):
        # From the form value: base64, parse, register the ID attribute, verify.
        root = tree if tree is not None else etree.fromstring(base64.b64decode(form))
        assertion = root.find(assertion_tag)
        xmlsec.tree.add_ids(assertion, ["ID"])
        sig = xmlsec.tree.find_node(assertion, xmlsec.constants.NodeSignature)
        ctx = xmlsec.SignatureContext()
        ctx.key = key
        ctx.verify(sig)  # raises on a bad signature

    xmlsec_check()
    parsed = etree.fromstring(base64.b64decode(form))

    times = paired(
        "saml",
        rounds,
        [
            ("rampart", lambda n: rust.per_op("saml", n)),
            (f"python3-saml {version}, strict", lambda n: py_per_op(python3_saml, n)),
            ("python-xmlsec: parse + verify", lambda n: py_per_op(xmlsec_check, n)),
            ("python-xmlsec: verify only", lambda n: py_per_op(lambda: xmlsec_check(parsed), n)),
        ],
    )
    ratio_rows(
        "SAML validation (per core)",
        times,
        "rampart",
        [
            (f"python3-saml {version}, strict", ">= 30x"),
            ("python-xmlsec: parse + verify", ">= 5x"),
            ("python-xmlsec: verify only", "information"),
        ],
    )


# --- passwords ----------------------------------------------------------------------------


def passwords(rust, info, rounds):
    try:
        import argon2
        from argon2.low_level import Type, hash_secret_raw
    except ImportError as e:
        return skip("passwords", f"{e} (pip install argon2-cffi)")
    pw = info["password"].encode()
    ph = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)
    # Interop: the C reference verifies the hash rampart stored.
    assert ph.verify(info["password_stored"], pw)

    def c_hash():
        hash_secret_raw(pw, os.urandom(16), time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, type=Type.ID)

    stored = info["password_stored"]
    contenders_hash = [
        ("rampart", lambda n: rust.per_op("password_hash", n)),
        ("argon2 crate", lambda n: rust.per_op("argon2_hash", n)),
        ("argon2-cffi (C reference)", lambda n: py_per_op(c_hash, n)),
    ]
    contenders_verify = [
        ("rampart", lambda n: rust.per_op("password_verify", n)),
        ("argon2 crate", lambda n: rust.per_op("argon2_verify", n)),
        ("argon2-cffi (C reference)", lambda n: py_per_op(lambda: ph.verify(stored, pw), n)),
    ]
    django = None
    try:
        from django.conf import settings as dj_settings

        if not dj_settings.configured:
            dj_settings.configure()
        import django as dj
        from django.contrib.auth.hashers import PBKDF2PasswordHasher

        django = PBKDF2PasswordHasher()
        label = f"Django {dj.__version__} PBKDF2PasswordHasher ({django.iterations} iterations)"
        encoded = django.encode(info["password"], django.salt())
        contenders_hash.append((label, lambda n: py_per_op(lambda: django.encode(info["password"], django.salt()), n)))
        contenders_verify.append((label, lambda n: py_per_op(lambda: django.verify(info["password"], encoded), n)))
    except ImportError as e:
        say(f"!!! SKIPPING the Django row: {e} (pip install django)")
    # Ratios here are rampart / peer (cost, lower is better for us): the targets are ceilings.
    for what, contenders in (("hash", contenders_hash), ("verify", contenders_verify)):
        times = paired(f"password {what}", rounds, contenders, target_s=0.4)
        ours = times["rampart"]
        for name, _ in contenders[1:]:
            theirs = times[name]
            ratios = sorted(o / t for t, o in zip(theirs, ours))
            target = {"argon2 crate": "<= 1.10x", "argon2-cffi (C reference)": "<= 1.6x"}.get(name, "information")
            rows.append(
                (
                    f"password {what} (rampart time / peer time)",
                    name,
                    fmt_time(statistics.median(ours)),
                    fmt_time(statistics.median(theirs)),
                    f"{statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})",
                    target,
                )
            )


# --- API keys -----------------------------------------------------------------------------


def apikeys(rust, info, rounds):
    try:
        import bcrypt
    except ImportError as e:
        return skip("api keys", f"{e} (pip install bcrypt)")
    # A key of the same shape and length as rampart's, stored as bcrypt(cost 10).
    key = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=")
    stored = bcrypt.hashpw(key, bcrypt.gensalt(rounds=10))
    assert bcrypt.checkpw(key, stored)
    times = paired(
        "api keys",
        rounds,
        [
            ("rampart", lambda n: rust.per_op("apikey_check", n)),
            ("bcrypt cost 10 (python bcrypt)", lambda n: py_per_op(lambda: bcrypt.checkpw(key, stored), n)),
        ],
    )
    ratio_rows("API key check", times, "rampart", [("bcrypt cost 10 (python bcrypt)", ">= 1000x")])


# --- attempts (Redis) ---------------------------------------------------------------------


def attempts(rust, info, rounds):
    if not info["redis"]:
        return skip("attempts", "no redis-server on PATH (apt-get install redis-server)")
    times = paired(
        "attempts",
        rounds,
        [
            ("rampart", lambda n: rust.per_op("attempts_rampart", n)),
            ("INCR+EXPIRE pipeline", lambda n: rust.per_op("attempts_incr", n)),
        ],
    )
    ours = times["rampart"]
    theirs = times["INCR+EXPIRE pipeline"]
    ratios = sorted(t / o for t, o in zip(theirs, ours))
    rows.append(
        (
            "failed attempts, Redis, 64 in flight (throughput rampart / peer)",
            "hand-rolled INCR+EXPIRE pipeline",
            f"{1 / statistics.median(ours):,.0f}/s",
            f"{1 / statistics.median(theirs):,.0f}/s",
            f"{statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})",
            ">= 0.8x",
        )
    )


def start_redis(tmp):
    exe = shutil.which("redis-server")
    if not exe:
        return None, None
    sock = os.path.join(tmp, "redis.sock")
    p = subprocess.Popen(
        [exe, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", tmp],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        if os.path.exists(sock):
            return p, f"unix://{sock}"
        time.sleep(0.02)
    p.kill()
    return None, None


# --- files (CLI vs age) -------------------------------------------------------------------


def run_timed(argv, sync_path=None, env=None, fifo=False):
    """Runs argv; returns (wall s, user CPU s). The output is fsynced inside the timing
    (rampart syncs its own; age does not, so the driver does it for age)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if fifo:
        argv = ["chrt", "-f", "10"] + argv
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    if sync_path:
        fd = os.open(sync_path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime


def files(rounds, mib, places, pause, fifo):
    age = shutil.which("age")
    keygen = shutil.which("age-keygen")
    if not (age and keygen):
        return skip("files", "no age on PATH (apt-get install age)")
    if not os.access(CLI_BIN, os.X_OK):
        return skip("files", f"{CLI_BIN} missing ({BUILD_HELP})")
    for label, base in places:
        if not os.path.isdir(base):
            say(f"!!! SKIPPING files in {label}: {base} is not a directory")
            continue
        d = tempfile.mkdtemp(prefix="rampart-peers-", dir=base)
        try:
            files_in(label, d, rounds, mib, age, keygen, pause, fifo)
        finally:
            shutil.rmtree(d, ignore_errors=True)


def files_in(label, d, rounds, mib, age, keygen, pause, fifo):
    plain = os.path.join(d, "plain.bin")
    with open(plain, "wb") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(mib):
            f.write(chunk)
    identity = os.path.join(d, "age.key")
    subprocess.run([keygen, "-o", identity], check=True, stderr=subprocess.DEVNULL)
    recipient = subprocess.run([keygen, "-y", identity], check=True, capture_output=True, text=True).stdout.strip()
    master = os.path.join(d, "master.key")
    with open(os.open(master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    keyring = os.path.join(d, "ring.json")
    mk = ["--keyring", keyring, "--master-key-file", master]
    subprocess.run([CLI_BIN, "keyring", "init", "--region", "bench"] + mk, check=True, stdout=subprocess.DEVNULL)
    r_enc, a_enc = os.path.join(d, "r.enc"), os.path.join(d, "a.age")
    r_dec, a_dec = os.path.join(d, "r.dec"), os.path.join(d, "a.dec")
    ops = {
        "encrypt": (
            ("rampart", [CLI_BIN, "encrypt"] + mk + [plain, "-o", r_enc], None),
            ("age", [age, "-r", recipient, "-o", a_enc, plain], a_enc),
        ),
        "decrypt": (
            ("rampart", [CLI_BIN, "decrypt"] + mk + [r_enc, "-o", r_dec], None),
            ("age", [age, "-d", "-i", identity, "-o", a_dec, a_enc], a_dec),
        ),
    }
    for what, pair in ops.items():
        wall = {"rampart": [], "age": []}
        user = {"rampart": [], "age": []}
        for r in range(rounds):
            order = pair if r % 2 == 0 else pair[::-1]
            for name, argv, sync_path in order:
                # As an operator runs commands: seconds apart. Back to back, each run finds
                # the memory the previous one freed still warm; a pause lets a VM hand free
                # memory back to its host, which the next writes then fault in again.
                time.sleep(pause)
                w, u = run_timed(argv, sync_path, fifo=fifo)
                wall[name].append(w)
                user[name].append(u)
        if what == "decrypt":
            for out in (r_dec, a_dec):
                with open(out, "rb") as a, open(plain, "rb") as b:
                    assert a.read(1 << 20) == b.read(1 << 20), "decryption must give the plaintext back"
                assert os.path.getsize(out) == mib << 20
        say(
            f"  files {what} in {label}: rampart wall {sorted(round(x, 3) for x in wall['rampart'])}, "
            f"age wall {sorted(round(x, 3) for x in wall['age'])}"
        )
        for metric, data, target in (
            ("wall", wall, "<= 0.9x" if what == "encrypt" else "information"),
            ("user CPU", user, "<= 0.5x" if what == "encrypt" else "information"),
        ):
            ours, theirs = data["rampart"], data["age"]
            ratios = sorted(o / t for o, t in zip(ours, theirs))
            rows.append(
                (
                    f"{mib} MiB file {what}, {label}{', SCHED_FIFO' if fifo else ''} (rampart / age)",
                    f"age {age_version(age)}: {metric}",
                    f"{statistics.median(ours):.3f} s (max {max(ours):.3f})",
                    f"{statistics.median(theirs):.3f} s (max {max(theirs):.3f})",
                    f"{statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})",
                    target,
                )
            )


def age_version(age):
    try:
        return subprocess.run([age, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="saml,passwords,apikeys,attempts,files")
    ap.add_argument("--rounds", type=int, default=11, help="interleaved rounds per pair (odd: a true median)")
    ap.add_argument("--file-mib", type=int, default=256)
    ap.add_argument("--tmpfs", default="/dev/shm", help="a tmpfs directory for the file runs")
    ap.add_argument("--disk", default=tempfile.gettempdir(), help="a disk directory for the file runs")
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between two file commands")
    ap.add_argument(
        "--fifo",
        action="store_true",
        help="run the file commands under `chrt -f 10` (root): on a shared machine, keeps other "
        "tenants' load from deciding the ratio (a single-threaded tool loses more to it)",
    )
    a = ap.parse_args()
    only = set(a.only.split(","))
    if not os.access(PEERS_BIN, os.X_OK):
        sys.exit(f"{PEERS_BIN} missing: {BUILD_HELP}")

    tmp = tempfile.mkdtemp(prefix="rampart-peers-redis-")
    redis_proc, redis_url = start_redis(tmp) if "attempts" in only else (None, None)
    rust = Rust(redis_url)
    try:
        info = rust.ask("info")
        if "saml" in only:
            saml(rust, info, a.rounds)
        if "passwords" in only:
            passwords(rust, info, a.rounds)
        if "apikeys" in only:
            apikeys(rust, info, a.rounds)
        if "attempts" in only:
            attempts(rust, info, a.rounds)
    finally:
        rust.close()
        if redis_proc:
            redis_proc.terminate()
            redis_proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if "files" in only:
        files(a.rounds, a.file_mib, [("tmpfs", a.tmpfs), ("disk", a.disk)], a.pause, a.fifo)

    print(f"\n{a.rounds} interleaved rounds per pair; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}\n")
    print("| what | peer | rampart | peer | ratio (median of rounds) | target |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
