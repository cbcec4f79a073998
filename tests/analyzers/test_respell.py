"""The group-wide by-sound route (analyzers/respell.py) answers as each regex respelled does."""

from __future__ import annotations

from analyzers import respell, soundregex, text


def _one_by_one(t: str, group) -> bool:
    """The route before respell.py: each regex on the text respelled toward its own stretches."""
    return any(kept and (heard := text.respelled(t, kept)) is not t and regex.search(heard)
               for _, regex, kept in group.regexes)


def _pack_groups():
    from lexicons import load_pack
    from pydantic import BaseModel

    pack = load_pack("zh-CN")
    lists = [getattr(getattr(pack, s), f) for s in type(pack).model_fields if isinstance(getattr(pack, s), BaseModel)
             for f in type(getattr(pack, s)).model_fields if isinstance(getattr(getattr(pack, s), f), tuple)]
    lists += [c.phrases for r in pack.custom_rules for part in r.parts() for c in part.walk()
              if isinstance(c.phrases, tuple)]
    groups = (text.phrase_group(ps) for ps in lists if ps and all(isinstance(p, str) for p in ps))
    return [g for g in {id(g): g for g in groups}.values() if any(kept for _, _, kept in g.regexes)]


def test_the_group_route_answers_as_each_regex_respelled():
    heard = soundregex._heard_as()[0]
    groups, compared, found = _pack_groups(), 0, 0
    for group in groups:
        stretches = respell._union(group)[0]
        texts = {"好的好的", "您好请问有什么可以帮您"}
        for s in stretches[:12]:
            for i, c in enumerate(s):  # each char in turn swapped for another read as it
                for syl in sorted(text.char_pinyins(c))[:1]:
                    for other in sorted(frozenset(heard.get(syl, ())) - {c})[:2]:
                        texts.add("嗯" + s[:i] + other + s[i + 1:] + "的")
        for other in groups[:20]:  # texts of other groups' stretches: mostly no
            texts.update(respell._union(other)[0][:2])
        for t in sorted(texts):
            got = respell.heard_holds(t, group)
            assert got == _one_by_one(t, group), (group.alternatives[:2], t)
            compared, found = compared + 1, found + got
    assert compared > 1000 and found > 10
