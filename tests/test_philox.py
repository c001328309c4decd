"""Philox4x32-10, its variate transforms and the seeding of levyscore."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from levyscore import _philox as ph
from levyscore._seeding import philox_key

ALPHA = 1e-6  # level of every statistical test in this file (fixed seeds: no flakes)
KEY = (0x1234ABCD, 0x0F0E0D0C)
F = 0xFFFFFFFF


# --- Random123 known-answer vectors (kat_vectors, philox4x32 with 10 rounds) ---

@pytest.mark.parametrize(
    "counter, key, expected",
    [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((F, F, F, F), (F, F), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ],
)
def test_philox_known_answers(counter, key, expected):
    out = ph.philox4x32_10(*counter, *key)
    assert tuple(int(w) for w in out) == expected


def test_stream_word_layout():
    assert int(ph.stream_word(ph.DOMAIN_REVERSE_JUMP, 5)) == 0x11000005
    assert int(ph.stream_word(0xFF, ph.MAX_STREAM_INDEX)) == 0xFFFFFFFF
    assert int(ph.stream_word(ph.DOMAIN_FORWARD_GAUSS, 0)) == 0


# --- transforms -------------------------------------------------------------

def test_uniform_extremes_are_strictly_inside():
    # The extreme words give the extreme uniforms, computed exactly.
    assert ph.uniform_from_words(0, 0) == 2.0**-53
    assert ph.uniform_from_words(F, F) == 1.0 - 2.0**-53
    assert 0.0 < ph.uniform_from_words(0, 0) and ph.uniform_from_words(F, F) < 1.0
    # Low 6 bits of each word are dropped: 52 bits in all.
    assert ph.uniform_from_words(63, 63) == ph.uniform_from_words(0, 0)
    assert ph.uniform_from_words(0, 64) == 1.5 * 2.0**-52


def test_uniform_chi_square_and_open_interval():
    n, bins = 10**5, 64
    u = ph.uniforms(KEY, n)
    assert np.all(u > 0.0) and np.all(u < 1.0)
    counts = np.bincount((u * bins).astype(np.int64), minlength=bins)
    chi2 = np.sum((counts - n / bins) ** 2 / (n / bins))
    # Pearson statistic ~ chi2(bins - 1) under H0; reject at level ALPHA.
    assert chi2 < stats.chi2.ppf(1.0 - ALPHA, bins - 1)


def test_uniform_pairs_chi_square():
    # Joint uniformity of the two uniforms of a block and of consecutive blocks
    # (8 x 8 cells of (u_j, u_{j+1})), chi2(63) at level ALPHA.
    u = ph.uniforms(KEY, 2 * 10**5, index=3)
    cells = (u[0::2] * 8).astype(np.int64) * 8 + (u[1::2] * 8).astype(np.int64)
    counts = np.bincount(cells, minlength=64)
    expected = u.size / 2 / 64
    assert np.sum((counts - expected) ** 2 / expected) < stats.chi2.ppf(1.0 - ALPHA, 63)
    shifted = (u[1::2][:-1] * 8).astype(np.int64) * 8 + (u[2::2] * 8).astype(np.int64)
    counts = np.bincount(shifted, minlength=64)
    expected = shifted.size / 64
    assert np.sum((counts - expected) ** 2 / expected) < stats.chi2.ppf(1.0 - ALPHA, 63)


def test_normals_ks_and_moments():
    n = 10**5
    z = ph.normals(KEY, n)
    assert stats.kstest(z, "norm").pvalue > ALPHA
    # 5 standard errors: sd(mean) = 1/sqrt(n), sd(mean of z^2) = sqrt(2/n).
    assert abs(z.mean()) < 5.0 / np.sqrt(n)
    assert abs(np.mean(z * z) - 1.0) < 5.0 * np.sqrt(2.0 / n)


def test_exponentials_ks():
    e = ph.exponentials(KEY, 10**5)
    assert np.all(e > 0.0)
    assert stats.kstest(e, "expon").pvalue > ALPHA
    assert abs(e.mean() - 1.0) < 5.0 / np.sqrt(e.size)  # sd(Exp(1)) = 1: 5 standard errors


@pytest.mark.parametrize("shape", [0.3, 1.0, 2.7])
def test_gamma_ks(shape):
    g = ph.gammas(KEY, 10**5, shape)
    assert stats.kstest(g, stats.gamma(shape).cdf).pvalue > ALPHA


def test_gamma_zero_shape_is_point_mass():
    assert np.all(ph.gammas(KEY, 100, 0.0) == 0.0)


def test_streams_and_keys_are_uncorrelated():
    # |sample correlation| of independent normals is ~ N(0, 1/n): 5/sqrt(n) bound.
    n = 10**5
    a = ph.normals(KEY, n, index=0)
    b = ph.normals(KEY, n, index=1)
    c = ph.normals((KEY[0], KEY[1] + 1), n, index=0)
    for x, y in ((a, b), (a, c)):
        assert abs(np.corrcoef(x, y)[0, 1]) < 5.0 / np.sqrt(n)


# --- seeding -------------------------------------------------------------------

def test_key_from_int_is_seedsequence_state():
    expected = tuple(int(w) for w in np.random.SeedSequence(42).generate_state(2, np.uint32))
    assert philox_key(42) == expected
    assert philox_key(np.int64(42)) == expected
    assert philox_key(np.random.SeedSequence(42)) == expected


@given(st.integers(min_value=0, max_value=2**128))
def test_key_from_int_is_two_32bit_words(seed):
    k = philox_key(seed)
    assert k == philox_key(seed)
    assert len(k) == 2 and all(isinstance(w, int) and 0 <= w < 2**32 for w in k)


def test_key_from_seedsequence_does_not_advance():
    ss = np.random.SeedSequence(7)
    assert philox_key(ss) == philox_key(ss)


def test_key_from_generator_advances_and_replays():
    g = np.random.default_rng(5)
    first, second = philox_key(g), philox_key(g)
    assert first != second
    g2 = np.random.default_rng(5)
    assert philox_key(g2) == first and philox_key(g2) == second


def test_key_from_none_is_fresh():
    assert philox_key(None) != philox_key(None)  # equal with probability 2**-64


@pytest.mark.parametrize(
    "bad, error, fragment",
    [
        (-1, ValueError, ">= 0"),
        (True, ValueError, "bool"),
        (1.5, ValueError, "float"),
        ("3", ValueError, "str"),
        (np.random.RandomState(0), ValueError, "default_rng"),
        (np.random.PCG64(0), ValueError, "Generator(bit_generator)"),
    ],
)
def test_key_rejects_bad_rng(bad, error, fragment):
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        philox_key(bad)
