"""The group-wide by-sound route (analyzers/respell.py) answers as each regex respelled does."""

from __future__ import annotations

from analyzers import respell, soundregex, text


def _one_by_one(t: str, group) -> bool:
    """The route before respell.py: each regex on the text respelled toward its own stretches."""
    return any(kept and (heard := text.respelled(t, kept)) is not t and regex.search(heard)
               for _, regex, kept in group.regexes)


def pack_groups():
    """Every phrase group of the default pack (its phrase lists and its rules' phrase conditions), once each."""
    from lexicons import load_pack
    from pydantic import BaseModel

    pack = load_pack("zh-CN")
    lists = [getattr(getattr(pack, s), f) for s in type(pack).model_fields if isinstance(getattr(pack, s), BaseModel)
             for f in type(getattr(pack, s)).model_fields if isinstance(getattr(getattr(pack, s), f), tuple)]
    lists += [c.phrases for r in pack.custom_rules for part in r.parts() for c in part.walk()
              if isinstance(c.phrases, tuple)]
    groups = (text.phrase_group(ps) for ps in lists if ps and all(isinstance(p, str) for p in ps))
    return list({id(g): g for g in groups}.values())


def _pack_groups():
    return [g for g in pack_groups() if any(kept for _, _, kept in g.regexes)]


def _misheard(stretches, frames: tuple[str, ...]) -> set[str]:
    """Each stretch with each char in turn swapped for (at most two) other chars read as it, set
    in each frame ("嗯{}的"): texts that only respelling can match."""
    heard = soundregex._heard_as()[0]
    texts = set()
    for s in stretches:
        for i, c in enumerate(s):
            for syl in sorted(text.char_pinyins(c))[:1]:
                for other in sorted(frozenset(heard.get(syl, ())) - {c})[:2]:
                    texts.update(frame.format(s[:i] + other + s[i + 1:]) for frame in frames)
    return texts


def test_the_group_route_answers_as_each_regex_respelled():
    groups, compared, found = _pack_groups(), 0, 0
    for group in groups:
        stretches = group.by_sound[0]
        texts = {"好的好的", "您好请问有什么可以帮您"}
        texts |= _misheard(stretches[:12], ("嗯{}的", "好的您的地址我记下了，{}，对吧"))  # the second past an anchored regex
        for other in groups[:20]:  # texts of other groups' stretches: mostly no
            texts.update(other.by_sound[0][:2])
        for t in sorted(texts):
            got = respell.heard_holds(t, group)
            assert got == _one_by_one(t, group), (group.alternatives[:2], t)
            compared, found = compared + 1, found + got
    assert compared > 1000 and found > 10


def test_the_chars_a_regex_needs():
    import re

    cases = {"提供(一下|下)": {"提"}, "(?<![跟和给向])(您|你)(再)?(说|讲|报|念|读)一下": {"一"},
             "(号|号码)(是)?多少(?!钱)": {"号"}, "[0-9一二]+(个)?(分钟|小时)": {"分", "小"}, ".{0,6}号": {"号"},
             "^(好的?|嗯)?[，,]?手机": {"手"}, "(a|bc)": {"a", "b"}}
    for pattern, want in cases.items():
        assert respell.needed_chars(re.compile(pattern)) == want, pattern
    for pattern in ("a?", "(|ab)c?", "[^a]", r"\w+", "(?i)ab", "(a|.)", "[一-龥]"):  # nothing settles it
        assert respell.needed_chars(re.compile(pattern)) is None, pattern


def test_every_match_of_a_pack_regex_holds_a_char_it_needs():
    checked = 0
    for group in _pack_groups():
        texts = {s for _, _, kept in group.regexes for s in kept} | {"好的" + s + "吗" for s in group.by_sound[0][:20]}
        for (_, regex, _), need in zip(group.regexes, group.by_sound[2]):
            for t in texts:
                if need is not None and regex.search(t):
                    assert not need.isdisjoint(t), (regex.pattern, t)
                    checked += 1
    assert checked > 300, checked


def test_the_lengths_a_regex_matches_in():
    import re

    cases = {"提供(一下|下)": (3, respell.ANY_LENGTH), "^(好的?|嗯)?[，,]?手机号(是)?$": (3, 8),
             "^a.*$": (1, respell.ANY_LENGTH), "^a$|^bc$": (1, respell.ANY_LENGTH), "(?<=abc)d(?=e)": (1, respell.ANY_LENGTH),
             "^(?:a|bc)$": (1, 3), "(?m)^ab$": (2, respell.ANY_LENGTH)}
    for pattern, want in cases.items():
        assert respell.widths(re.compile(pattern)) == want, pattern
    assert not re.search("^(好的?|嗯)?[，,]?手机号(是)?$", "好的，手机号是啊吧")  # past the longest (7 and a final newline)


def test_every_match_of_a_pack_regex_is_in_its_lengths():
    checked = anchored = 0
    for group in _pack_groups():
        texts = {s for _, _, kept in group.regexes for s in kept} | {"好的" + s + "吗" for s in group.by_sound[0][:20]}
        texts |= {s + "？" for s in texts} | {s + "\n" for s in list(texts)[:50]}
        for (_, regex, _), (least, most) in zip(group.regexes, group.by_sound[3]):
            anchored += most < respell.ANY_LENGTH
            for t in texts:
                if regex.search(t):
                    assert least <= len(t) <= most, (regex.pattern, t)
                    checked += 1
    assert checked > 300 and anchored >= 1, (checked, anchored)
