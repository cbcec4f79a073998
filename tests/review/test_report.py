"""`callqa report`: view models on hand-made rows, and the report of a real run in Chromium.

The browser test drives Debian's `chromium` through Playwright (never `playwright
install`); without /usr/bin/chromium it fails under CI and is skipped elsewhere.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from analyzers.model import CallResult, Finding, Utterance
from conftest import missing, under_ci
from flows.review import report as rp
from flows.cli import main
from flows.storage.store import ResultStore
from lexicons import PACKS_DIR

pytestmark = pytest.mark.e2e  # the module builds the report of the shared `sample_run`

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def utt(speaker, start, end, text):
    return {"call_id": "c1", "speaker": speaker, "start_s": start, "end_s": end, "text": text}


def finding(category, start, end, text="", severity="major", speaker="agent", detail="", call_id="c1"):
    return {"call_id": call_id, "category": category, "rule_id": category, "severity": severity,
            "speaker": speaker, "start_s": start, "end_s": end, "text": text, "detail": detail}


def call_row(call_id="c1", **kw):
    row = {"call_id": call_id, "source": f"/nowhere/{call_id}.wav", "status": "ok", "error": "", "duration_s": 60.0,
           "layout": "stereo", "agent_chars_per_min": 250.0, "customer_chars_per_min": 230.0, "agent_talk_s": 20.0,
           "customer_talk_s": 15.0, "hold_count": 0, "banned_count": 0, "overtalk_count": 0, "greeting_ok": True,
           "closing_ok": True, "score": 95.0, "grade": "A", "flagged": False, "speaker_confidence": 1.0,
           "model_version": "m", "lexicon_version": "l", "processed_at": "2025-03-04T10:00:00+00:00",
           "audio_sha256": "", "transcript_key": ""}
    row.update(kw)
    return row


# ------------------------------------------------------------------ view models


def test_timeline_positions_are_proportional_to_time():
    utts = [utt("agent", 0.0, 10.0, "您好"), utt("customer", 15.0, 30.0, "你好"), utt("agent", 45.0, 60.0, "再见")]
    finds = [finding("hold", 30.0, 45.0, severity="info"), finding("banned_phrase", 50.0, 52.0, "不知道")]
    tl = rp.timeline(60.0, utts, finds, width=600.0)
    by_target = {b.target: b for b in tl.bars}
    assert by_target["u0"].x == 0 and by_target["u0"].w == pytest.approx(100.0)
    assert by_target["u1"].x == pytest.approx(150.0) and by_target["u1"].w == pytest.approx(150.0)
    assert by_target["u1"].lane == "customer" and by_target["u0"].lane == "agent"
    assert by_target["f0"].lane == "hold" and by_target["f0"].x == pytest.approx(300.0)
    assert by_target["f0"].w == pytest.approx(150.0)
    assert by_target["f1"].lane == "finding" and by_target["f1"].x == pytest.approx(500.0)
    # every bar: x / width == start / duration
    for b in tl.bars:
        if b.w >= 4:
            assert b.x / 600.0 == pytest.approx(b.start_s / 60.0)
            assert (b.x + b.w) / 600.0 == pytest.approx(b.end_s / 60.0)
    assert [t["x"] for t in tl.ticks] == pytest.approx([i * 50.0 for i in range(13)])  # every 5 s


def test_timeline_zero_length_finding_is_visible_and_duration_covers_rows():
    tl = rp.timeline(None, [utt("agent", 1.0, 8.0, "x")], [finding("greeting_missing", 0.0, 0.0)], width=1000.0)
    assert tl.duration_s == 8.0
    bar = next(b for b in tl.bars if b.target == "f0")
    assert bar.w == 4.0 and bar.x == 0.0
    assert rp.time_to_x(4.0, 8.0, 1000.0) == 500.0
    assert rp.time_to_x(99.0, 8.0, 1000.0) == 1000.0 and rp.time_to_x(1.0, 0.0) == 0.0


def test_highlight_marks_phrases_and_keeps_text_plain():
    segs = rp.highlight("这个我不知道，你自己查", [("不知道", 0, "sev-major"), ("自己查", 1, "sev-minor"), ("知", 2, "x")])
    assert "".join(s.text for s in segs) == "这个我不知道，你自己查"
    assert [(s.text, s.finding) for s in segs if s.finding is not None] == [("不知道", 0), ("自己查", 1)]
    assert [(s.text, s.finding) for s in rp.highlight("abc", [("zz", 0, "")])] == [("abc", None)]
    assert [(s.text, s.finding) for s in rp.highlight("", [])] == [("", None)]


def test_transcript_rows_attach_findings_to_the_utterance_they_follow():
    utts = [utt("agent", 0.0, 3.0, "您好"), utt("agent", 5.0, 8.0, "我不知道"), utt("customer", 20.0, 22.0, "好")]
    finds = [finding("greeting_missing", 0.0, 0.0), finding("banned_phrase", 5.5, 6.5, "不知道"),
             finding("hold", 8.0, 20.0, severity="info")]
    rows = rp.transcript_rows(utts, finds)
    assert [r.finding_ids for r in rows] == [[0], [1, 2], []]
    assert [(s.text, s.finding) for s in rows[1].segments] == [("我", None), ("不知道", 1)]
    assert rows[1].overlapping == [1] and rows[2].overlapping == []


def test_script_in_transcript_is_escaped(tmp_path):
    evil = "<script>alert('x')</script>&<u>"
    call = call_row(call_id="c1<img src=x onerror=alert(1)>", source=str(tmp_path / "a.wav"))
    utts = [utt("agent", 0.0, 2.0, evil), utt("customer", 3.0, 4.0, "</span><script>alert(2)</script>")]
    finds = [finding("banned_phrase", 0.0, 2.0, "alert('x')", detail="</td><script>bad()</script>")]
    view = rp.call_view(call, utts, finds, rp.audio_ref(call["source"], tmp_path))
    html = rp.render_call(view, {"at": "now", "out_dir": "<out>"})
    assert html.count("<script") == 1  # the page's own script only
    assert "<img src=x" not in html and "<u>" not in html
    assert "&lt;script&gt;<mark" in html and "alert(&#39;x&#39;)</mark>&lt;/script&gt;&amp;&lt;u&gt;" in html
    assert "&lt;/span&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&lt;/td&gt;&lt;script&gt;bad()&lt;/script&gt;" in html
    index = rp.render_overview(rp.overview_view([call], finds), {"at": "now", "out_dir": "<out>"})
    assert "<img src=x" not in index and "&lt;out&gt;" in index and index.count("<script") == 1


def test_overview_counts_grades_and_categories():
    calls = [call_row("a", grade="A"), call_row("b", grade="C", flagged=True), call_row("c", grade="C", flagged=True),
             call_row("e", status="error", error="AudioError: bad", grade="", flagged=None, score=None, duration_s=None)]
    finds = [finding("banned_phrase", 1, 2, "x", call_id="b"), finding("banned_phrase", 3, 4, "y", call_id="b"),
             finding("hold", 1, 9, call_id="c", severity="info"), finding("banned_phrase", 1, 2, "x", call_id="c")]
    view = rp.overview_view(calls, finds)
    assert (view["total"], view["flagged"], view["errors"], view["finding_total"]) == (4, 2, 1, 4)
    assert [(g["grade"], g["n"]) for g in view["grades"]] == [("A", 1), ("B", 0), ("C", 2), ("D", 0), ("E", 0), ("F", 0)]
    assert view["grade_options"] == ["A", "C"]
    assert [(c["category"], c["n"], c["calls"]) for c in view["categories"]] == [("banned_phrase", 3, 2), ("hold", 1, 1)]
    rows = {r["call_id"]: r for r in view["rows"]}
    assert rows["b"]["categories"] == ["banned_phrase"] and rows["b"]["finding_count"] == 2
    assert rows["e"]["status"] == "error" and rows["e"]["href"] == f"calls/{rp.page_name('e')}"
    assert rows["a"]["date"] == "2025-03-04"


def test_audio_links_are_relative_to_the_page_and_embedding_works(tmp_path):
    rec = tmp_path / "rec" / "通话 1.wav"
    rec.parent.mkdir()
    rec.write_bytes(b"RIFF0000WAVE")
    page_dir = tmp_path / "out" / "report" / "calls"
    page_dir.mkdir(parents=True)
    ref = rp.audio_ref(str(rec), page_dir)
    assert ref.exists and ref.mime == "audio/wav"
    assert ref.src == "../../../rec/%E9%80%9A%E8%AF%9D%201.wav"
    # a relative source is taken from the cwd; --audio-root replaces the folder
    assert rp.resolve_audio_path("rec/通话 1.wav", cwd=tmp_path) == rec
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(rec, moved / rec.name)
    assert rp.resolve_audio_path(str(rec), audio_root=moved) == moved / rec.name
    assert rp.resolve_audio_path("rec/通话 1.wav", audio_root=tmp_path) == rec
    emb = rp.audio_ref(str(rec), page_dir, embed=True)
    assert emb.src == "data:audio/wav;base64,UklGRjAwMDBXQVZF"
    assert rp.audio_mime("x.MP3") == "audio/mpeg"
    missing = rp.audio_ref("/nowhere/x.mp3", page_dir, embed=True)
    assert missing.src is None and not missing.exists and "not found" in missing.note


def test_report_command_on_a_hand_made_output_folder(tmp_path, capsys):
    out = tmp_path / "out"
    store = ResultStore(out)
    rec = tmp_path / "c1.wav"
    rec.write_bytes(b"RIFF")
    store.write(CallResult(
        call_id="c1", source=str(rec), status="ok", duration_s=30.0, layout="stereo", score=70.0, grade="C",
        flagged=True, processed_at="2025-01-02T03:04:05+00:00",
        utterances=(Utterance("agent", 0.5, 3.0, "您好，请问有什么可以帮您"), Utterance("customer", 4.0, 6.0, "我的订单没到")),
        findings=(Finding("banned_phrase", "banned.1", "major", "agent", 1.0, 2.0, "帮您", "test"),),
    ))
    store.write(CallResult(call_id="bad", source=str(tmp_path / "bad.wav"), status="error", error="AudioError: empty"))
    assert main(["report", str(out)]) == 0
    assert "2 call pages" in capsys.readouterr().out
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in index and "Noto Sans CJK SC" in index
    assert 'href="calls/' + rp.page_name("c1") + '"' in index and "AudioError: empty" in index
    page = (out / "report" / "calls" / rp.page_name("c1")).read_text(encoding="utf-8")
    assert 'src="../../../c1.wav"' in page and "请问有什么可以" in page and '<svg class="timeline"' in page
    assert (out / "report" / "calls" / rp.page_name("bad")).is_file()
    assert (out / "report" / "index.html").stat().st_mode & 0o077 == 0
    other = tmp_path / "elsewhere"
    assert main(["report", str(out), "-o", str(other), "--embed-audio"]) == 0
    assert "data:audio/wav;base64,UklGRg==" in (other / "calls" / rp.page_name("c1")).read_text(encoding="utf-8")
    assert main(["report", str(tmp_path / "nothing")]) == 2


# ------------------------------------------------------------------ real run, real browser


def test_report_of_a_real_run_in_chromium(chromium, sample_run, tmp_path):
    # chromium first: without a browser the test skips before the shared run starts
    from playwright.sync_api import expect, sync_playwright

    t0 = time.perf_counter()
    # The shared run's output stays untouched: a copy, re-analysed from the cached transcripts
    # with a pack whose QA lead also flags every call with a banned phrase or a hold without
    # notice, so that there are flagged calls whatever the sample calls score.
    out = tmp_path / "out"
    shutil.copytree(sample_run["out"], out, ignore=shutil.ignore_patterns("cache", "report"))
    pack = tmp_path / "flag-more"
    shutil.copytree(PACKS_DIR / "zh-CN", pack)
    rules = (pack / "rules.yaml").read_text(encoding="utf-8")
    strict = re.sub(r"(\n    categories: )\[\]", r"\1[banned_phrase, hold_notice_missing]", rules, count=1)
    assert strict != rules
    (pack / "rules.yaml").write_text(strict, encoding="utf-8")
    assert main(["reprocess", "--out", str(out), "--cache-dir", str(sample_run["cache"]),
                 "--lexicon", str(pack), "--quiet"]) == 0
    report_dir = out / "report"
    assert main(["report", str(out)]) == 0
    tables = rp.load_tables(out)
    flagged = sorted(c["call_id"] for c in tables.calls if c["flagged"])
    errors = sorted(c["call_id"] for c in tables.calls if c["status"] == "error")
    assert flagged and len(errors) >= 3
    by_call = rp.group_by_call(tables.findings)
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            console_errors: list[str] = []
            page.on("pageerror", lambda exc: console_errors.append(str(exc)))
            page.goto((report_dir / "index.html").as_uri())
            expect(page.locator("#stat-total")).to_have_text(str(len(tables.calls)))
            expect(page.locator("#stat-flagged")).to_have_text(str(len(flagged)))
            expect(page.locator("#stat-errors")).to_have_text(str(len(errors)))
            # every flagged call is listed with its finding categories
            page.select_option("#f-flagged", "yes")
            visible = page.locator("tr.call-row:not([hidden])")
            expect(visible).to_have_count(len(flagged))
            assert sorted(visible.evaluate_all("rs => rs.map(r => r.dataset.call)")) == flagged
            for cid in flagged:
                cats = page.locator(f'tr.call-row[data-call="{cid}"]').get_attribute("data-categories").split()
                assert sorted(cats) == sorted({f["category"] for f in by_call.get(cid, [])})
            page.select_option("#f-flagged", "")
            page.select_option("#f-status", "error")
            expect(visible).to_have_count(len(errors))
            page.select_option("#f-status", "")
            # sorting by score: error rows (no score) go last
            page.click('th[data-key="score"]')
            scores = visible.evaluate_all("rs => rs.map(r => r.dataset.score)")
            numeric = [float(s) for s in scores if s]
            assert numeric == sorted(numeric) and all(not s for s in scores[len(numeric):])
            page.click('th[data-key="call"]')
            page.screenshot(path=str(ARTIFACTS / "report-index.png"), full_page=True)

            # a flagged call with a finding that has a time span: open it, click the finding
            cid = next(c for c in flagged if any(f["end_s"] > f["start_s"] + 0.5 for f in by_call.get(c, [])))
            page.click(f'tr.call-row[data-call="{cid}"] a.call-link')
            expect(page.locator("#call-id")).to_have_text(cid)
            expect(page.locator("#flagged")).to_be_visible()
            rows = page.locator("#findings tr.finding")
            expect(rows).to_have_count(len(by_call[cid]))
            page.wait_for_function("() => document.getElementById('audio').readyState >= 1", timeout=15000)
            duration = page.evaluate("document.getElementById('audio').duration")
            call = next(c for c in tables.calls if c["call_id"] == cid)
            assert duration == pytest.approx(call["duration_s"], abs=0.5)
            idx = next(i for i, f in enumerate(sorted(by_call[cid], key=rp._finding_sort_key))
                       if f["end_s"] > f["start_s"] + 0.5 and f["start_s"] > 1.0)
            target = page.locator(f"#f{idx}")
            start = float(target.get_attribute("data-start"))
            target.locator("td.text").click()
            page.wait_for_function(
                f"() => Math.abs(document.getElementById('audio').currentTime - {start}) < 1.0", timeout=5000)
            # a transcript line seeks too
            utt_el = page.locator(".transcript .utt").nth(1)
            u_start = float(utt_el.get_attribute("data-start"))
            utt_el.locator(".spk").click()
            page.wait_for_function(
                f"() => Math.abs(document.getElementById('audio').currentTime - {u_start}) < 1.0", timeout=5000)
            page.evaluate("document.getElementById('audio').pause()")
            # Chinese glyphs are drawn with a CJK font, not boxes
            font_ok = page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '坐席')")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(ARTIFACTS / "report-call.png"), full_page=False)

            # an error row's page explains the error
            page.goto((report_dir / "calls" / rp.page_name(errors[0])).as_uri())
            expect(page.locator("#error")).to_contain_text("Error")
            assert not console_errors, console_errors
        finally:
            browser.close()
    assert font_ok or not under_ci(), "no CJK font: apt-get install fonts-noto-cjk"
    # How long it took is printed, not asserted (issue 16.5: no wall-clock bars in tests).
    print(f"report of a real run in chromium: {time.perf_counter() - t0:.1f} s")


def _scolding_agent(folder: Path) -> Path:
    """call01's audio with an agent transcript that greets nobody, blames the customer and
    never closes: graded down to D or worse, with critical findings (a supplied transcript,
    so no whisper runs)."""
    import json

    from runs import SAMPLES

    lines = ["喂，什么事？", "不知道，您自己看物流吧，这不是我们的问题。", "没办法，以后再说吧。"]
    src = SAMPLES / "call01_compliant.wav"
    dst = folder / "call90_scolding.wav"
    shutil.copyfile(src, dst)
    truth = json.loads(src.with_suffix(".json").read_text(encoding="utf-8"))
    for speaker in ("agent", "customer"):
        utts = [u for u in truth["utterances"] if u["speaker"] == speaker]
        segments = [{"text": lines[i % len(lines)] if speaker == "agent" else u["text"],
                     "start": u["start_s"], "end": u["end_s"]} for i, u in enumerate(utts)]
        (folder / f"{dst.stem}.{speaker}.json").write_text(json.dumps({"segments": segments}, ensure_ascii=False),
                                                          encoding="utf-8")
    return dst


def test_overview_lists_flagged_calls_first_with_their_reasons_in_chromium(chromium, tmp_path):
    """Issue 22: a reviewer opens the report and sees at the top which calls to review and why."""
    from playwright.sync_api import expect, sync_playwright

    from runs import byo_inputs

    inputs, out = tmp_path / "in", tmp_path / "out"
    byo_inputs(inputs, copies=1)  # three good calls with their transcripts
    _scolding_agent(inputs)
    (inputs / "broken.wav").write_bytes(b"RIFF0000WAVEnot audio")
    assert main(["run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet"]) == 0
    assert main(["report", str(out)]) == 0
    calls = {c["call_id"]: c for c in rp.load_tables(out).calls}
    flagged = [cid for cid, c in calls.items() if c["flagged"]]
    assert "call90_scolding" in flagged and calls["call90_scolding"]["grade"] in "DEF"
    assert any(r.startswith("critical ") for r in calls["call90_scolding"]["flag_reasons"])
    assert len(flagged) < len(calls) - 1  # some calls are not flagged, one is an error row

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto((out / "report" / "index.html").as_uri())
            # issue 34: nothing clipped at 1400 px: the page never runs past the window sideways,
            # a table wider than its column scrolls inside its own box
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            expect(page.locator("div.table-scroll > table#calls")).to_have_count(1)
            rows = page.locator("tr.call-row")
            expect(rows).to_have_count(len(calls))
            order = rows.evaluate_all("rs => rs.map(r => r.dataset.call)")
            # flagged first, then the rest worst grade first, the failed recording last
            assert set(order[: len(flagged)]) == set(flagged), order
            assert order[-1] == "broken"
            rest = [calls[c] for c in order[len(flagged):-1]]
            assert [(r["grade"], r["score"]) for r in rest] == sorted(
                ((r["grade"], r["score"]) for r in rest), key=lambda gs: (-"ABCDEF".index(gs[0]), gs[1]))
            for cid in order[: len(flagged)]:
                reasons = page.locator(f'tr.call-row[data-call="{cid}"] td.why li.reason')
                expect(reasons.first).to_be_visible()
                assert reasons.all_inner_texts() == [rp.plain_reason(r) for r in calls[cid]["flag_reasons"]]
            for cid in order[len(flagged):]:
                expect(page.locator(f'tr.call-row[data-call="{cid}"] td.why li.reason')).to_have_count(0)
            top = page.locator(f'tr.call-row[data-call="{order[0]}"] td.why').inner_text()
            assert re.search(r"graded [DEF] \(score [\d.]+\): calls graded D, E, F are reviewed", top), top
            assert "critical finding: 禁用语 banned_phrase" in top
            page.screenshot(path=str(ARTIFACTS / "report-index-worst-first.png"), full_page=True)
            # the call page says why too
            page.click(f'tr.call-row[data-call="call90_scolding"] a.call-link')
            expect(page.locator("#flag-reasons li")).to_have_count(len(calls["call90_scolding"]["flag_reasons"]))
            expect(page.locator("#flag-reasons")).to_contain_text("calls graded D, E, F are reviewed")
            # finding details in plain words, never the pattern list
            details = page.locator("#findings tr.finding").all_inner_texts()
            assert any("no greeting such as 您好…" in d for d in details), details
            assert not any("missing:" in d or "|" in d for d in details), details
        finally:
            browser.close()
