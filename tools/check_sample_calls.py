"""Sanity check for sample_audio/: transcribe every call channel with whisper and
print it next to the ground truth, plus which key phrases came through.

Run with the project venv (openai-whisper), from the repository root:

    .venv/bin/python tools/check_sample_calls.py [--model PATH] [call01 ...]

(--model defaults to $CALLQA_WHISPER_MODEL, else /work/shared/models/whisper-base.pt.)

Not part of the generator (which must not depend on whisper).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.sample_set import truth_paths  # noqa: E402

from analyzers.model import CallTruth, from_dict  # noqa: E402

KEY_PHRASES = [
    "您好", "很高兴为您服务", "有什么可以帮", "麻烦您", "请您稍等", "请稍等", "久等", "对不起",
    "喂", "不知道", "没办法", "以后再说", "好像是", "使用不当", "真烦人", "什么",
    "还有什么可以帮您", "满意", "感谢您的来电", "再见",
    # issue 17 (call08-call10): the standard's model lines and the new rules' cues
    "这里是售后服务中心", "非常理解您的心情", "深感抱歉", "请您提供", "谢谢您", "跟您确认一下", "对吗",
    "请您稍等", "我帮您查询", "查询需要一定的时间", "让您久等了", "二十四小时内", "是否满意", "不客气", "感谢您的理解",
    "随时欢迎致电", "怎么回事", "太慢了", "生气", "把订单号报一下", "报错", "快递公司的问题",
    "跟我们没有关系", "尽快处理", "给您回电", "谢谢", "打扰您了", "什么时候方便", "方便接听",
]
PUNCT = re.compile(r"[\s、，。！？；：,.!?;:\"'“”‘’]")


def load(path: Path, channel: int | None) -> np.ndarray:
    af = ["-af", f"pan=mono|c0=c{channel}"] if channel is not None else ["-ac", "1"]
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), *af, "-ar", "16000", "-f", "f32le", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.float32).copy()


def cer(ref: str, hyp: str) -> float:
    r, h = PUNCT.sub("", ref), PUNCT.sub("", hyp)
    d = list(range(len(h) + 1))
    for i, rc in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, hc in enumerate(h, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (rc != hc))
    return d[len(h)] / max(1, len(r))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.environ.get("CALLQA_WHISPER_MODEL", "/work/shared/models/whisper-base.pt"))
    ap.add_argument("calls", nargs="*")
    args = ap.parse_args()
    import whisper
    try:  # zhconv/opencc are optional: whisper sometimes answers in traditional characters
        from opencc import OpenCC  # type: ignore

        t2s = OpenCC("t2s").convert
    except Exception:  # noqa: BLE001
        t2s = lambda s: s  # noqa: E731

    model = whisper.load_model(args.model)
    for jpath in truth_paths(ROOT / "sample_audio"):
        truth = from_dict(CallTruth, json.loads(jpath.read_text(encoding="utf-8")))
        if args.calls and not any(truth.call_id.startswith(c) for c in args.calls):
            continue
        path = jpath.with_name(truth.audio)
        if truth.layout == "stereo":
            chans = {"agent": 0, "customer": 1}
        else:
            chans = {"mixed": None}
        print(f"\n===== {truth.call_id} ({truth.layout} {truth.codec})")
        for role, ch in chans.items():
            audio = load(path, ch)
            utts = [u for u in truth.utterances if role == "mixed" or u.speaker == role]
            # One utterance at a time (as a speech-gated pipeline would), so whisper
            # neither skips speech after long silences nor hallucinates in them.
            said = []
            for u in utts:
                a = audio[max(0, int((u.start_s - 0.3) * 16000)) : int((u.end_s + 0.3) * 16000)]
                res = model.transcribe(
                    a, language="zh", temperature=0, condition_on_previous_text=False,
                    fp16=False, initial_prompt="以下是普通话客服电话录音。",
                )
                said.append(t2s(res["text"].strip()))
            ref = "".join(u.text for u in utts)
            hyp = "".join(said)
            print(f"--- channel {role}: CER {cer(ref, hyp):.2f}")
            for u, h in zip(utts, said):
                print(f"  {u.start_s:6.2f}-{u.end_s:6.2f} {u.speaker[:4]} TRUE {u.text}")
                print(f"  {'':13} {'':4} ASR  {h}  (CER {cer(u.text, h):.2f})")
            for p in KEY_PHRASES:
                n_ref = ref.count(p)
                n_hyp = hyp.count(p)
                if n_ref or n_hyp:
                    mark = "ok " if n_ref == n_hyp else "!! "
                    print(f"  {mark}{p}: truth {n_ref} asr {n_hyp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
