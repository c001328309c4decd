"""Synthetic ScoreTable arrays: a random tree of panels with random Chebyshev coefficients.

The table kernels (``levyscore._table_kernel`` and ``kernels/table.cu``) only read the arrays'
layout (:data:`levyscore._table_kernel._ARRAY_FIELDS`), so parity tests need no certified
table (a build costs seconds to minutes of quadrature): any well-formed tree will do, and a
random one reaches more branches (deep trees, splits in both coordinates, extrapolation below
``u_lo`` or not, marginal tables with ``v0 > 0``).
"""
import math

import numpy as np

from levyscore import _table_kernel as tk


def synthetic_arrays(rng, n_coef=16, max_depth=3, extrap=None, v0=None):
    """A dict of the table arrays (``_ARRAY_FIELDS``) with a random tree.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_coef : int
        Chebyshev coefficients per coordinate (>= 2).
    max_depth : int
        Largest number of bisections below a root panel.
    extrap, v0 : float or None
        ``params[_P_EXTRAP]`` (1: radii below u_lo use h(u_lo); 0: they fall back) and
        ``params[_P_V0]`` (marginal-table variance offset); drawn when None.
    """
    nu0, nt0 = (int(v) for v in rng.integers(1, 4, 2))
    u_lo, u_hi = -3.0 - 3.0 * rng.random(), 2.0 + 3.0 * rng.random()
    t_lo = math.exp(rng.uniform(-7.0, -1.0))
    t_hi = t_lo * math.exp(rng.uniform(1.0, 8.0))
    tau_lo, tau_hi = math.log(t_lo), math.log(t_hi)
    params = np.zeros(tk._N_PARAMS)
    params[tk._P_ULO], params[tk._P_UHI] = u_lo, u_hi
    params[tk._P_TAULO], params[tk._P_TAUHI] = tau_lo, tau_hi
    params[tk._P_TLO], params[tk._P_THI] = t_lo, t_hi
    params[tk._P_VC] = rng.uniform(0.3, 3.0)
    params[tk._P_2THETA] = rng.uniform(0.1, 2.0)
    params[tk._P_EXTRAP] = float(rng.integers(2)) if extrap is None else extrap
    params[tk._P_V0] = (rng.uniform(0.1, 2.0) if rng.integers(2) else 0.0) if v0 is None else v0
    du, dt = (u_hi - u_lo) / nu0, (tau_hi - tau_lo) / nt0
    boxes = [(u_lo + iu * du, u_lo + (iu + 1) * du, tau_lo + it * dt, tau_lo + (it + 1) * dt)
             for iu in range(nu0) for it in range(nt0)]
    depth = [0] * len(boxes)
    split, value, child = [], [], []
    node = 0
    while node < len(boxes):  # breadth first: children are appended in pairs
        ua, ub, ta, tb = boxes[node]
        if depth[node] < max_depth and rng.random() < 0.5:
            axis = int(rng.integers(2))
            lo, hi = (ua, ub) if axis == 0 else (ta, tb)
            cut = lo + (hi - lo) * rng.uniform(0.25, 0.75)
            split.append(axis)
            value.append(cut)
            child.append(len(boxes))
            if axis == 0:
                boxes += [(ua, cut, ta, tb), (cut, ub, ta, tb)]
            else:
                boxes += [(ua, ub, ta, cut), (ua, ub, cut, tb)]
            depth += [depth[node] + 1] * 2
        else:
            split.append(-1)
            value.append(0.0)
            child.append(-1)
        node += 1
    split = np.array(split, dtype=np.int64)
    leaves = np.flatnonzero(split < 0)
    leaf_of = np.full(split.shape, -1, dtype=np.int64)
    leaf_of[leaves] = np.arange(leaves.size)
    k = np.arange(n_coef)
    decay = 0.5 ** (k[:, None] + k[None, :])
    coef = rng.normal(0.0, 0.3, (leaves.size, n_coef, n_coef)) * decay
    coef[:, 0, 0] = rng.uniform(-3.0, 3.0, leaves.size)
    return {"params": params, "roots": np.array([nu0, nt0], dtype=np.int64), "split": split,
            "value": np.array(value), "child": np.array(child, dtype=np.int64),
            "leaf_of": leaf_of, "boxes": np.array([boxes[i] for i in leaves]).reshape(-1, 4),
            "coef": np.ascontiguousarray(coef), "stats": np.zeros(4)}


def radii_and_times(rng, arrays, n):
    """``n`` radii and times that reach every branch of the lookup: inside the table, beyond
    u_hi, below u_lo, r = 0, and t outside [t_min, t_max]."""
    p = arrays["params"]
    t = np.exp(rng.uniform(p[tk._P_TAULO] - 0.5, p[tk._P_TAUHI] + 0.5, n))
    v = p[tk._P_VC] * -np.expm1(-p[tk._P_2THETA] * t) + p[tk._P_V0] * np.exp(-p[tk._P_2THETA] * t)
    u = rng.uniform(p[tk._P_ULO] - 1.5, p[tk._P_UHI] + 1.0, n)
    r = np.exp(u) * np.sqrt(v)
    r[: max(1, n // 16)] = 0.0
    return r, t
