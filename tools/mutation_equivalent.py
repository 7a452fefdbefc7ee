"""Mutants of ``tools/mutate.py`` that cannot change behaviour, each with the reason.

One row per mutant: (path, the mutated line as it reads, stripped, original token, replacement,
reason[, column of the token in the stripped line, when the token occurs twice]). Matched by the line's text, not its number, so that edits elsewhere in a file keep the
table valid. A listed mutant is still run; if a test kills it, the report shows an error of this
list (the reason was wrong).

"Same law" rows are a judgement worth stating: the mutant flips the sign of zero-mean Gaussian
noise, so every draw has the same distribution and the same seed still gives the same points, but
not the same points as before the mutation. No documented property of the data sets depends on
which of the two it is.
"""

_SAME_LAW = ("same law: the noise N(0, s^2) is symmetric, so -noise has the distribution of +noise; "
             "seeded draws stay reproducible")

EQUIVALENT = [
    ("scratchflow/data.py",
     "points = np.column_stack([x, y]) + noise * rng.standard_normal((n, 2))   # (n, 2)",
     "+", "-", _SAME_LAW),
    ("scratchflow/data.py", "points += noise * 2.0 * rng.standard_normal((n, 2))", "+=", "-=",
     _SAME_LAW),
    ("scratchflow/data.py",
     "return points + noise * rng.standard_normal((n, 2))                  # (n, 2)", "+", "-",
     _SAME_LAW),
    ("scratchflow/data.py",
     "return centres[component] + std * rng.standard_normal((n, 2))        # (n, 2)", "+", "-",
     _SAME_LAW),
    ("scratchflow/data.py",
     "points += noise * rng.standard_normal((n, 2))                        # (n, 2)", "+=", "-=",
     _SAME_LAW),
    ("scratchflow/data.py",
     "angles = 2.0 * np.pi * np.arange(8) / 8                              # (8,)", "8", "9",
     "a ninth centre at angle 2pi (= the first) is added but never drawn: component is in 0..7",
     len("angles = 2.0 * np.pi * np.arange(")),
    ("scratchflow/data.py",
     "row = 2 * rng.integers(0, n_cells // 2, n) + (col % 2)               # black: row + col even",
     "//", "/", "n_cells is checked to be even, so n_cells / 2 == n_cells // 2, and "
     "Generator.integers draws the same stream for the high 2.0 as for 2"),
    ("scratchflow/bijectors/compose.py",
     "dtypes = {layer.dtype for layer in layers if layer.num_params() > 0}", "0", "1",
     "differs only for a layer with exactly one scalar parameter; no layer of the library has one "
     "(the smallest, ElementwiseAffine(1), has two). A user-written one-parameter layer would see it"),
    ("scratchflow/cli/train.py",
     'lambda file: json.dump(settings, file, indent=1), "w"))',
     "1", "0", "JSON layout only: indent=0 writes the same keys and values one per line without "
     "indentation; json.load gives the same dict"),
    ("scratchflow/data.py",
     "angle = rng.uniform(0.0, 2.0 * np.pi, n)                             # (n,)", "2.0", "4.0",
     "same law: an angle uniform on [0, 4pi) puts a point uniformly on the circle, as one on "
     "[0, 2pi) does; seeded draws stay reproducible"),
    ("scratchflow/plotting/samples.py", "sharex=True, sharey=True)", "True", "False",
     "the figure is saved, not shown: with one row of panels sharex hides no tick label, and "
     "every panel sets the same x limits itself", len("sharex=")),
    ("scratchflow/standardize.py",
     'x = check_array(x, "x").astype(np.float64, copy=False)              # (N, D), finite',
     "False", "True", "x is only read afterwards ((x - mean) / std makes a new array), so copying "
     "it first changes memory use, not any value or returned object"),
    ("scratchflow/checks/numerical.py", "return relative_error(analytic, numeric, eps=max(1e-12, 1e-4 * scale))",
     "1e-12", "2e-12", "both callers (check_bijector, check_module) pass scale = 1 + a sum of absolute "
     "values >= 1, so 1e-4 * scale >= 1e-4 always exceeds the floor"),
]

_ROOT_ROW = ("a row whose F is exactly 0 at alpha is marked done in that same step (|F| = 0 <= its "
             "round-off >= 0, and Newton's step 0 / q, q > 0, is below an ulp) and frozen: alpha "
             "stays, and that row's bracket ends are never read again; other rows are elementwise "
             "apart")
