"""`make_sample_calls.py [--only call08,call09] [call08 ...]`: build the calls into
sample_audio/ and print a summary table."""

from __future__ import annotations

from pathlib import Path

from analyzers.model import AGENT, CUSTOMER

from .build import build
from .calls import CALLS

OUT_DIR = Path(__file__).resolve().parents[2] / "sample_audio"


def wanted_calls(argv: list[str]) -> set[str]:
    """The call ids or prefixes named by `--only a,b`, `--only=a,b` or bare arguments."""
    wanted: set[str] = set()
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--only":
            if not args:
                raise SystemExit("--only needs a comma-separated list of calls")
            a = args.pop(0)
        elif a.startswith("--only="):
            a = a.split("=", 1)[1]
        elif a.startswith("-"):
            raise SystemExit(f"unknown option {a}")
        wanted.update(x.strip() for x in a.split(",") if x.strip())
    known = {c.call_id for c in CALLS} | {c.call_id[:6] for c in CALLS}
    if wanted - known:
        raise SystemExit(f"unknown call(s): {', '.join(sorted(wanted - known))}")
    return wanted


def main(argv: list[str]) -> int:
    """`make_sample_calls.py [--only call08,call09] [call08 ...]`: build every call, or only
    the named ones (full call id or its first six characters, e.g. call08); the other
    files in sample_audio/ are left untouched."""
    OUT_DIR.mkdir(exist_ok=True)
    wanted = wanted_calls(argv)
    rows = []
    for call in CALLS:
        if wanted and call.call_id not in wanted and call.call_id[:6] not in wanted:
            continue
        print(f"building {call.call_id} ...", flush=True)
        rows.append(build(call, OUT_DIR))
    print()
    print_summary(rows)
    return 0


def print_summary(rows: list[dict]) -> None:
    """One line per built call: format, duration, rates, speeds, holds, size, findings."""
    hdr = f"{'call':28} {'format':16} {'dur_s':>6} {'agent':>6} {'cust':>6} {'speeds(a/c)':>11} {'holds':>5} {'KiB':>6}  expected findings"
    print(hdr)
    print("-" * len(hdr))
    total = 0
    for r in rows:
        t = r["truth"]
        total += r["size"]
        cats: dict[str, int] = {}
        for f in t.expected_findings:
            cats[f.category] = cats.get(f.category, 0) + 1
        fs = ", ".join(f"{k}x{v}" if v > 1 else k for k, v in cats.items())
        fmt = f"{t.layout} {t.codec}"
        sp = f"{r['speeds'][AGENT]:.2f}/{r['speeds'][CUSTOMER]:.2f}"
        print(f"{t.call_id:28} {fmt:16} {t.duration_s:6.1f} {t.agent_chars_per_min:6.1f} "
              f"{t.customer_chars_per_min:6.1f} {sp:>11} {len(t.holds):5d} {r['size'] / 1024:6.0f}  {fs}")
    print(f"total size: {total / 1024 / 1024:.2f} MiB")
