#!/usr/bin/env python3
"""Splits the samples of one bench function's calls by the part of the work they fell in.

Reads `perf script -F ip,sym` output (from `perf record --call-graph dwarf`) on stdin and
keeps the samples whose call chain passes through `--through` (the measured function). Each
sample goes to the first bucket in `BUCKETS` that names a frame anywhere in its chain, so a
leaf such as malloc, memcpy or a tree accessor is charged to the work that called it (the
buckets' code never calls an earlier bucket's). Prints each bucket's share and its ratio to
the `--per` bucket (the bench's baseline).

Used for BENCHMARKS.md, rampart-saml: see the command there.
"""

import argparse
import sys
from collections import Counter

# Floors first (the chosen crates' work; ring's RSA hashes SignedInfo itself, so it comes before
# SHA-256), then rampart's own code, innermost first.
BUCKETS = [
    ("ring RSA verify", "verify_rsa_"),
    ("ring SHA-256", "ring::digest::"),
    ("base64 decode", "base64::engine"),
    ("quick-xml tokenizer", "quick_xml::"),
    ("canonicalization", "rampart_xmldsig::c14n::"),
    ("tree building", "rampart_xmldsig::parse"),
    ("assertion reading, Login", "read_assertion"),
    ("signature checks", "rampart_xmldsig::verify::verify"),
    ("response checks", "rampart_saml::"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--through", required=True, help="frame every kept sample passes through")
    ap.add_argument("--per", default="ring RSA verify", help="bucket to divide by")
    args = ap.parse_args()
    counts: Counter[str] = Counter()
    for sample in sys.stdin.read().split("\n\n"):
        frames = [line.strip() for line in sample.strip().splitlines()]
        if not any(args.through in f for f in frames):
            continue
        bucket = next(
            (name for name, pat in BUCKETS if any(pat in f for f in frames)),
            "other",
        )
        counts[bucket] += 1
    total = sum(counts.values())
    per = counts[args.per]
    if not total or not per:
        sys.exit(f"no samples through {args.through!r} with a {args.per!r} frame")
    print(f"{total} samples through {args.through}; ratio = share / share of {args.per}")
    for name, _ in BUCKETS + [("other", "")]:
        n = counts[name]
        print(f"{name:28} {100 * n / total:5.1f} %  {n / per:5.2f}")
    print(f"{'total':28} 100.0 %  {total / per:5.2f}")


if __name__ == "__main__":
    main()
