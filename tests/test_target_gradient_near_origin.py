"""The ring term of u1 has the gradient of its potential inside the unit circle too (where the unit
vector x / |x| is still x / |x|), checked against centred differences of log p*."""
import numpy as np

from scratchflow.targets import load_target


def test_u1_gradient_inside_the_unit_circle_matches_centred_differences():
    target = load_target("u1")
    points = np.array([[0.3, 0.4], [-0.2, 0.1], [0.05, -0.6]])         # (3, 2), radius < 1
    step = 1e-6
    numeric = np.stack([(target.log_prob(points + step * e) - target.log_prob(points - step * e))
                        / (2 * step) for e in np.eye(2)], axis=1)      # (3, 2)
    np.testing.assert_allclose(target.grad_log_prob(points), numeric, rtol=1e-6, atol=1e-6)
