"""What a `callqa run` process pays before and after its work: the rule pack loads without
importing torch (spaCy's thinc would import it for layers callqa never uses), and torch
is still there, in any thread, for whatever needs it."""

import subprocess
import sys
import textwrap

import pytest


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_rule_pack_and_the_banned_phrase_matchers_load_without_torch():
    out = _python("""
        import sys
        from analyzers.banned import find_banned
        from lexicons import load_pack
        pack = load_pack("zh-CN")
        hits = [h.entry.id for h in find_banned("什么？这个我不知道。", pack.banned)]
        print("torch" in sys.modules, hits)
        import torch  # still importable afterwards, and works
        print(float(torch.ones(2).sum()))
    """)
    assert out.split("\n")[:2] == ["False ['shenme', 'dont_know']", "2.0"]


def test_torch_imported_in_another_thread_meanwhile_is_not_refused():
    out = _python("""
        import threading
        from analyzers import tokens
        got = {}
        def load_torch():
            import torch
            got["torch"] = float(torch.ones(3).sum())
        t = threading.Thread(target=load_torch)
        t.start()
        tokens.vocab()
        t.join()
        print(got["torch"], tokens.make_doc("您好").text)
    """)
    assert out.strip() == "3.0 您好。"


@pytest.mark.parametrize("torch_first", [False, True])
def test_spacy_works_whether_or_not_torch_came_first(torch_first):
    out = _python(f"""
        import sys
        if {torch_first}:
            import torch
        from analyzers import tokens
        from lexicons import load_pack
        from analyzers.banned import find_banned
        print([h.entry.id for h in find_banned("喂，你说什么？", load_pack("zh-CN").banned)])
    """)
    assert out.strip() == "['wei', 'shenme']"


def test_faster_whisper_loads_without_pyav_until_it_is_used():
    """faster_whisper imports PyAV for a decoder callqa never calls (1.2 s per run): it is
    left to load on first use, and then works."""
    out = _python("""
        import sys
        from flows.speech.engines import faster
        fw = faster._faster_whisper()
        print(hasattr(fw, "WhisperModel"), "av.audio" in sys.modules)
        import av
        print(av.AudioFrame.__name__, "av.audio" in sys.modules)
        import av.audio.frame
        from av import AudioResampler
        print(av.audio.frame.__name__, AudioResampler.__name__)
    """)
    assert out.split("\n")[:3] == ["True False", "AudioFrame True", "av.audio.frame AudioResampler"]


@pytest.mark.e2e
def test_a_default_run_of_a_mono_call_imports_neither_torch_nor_pyav(fw_model_path, tmp_path):
    """Speech detection (silero's ONNX model on onnxruntime), the voice encoder (numpy) and
    the faster engine need neither: a run does not pay their imports."""
    from conftest import SAMPLES

    out = _python(f"""
        import sys
        from flows.cli import main
        rc = main(["run", {str(SAMPLES / "call05_fast_agent.wav")!r}, "--out", {str(tmp_path / "out")!r},
                   "--no-report", "--quiet", "--engine", "faster", "--model", {fw_model_path!r}])
        print(rc, "torch" in sys.modules, "av.audio" in sys.modules)
    """)
    assert out.split("\n")[-2] == "0 False False"