EQUIVALENT += [
    ("scratchflow/bijectors/planar.py",
     "low = np.where(value < 0, alpha, low)                    # the root is above alpha",
     "<", "<=", _ROOT_ROW),
    ("scratchflow/bijectors/planar.py",
     "high = np.where(value > 0, alpha, high)                  # the root is below alpha",
     ">", ">=", _ROOT_ROW),
]
_LAST_LAYER_TWICE = (
    "the last layer's codomain check then runs a second time on the same array z: ``_inverse`` is "
    "only reached through ``Bijector.inverse``, whose ``_check_codomain`` (the last layer's check, "
    "a pure function of z) has just passed on that z, and a nested stack gets the same check from "
    "the outer stack first; it passes again, only costing its time")
_LAST_LAYER_LINE = "if k < len(self.layers) - 1:                           # the last layer's: by ``inverse``"
EQUIVALENT += [("scratchflow/bijectors/compose.py", _LAST_LAYER_LINE, original, replacement,
                _LAST_LAYER_TWICE) for original, replacement in (("-", "+"), ("<", "<="), ("1", "0"))]
EQUIVALENT += [
    ("scratchflow_course/homework/release.py",
     "inside.update(range(region.begin, region.end + 1))", "1", "0",
     "the region's closing marker line then counts as outside, so it joins the lines 'given' "
     "elsewhere; a marker line is a comment, and comments never enter the reference lines, so it "
     "cannot remove one of them"),
]
EQUIVALENT += [
    ("scratchflow/nn/activations.py",
     "return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", ">=", ">",
     "the two forms differ only in which one x = 0 (or -0.0) takes, and there e = exp(-0) = 1 "
     "exactly, so both give 1 / (1 + 1) = 0.5 bit for bit; NaN takes the second form either way"),
]
EQUIVALENT += [
    ("scratchflow_course/homework/probes.py",
     "layer = AffineCoupling(5, [1, 0, 1, 0, 0], hidden=(3,), rng=0)", "0", "1",
     "this seed only draws the coupling's MLP weights (nothing else in AffineCoupling.__init__ "
     "reads it), and the next line replaces that MLP by the stand-in network, whose own "
     "generator is the probe's",
     len("layer = AffineCoupling(5, [1, 0, 1, 0, 0], hidden=(3,), rng=")),
]
EQUIVALENT += [
    ("scratchflow/io.py", "file.seek(0)", "0", "1",
     "zipfile.ZipFile in mode 'r' finds the central directory by seeking from the end of the file "
     "and reads each member at its recorded absolute offset; the position it is handed is never "
     "read (CPython's zipfile: start_dir comes from the end record), so the archive reads the same"),
]
EQUIVALENT += [
    ("scratchflow/checks/conditional.py",
     'independent = getattr(layer, "samples_independent", True)', "True", "False",
     "the default is read only for a layer without the attribute; False then perturbs the context "
     "one entry at a time instead of one column in every row at once, and rows that are "
     "independent give each row the same difference quotient: only the number of passes changes"),
    ("scratchflow/figure3.py", "for width in range(2, 65):", "2", "3",
     "the only budget _matched is given is planar K=32's 160 parameters, whose closest widths are "
     "IAF 5 (156) and Real-NVP 9 (152, tied with 10): width 2 is never the closest",
     len("for width in range(")),
    ("scratchflow/figure3.py", "for width in range(2, 65):", "65", "66",
     "the only budget _matched is given is planar K=32's 160 parameters; width 65 gives far more "
     "than width 64 already does, so it is never the closest"),
    ("scratchflow/figure3.py",
     "batch_size=batch_size, seed=seed * 100003 + chunk, restore_best=False,", "100003", "100004",
     "same law: any multiplier above the number of chunks gives every (seed, chunk) its own "
     "training seed, reproducible from --seed; the draws differ, their distribution does not"),
]
EQUIVALENT += [
    ("scratchflow/nn/made_sweep.py",
     "self.done = 0                                                 # units of degree <= done exist",
     "0", "1",
     "the first step is always order[0], of input degree 1, so _add_hidden_units runs with degree "
     "0 before anything reads done: its block (ends[l][done], ends[l][0]] is empty for done = 1 as "
     "for done = 0 (ends are non-decreasing), and it then sets done = 0"),
]

