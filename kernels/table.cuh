// table.cuh -- evaluation of a ScoreTable (levyscore/_table_kernel.py): locate the panel of
// (u, tau) in the table's tree, sum its tensor-product Chebyshev series of log h.
// Twin of levyscore/_table_kernel.py: read levyscore/_table.py for the coordinates
// u = log(r / sqrt(v(t))), tau = log t, the domain and the fall-back (leaf -1).
//
// Table arrays (C-contiguous, as in levyscore._table_kernel._ARRAY_FIELDS): params (float64,
// indices P_* below), roots (int64, 2), split (int64), value (float64), child (int64),
// leaf_of (int64), boxes (float64, (leaves, 4)), coef (float64, (leaves, n_coef, n_coef)).
#ifndef LEVYSCORE_TABLE_CUH
#define LEVYSCORE_TABLE_CUH

#include "common.cuh"

namespace levyscore {

// indices of the float parameter vector (levyscore._table_kernel._P_*)
static constexpr int P_ULO = 0, P_UHI = 1, P_TAULO = 2, P_TAUHI = 3, P_TLO = 4, P_THI = 5,
                     P_VC = 6, P_2THETA = 7, P_EXTRAP = 8, P_V0 = 9;
// Largest Chebyshev order + 1 per coordinate of a device evaluation (the scratch of
// chebyshev2d lives in registers/local memory); tables have 16 (levyscore._table_build._N),
// and levyscore._table checks n_coef against this before a launch.
static constexpr ls_i64 TABLE_MAX_COEF = 32;

// Python's min and max of two floats (the first argument unless the second is strictly
// smaller/larger): the same bits as Numba's min(max(...)) for signed zeros as well.
LS_HD inline double py_max(double a, double b) { return b > a ? b : a; }
LS_HD inline double py_min(double a, double b) { return b < a ? b : a; }
LS_HD inline ls_i64 py_max_i(ls_i64 a, ls_i64 b) { return b > a ? b : a; }
LS_HD inline ls_i64 py_min_i(ls_i64 a, ls_i64 b) { return b < a ? b : a; }

// Numba twin: levyscore._time.one_minus_q_at
// 1 - q = -expm1(-2 theta t), from two_theta = 2 theta.
LS_HD inline double one_minus_q_at(double two_theta, double t) {
    return -expm1(-two_theta * t);
}

// Numba twin: levyscore._table_kernel._locate
// Tree node (a leaf) of the panel containing (u, tau); both inside the rectangle.
LS_HD inline ls_i64 locate(double u, double tau, const double* params, const ls_i64* roots,
                           const ls_i64* split, const double* value, const ls_i64* child) {
    ls_i64 nu0 = roots[0];
    ls_i64 nt0 = roots[1];
    ls_i64 iu = (ls_i64)((u - params[P_ULO]) / (params[P_UHI] - params[P_ULO]) * (double)nu0);
    ls_i64 it = (ls_i64)((tau - params[P_TAULO]) / (params[P_TAUHI] - params[P_TAULO]) *
                         (double)nt0);
    iu = py_min_i(py_max_i(iu, 0), nu0 - 1);
    it = py_min_i(py_max_i(it, 0), nt0 - 1);
    ls_i64 node = iu * nt0 + it;
    while (split[node] >= 0) {
        double c = split[node] == 0 ? u : tau;
        node = child[node] + (c >= value[node] ? 1 : 0);
    }
    return node;
}

// Numba twin: levyscore._table_kernel._chebyshev2d
// sum_kl coef[leaf, k, l] T_k(x) T_l(y), n = n_coef <= TABLE_MAX_COEF: the polynomials from
// their three-term recurrence, the sum over k accumulated into a vector over l.
LS_HD inline double chebyshev2d(const double* coef, ls_i64 n, ls_i64 leaf, double x,
                                double y) {
    double tx[TABLE_MAX_COEF], ty[TABLE_MAX_COEF], acc[TABLE_MAX_COEF];
    const double* c = coef + leaf * n * n;
    tx[0] = 1.0;
    ty[0] = 1.0;
    tx[1] = x;
    ty[1] = y;
    for (ls_i64 k = 2; k < n; ++k) {
        tx[k] = 2.0 * x * tx[k - 1] - tx[k - 2];
        ty[k] = 2.0 * y * ty[k - 1] - ty[k - 2];
    }
    for (ls_i64 l = 0; l < n; ++l) {
        acc[l] = 0.0;
    }
    for (ls_i64 k = 0; k < n; ++k) {
        double a = tx[k];
        for (ls_i64 l = 0; l < n; ++l) {
            acc[l] += a * c[k * n + l];
        }
    }
    double val = 0.0;
    for (ls_i64 l = 0; l < n; ++l) {
        val += acc[l] * ty[l];
    }
    return val;
}

// Numba twin: levyscore._table_kernel._point_h
// (h, leaf) at radius r and time t: leaf -1 outside the table (h from quadrature), -2 for
// the exact h = 0 at r = 0 of a pure-jump process.
LS_HD inline double point_h(double r, double t, const double* params, const ls_i64* roots,
                            const ls_i64* split, const double* value, const ls_i64* child,
                            const ls_i64* leaf_of, const double* boxes, const double* coef,
                            ls_i64 n_coef, ls_i64* leaf_out) {
    if (!(t >= params[P_TLO] && t <= params[P_THI])) {
        *leaf_out = -1;
        return 0.0;
    }
    double v = params[P_VC] * one_minus_q_at(params[P_2THETA], t);
    if (params[P_V0] != 0.0) {
        v += params[P_V0] * exp(-params[P_2THETA] * t);
    }
    double tau = log(t);
    tau = py_min(py_max(tau, params[P_TAULO]), params[P_TAUHI]);
    double u;
    if (r > 0.0) {
        u = log(r) - 0.5 * log(v);
    } else if (params[P_EXTRAP] == 0.0) {
        *leaf_out = -2;
        return 0.0;
    } else {
        u = -ls_inf();
    }
    if (u > params[P_UHI]) {
        *leaf_out = -1;
        return 0.0;
    }
    if (u < params[P_ULO]) {
        if (params[P_EXTRAP] == 0.0) {
            *leaf_out = -1;
            return 0.0;
        }
        u = params[P_ULO];
    }
    ls_i64 node = locate(u, tau, params, roots, split, value, child);
    ls_i64 leaf = leaf_of[node];
    const double* box = boxes + 4 * leaf;
    double ua = box[0], ub = box[1], ta = box[2], tb = box[3];
    double x = py_min(py_max((2.0 * u - ua - ub) / (ub - ua), -1.0), 1.0);
    double y = py_min(py_max((2.0 * tau - ta - tb) / (tb - ta), -1.0), 1.0);
    *leaf_out = leaf;
    return exp(chebyshev2d(coef, n_coef, leaf, x, y));
}

}  // namespace levyscore

#endif  // LEVYSCORE_TABLE_CUH
