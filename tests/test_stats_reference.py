"natron.stats against an independent implementation: arch's stationary bootstrap (Politis & Romano) and its kernel long-run covariance."
import numpy as np
import pytest
from scipy.signal import lfilter

from natron.stats import block_bootstrap, long_run_variance, sharpe, sharpe_se

arch_bootstrap = pytest.importorskip("arch.bootstrap")
arch_kernel = pytest.importorskip("arch.covariance.kernel")


def ar1(n, phi, seed, mean=0.0):
    "AR(1) series of unit marginal variance around `mean`, from the stationary distribution."
    e = np.random.default_rng(seed).standard_normal(n) * np.sqrt(1 - phi ** 2)
    e[0] /= np.sqrt(1 - phi ** 2)
    return mean + lfilter([1], [1, -phi], e)


@pytest.mark.parametrize("phi", [0.0, 0.5])
def test_the_sharpe_standard_error_matches_arch_stationary_bootstrap(phi):
    "The HAC error of the Sharpe ratio and the spread of arch's stationary-bootstrap Sharpe ratios agree within 15%."
    x = ar1(5000, phi, seed=1, mean=0.05)
    bs = arch_bootstrap.StationaryBootstrap(10.0, x, seed=np.random.default_rng(2))
    boot_se = float(np.sqrt(bs.cov(sharpe, reps=2000)[0, 0]))
    assert sharpe_se(x) == pytest.approx(boot_se, rel=0.15)


def test_block_bootstrap_interval_matches_arch():
    "natron's percentile interval of the mean and arch's, with the same mean block length, agree to a tenth of the width."
    x = ar1(3000, 0.5, seed=3, mean=0.05)
    ours = np.array(block_bootstrap(x, np.mean, n_boot=4000, block=10.0, seed=4))
    bs = arch_bootstrap.StationaryBootstrap(10.0, x, seed=np.random.default_rng(5))
    theirs = bs.conf_int(np.mean, reps=4000, method="percentile", size=0.95)[:, 0]
    np.testing.assert_allclose(ours, theirs, atol=0.1 * (theirs[1] - theirs[0]))


def test_long_run_variance_matches_arch_kernel_estimate_and_the_truth():
    "On a long AR(1) series with phi = 0.5 the long-run variance is (1 + phi) / (1 - phi) = 3; natron's and arch's Bartlett estimate agree."
    x = ar1(100_000, 0.5, seed=6)
    theirs = arch_kernel.Bartlett(x).cov.long_run[0, 0]
    assert long_run_variance(x) == pytest.approx(theirs, rel=0.05)
    assert long_run_variance(x) == pytest.approx(3.0, rel=0.05)
