"""The example corpus: lexicons/<pack>/examples/<intent>.yaml, one file per intent.

Checked on load; a mistake names the file and the field (positive.train[3] ...).
This loader belongs with the rule-pack loader in lexicons/ once that settles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

SPEAKERS = ("agent", "customer")
SIDES = ("positive", "negative")
SPLITS = ("train", "test")
#: Fewer train examples than this per side cannot be calibrated (leave-one-out).
MIN_TRAIN = 4
#: `clause_features:` values: "split", the model also sees each sentence's lead clause and rest
#: (analyzers.intents.sentence_parts; docs/decisions.md, thanks15 and clause17).
CLAUSE_FEATURES = ("split",)


class ExamplesError(ValueError):
    """A mistake in an example file, with the file and the field it is in."""

    def __init__(self, file: str | Path, field: str, message: str, line: int | None = None):
        self.file, self.field, self.line = str(file), field, line
        super().__init__(f"{file}{f':{line}' if line else ''}: {field}: {message}")


@dataclass(frozen=True)
class IntentExamples:
    intent: str
    speaker: str
    description: str
    standard: str
    #: (side, split) -> sentences, e.g. examples[("positive", "train")]
    examples: dict[tuple[str, str], tuple[str, ...]]
    path: Path
    #: The embedding view's scale in this intent's fit (bank.fit_model); 1 unless the file
    #: says `embedding_scale:` (chosen by cross-validation within train, docs/meaning.md).
    embedding_scale: float = 1.0
    #: The other intents' train sentences' weight as this intent's negatives, where the file
    #: says `background_weight:` (else the bank's): 0 for an intent that goes with all others.
    background_weight: float | None = None
    #: Intents whose train positives are NOT this intent's background negatives, where the
    #: file says `not_background: [...]`: intents that go together with it in the standard.
    not_background: tuple[str, ...] = ()
    #: "split" where the file says `clause_features: split`: the fit and the decision also read
    #: each sentence's lead clause and rest, their embeddings at `part_scale` x the embedding scale.
    clause_features: str | None = None
    part_scale: float = 1.0
    #: Where the file says `min_similarity:`, a hit also needs a train positive at least this
    #: close (cosine): a line like none of the examples (a bare 那……) means nothing, whatever
    #: the classifier extrapolates. 0: no floor.
    min_similarity: float = 0.0
    #: Where the file says `min_probability:`, the intent's own threshold (a hit: probability
    #: above it); None: the bank's (bank.build_models' min_probability, MIN_PROBABILITY by default).
    min_probability: float | None = None

    def texts(self, side: str, split: str) -> tuple[str, ...]:
        return self.examples[(side, split)]


def _text(path: Path, data: dict, key: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ExamplesError(path, key, f"needs a non-empty text, got {value!r}")
    return value.strip()


def _sentences(path: Path, value, field: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ExamplesError(path, field, f"needs a list of sentences, got {type(value).__name__}")
    out = []
    for i, s in enumerate(value):
        if isinstance(s, (int, float)) and not isinstance(s, bool):
            s = str(s)
        if not isinstance(s, str) or not s.strip():
            raise ExamplesError(path, f"{field}[{i}]", f"needs a non-empty sentence, got {s!r}")
        out.append(s.strip())
    return tuple(out)


def _check_unique(path: Path, examples: dict[tuple[str, str], tuple[str, ...]]) -> None:
    seen: dict[str, str] = {}
    for (side, split), sentences in examples.items():
        for i, s in enumerate(sentences):
            field = f"{side}.{split}[{i}]"
            if s in seen:
                raise ExamplesError(path, field, f"{s!r} is also at {seen[s]}")
            seen[s] = field


def parse_examples(path: Path, text: str) -> IntentExamples:
    """One example file's text, checked."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ExamplesError(path, "(yaml)", str(e)) from None
    if not isinstance(data, dict):
        raise ExamplesError(path, "(top)", "needs a mapping with intent, speaker, positive, negative")
    intent = _text(path, data, "intent")
    if intent != path.stem:
        raise ExamplesError(path, "intent", f"{intent!r} differs from the file name {path.stem!r}")
    speaker = _text(path, data, "speaker")
    if speaker not in SPEAKERS:
        raise ExamplesError(path, "speaker", f"{speaker!r} is not one of {', '.join(SPEAKERS)}")
    examples = {}
    for side in SIDES:
        block = data.get(side)
        if not isinstance(block, dict):
            raise ExamplesError(path, side, "needs a mapping with train and test lists")
        for split in SPLITS:
            examples[(side, split)] = _sentences(path, block.get(split), f"{side}.{split}")
        if len(examples[(side, "train")]) < MIN_TRAIN:
            raise ExamplesError(path, f"{side}.train", f"needs at least {MIN_TRAIN} sentences")
    _check_unique(path, examples)
    return IntentExamples(intent, speaker, _text(path, data, "description", required=False),
                          _text(path, data, "standard", required=False), examples, path,
                          _number(path, data, "embedding_scale", 1.0, 0.05, 20),
                          _number(path, data, "background_weight", None, 0.0, 5),
                          _names(path, text, data, intent), *_clause_features(path, text, data),
                          min_similarity=_number(path, data, "min_similarity", 0.0, 0.0, 1.0),
                          min_probability=_probability(path, text, data, "min_probability"))


