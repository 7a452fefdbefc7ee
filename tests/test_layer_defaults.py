"""The layers' documented default widths: a conditioner network of two hidden layers of 64 units."""
from scratchflow.bijectors import IAF, MAF, AffineCoupling, SplineAutoregressive, SplineCoupling
from scratchflow.bijectors.additive import AdditiveCoupling


def test_documented_default_widths():
    assert AffineCoupling(2, [1, 0]).hidden == (64, 64)
    assert AdditiveCoupling(2, [1, 0]).hidden == (64, 64)
    assert MAF(2).made.hidden == (64, 64)
    assert IAF(2).made.hidden == (64, 64)
    assert SplineCoupling(2, [1, 0]).hidden == (64, 64)
    assert SplineAutoregressive(2).made.hidden == (64, 64)
