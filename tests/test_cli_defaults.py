"""Every ``(default: X)`` the CLI's help text promises is the default argparse really uses ("off":
None). Options whose default is settled later (``train --steps``) are not covered here."""
import argparse
import re

import pytest

from scratchflow.cli import build_parser

LIBRARY_COMMANDS = ("examples", "train", "sample", "plot")


def _subparsers():
    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: parser for name, parser in actions[0].choices.items() if name in LIBRARY_COMMANDS}


def _promised_defaults():
    for command, parser in _subparsers().items():
        for action in parser._actions:
            match = re.search(r"\(default: ([^);]*)[);]", action.help or "")
            if match and action.default is not None or match and match.group(1) == "off":
                yield pytest.param(action, match.group(1), id=f"{command} {action.option_strings[0]}")


@pytest.mark.parametrize("action, promised", list(_promised_defaults()))
def test_help_states_the_real_default(action, promised):
    if promised == "off":
        assert action.default is None
    elif action.type is not None:
        assert action.type(promised) == action.default
    else:
        assert promised == action.default


def test_every_library_command_promises_its_defaults():
    commands = {param.id.split()[0] for param in _promised_defaults()}
    assert commands == set(LIBRARY_COMMANDS)
