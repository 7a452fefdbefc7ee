"""The questions part of the homework: numbers a student gets only by deriving them or by running
their own code, graded by the autograder from one text file, ``answers.txt``.

The student picks a seed s (any integer from 1000 to 9999, written in the file); every question's
inputs follow from s, so two students' answers differ unless their seeds do not, and a copied
answer file carries its seed with it. The grader recomputes the answers for the submitted s: with
the reference library the log-det of Example 2 at a point, the log|det| of a triangular map, the
number of conditioner passes of MAF and IAF in each direction at a dimension D, Adam's first step
(bias correction), and what two panels of q5's ``layers.png`` show (which coordinate a coupling
moved; the grader reads the masks of the same command's model). q5 asks for the best validation
NLL that ``scratchflow train`` reaches on two moons with a fixed budget and the student's own code,
and the grader trains the student's own code for it: the submission's task regions, all of them,
in one child behind the tasks' walls (:mod:`scratchflow_course.grading.training`), with the same
command and seed. The answer scores when it is within NLL_BAND of what that run reaches, whatever
the code's mistakes; code that cannot train (an error, a diverged run, the time limit) scores 0
for q5 with the reason.

The file is read as data only (``key: value`` lines); nothing in it is executed. No file, no seed,
or an answer that cannot be read scores 0 for that part only.
"""
import functools
import json
import math
import os
import re
import textwrap
import warnings

from scratchflow_course.grading.spec import Check, Task

FILE = "answers.txt"
NLL_BAND = 0.05          # nats: the grader's run of the student's code matches the student's own to rounding
LAYERS = 4               # q5's Real-NVP: couplings, the panels q6 asks about
TRAIN = (f"--model realnvp --data moons --steps 300 --layers {LAYERS} --hidden 16 --n-train 1000 --n-val 500 "
         "--no-progress --no-figures")


def _example2(s):
    a = 1.5 + s % 7
    return -math.log(a)


def _triangular(s):
    return math.log(1 + s % 3) + math.log(0.5 + (s % 4) / 2) + math.log(1 + s % 5)


def _passes(s):
    dim = 3 + s % 6
    return [1, dim, dim, 1]


def _adam(s):
    return -0.01 * (1 + s % 9)


def _run_setup(s):
    """``(args, train_data, val_data, flow)`` of ``scratchflow train TRAIN --seed s`` on the
    reference library: the command's own flags, data and model, nothing written."""
    # local import: the whole library, for q5 and q6 only (the release builder needs none of it)
    from scratchflow.cli import build_parser
    from scratchflow.cli.train import _setup         # local import: as build_parser
    args = build_parser().parse_args(["train", *TRAIN.split(), "--seed", str(s), "--out", os.devnull])
    _, train_data, val_data, flow, _ = _setup(args)
    return args, train_data, val_data, flow


