"""The figures ``scratchflow train`` and ``scratchflow plot`` write: loss, density, samples, layers,
and for a neural spline flow one learned spline."""
import sys

from scratchflow.train import limit_blas_threads


def draw_figures(flow, data, target, out_dir, history=None, *, seed, image_shape=None):
    """Draw every figure that fits the flow's dimension; return the paths written.

    ``seed`` (the command's ``--seed``) seeds every draw of the flow's samples; ``image_shape``
    (e.g. (8, 8) for digits) draws data and samples as images instead.
    """
    # local import: matplotlib is slow to import; only the commands that draw pay for it.
    from scratchflow import plotting
    with limit_blas_threads(1):                      # the density grid: many small products
        return _draw_figures(plotting, flow, data, target, out_dir, history, seed, image_shape)


def _draw_figures(plotting, flow, data, target, out_dir, history, seed, image_shape):
    paths = []
    if history is not None:
        paths.append(plotting.plot_loss(history, out_dir))
    if plotting.spline_layers(flow):                 # nsf / nsf-ar: the first layer's spline
        spline_points = data if data is not None else flow.sample(2000, rng=seed)
        paths.append(plotting.plot_learned_spline(flow, spline_points, out_dir))
    if image_shape is not None and data is not None:
        _draw(paths, "samples", plotting.plot_image_samples, flow, data, out_dir,
              image_shape=image_shape, seed=seed)
        _draw(paths, "generated-vs-real", plotting.plot_generated_vs_real, flow, data, out_dir,
              image_shape=image_shape, seed=seed)
        return paths
    if flow.dim > 2:
        print(f"(no density/sample/layer figures: the data is {flow.dim}-D)", file=sys.stderr)
        return paths
    limits = None if target is None else ((-4.0, -4.0), (4.0, 4.0))
    _draw(paths, "density", plotting.plot_density, flow, data, out_dir, target=target, limits=limits)
    _draw(paths, "samples", plotting.plot_samples, flow, data, out_dir, seed=seed)
    if flow.dim == 2:
        _draw(paths, "layers", _plot_layers, plotting, flow, data, out_dir, seed)
    return paths


def draw_conditional_figures(flow, data, args):
    """``train --conditional``: samples per class (images for digits); the data's classes are not
    drawn beside them for digits. Returns the paths written."""
    # local import: matplotlib is slow to import; only the commands that draw pay for it.
    from scratchflow import plotting
    paths = []
    with limit_blas_threads(1):
        if flow.dim == 2:
            labels = args.contexts[1].argmax(axis=1)                  # (V,) the classes of data
            _draw(paths, "samples", plotting.plot_conditional_samples, flow, data, labels,
                  args.out, seed=args.seed)
        else:
            _draw(paths, "samples", plotting.plot_conditional_images, flow, args.out,
                  seed=args.seed)
    return paths


def _plot_layers(plotting, flow, data, out_dir, seed):
    if data is not None:
        return plotting.plot_layers(flow, data, out_dir)
    samples = flow.sample(2000, rng=seed)              # reverse KL: no data, the flow's own samples
    return plotting.plot_layers(flow, samples, out_dir, input_label="x = f⁻¹(z) (samples) / сэмплы")


def _draw(paths, name, plot, *args, **kwargs):
    """Draw one figure into ``paths``; a model that overflows on the figure's points (a density
    grid far from the data, samples of a diverged run) skips that figure and says why."""
    try:
        paths.append(plot(*args, **kwargs))
    except FloatingPointError as error:
        print(f"skipped the {name} figure: the model overflows on its points ({error})",
              file=sys.stderr)
