"""A night of synthetic calls that carry their own transcripts: `callqa run` decodes and
speech-detects them for real but never runs whisper (bench/bench_night.py, issue 35).

    python tools/make_night.py DIR --calls 2000 [--seed 1] [--min-s 8 --max-s 25]
    callqa run DIR --metadata DIR/calls.csv --out OUT

Each call is a stereo 8 kHz G.711 mu-law WAV (agent left, customer right) with
`<stem>.agent.json` / `<stem>.customer.json` in whisper's format beside it, under a folder
per day. A call is a script of turns: the agent's greeting, the customer's request, a body
of turns, in 3 calls of 10 a hold (silence of 6.5-15 s, with or without 请稍等 before and an
apology after), a banned or blame-shifting phrase, an outbound opening, and the closing.
Its lines are the sample calls' true utterances (sample_audio/*.json) and the example
sentences of lexicons/zh-CN/examples/*.yaml. The audio of each turn is a real clip of the
same speaker cut from a sample call (its own for a sample utterance, one of about the
sentence's length for an example sentence), over line noise at -50 dBFS, so speech
detection finds speech where the transcript says someone speaks and holds where it is silent.

Also written: DIR/calls.csv, the run's metadata manifest (agents with names and teams,
start times over --days days, queues, direction), and DIR/night.jsonl, one line per call
with what the generator put in (duration, holds, script), for tests and the benchmark.
The same arguments give the same files.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.sample_set import truth_paths  # noqa: E402

EXAMPLES = ROOT / "lexicons" / "zh-CN" / "examples"
RATE_HZ = 8000
NOISE_DBFS = -50.0
#: Seconds per character an example sentence is given (about 190 characters a minute).
S_PER_CHAR = 0.32
TEAMS = ("north", "south", "east", "west", "vip", "night")
INBOUND_QUEUES = ("billing", "delivery", "returns", "technical", "general")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "芳伟娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玲"
CST = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Clip:
    speaker: str
    text: str
    audio: np.ndarray  # float32 at RATE_HZ

    @property
    def seconds(self) -> float:
        return len(self.audio) / RATE_HZ


@dataclass(frozen=True)
class Sources:
    clips: dict[str, list[Clip]]            # speaker -> the sample calls' true utterances
    examples: dict[str, list[str]]          # intent -> its positive example sentences
    speakers: dict[str, str]                # intent -> agent / customer


def load_sources(samples: Path = ROOT / "sample_audio", examples: Path = EXAMPLES) -> Sources:
    """Every true utterance of the sample calls with its audio, and the example sentences."""
    from flows.speech.audio import load_call

    clips: dict[str, list[Clip]] = {"agent": [], "customer": []}
    for truth_path in truth_paths(samples):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        audio = load_call(samples / truth["audio"], sample_rate_hz=RATE_HZ,
                          agent_channel=truth.get("agent_channel") or "left")
        for u in truth["utterances"]:
            channel = audio.channels.get(u["speaker"], audio.channels.get("mixed"))
            a, b = int(u["start_s"] * RATE_HZ), int(u["end_s"] * RATE_HZ)
            clips[u["speaker"]].append(Clip(u["speaker"], u["text"], channel[a:b].astype(np.float32)))
    texts: dict[str, list[str]] = {}
    speakers: dict[str, str] = {}
    for path in sorted(examples.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        positive = data.get("positive") or {}
        texts[data["intent"]] = [s for part in ("train", "test") for s in positive.get(part) or []]
        speakers[data["intent"]] = data["speaker"]
    return Sources(clips, texts, speakers)


# ------------------------------------------------------------------ a call's script

AGENT_BODY = {"confirmation": 6, "empathy_apology": 4, "polite_request": 5, "service_offer": 3,
              "followup_with_time": 3, "followup_without_time": 1, "jargon": 1, "polite_address": 3,
              "hold_reason": 1, "thanks_for_help": 2, "invite_call_again": 1, "rude_banned": 1,
              "blame_customer": 0.5, "blame_third_party": 0.5, "arguing": 0.5}


def _clip_for(src: Sources, rng: random.Random, speaker: str, text: str | None) -> Clip:
    """A sample utterance of `speaker` (text None), or a clip of about `text`'s length."""
    pool = src.clips[speaker]
    if text is None:
        return rng.choice(pool)
    want = max(1.0, len(text) * S_PER_CHAR)
    near = sorted(pool, key=lambda c: abs(c.seconds - want))[:4]
    return Clip(speaker, text, rng.choice(near).audio)