def _probability(path: Path, text: str, data: dict, key: str) -> float | None:
    """An optional threshold of the file: a number strictly between 0 and 1 (None where absent)."""
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ExamplesError(path, key, f"needs a number above 0 and below 1, got {value!r}", _line(text, key))
    return float(value)


def _clause_features(path: Path, text: str, data: dict) -> tuple[str | None, float]:
    """`clause_features:` (one of CLAUSE_FEATURES) and `part_scale:` (a number, only with it)."""
    features = data.get("clause_features")
    if features is not None and features not in CLAUSE_FEATURES:
        raise ExamplesError(path, "clause_features", f"needs one of {', '.join(CLAUSE_FEATURES)}, got {features!r}",
                            _line(text, "clause_features"))
    if "part_scale" not in data:
        return features, 1.0
    if features is None:
        raise ExamplesError(path, "part_scale", "needs clause_features: the parts it scales",
                            _line(text, "part_scale"))
    value = data["part_scale"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.05 <= value <= 20:
        raise ExamplesError(path, "part_scale", f"needs a number from 0.05 to 20, got {value!r}", _line(text, "part_scale"))
    return features, float(value)


def _names(path: Path, text: str, data: dict, intent: str) -> tuple[str, ...]:
    """`not_background:`, a list of other intents' ids (whether they exist: load_examples)."""
    value = data.get("not_background", [])
    if not isinstance(value, list):
        raise ExamplesError(path, "not_background", f"needs a list of intent ids, got {value!r}",
                            _line(text, "not_background"))
    for i, name in enumerate(value):
        problem = (f"needs an intent id, got {name!r}" if not isinstance(name, str) or not name.strip()
                   else "names the file's own intent" if name == intent
                   else f"{name!r} is named twice" if name in value[:i] else None)
        if problem:
            raise ExamplesError(path, f"not_background[{i}]", problem, _line(text, "not_background", i))
    return tuple(value)


def _line(text: str, key: str, index: int | None = None) -> int | None:
    """The 1-based line of a top-level key's value (or of its index-th item) in the file."""
    node = yaml.compose(text)
    for k, v in node.value if isinstance(node, yaml.MappingNode) else ():
        if k.value == key:
            if index is not None and isinstance(v, yaml.SequenceNode) and index < len(v.value):
                v = v.value[index]
            return v.start_mark.line + 1
    return None


def _number(path: Path, data: dict, key: str, default, low: float, high: float):
    """An optional setting of the file: a number from low to high."""
    value = data.get(key, default)
    if value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ExamplesError(path, key, f"needs a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def load_examples(folder: str | Path) -> dict[str, IntentExamples]:
    """Every <intent>.yaml in `folder`, by intent id."""
    folder = Path(folder)
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ExamplesError(folder, "(folder)", "has no <intent>.yaml example files")
    examples = {p.stem: parse_examples(p, p.read_text(encoding="utf-8")) for p in files}
    for ex in examples.values():
        for i, name in enumerate(ex.not_background):
            if name not in examples:
                raise ExamplesError(ex.path, f"not_background[{i}]",
                                    f"{name!r} is no intent of {folder} (no {name}.yaml)",
                                    _line(ex.path.read_text(encoding="utf-8"), "not_background", i))
    return examples
