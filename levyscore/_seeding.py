"""Turning the user's ``rng`` argument into a Philox key.

levyscore follows SciPy's SPEC 7 for the ``rng`` argument, but its samplers do
not draw from a NumPy bit generator: they are counter-based (Philox4x32-10, see
:mod:`levyscore._philox`) and need only a 64-bit key, given as two 32-bit words.
There is no global random state anywhere.
"""
import numbers

import numpy as np

__all__ = ["Key", "philox_key"]


def philox_key(rng):
    """Philox key (two 32-bit words) from an ``rng`` argument.

    Parameters
    ----------
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        * ``None``: a fresh key from OS entropy (``SeedSequence()``), so
          repeated calls give different keys;
        * ``int >= 0``: ``SeedSequence(rng).generate_state(2, uint32)``; the same
          int always gives the same key;
        * ``SeedSequence``: ``rng.generate_state(2, uint32)``; this does not
          change the ``SeedSequence``, so it gives the same key on every call
          (as ``numpy.random.default_rng(ss)`` gives the same stream);
        * ``Generator``: two words drawn with ``rng.integers``, which
          *advances* the generator: two calls with the same ``Generator``
          give different keys, and a re-created ``Generator`` replays them.

    Returns
    -------
    (k0, k1) : tuple of two Python ints in [0, 2**32)

    Raises
    ------
    ValueError
        For a negative integer, and for anything else (``bool``, ``float``, ``numpy.random.RandomState``, a
        bare ``BitGenerator``, ...), with what to pass instead.
    """
    if isinstance(rng, Key):
        return rng[0], rng[1]
    if rng is None:
        words = np.random.SeedSequence().generate_state(2, dtype=np.uint32)
    elif isinstance(rng, (bool, np.bool_)):
        raise ValueError(
            f"rng must be None, an int >= 0, a numpy.random.SeedSequence or a "
            f"numpy.random.Generator, got the bool {rng!r}"
        )
    elif isinstance(rng, (numbers.Integral, np.integer)):
        seed = int(rng)
        if seed < 0:
            raise ValueError(f"rng as an integer seed must be >= 0, got {seed}")
        words = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint32)
    elif isinstance(rng, np.random.SeedSequence):
        words = rng.generate_state(2, dtype=np.uint32)
    elif isinstance(rng, np.random.Generator):
        words = rng.integers(0, 2**32, size=2, dtype=np.uint64)
    elif isinstance(rng, np.random.RandomState):
        raise ValueError(
            "rng must be None, an int >= 0, a numpy.random.SeedSequence or a "
            "numpy.random.Generator; the legacy numpy.random.RandomState is not "
            "accepted: pass numpy.random.default_rng(seed) instead"
        )
    elif isinstance(rng, np.random.BitGenerator):
        raise ValueError(
            "rng must be None, an int >= 0, a numpy.random.SeedSequence or a "
            f"numpy.random.Generator, got a bare {type(rng).__name__}: wrap it as "
            "numpy.random.Generator(bit_generator)"
        )
    else:
        raise ValueError(
            "rng must be None, an int >= 0, a numpy.random.SeedSequence or a "
            f"numpy.random.Generator, got {type(rng).__name__} ({rng!r})"
        )
    return int(words[0]), int(words[1])


class Key(tuple):
    """A Philox key already resolved by :func:`philox_key`: two 32-bit words.

    Passed as ``rng`` it gives these words back unchanged, so the blocks of a chunked (Dask)
    computation draw from the key the whole call resolved once.
    """

    __slots__ = ()

    def __new__(cls, k0, k1):
        k0, k1 = int(k0), int(k1)
        if not (0 <= k0 < 2**32 and 0 <= k1 < 2**32):
            raise ValueError(f"key words must lie in [0, 2**32), got ({k0}, {k1})")
        return super().__new__(cls, (k0, k1))

    def __getnewargs__(self):  # pickling (process pools, distributed workers)
        return (self[0], self[1])

    def __repr__(self):
        return f"Key({self[0]}, {self[1]})"