EQUIVALENT += [
    ("scratchflow/plotting/layers.py",
     "fig, axes = plt.subplots(n_rows, n_columns, figsize=(3.0 * n_columns, 3.0 * n_rows), squeeze=False)",
     "False", "True", "squeeze only changes a 1 x 1 grid (then a lone Axes, not an array); a flow has "
     "at least one layer (Compose refuses none), so there are at least two panels, and a squeezed "
     "1 x n or n x 1 grid is a 1-D array whose .flat is the same sequence of Axes"),
    ("scratchflow/plotting/examples.py",
     "bin_area = (x1_edges[1] - x1_edges[0]) * (x2_edges[1] - x2_edges[0])", "-", "+",
     "x1_range starts at 0.0, so x1_edges[0] == 0.0 and x1_edges[1] + 0.0 == x1_edges[1] - 0.0",
     len("bin_area = (x1_edges[1] ")),
    ("scratchflow/plotting/conditional.py", "sharex=True, sharey=True)", "True", "False",
     "the figure is saved, not shown: with one row of panels sharex hides no tick label, and "
     "every panel sets the same x limits itself (figure.scatter_panels)", len("sharex=")),
    ("scratchflow/plotting/figure.py",
     "CURVE_POINTS = 400      # vertices of the polyline that draws a smooth curve (finer than the pixels)",
     "400", "401", "the number of vertices of the polylines that draw smooth curves (1-D densities, "
     "the spline, grid lines, circles): each vertex lies on the curve either way (the tests read "
     "them back against the formula), and 400 or 401 over a panel at most 715 pixels wide (6.5 in "
     "at 110 dpi) are both finer than the pixels"),
    ("scratchflow/plotting/spline.py", "span = 0.25", "0.25", "0.5",
     "figure style only: the half-length of the short tangent mark drawn at each knot; the mark "
     "stays centred on (x_k, y_k) with slope δ_k (what the tests read back) whatever its length"),
    ("scratchflow/cli/common.py",
     "VALIDATION_SEED_OFFSET = 1_000_003   # toy validation points: drawn with --seed + this, apart from training",
     "1_000_003", "1000004", "same law: the validation points are drawn from another seed than the "
     "training points either way (train and train --conditional share the offset); seeded draws "
     "stay reproducible"),
    ("scratchflow/cli/train.py",
     "set_training(flow, False)                        # figures: BatchNorm with running averages",
     "False", "True", "set_training only switches BatchNorm layers, and no model the train command "
     "builds has one: _build_flow's config never sets build_model's batchnorm option"),
    ("scratchflow/cli/train.py",
     'if args.model == "realnvp" and load_dataset(args.data, 1, rng=0).shape[1] < 2:', "0", "1",
     "one point is drawn only to read the data set's dimension, which no seed changes"),
    ("scratchflow/figure3.py",
     "EVAL_SEED = 2015            # the same draws for every panel and every seed", "2015", "2016",
     "same law: the final KL is estimated on EVAL_DRAWS fixed N(0, I) draws either way, the same "
     "for every panel and seed (what the docstring promises); seeded draws stay reproducible"),
    ("scratchflow/figure3.py", 'lambda handle: json.dump(results, handle, indent=2), mode="w")',
     "2", "3", "JSON layout only: indent=3 writes the same keys and values, indented by three spaces "
     "instead of two; json.load gives the same dict"),
]
_UNIT_DIAGONAL = ("the factor solved here is lower * lower_mask + eye (the mask strictly lower), so its "
                  "diagonal is exactly 1.0: reading it (unit_diagonal=False) divides by 1.0, which is "
                  "exact in IEEE arithmetic, and gives the same floats as skipping it")
