"""Issue #8.2: crash safety. A run killed with SIGKILL anywhere leaves an output folder
that reads cleanly (no partial files, no call twice, no rows of half-written calls) and a
transcript cache with no partial entry, and the next run completes the batch with the
same rows as a run that was never interrupted.

The inputs carry whisper-format JSON transcripts (runs.byo_inputs), so every call is a
cache miss that is decoded, speech-detected, cached, analysed and written for real, in
about a second, without whisper.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from runs import ROOT, byo_inputs, check_cache, check_output, cli_command, run_cli, snapshot

# A platform skip, not a missing input (issue 16.5): it stays a skip under CI too.
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL/flock semantics tested on Linux")


def _bad_files(folder):
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt nonsense")
    (folder / "empty.mp3").write_bytes(b"")


def _args(inputs, out, cache):
    return ["run", str(inputs), "--out", str(out), "--cache-dir", str(cache), "--vad", "energy", "--quiet"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, model_path):
    base = tmp_path_factory.mktemp("crash")
    inputs = base / "in"
    byo_inputs(inputs, copies=2)
    _bad_files(inputs)
    t0 = time.perf_counter()
    proc = run_cli(*_args(inputs, base / "ref-out", base / "ref-cache"))
    run_s = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert "6 ok, 2 errors" in proc.stdout
    return {"inputs": inputs, "snapshot": snapshot(base / "ref-out"), "run_s": run_s,
            "cache_entries": check_cache(base / "ref-cache")}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_points_then_the_next_run_completes(reference, tmp_path, seed):
    rng = random.Random(seed)
    out, cache = tmp_path / "out", tmp_path / "cache"
    left_behind = []
    for _ in range(3):
        proc = subprocess.Popen(cli_command(*_args(reference["inputs"], out, cache)), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 1.0) * reference["run_s"])
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if out.exists():
            left_behind.append(check_output(out))  # readable, no duplicates, no half calls
        if cache.exists():
            check_cache(cache)  # no partial transcript

    final = run_cli(*_args(reference["inputs"], out, cache))
    assert final.returncode == 0, final.stderr
    assert check_output(out) == {"orphan": 0, "temp": 0}  # the killed runs' leftovers are swept
    assert snapshot(out) == reference["snapshot"]
    assert check_cache(cache) == reference["cache_entries"]
    print(f"seed {seed}: leftovers after each kill {left_behind}; final: {final.stdout.strip()}")


# --- every step of one call's commit ---------------------------------------------

_KILL_AT_STEP = textwrap.dedent(r"""
    import json, os, shutil, sys
    sys.path[:0] = [{root!r}, {tests!r}]
    from dataclasses import replace
    from analyzers.analyze import analyze
    from flows.batch.pipeline import call_result, error_result, Recording
    from flows.storage.store import ResultStore
    from lexicons import load_pack
    from transcripts import good_call

    base, which, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    transcript = replace(good_call(), call_id="c1")
    ok = call_result(transcript, analyze(transcript, load_pack()), source="c1.wav", audio_sha256="a", key="k")
    new = (error_result(Recording("c1.wav", "c1"), ValueError("later it broke")) if which == "error"
           else replace(ok, score=ok.score - 1, utterances=ok.utterances[:2]))
    ResultStore(os.path.join(base, "old")).write(ok)  # the committed state every step starts from

    def dying(real, step, count):
        def op(*args, **kwargs):
            count[0] += 1
            if count[0] == step:
                os._exit(137)  # like SIGKILL: no cleanup, no finally
            return real(*args, **kwargs)
        return op

    status = {{}}
    for step in range(1, steps + 1):
        out = os.path.join(base, f"step{{step}}")
        shutil.copytree(os.path.join(base, "old"), out)
        pid = os.fork()
        if pid == 0:
            count = [0]
            os.replace, os.unlink, os.fsync = (dying(f, step, count) for f in (os.replace, os.unlink, os.fsync))
            ResultStore(out).write(new)
            os._exit(0)
        status[step] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        if status[step] == 0:
            break
    print(json.dumps(status))
