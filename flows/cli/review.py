"""`callqa show`, `report`, `serve`, `db`, `users` and `export`: what QA staff read and the review workspace."""

from __future__ import annotations

import sys
from pathlib import Path

from flows.cli.common import Misuse, load_rule_pack, out_of_run


def cmd_show(args) -> int:
    from flows.review.terminal import render_call

    out = out_of_run(args.out)
    text = render_call(out, args.call_id)
    if text is None:
        print(f"callqa: no call {args.call_id!r} in {out}", file=sys.stderr)
        return 2
    print(text)
    return 0


def cmd_report(args) -> int:
    from flows.review.report import build_report

    args.out = out_of_run(args.out)
    if not (Path(args.out) / "calls").is_dir():
        print(f"callqa: no run output in {args.out} (expected {Path(args.out) / 'calls'}/)", file=sys.stderr)
        return 2
    if args.audio_root and not Path(args.audio_root).is_dir():
        print(f"callqa: --audio-root is not a folder: {args.audio_root}", file=sys.stderr)
        return 2
    result = build_report(args.out, args.report_dir, audio_root=args.audio_root, embed_audio=args.embed_audio)
    if result.missing_audio:
        print(f"callqa: {len(result.missing_audio)} recording(s) not found, e.g. {result.missing_audio[0]}"
              " (their players cannot play; see --audio-root)", file=sys.stderr)
    print(f"report: {result.index} ({result.pages} call pages)")
    return 0


def _review_engine(args, out: str):
    from flows.review.webapp import db

    if not (Path(out) / "calls").is_dir():
        raise Misuse(f"no calls/ dataset in {out} (is it the --out folder of `callqa run`?)")
    engine = db.make_engine(args.db or db.default_url(out))
    db.upgrade(engine)
    return engine


def _read_password() -> str:
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise Misuse("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_review(args) -> int:
    """serve, db upgrade|ingest|verify, users add|passwd|disable|list, export reviews (flows/review/webapp)."""
    import sqlalchemy as sa

    from flows.review.webapp.errors import BadInput, Conflict, NotFound

    out = out_of_run(args.out)
    try:
        if args.command == "serve":
            return _serve(args, out)
        engine = _review_engine(args, out)
        if args.command == "db":
            return _db(args, engine, out)
        if args.command == "users":
            return _users(args, engine)
        from flows.review.webapp.export import export_reviews

        counts = export_reviews(engine, out)
        print(f"exported to {Path(out) / 'reviews'}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        return 0
    except sa.exc.OperationalError as exc:
        raise Misuse(f"database error: {str(exc.orig).strip() or exc}") from None
    except (BadInput, Conflict, NotFound) as exc:
        raise Misuse(str(exc).strip("'\"")) from None


def _serve(args, out: str) -> int:
    from flows.review.webapp.config import Settings
    from flows.review.webapp.main import PortBusy, serve

    settings = Settings(out_dir=out, db_url=args.db, lexicon=args.lexicon, audio_root=args.audio_root,
                        forwarded_allow_ips=args.forwarded_allow_ips)
    try:
        serve(settings, args.host, args.port, pack=load_rule_pack(args.lexicon))
    except PortBusy as exc:
        raise Misuse(str(exc)) from None
    return 0


def _db(args, engine, out: str) -> int:
    if args.db_command == "ingest":
        from flows.review.webapp.ingest import ingest

        print(ingest(engine, out).line())
    elif args.db_command == "verify":
        from flows.review.webapp.auditlog import verify

        result = verify(engine, args.expect_head)
        print(result.line())
        return 0 if result.ok else 1
    else:
        from flows.review.webapp.db import upgrade

        print(f"database at revision {upgrade(engine)}")
    return 0


def _users(args, engine) -> int:
    from flows.review.webapp import accounts

    if args.users_command == "add":
        accounts.add_user(engine, args.name, args.role, _read_password(), args.agent_id)
        print(f"user {args.name} added ({args.role}{' ' + args.agent_id if args.agent_id else ''})")
    elif args.users_command == "passwd":
        ended = accounts.set_password(engine, args.name, _read_password())
        print(f"password of {args.name} changed; {ended} session(s) ended")
    elif args.users_command == "disable":
        ended = accounts.disable_user(engine, args.name)
        print(f"user {args.name} disabled; {ended} session(s) ended")
    else:
        with engine.connect() as conn:
            for u in accounts.list_users(conn):
                state = f"disabled {u['disabled_at']}" if u["disabled_at"] else f"{u['sessions']} live session(s)"
                print(f"{u['name']}\t{u['role']}\t{u['agent_id'] or '-'}\t{state}")
    return 0