EQUIVALENT += [
    ("scratchflow/bijectors/lu_linear.py",
     "a = solve_triangular(lower, b.T, lower=True, unit_diagonal=True).T       # (N, D)",
     "True", "False", _UNIT_DIAGONAL,
     len("a = solve_triangular(lower, b.T, lower=True, unit_diagonal=")),
    ("scratchflow/bijectors/lu_linear.py",
     "unit_diagonal=True).T                          # (N, D)", "True", "False", _UNIT_DIAGONAL),
]
EQUIVALENT += [
    ("scratchflow/bijectors/spline.py",
     "xi = np.clip((inside - b.x_left) / b.width, 0.0, 1.0)           # (m,)", "1.0", "2.0",
     "the forward's ξ never exceeds 1: _bin puts each inside point in the bin with x_k <= x < x_{k+1} "
     "(x_0 = −B < x, x_K = B > x), and rounded subtraction and division are monotone, so "
     "fl(fl(x − x_k) / fl(x_{k+1} − x_k)) <= 1; an upper clip at 2 clips nothing, as the one at 1 does"),
]
EQUIVALENT += [
    ("scratchflow/bijectors/compose.py", "if k > 0:", ">", ">=",
     "layer 0's domain check then runs a second time on the same array x: ``_forward`` is only "
     "reached through ``Bijector.forward`` or ``Flow``, each of which has just run "
     "``_check_domain`` (layer 0's check, a pure function of x) on that x, and a nested stack gets "
     "the same check from the outer stack first; it passes again, only costing its time"),
]
EQUIVALENT += [
    ("scratchflow/nn/linear.py",
     "@functools.lru_cache(maxsize=64)          # a few batch sizes in practice; never grow without end",
     "64", "65",
     "the bound only says how many read-only vectors of ones stay cached; every call returns n ones "
     "of the asked dtype whatever is cached, so no value any pass computes can differ (one more "
     "small vector may be kept)"),
]
EQUIVALENT += [
    ("scratchflow/bijectors/triangular.py", "self.dim = matrix.shape[0]", "0", "1",
     "the matrix is checked square three lines above (shape[0] == shape[1], else ValueError), so "
     "shape[1] is the same number"),
    ("scratchflow/flow.py",
     "self.layers._inverse_backward(grad_x.astype(x.dtype, copy=False), grad_log_det)", "False",
     "True", "grad_x is a fresh local array (-grad_target / n), read by nothing else: a copy of it "
     "changes memory use, not any value, gradient or returned object"),
    ("scratchflow_course/homework/worker.py",
     'with np.load(os.path.join(out, variant["name"] + ".npz"), allow_pickle=False) as arrays:',
     "False", "True", "allow_pickle is consulted only for object arrays, and the worker saves "
     "none: each output is np.asarray of a probe's numbers or an error text (a unicode array); "
     "tests/test_homework.py loads every probe's output of every variant this way"),
]
_EMPTY_BLOCK = ("stop == start is an empty block of hidden units: the (N, k) @ (k, 0) product, the "
                "activation of an (N, 0) array and the write to hidden[:, start:start] change no "
                "value, and the backward steps read a block's cache only where stop > start")
EQUIVALENT += [
    ("scratchflow/nn/made_sweep.py",
     "if stop > start:                                          # units in (done, degree]?",
     ">", ">=", _EMPTY_BLOCK),
    ("scratchflow/nn/made_sweep.py", "if stop > start:                                      # any unit of this degree?",
     ">", ">=", _EMPTY_BLOCK),
    ("scratchflow/nn/made_sweep.py", "for degree in range(1, self.dim):", "1", "0",
     "the extra degree 0 reads start = ends[-1] (every unit of the layer) and stop = ends[0] = 0 "
     "(MADE's hidden degrees are 1 .. D-1, so none is <= 0): stop < start, the block is skipped"),
]
_CONTEXT_COPY = ("the objective only reads the context: rows by minibatch index (a new array) "
                 "and the validation context through log_prob; nothing writes into it, so a copy "
                 "changes memory use, not any value")
EQUIVALENT += [
    ("scratchflow/optim.py", "if self.clip_norm is not None and norm > self.clip_norm:", ">", ">=",
     "at norm == clip_norm the factor clip_norm / norm is exactly 1.0 (x / x for a finite x > 0), "
     "so the scaled copy holds the same values, and the live gradients are written neither way"),
    ("scratchflow/objectives.py",
     'context = check_array(context, "context").astype(flow.dtype, copy=False)', "False", "True",
     _CONTEXT_COPY),
    ("scratchflow/objectives.py",
     'val_context = check_array(val_context, "val_context").astype(flow.dtype, copy=False)',
     "False", "True", _CONTEXT_COPY),
]
_WINDOW = ("window = max(1, history.val_step[-1] - history.val_step[-2]) "
           "if len(history.val_step) > 1 else 1")
_TWO_VALIDATIONS = ("the line runs only once the last validation loss is worse than the best by a "
                    "margin, so there were at least two validations")
EQUIVALENT += [
    ("scratchflow/cli/train.py", _WINDOW, "1", "0",
     "validations are recorded at strictly increasing steps, so the spacing val_step[-1] - "
     "val_step[-2] is at least 1 and max(1, .) = max(0, .)", len("window = max(")),
    ("scratchflow/cli/train.py", _WINDOW, "1", "0",
     _TWO_VALIDATIONS + ": len(val_step) > 1 and > 0 agree", _WINDOW.index("> 1") + 2),
    ("scratchflow/cli/train.py", _WINDOW, "1", "0",
     _TWO_VALIDATIONS + ": the else branch never runs", _WINDOW.index("else 1") + 5),
]