""")


@pytest.mark.parametrize("new", ["error", "changed"])
def test_kill_before_every_file_operation_of_a_rewrite(tmp_path, new):
    """Call c1 is committed; it is then rewritten (as an error row, or with fewer
    utterances) by a process that dies before its 1st, 2nd, ... file operation.
    Readers must see either the old call complete or no call at all, never new
    utterances under the old calls row, and the leftovers must be swept."""
    import json

    from flows.storage.store import ResultStore

    script = _KILL_AT_STEP.format(root=str(ROOT), tests=str(ROOT / "tests"))
    child = subprocess.run([sys.executable, "-c", script, str(tmp_path), new, "30"], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    status = {int(k): v for k, v in json.loads(child.stdout.splitlines()[-1]).items()}
    assert list(status.values())[-1] == 0, "the rewrite never finished"
    old = snapshot(tmp_path / "old")
    seen = []
    for step, code in status.items():
        out = tmp_path / f"step{step}"
        check_output(out)
        now = snapshot(out)
        state = "old" if now == old else "absent" if not now["calls"] else "new"
        if state == "absent":
            assert now == {"calls": [], "utterances": [], "findings": [], "scores": []}
        assert state == "new" or code != 0, (step, code, state)  # a finished rewrite shows
        seen.append(state)
        ResultStore(out).sweep()
        assert check_output(out) == {"orphan": 0, "temp": 0}
    # dies before the first operation: old; after un-committing: absent; after the commit
    # rename (even if killed before its folder is synced, see the next test): new
    assert seen[0] == "old" and seen[-1] == "new" and "absent" in seen, seen
    rank = {"old": 0, "absent": 1, "new": 2}
    assert seen == sorted(seen, key=rank.get), seen
    print(new, seen)


@pytest.mark.parametrize("new", ["error", "changed"])
def test_every_rename_and_deletion_is_synced_before_the_next(tmp_path, monkeypatch, new):
    """Power loss: each step of a rewrite reaches the disk (its folder fsynced) before the
    next step changes a folder, and the final `calls` rename is synced too. Without the
    folder syncs the commit order holds for readers and kills, but not for the disk."""
    import stat
    from dataclasses import replace

    from analyzers.analyze import analyze
    from flows.batch.pipeline import Recording, call_result, error_result
    from flows.storage.store import ResultStore
    from lexicons import load_pack
    from transcripts import good_call

    transcript = replace(good_call(), call_id="c1")
    ok = call_result(transcript, analyze(transcript, load_pack()), source="c1.wav", audio_sha256="a", key="k")
    rewrite = (error_result(Recording("c1.wav", "c1"), ValueError("later it broke")) if new == "error"
               else replace(ok, score=ok.score - 1, utterances=ok.utterances[:2]))
    store = ResultStore(tmp_path)
    store.write(ok)

    events = []
    real_replace, real_unlink, real_fsync = os.replace, os.unlink, os.fsync

    def recording_replace(src, dst, *a, **kw):
        events.append(("change", os.path.dirname(os.fspath(dst))))
        return real_replace(src, dst, *a, **kw)

    def recording_unlink(path, *a, **kw):
        events.append(("change", os.path.dirname(os.fspath(path))))
        return real_unlink(path, *a, **kw)

    def recording_fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            events.append(("sync", os.path.realpath(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    monkeypatch.setattr(os, "replace", recording_replace)
    monkeypatch.setattr(os, "unlink", recording_unlink)
    monkeypatch.setattr(os, "fsync", recording_fsync)
    store.write(rewrite)
    monkeypatch.undo()

    changes = [e for e in events if e[0] == "change"]
    assert len(changes) >= 3 and changes[0][1].endswith("calls") and changes[-1][1].endswith("calls")
    pending = None
    for kind, folder in events:
        folder = os.path.realpath(folder)
        if kind == "change":
            assert pending is None, f"{folder} changed while {pending} was not synced: {events}"
            pending = folder
        elif folder == pending:
            pending = None
    assert pending is None, f"the last change ({pending}) was never synced"