def _panels(s):
    """The layers ``1 + s mod L`` and ``1 + (s // L) mod L`` of q5's Real-NVP (L = :data:`LAYERS`), and
    the coordinate (1 or 2) each moves: what its panel of ``layers.png`` shows changing."""
    layers = _run_setup(s)[3].layers
    if len(layers) != LAYERS:
        raise ValueError(f"q5's command builds {len(layers)} layers, q6 asks about {LAYERS}")
    return [int(layers[k].moved_index[0]) + 1 for k in (s % LAYERS, (s // LAYERS) % LAYERS)]


def best_validation_nll(s):
    """The best validation NLL of ``scratchflow train TRAIN --seed s`` (the command's own ``fit``
    call) on the library this process imported: the reference in the grader, the student's whole
    submission in the grader's training child. A run that did not train (diverged, a non-finite
    loss, ended worse than the base alone) raises :class:`RuntimeError` saying so."""
    from scratchflow.train import fit                 # local import: as in _run_setup
    args, train_data, val_data, flow = _run_setup(s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(flow, train_data, val_data, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                      clip_norm=args.clip_norm, seed=args.seed, patience=args.patience, progress=False)
    best = history.best_val_loss
    if history.diverged or best is None or not math.isfinite(best):
        raise RuntimeError("q5's command did not train this flow (with a correct program it trains, so "
                           f"the cause is in the code): {history.stopped or 'no finite validation loss'}")
    return float(best)


@functools.lru_cache(maxsize=64)
def _nll(s):
    """What a correct program gives for q5 (the reference library): the key's answer."""
    return best_validation_nll(s)


# id, points, the question (s = your seed), the answer's kind, the answer of seed s
QUESTIONS = [
    ("q1", 3, "Example 2 (slide «Пример 2»): log|det ∂f/∂x| at x = (1.5 + (s mod 7), −1).", "number", _example2),
    ("q2", 3, "f(x) = L x with L lower-triangular, L = [[−(1 + s mod 3), 0, 0], [2, 0.5 + (s mod 4)/2, 0], "
              "[1, −3, 1 + s mod 5]]: log|det ∂f/∂x|.", "number", _triangular),
    ("q3", 3, "D = 3 + (s mod 6). How many passes of the conditioner (the MADE) does each need: MAF density, "
              "MAF sampling, IAF density, IAF sampling? Four integers, comma-separated.", "integers", _passes),
    ("q4", 3, "Adam (β1 = 0.9, β2 = 0.999, ε = 0, lr = 0.01·(1 + s mod 9)), one parameter θ = 0, gradient "
              "g = 1 + (s mod 4): θ after the first step.", "number", _adam),
    ("q5", 3, f"Run `scratchflow train {TRAIN} --seed s --out run` with your code: the best validation NLL it "
              f"prints (nats). The grader trains your submitted code with the same command and seed and "
              f"accepts ±{NLL_BAND} of what it reaches.", "band", _nll),
    ("q6", 3, "Run q5's command without `--no-figures` and open run/layers.png: the panel of layer k ('after "
              f"layer k', the last 'z = f(x) (layer {LAYERS})') shows the points and the grid after the k-th "
              "coupling. Against the panel before it, which coordinate did layer k move (1: the horizontal "
              f"y₁, 2: the vertical y₂)? Answer for k = 1 + (s mod {LAYERS}), then for k = 1 + ((s div "
              f"{LAYERS}) mod {LAYERS}): two integers, comma-separated.",
     "integers", _panels),
]


def template(answers=None):
    """The text of ``answers.txt`` as the release hands it out; ``answers``: {key: text} filled in."""
    answers = answers or {}
    lines = ["# Questions (15 points). Choose a seed s: any integer from 1000 to 9999 (for example the",
             "# last four digits of your student number). Every question depends on it. Write s and each",
             "# answer after its colon; keep the keys. Numbers with 4 significant digits or more.",
             "", f"seed: {answers.get('seed', '')}".rstrip(), ""]
    for key, points, text, _, _ in QUESTIONS:
        lines += textwrap.wrap(f"{key} ({points} points). {text}", 98, initial_indent="# ",
                               subsequent_indent="# ", break_on_hyphens=False)
        lines += [f"{key}: {answers.get(key, '')}".rstrip(), ""]
    return "\n".join(lines)


def write_answers(folder, seed=1234):
    """Write the right ``answers.txt`` for ``seed`` into ``folder`` (the instructor's key; tests)."""
    answers = {"seed": str(seed)}
    for key, _, _, kind, answer in QUESTIONS:
        value = answer(seed)
        answers[key] = ", ".join(str(v) for v in value) if kind == "integers" else f"{value:.6f}"
    path = os.path.join(folder, FILE)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(template(answers))
    return path


def read_answers(text):
    """``{key: value text}`` from ``key: value`` lines; comments and blank lines skipped."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([a-z0-9]+)\s*:(.*)$", line)
        if match and not line.lstrip().startswith("#"):
            found[match.group(1)] = match.group(2).strip()
    return found


def _numbers(text):
    return [float(word) for word in re.split(r"[,;\s]+", text.replace("−", "-")) if word]


def judge(kind, given, want):
    """``(passed, message)`` for one answer ``given`` (text) against ``want``."""
    try:
        numbers = _numbers(given)
    except ValueError:
        return False, f"cannot read {given!r} as {'numbers' if kind == 'integers' else 'a number'}"
    if kind == "integers":
        right = numbers == [float(w) for w in want]
        return right, "right" if right else "wrong"
    if len(numbers) != 1:
        return False, f"expected one number, got {given!r}"
    right = abs(numbers[0] - want) <= (NLL_BAND if kind == "band" else 1e-3 * max(1.0, abs(want)))
    return right, "right" if right else "wrong"


def _judged(kind, given, answer, seed):
    try:
        want = answer(seed)
    except Exception as error:                      # the grader's own failure: say so, score 0
        return False, f"the grader could not compute this answer ({error!r}); tell your instructor"
    return judge(kind, given, want)


def _seed(answers):
    text = answers.get("seed", "")
    if not re.fullmatch(r"\d{4}", text) or not 1000 <= int(text) <= 9999:
        return None
    return int(text)


def _read_file(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        return read_answers(handle.read(100_000))


def answers_seed(submission):
    """The seed s of the submission's ``answers.txt`` (None: no file or no readable seed): the
    grader trains the submitted code with q5's command at this seed."""
    path = os.path.join(submission, FILE)
    return _seed(_read_file(path)) if os.path.isfile(path) else None


def _own(given, own_run, seed):
    """q5 against what the submitted code itself reached: ``own_run`` is ``(seed, best validation
    NLL or None, why it did not train or None)`` from the grader's training child."""
    if own_run is None or own_run[0] != seed:
        return False, "the grader did not train your code at this seed; tell your instructor"
    _, value, problem = own_run
    if problem is not None:
        return False, f"your code could not run q5's command, so this question scores 0:\n{problem}"
    passed, message = judge("band", given, value)
    if message == "wrong":
        message = (f"wrong: not within ±{NLL_BAND} nats of the best validation NLL that your own code "
                   "reaches with q5's command at your seed (the grader trained your submitted code)")
    return passed, message


def points(source):
    """The questions' points from ``homework.json`` (0: the homework has no questions part)."""
    with open(os.path.join(source, "homework.json"), encoding="utf-8") as handle:
        return float(json.load(handle).get("questions", {}).get("points", 0))


def graded(source, submission, own_run=None):
    """``(Task, entries)`` of the questions part for the grader's results (entries as a task's:
    ``{"check", "passed", "output"}``), or None when ``homework.json`` has no questions.
    ``own_run``: the grader's training of the submitted code for q5 (see :func:`_own`); without it
    q5 scores 0."""
    total = points(source)
    if not total:
        return None
    scale = total / sum(q[1] for q in QUESTIONS)
    task = Task("questions", "Questions (answers.txt)", "", total, [FILE])
    checks = [Check("questions", f"{key}", round(points * scale, 2), True, None, None, None)
              for key, points, *_ in QUESTIONS]
    path = os.path.join(submission, FILE)
    if not os.path.isfile(path):
        return task, [{"check": c, "passed": False, "output": f"no {FILE} in the submission: this part "
                       "scores 0 (the tasks are graded as usual)"} for c in checks]
    answers = _read_file(path)
    seed = _seed(answers)
    entries = []
    for check, (key, _, text, kind, answer) in zip(checks, QUESTIONS):
        if seed is None:
            passed, message = False, f"no seed in {FILE} (a line 'seed: NNNN', 1000 to 9999)"
        elif not answers.get(key):
            passed, message = False, "not answered"
        elif kind == "band":
            passed, message = _own(answers[key], own_run, seed)
        else:
            passed, message = _judged(kind, answers[key], answer, seed)
        entries.append({"check": check, "passed": bool(passed), "output": f"{key}, seed {seed}: {message}"})
    return task, entries
