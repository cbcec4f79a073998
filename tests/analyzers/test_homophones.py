"""analyzers.homophones: the trie walk finds exactly the windows find_phrase / sounds_alike find."""

import json
from pathlib import Path

import pytest

from analyzers.homophones import windows
from analyzers.text import char_pinyins, find_phrase, first_syllables, normalise, regex_stretches, respelled, sounds_alike, strip_punct
from lexicons import load_pack

SAMPLES = Path(__file__).resolve().parents[2] / "sample_audio"


def _texts() -> list[str]:
    out = []
    for path in sorted(SAMPLES.glob("call*.json")):
        if Path(path.stem).suffix:
            continue
        out += [strip_punct(normalise(u["text"])) for u in json.loads(path.read_text(encoding="utf-8"))["utterances"]]
    # slips whisper makes: 你 for 您, a homophone, a numeral and punctuation inside a phrase
    return out + ["你好请问有什么可以帮你", "请稍后我帮您茶一下", "您再说一下好吗", "您再说1下", "您再说，下", "是这样嘛"]


def _brute(text: str, phrases: tuple[str, ...], min_same: int) -> set[tuple[int, int, int]]:
    """Every window of 2+ chars whose first char reads as the phrase's first syllable (where
    find_phrase looks) and that sounds_alike the phrase."""
    found = set()
    for index, phrase in enumerate(phrases):
        for start in range(len(text) - len(phrase) + 1):
            window = text[start:start + len(phrase)]
            if len(phrase) >= 2 and not char_pinyins(window[0]).isdisjoint(first_syllables(phrase)) \
                    and sounds_alike(window, phrase, min_same):
                found.add((index, start, sum(a == b for a, b in zip(window, phrase))))
    return found


def _groups() -> list[tuple[str, ...]]:
    pack = load_pack("zh-CN")
    lists = [getattr(getattr(pack, s), f) for s in ("courtesy", "closing", "greeting", "holds", "followup")
             for f in type(getattr(pack, s)).model_fields if isinstance(getattr(getattr(pack, s), f), tuple)]
    literal = [tuple(strip_punct(normalise(p)) for p in ps if isinstance(p, str) and not p.startswith("re:"))
               for ps in lists]
    stretches = [regex_stretches(p[3:]) for ps in lists for p in ps if isinstance(p, str) and p.startswith("re:")]
    return [g for g in literal + stretches if g]


@pytest.mark.parametrize("min_same", [0, 1])
def test_windows_are_find_phrase_windows(min_same):
    groups, texts = _groups(), _texts()
    assert len(groups) >= 10 and len(texts) >= 100
    compared = 0
    for phrases in groups:
        for text in texts:
            assert set(windows(text, phrases, min_same)) == _brute(text, phrases, min_same), (text, phrases)
            by_sound = {(i, s) for i, phrase in enumerate(phrases)
                        for s, _, sound in find_phrase(text, phrase, min_same=min_same) if sound}
            assert by_sound <= {(i, s) for i, s, _ in windows(text, phrases, min_same)}
            compared += 1
    assert compared > 1000


def test_windows_by_sound_and_not():
    phrases = ("您再说一下", "稍等")
    got = set(windows("你再说一下好吗稍等", phrases))
    assert got == {(0, 0, 4), (1, 7, 2)}            # 你 heard for 您; the exact window counts too
    assert windows("您再说1下", phrases) == []       # a numeral stands only for itself
    assert windows("你再说一下", phrases, min_same=5) == []
    assert windows("好的", phrases, first_only=True) == []


def test_respelled_writes_by_sound_windows_only():
    stretches = ("您再说一下",)
    assert respelled("你再说一下吧", stretches) == "您再说一下吧"
    assert respelled("您再说一下吧", stretches) == "您再说一下吧"   # exact: nothing to respell
    assert respelled("好的好的", stretches) == "好的好的"           # no char in common: skipped
