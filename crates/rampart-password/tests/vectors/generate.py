#!/usr/bin/env python3
"""Regenerates hashes.json from reference implementations (run once; the tests only read it).

argon2: Debian's `argon2` command (the reference C implementation, phc-winner-argon2).
bcrypt: pyca/bcrypt (`pip install bcrypt`). scrypt, PBKDF2 and Django: Python's hashlib
(OpenSSL), which is what Django itself calls. Salts are fixed so the file is reproducible.

    python3 tests/vectors/generate.py > tests/vectors/hashes.json
"""
import base64, hashlib, json, subprocess

import bcrypt


def b64(b):
    return base64.b64encode(b).decode().rstrip("=")


def argon2_cli(pw, salt, variant, t, k, p, version="13"):
    out = subprocess.run(
        ["argon2", salt, "-" + variant, "-t", str(t), "-k", str(k), "-p", str(p), "-v", version, "-e"],
        input=pw.encode(), capture_output=True, check=True)
    return out.stdout.decode().strip()


vectors = []


def add(fmt, pw, h, source):
    vectors.append({"format": fmt, "password": pw, "hash": h, "source": source})


cli = "argon2 CLI (phc-winner-argon2, Debian)"
add("argon2id", "password", argon2_cli("password", "somesalt", "id", 2, 19456, 1), cli + ", OWASP defaults")
add("argon2id", "password", argon2_cli("password", "somesalt", "id", 2, 64, 1), cli)
add("argon2id", "correct horse", argon2_cli("correct horse", "saltsaltsaltsalt", "id", 1, 128, 2), cli)
add("argon2id", "pässwörd-ünïcode", argon2_cli("pässwörd-ünïcode", "somesalt", "id", 2, 64, 1), cli + ", UTF-8 NFC")
add("argon2id", "password", argon2_cli("password", "somesalt", "id", 2, 64, 1, "10"), cli + ", version 1.0")
add("argon2i", "password", argon2_cli("password", "somesalt", "i", 3, 64, 1), cli)
add("argon2d", "password", argon2_cli("password", "somesalt", "d", 3, 64, 1), cli)
# RFC 9106 section 5.3 (argon2id test vector): password 32 x 0x01, salt 16 x 0x02,
# secret 8 x 0x03 (our pepper, version 1), associated data 12 x 0x04, m=32, t=3, p=4.
tag = bytes.fromhex("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
add("argon2id", "\x01" * 32,
    "$argon2id$v=19$m=32,t=3,p=4,keyid=" + b64((1).to_bytes(4, "big")) + ",data=" + b64(b"\x04" * 12)
    + "$" + b64(b"\x02" * 16) + "$" + b64(tag),
    "RFC 9106 section 5.3, pepper version 1 = 8 x 0x03")

for prefix, pw in [(b"2a", "password"), (b"2b", "correct horse battery staple"), (b"2b", "ünïcödé")]:
    h = bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4, prefix=prefix)).decode()
    add("bcrypt", pw, h, "pyca/bcrypt " + bcrypt.__version__)
h = bcrypt.hashpw(b"Y2K-prefix", bcrypt.gensalt(rounds=5, prefix=b"2b")).decode()
add("bcrypt", "Y2K-prefix", "$2y$" + h[4:], "pyca/bcrypt, $2y$ prefix (PHP's name for the same algorithm)")
add("bcrypt", "password", "$2a$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96", "published (bcrypt crate test vectors)")
# bcrypt reads only the first 72 bytes.
long_pw = "x" * 80
add("bcrypt", long_pw, bcrypt.hashpw(long_pw[:72].encode(), b"$2b$04$" + b"abcdefghijklmnopqrstuu").decode(), "pyca/bcrypt, 72-byte truncation")

salt = b"NaCl-salt-16byte"
dk = hashlib.scrypt(b"password", salt=salt, n=1 << 10, r=8, p=1, dklen=32)
add("scrypt", "password", "$scrypt$ln=10,r=8,p=1$" + b64(salt) + "$" + b64(dk), "python hashlib.scrypt (OpenSSL)")
dk = hashlib.scrypt(b"pleaseletmein", salt=b"SodiumChloride", n=1 << 14, r=8, p=1, dklen=64)
add("scrypt", "pleaseletmein", "$scrypt$ln=14,r=8,p=1$" + b64(b"SodiumChloride") + "$" + b64(dk), "RFC 7914 section 12 (third vector)")

dk = hashlib.pbkdf2_hmac("sha256", b"password", salt, 10000, 32)
add("pbkdf2-sha256", "password", "$pbkdf2-sha256$i=10000,l=32$" + b64(salt) + "$" + b64(dk), "python hashlib.pbkdf2_hmac")
dk = hashlib.pbkdf2_hmac("sha512", b"password", salt, 10000, 64)
add("pbkdf2-sha512", "password", "$pbkdf2-sha512$i=10000,l=64$" + b64(salt) + "$" + b64(dk), "python hashlib.pbkdf2_hmac")

for pw, dsalt, iters in [("lètmein", "seasalt", 20000), ("correct horse", "Jq2NiQTEwPe9", 600000)]:
    dk = hashlib.pbkdf2_hmac("sha256", pw.encode(), dsalt.encode(), iters)
    add("django", pw, "pbkdf2_sha256$%d$%s$%s" % (iters, dsalt, base64.b64encode(dk).decode()),
        "Django PBKDF2PasswordHasher algorithm (hashlib.pbkdf2_hmac, as Django calls it)")

print(json.dumps(vectors, indent=2, ensure_ascii=False))