class Script:
    """A call's turns as they are chosen: ("say", clip, gap before in s) or ("hold", s)."""

    def __init__(self, src: Sources, rng: random.Random) -> None:
        self.src, self.rng, self.turns, self.seconds = src, rng, [], 0.0

    def say(self, speaker: str, intent: str | None = None, gap: float | None = None) -> None:
        """A line of `intent`'s examples, or (None) one of the sample calls' true utterances."""
        text = self.rng.choice(self.src.examples[intent]) if intent else None
        clip = _clip_for(self.src, self.rng, speaker, text)
        gap = self.rng.uniform(0.3, 1.2) if gap is None else gap
        self.turns.append(("say", clip, gap))
        self.seconds += gap + clip.seconds

    def hold(self) -> None:
        """请稍等 (mostly), a silence of 6.5-15 s, then 久等了 (mostly)."""
        if self.rng.random() < 0.8:
            self.say("agent", "hold_notice")
        hold_s = self.rng.uniform(6.5, 15.0)
        self.turns.append(("hold", hold_s))
        self.seconds += hold_s
        if self.rng.random() < 0.7:
            self.say("agent", "after_hold", gap=0.0)


def script(src: Sources, rng: random.Random, outbound: bool, target_s: float) -> list[tuple]:
    """The turns of a call of about `target_s` seconds."""
    s = Script(src, rng)
    if rng.random() < 0.93:  # a few calls start without a greeting
        s.say("agent", "greeting", gap=rng.uniform(0.2, 1.5))
    if outbound:
        s.say("agent", "outbound_purpose")
        if rng.random() < 0.7:
            s.say("agent", "outbound_time_check")
        if rng.random() < 0.25:
            s.say("customer", "refusal")
            s.say("agent", "refusal_answered" if rng.random() < 0.7 else None)
    elif rng.random() < 0.5:
        s.say("agent", "self_identification")
    s.say("customer", "customer_complaint" if rng.random() < 0.3 else None)
    if rng.random() < 0.3:  # the agent looks something up
        s.hold()
    intents, weights = list(AGENT_BODY), list(AGENT_BODY.values())
    while s.seconds < target_s - 8.0:
        s.say("agent", rng.choices(intents, weights)[0] if rng.random() < 0.5 else None)
        s.say("customer", "customer_complaint" if rng.random() < 0.15 else None)
    if rng.random() < 0.5:
        s.say("agent", "satisfaction_check")
        s.say("customer", None)
    if rng.random() < 0.9:
        s.say("agent", rng.choice(("closing_thanks", "farewell")))
    return s.turns


# ------------------------------------------------------------------ audio and transcripts


def render(rng: random.Random, turns: list[tuple]) -> tuple[np.ndarray, dict, list]:
    """Stereo audio (frames x 2), the segments per speaker and the holds' (start, end)."""
    placed, holds, t = [], [], 0.0
    for turn in turns:
        if turn[0] == "hold":
            holds.append([round(t, 3), None])
            t += turn[1]
            continue
        _, clip, gap = turn
        t += gap
        if holds and holds[-1][1] is None:  # the silence lasts until the next line: its gap is in the hold
            holds[-1][1] = round(t, 3)
        placed.append((t, clip))
        t += clip.seconds
    holds = [(start, end if end is not None else round(t, 3)) for start, end in holds]
    total = int((t + rng.uniform(0.5, 1.5)) * RATE_HZ)
    noise = 10 ** (NOISE_DBFS / 20)
    audio = (np.random.default_rng(rng.getrandbits(32)).standard_normal((total, 2)) * noise).astype(np.float32)
    segments: dict[str, list] = {"agent": [], "customer": []}
    for start, clip in placed:
        a = int(start * RATE_HZ)
        col = 0 if clip.speaker == "agent" else 1
        audio[a:a + len(clip.audio), col] += clip.audio
        segments[clip.speaker].append({"text": clip.text, "start": round(start, 3),
                                       "end": round(start + clip.seconds, 3)})
    np.clip(audio, -1.0, 1.0, out=audio)
    return audio, segments, holds


# ------------------------------------------------------------------ metadata


