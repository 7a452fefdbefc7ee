"""Every ``(default: X)`` the CLI's help text promises is the default argparse really uses ("off":
None). Options whose default is settled later are checked after that step (``--n-train``,
``--n-val``); ``train --steps`` is not covered here.

The parser is built inside the test (not at collection), so that the test is the one that runs
the parser-building lines (``tools/mutate.py`` picks tests by the lines they run)."""
import argparse
import re

from scratchflow.cli import build_parser
from scratchflow.cli.train import _check_flags

LIBRARY_COMMANDS = ("examples", "train", "sample", "plot", "figure3")


def _promised_defaults():
    """(command, option, promised text, action) for every option whose help names its default."""
    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for command, parser in actions[0].choices.items():
        if command not in LIBRARY_COMMANDS:
            continue
        for action in parser._actions:
            match = re.search(r"\(default: ([^);]*)[);]", action.help or "")
            if match and (action.default is not None or match.group(1) == "off"):
                yield command, action.option_strings[0], match.group(1), action


def _keeps_its_promise(promised, action):
    if promised == "off":
        return action.default is None
    if action.type is not None:
        return action.type(promised) == action.default
    return promised == action.default


def test_help_states_the_real_defaults():
    promises = list(_promised_defaults())
    broken = [(command, option, promised, action.default)
              for command, option, promised, action in promises
              if not _keeps_its_promise(promised, action)]
    assert broken == []
    assert {command for command, *_ in promises} == set(LIBRARY_COMMANDS)
    assert len(promises) >= 17


def test_train_settles_the_toy_data_sizes_its_help_promises(tmp_path):
    """--n-train and --n-val are settled after parsing (real data sets have their own split): a
    toy run without them gets the sizes the help promises."""
    parser = build_parser()
    args = parser.parse_args(["train", "--data", "moons", "--out", str(tmp_path)])
    (train_parser,) = [p for a in parser._actions if isinstance(a, argparse._SubParsersAction)
                       for name, p in a.choices.items() if name == "train"]
    promised = {action.dest: int(re.search(r"\(default: (\d+)", action.help).group(1))
                for action in train_parser._actions if action.dest in ("n_train", "n_val")}
    _check_flags(args)
    assert (args.n_train, args.n_val) == (promised["n_train"], promised["n_val"]) == (8000, 2000)
