"""The QA loop closes (issue 31 item 5): a finding a reviewer rejected becomes a near-miss
example of its intent, from the exported verdicts (`callqa examples add`) or by a
supervisor's button in the workspace (role, CSRF, audit), and the trends page shows each
rule's precision before and after the examples changed. On SQLite and PostgreSQL; every
test edits a copy of the rule pack, never the checkout's."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient

from flows.cli.main import main
from flows.review.webapp import db, service
from flows.review.webapp.main import create_app
from lexicons.loader import resolve
from webapp_data import build_output
from webapp_support import add_users, csrf_of, db_url, pg_cluster, sign_in  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: c_worst's 没办法，就这样吧。 (banned_phrase:cannot_help -> rude_banned)
SENTENCE = "没办法，就这样吧。"


def workspace(tmp_path, url):
    pack = tmp_path / "pack"
    shutil.copytree(resolve("zh-CN"), pack)
    out = build_output(tmp_path, lexicon=pack)
    app = create_app(out, url, lexicon=str(pack))
    add_users(app.state.engine)
    return app, out, pack


@pytest.fixture
def ws(tmp_path, db_url):  # noqa: F811
    app, out, pack = workspace(tmp_path, db_url)
    yield app, out, pack
    app.state.engine.dispose()


@pytest.fixture
def ws_sqlite(tmp_path):
    """The CLI reads the export, the same Parquet whichever database wrote it: SQLite only."""
    app, out, pack = workspace(tmp_path, None)
    yield app, out, pack
    app.state.engine.dispose()


def client_for(app, name: str) -> TestClient:
    c = TestClient(app)
    assert sign_in(c, name).status_code == 200
    return c


def post(c: TestClient, path: str, data: dict, page: str):
    return c.post(path, data={**data, "csrf": csrf_of(c.get(page).text)})


def finding(app, call_id: str, rule_id: str) -> str:
    with app.state.engine.connect() as conn:
        return next(f["finding_id"] for f in service.call_findings(conn, call_id) if f["rule_id"] == rule_id)


def judge(app, who: str, call_id: str, verdicts: dict[str, str]) -> None:
    c = client_for(app, who)
    page = f"/calls/{call_id}"
    assert post(c, f"{page}/claim", {}, page).status_code == 200
    for rule_id, verdict in verdicts.items():
        r = post(c, f"{page}/verdict", {"finding_id": finding(app, call_id, rule_id), "verdict": verdict}, page)
        assert r.status_code == 200, r.text


def negatives(pack) -> list[str]:
    return yaml.safe_load((pack / "examples" / "rude_banned.yaml").read_text(encoding="utf-8"))["negative"]["train"]


def test_callqa_examples_add_from_exported_verdicts(ws_sqlite, capsys):
    app, out, pack = ws_sqlite
    ex = pack / "examples" / "rude_banned.yaml"
    # 喂，说吧。 is made a positive of rude_banned in this copy: a reviewer's rejection must not override it
    ex.write_text(ex.read_text(encoding="utf-8").replace("positive:\n  train:\n", "positive:\n  train:\n    - 喂，说吧。\n"),
                  encoding="utf-8")
    judge(app, "rita", "c_worst", {"cannot_help": "rejected", "wei": "rejected", "blame_shifting": "confirmed",
                                   "hello": "rejected"})
    args = ["examples", "add", "--from-reviews", str(out), "--rule-pack", str(pack)]
    assert main(args) == 2 and "callqa export reviews" in capsys.readouterr().err  # nothing exported yet
    assert main(["export", "reviews", "--out", str(out)]) == 0
    capsys.readouterr()
    before = ex.read_bytes()

    assert main([*args, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert f"would add to rude_banned negative.train: {SENTENCE}" in printed
    assert ex.read_bytes() == before

    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"added to rude_banned negative.train: {SENTENCE}  # review: call c_worst, " \
           "banned_phrase:cannot_help rejected by rita 20" in printed
    assert "REFUSED, a positive example of rude_banned: 喂，说吧。" in printed
    assert "skipped c_worst greeting_missing:" in printed and "reads no intent" in printed
    assert "blame_shifting" not in printed  # confirmed: not a near miss
    assert "1 added, 0 already there, 1 refused, 1 skipped" in printed
    text = ex.read_text(encoding="utf-8")
    assert f"    - {SENTENCE}  # review: call c_worst, banned_phrase:cannot_help rejected by rita 20" in text
    assert negatives(pack)[-1] == SENTENCE and "喂，说吧。" not in negatives(pack)
    assert ex.read_bytes().startswith(before.split(b"\n  test:", 2)[0] + b"\n  test:")  # positives untouched

    assert main(args) == 0  # again: nothing twice
    assert f"already in rude_banned: {SENTENCE}" in capsys.readouterr().out
    assert negatives(pack).count(SENTENCE) == 1


def test_the_supervisor_button_adds_a_rejected_finding_as_a_near_miss(ws):
    app, out, pack = ws
    judge(app, "rita", "c_worst", {"cannot_help": "rejected", "blame_shifting": "confirmed"})
    fid, confirmed = finding(app, "c_worst", "cannot_help"), finding(app, "c_worst", "blame_shifting")
    page, action = "/calls/c_worst", "/calls/c_worst/near-miss"
    sue, rita, ann = client_for(app, "sue"), client_for(app, "rita"), client_for(app, "ann")
    # the button: on the rejected finding, for supervisors and admins only
    html = sue.get(page).text
    assert html.count('class="inline near-miss-form"') == 1 and "add to examples as a near miss (rude_banned)" in html
    assert "near-miss-form" not in rita.get(page).text and "near-miss-form" not in ann.get(page).text
    before = negatives(pack)
    # roles and CSRF as every other form
    assert post(rita, action, {"finding_id": fid}, page).status_code == 403
    assert post(ann, action, {"finding_id": fid}, page).status_code == 403
    assert sue.post(action, data={"finding_id": fid}).status_code == 403
    assert sue.post(action, data={"finding_id": fid, "csrf": "forged"}).status_code == 403
    assert post(sue, action, {"finding_id": confirmed}, page).status_code == 409  # not rejected
    assert post(sue, action, {"finding_id": "nope"}, page).status_code == 404
    assert negatives(pack) == before

    r = post(sue, action, {"finding_id": fid}, page)
    assert r.status_code == 200 and "added to the examples of its intent as a near miss" in r.text
    assert negatives(pack) == [*before, SENTENCE]
    assert "rejected by rita 20" in (pack / "examples" / "rude_banned.yaml").read_text(encoding="utf-8") \
        and ", added by sue" in (pack / "examples" / "rude_banned.yaml").read_text(encoding="utf-8")
    r = post(client_for(app, "ada"), action, {"finding_id": fid}, page)  # an admin may too; nothing twice
    assert r.status_code == 200 and "the examples have this sentence already" in r.text
    assert negatives(pack) == [*before, SENTENCE]
    with app.state.engine.connect() as conn:
        rows = conn.execute(sa.select(db.audit).where(db.audit.c.action == "near_miss_example")).mappings().all()
    assert len(rows) == 1 and rows[0]["user_name"] == "sue" and rows[0]["target"] == fid
    assert SENTENCE in rows[0]["after"] and "rude_banned" in rows[0]["after"]


def test_a_sentence_the_examples_hold_as_a_positive_is_refused(ws):
    app, out, pack = ws
    ex = pack / "examples" / "rude_banned.yaml"
    ex.write_text(ex.read_text(encoding="utf-8").replace("positive:\n  train:\n", f"positive:\n  train:\n    - {SENTENCE}\n"),
                  encoding="utf-8")
    judge(app, "rita", "c_worst", {"cannot_help": "rejected"})
    before = ex.read_bytes()
    sue = client_for(app, "sue")
    r = post(sue, "/calls/c_worst/near-miss", {"finding_id": finding(app, "c_worst", "cannot_help")}, "/calls/c_worst")
    assert r.status_code == 409 and "POSITIVE" in r.text
    assert ex.read_bytes() == before


def test_trends_show_each_rule_precision_before_and_after_the_examples_changed(ws):
    app, out, pack = ws
    # earlier reviews: c_worst's 没办法 and 不知道 rejected (moved back in time: reviewed last month)
    judge(app, "rita", "c_worst", {"cannot_help": "rejected", "dont_know": "rejected", "blame_shifting": "confirmed"})
    with app.state.engine.begin() as conn:
        conn.execute(db.verdicts.update().values(at="2026-11-20T10:00:00+00:00"))
    sue = client_for(app, "sue")
    r = post(sue, "/calls/c_worst/near-miss", {"finding_id": finding(app, "c_worst", "cannot_help")}, "/calls/c_worst")
    assert r.status_code == 200  # the examples change now
    # later reviews, after the change: c_other's 没办法 and 不知道 confirmed
    judge(app, "rob", "c_other", {"cannot_help": "confirmed", "dont_know": "confirmed"})

    split = sue.get("/api/trends").json()["precision_split"]
    assert split["source"] == "the last change of the examples" and split["since"] > "2026-11-20"
    rules = {r["rule"]: r for r in split["rules"]}
    assert rules["cannot_help"]["before"] == {"confirmed": 0, "rejected": 1, "precision": 0.0}
    assert rules["cannot_help"]["after"] == {"confirmed": 1, "rejected": 0, "precision": 1.0}
    assert rules["blame_shifting"]["before"]["precision"] == 1.0 and rules["blame_shifting"]["after"]["precision"] is None
    html = sue.get("/trends").text
    row = html.split('id="precision-split"')[1].split('data-rule="cannot_help"')[1].split("</tr>")[0]
    assert "0% (0/1)" in row and "100% (1/1)" in row and "+100 pts" in row

    # a day the supervisor picks: everything reviewed since 2026-11-01 is "after"
    picked = sue.get("/api/trends", params={"since": "2026-11-01"}).json()["precision_split"]
    assert picked["source"] == "picked" and picked["since"] == "2026-11-01T00:00:00+00:00"
    after = {r["rule"]: r["after"] for r in picked["rules"]}
    assert after["cannot_help"] == {"confirmed": 1, "rejected": 1, "precision": 0.5}
    assert 'value="2026-11-01"' in sue.get("/trends", params={"since": "2026-11-01"}).text
    assert sue.get("/trends", params={"since": "last tuesday"}).status_code == 400