def agents(n: int, rng: random.Random) -> list[dict[str, str]]:
    return [{"agent_id": f"A{i + 1:03d}", "agent_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN)),
             "team": TEAMS[i % len(TEAMS)]} for i in range(n)]


def started_at(rng: random.Random, last_day: date, days: int) -> datetime:
    day = last_day - timedelta(days=rng.randrange(days))
    seconds = rng.randrange(8 * 3600, 21 * 3600)
    return datetime(day.year, day.month, day.day, tzinfo=CST) + timedelta(seconds=seconds)


def make_night(out: Path, calls: int, seed: int = 1, min_s: float = 8.0, max_s: float = 25.0,
               n_agents: int = 40, days: int = 7, last_day: date = date(2026, 12, 5),
               outbound_share: float = 0.15, sidecars: bool = False, src: Sources | None = None) -> list[dict]:
    """Write `calls` calls, calls.csv and night.jsonl under `out`; returns night.jsonl's rows.
    `sidecars`: each call's metadata also as `<stem>.meta.json` beside it (for a run without the CSV)."""
    import soundfile as sf

    if calls < 1 or not 0 < min_s <= max_s:
        raise ValueError(f"need calls >= 1 and 0 < min_s <= max_s, not {calls}, {min_s}, {max_s}")
    src = src or load_sources()
    rng = random.Random(seed)
    staff = agents(n_agents, rng)
    out.mkdir(parents=True, exist_ok=True)
    rows, manifest = [], []
    for i in range(calls):
        crng = random.Random(f"{seed}-{i}")  # each call on its own: call i is the same for any N
        outbound = crng.random() < outbound_share
        target_s = crng.uniform(min_s, max_s)
        audio, segments, holds = render(crng, script(src, crng, outbound, target_s))
        when = started_at(crng, last_day, days)
        stem = f"n{seed:02d}d{i // 1000:03d}c{i % 1000:03d}"  # no run of 6 digits (with - or space): masked as a number
        folder = out / when.date().isoformat()
        folder.mkdir(exist_ok=True)
        sf.write(folder / f"{stem}.wav", audio, RATE_HZ, subtype="ULAW")
        for speaker, segs in segments.items():
            (folder / f"{stem}.{speaker}.json").write_text(
                json.dumps({"segments": segs}, ensure_ascii=False), encoding="utf-8")
        agent = staff[crng.randrange(len(staff))]
        manifest.append({"call_id": stem, **agent, "started_at": when.isoformat(),
                         "queue": "outbound-sales" if outbound else crng.choice(INBOUND_QUEUES),
                         "direction": "outbound" if outbound else "inbound"})
        if sidecars:
            (folder / f"{stem}.meta.json").write_text(json.dumps(
                {k: v for k, v in manifest[-1].items() if k != "call_id"}, ensure_ascii=False), encoding="utf-8")
        rows.append({"call_id": stem, "path": str((folder / f"{stem}.wav").relative_to(out)),
                     "duration_s": round(len(audio) / RATE_HZ, 3), "holds": holds,
                     "utterances": {s: len(v) for s, v in segments.items()}})
    with open(out / "calls.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(manifest[0]))
        writer.writeheader()
        writer.writerows(manifest)
    (out / "night.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                     encoding="utf-8")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="folder to write (created; existing calls of the same seed are overwritten)")
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-s", type=float, default=8.0, help="shortest call's target length, s (default: %(default)s)")
    p.add_argument("--max-s", type=float, default=25.0, help="longest call's target length, s (default: %(default)s)")
    p.add_argument("--agents", type=int, default=40)
    p.add_argument("--days", type=int, default=7, help="start times over this many days up to --last-day")
    p.add_argument("--last-day", type=date.fromisoformat, default=date(2026, 12, 5))
    p.add_argument("--sidecars", action="store_true", help="also write each call's metadata as <stem>.meta.json")
    args = p.parse_args(argv)
    rows = make_night(args.out, args.calls, args.seed, args.min_s, args.max_s, args.agents, args.days,
                      args.last_day, sidecars=args.sidecars)
    audio_s = sum(r["duration_s"] for r in rows)
    print(f"{len(rows)} calls, {audio_s / 3600:.2f} h of audio (mean {audio_s / len(rows):.1f} s), "
          f"{sum(bool(r['holds']) for r in rows)} with a hold; manifest {args.out / 'calls.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
