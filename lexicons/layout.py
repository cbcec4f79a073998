"""Where a rule pack's fields are written: phrases.yaml holds what is said, rules.yaml the rest.

The pack's one schema is `analyzers.rules.RulePack`. This module only says under which
key of which file each field is written, and derives from that the two models each
file is validated against, so that an error names the file's own keys (`hold_notice[1]`,
`rate.pause_s`). Every field of the pack is written in rules.yaml under its own name,
except those listed in `IN_PHRASES` and the ones the loader computes (`COMPUTED`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model

from analyzers.rules import RulePack, Section

#: The greeting's steps (phrases.yaml greeting.<step> and greeting.<step>_meaning).
GREETING_STEPS = ("hello", "service_offer", "self_identification", "outbound_purpose", "outbound_time_check")
#: phrases.yaml key path -> (section of the pack, field of that section; None: the whole section).
IN_PHRASES: dict[tuple[str, ...], tuple[str, str | None]] = {
    **{("greeting", key): ("greeting", f"{key}_phrases") for key in GREETING_STEPS},
    **{("greeting", f"{key}_meaning"): ("greeting", f"{key}_meaning") for key in GREETING_STEPS},
    **{("closing", key): ("closing", f"{key}_phrases") for key in ("satisfaction_check", "thanks", "goodbye")},
    **{("closing", f"{key}_meaning"): ("closing", f"{key}_meaning")
       for key in ("satisfaction_check", "thanks", "farewell", "invite_call_again")},
    ("hold_notice",): ("holds", "notice_phrases"),
    ("hold_apology",): ("holds", "apology_phrases"),
    ("hold_reason",): ("holds", "reason_phrases"),
    ("backchannel",): ("overtalk", "backchannel_phrases"),
    ("yield_turn", "invite"): ("overtalk", "yield_phrases"),
    ("yield_turn", "address"): ("overtalk", "yield_address_phrases"),
    ("yield_turn", "soften"): ("overtalk", "yield_soften_phrases"),
    ("confirmation",): ("confirmation", "phrases"),
    ("banned",): ("banned", None),
    ("complaint", "customer"): ("complaint", "customer_phrases"),
    ("complaint", "acknowledge"): ("complaint", "acknowledge_phrases"),
    ("followup", "promise"): ("followup", "promise_phrases"),
    ("followup", "time_frame"): ("followup", "time_phrases"),
    ("followup", "asks_time"): ("followup", "asks_time_phrases"),
    ("followup", "this_call"): ("followup", "this_call_phrases"),
    ("courtesy", "request"): ("courtesy", "request_phrases"),
    ("courtesy", "polite"): ("courtesy", "polite_phrases"),
    ("courtesy", "thanks"): ("courtesy", "thanks_phrases"),
    ("courtesy", "customer_thanks"): ("courtesy", "customer_thanks_phrases"),
    ("courtesy", "reply"): ("courtesy", "reply_phrases"),
    ("outbound_refusal", "customer"): ("outbound_refusal", "customer_phrases"),
    ("outbound_refusal", "apology"): ("outbound_refusal", "apology_phrases"),
    ("outbound_refusal", "appointment"): ("outbound_refusal", "appointment_phrases"),
    # which checks also read by meaning: an intent of examples/ per check (docs/meaning.md)
    **{("meaning", key): target for key, target in {
        "hold_notice": ("holds", "notice_meaning"), "hold_apology": ("holds", "apology_meaning"),
        "hold_reason": ("holds", "reason_meaning"),
        "complaint_customer": ("complaint", "customer_meaning"),
        "complaint_acknowledge": ("complaint", "acknowledge_meaning"),
        "confirmation": ("confirmation", "meaning"),
        "followup_with_time": ("followup", "with_time_meaning"),
        "followup_without_time": ("followup", "without_time_meaning"),
        "polite_request": ("courtesy", "request_meaning"), "thanks_for_help": ("courtesy", "thanks_meaning"),
        "reply_to_thanks": ("courtesy", "reply_meaning"),
        "refusal": ("outbound_refusal", "customer_meaning"),
        "refusal_answered": ("outbound_refusal", "answered_meaning"),
    }.items()},
}
#: Fields of the pack that no file holds: the loader computes them.
COMPUTED = ("content_hash",)
#: Fields of the pack in a file of their own (optional: absent, the field's default):
#: field -> (file, key in it).
OWN_FILE = {"custom_rules": ("custom_rules.yaml", "rules")}
#: Sections written in both files (thresholds in rules.yaml, phrases in phrases.yaml).
SPLIT = {section for section, field in IN_PHRASES.values() if field is not None}


def _field(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    """A field of `model` as create_model takes it: its type, limits, checks and default."""
    info = model.model_fields[name]
    return info.annotation, info


def _section_type(name: str) -> type[BaseModel]:
    return RulePack.model_fields[name].annotation


def _phrases_model() -> type[BaseModel]:
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for path, (section, field) in IN_PHRASES.items():
        spec = _field(RulePack, section) if field is None else _field(_section_type(section), field)
        if len(path) == 1:
            top[path[0]] = spec
        else:
            nested.setdefault(path[0], {})[path[1]] = spec
    for key, fields in nested.items():
        model = create_model(f"phrases.{key}", __base__=Section, **fields)
        # a mapping whose keys all have defaults may be left out (`meaning:`: no check reads by meaning)
        optional = all(not info.is_required() for _, info in fields.values())
        top[key] = (model, model() if optional else ...)
    return create_model("phrases.yaml", __base__=Section, **top)


def _rules_model() -> type[BaseModel]:
    elsewhere: dict[str, set[str | None]] = {}
    for section, field in IN_PHRASES.values():
        elsewhere.setdefault(section, set()).add(field)
    fields: dict[str, Any] = {}
    for name in RulePack.model_fields:
        if name in COMPUTED or name in OWN_FILE or None in elsewhere.get(name, ()):
            continue
        if name not in elsewhere:
            fields[name] = _field(RulePack, name)
            continue
        # A section written in both files: its rules.yaml part. A check across its fields
        # would run only when the pack is assembled, with no line to name: keep none there.
        model = _section_type(name)
        if model.__pydantic_decorators__.model_validators:
            raise TypeError(f"{model.__name__}: a section written in two files cannot have a check across fields")
        part = {f: _field(model, f) for f in model.model_fields if f not in elsewhere[name]}
        if not part:  # all of it in phrases.yaml (courtesy: its severities are its rules')
            continue
        fields[name] = (create_model(f"rules.{name}", __base__=Section, **part), ...)
    return create_model("rules.yaml", __base__=Section, **fields)


def _own_file_models() -> dict[str, tuple[str, type[BaseModel]]]:
    return {name: (file, create_model(file, __base__=Section, **{key: _field(RulePack, name)}))
            for name, (file, key) in OWN_FILE.items()}


#: The models phrases.yaml and rules.yaml are validated against, derived from `RulePack`.
PhrasesFile = _phrases_model()
RulesFile = _rules_model()
#: field -> (file name, the model that file is validated against) for `OWN_FILE`.
OwnFiles = _own_file_models()


def assemble(phrases: BaseModel, rules: BaseModel, **computed: Any) -> dict[str, Any]:
    """The validated files as the input of `RulePack`: each value put where the pack has it."""
    data: dict[str, Any] = dict(computed)
    for name, value in rules:
        data[name] = dict(value) if name in SPLIT else value
    for path, (section, field) in IN_PHRASES.items():
        value = phrases
        for key in path:
            value = getattr(value, key)
        if field is None:
            data[section] = value
        else:
            data.setdefault(section, {})[field] = value
    return data
