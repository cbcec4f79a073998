"""The CLI's names for the rule pack: `rules check` and `--rule-pack`, the former ones kept."""

import pytest

from flows.cli.main import main
from flows.cli.parser import parser
from lexicons import PACKS_DIR


@pytest.mark.parametrize("command", ["rules", "lexicon"])
def test_rules_check_and_its_former_name(command, capsys):
    assert main([command, "check", "zh-CN"]) == 0
    assert capsys.readouterr().out.startswith("ok: zh-CN version ")


def test_rules_check_refuses_a_broken_pack(tmp_path, capsys):
    assert main(["rules", "check", str(tmp_path)]) == 2  # no rules.yaml: a misuse, named
    assert "missing pack file" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["run", "x.wav"], ["reprocess"], ["serve"]])
def test_rule_pack_option_and_its_hidden_former_name(command, capsys):
    folder = str(PACKS_DIR / "zh-CN")
    # run and reprocess default to the output folder's remembered pack (zh-CN for a new folder)
    assert parser().parse_args(command).lexicon == (None if command[0] in ("run", "reprocess") else "zh-CN")
    assert parser().parse_args([*command, "--rule-pack", folder]).lexicon == folder
    assert parser().parse_args([*command, "--lexicon", folder]).lexicon == folder
    with pytest.raises(SystemExit):
        parser().parse_args([command[0], "--help"])
    shown = capsys.readouterr().out
    assert "--rule-pack" in shown and "--lexicon" not in shown
