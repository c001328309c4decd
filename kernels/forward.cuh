// forward.cuh -- exact per-sample forward draw of the jump-diffusion (MATH.md sections 1, 2
// and 8). Twin of levyscore/_forward.py: read its docstring for the Gaussian scale mixture
// Y = sqrt(s + sigma_A**2 W) xi, the two exact routes for W and the counter layout.
#ifndef LEVYSCORE_FORWARD_CUH
#define LEVYSCORE_FORWARD_CUH

#include "common.cuh"
#include "philox.cuh"

namespace levyscore {

// Integer m up to this uses the Binomial-Gamma representation of W
// (levyscore._forward._BINOMIAL_MAX_M).
static constexpr ls_i64 BINOMIAL_MAX_M = 64;
// Jump loop damping floor (levyscore._forward._DAMPING_FLOOR).
static constexpr double DAMPING_FLOOR = 1e-300;

// Numba twin: levyscore._forward.gaussian_variance
// s = diffusion (1 - exp(-2 theta t)) / (2 theta), diffusion t at theta = 0.
LS_HD inline double gaussian_variance(double theta, double diffusion, double t) {
    if (diffusion == 0.0) {
        return 0.0;
    }
    if (theta == 0.0) {
        return diffusion * t;
    }
    return diffusion * (-expm1(-2.0 * theta * t) / (2.0 * theta));
}

// Numba twin: levyscore._forward.binomial_gamma_mixing
// W ~ Gamma(J, 1), J ~ Binomial(m, 1 - q), q = exp(-2 theta t); J = 0 is the atom.
LS_HD inline void binomial_gamma_mixing(ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 k0, ls_u32 k1,
                                        double two_theta_t, ls_i64 m, double* w_out,
                                        ls_i64* j_out) {
    double q = exp(-two_theta_t);
    ls_u32 block = 0u;
    ls_i64 j = 0;
    ls_i64 k = 0;
    double u1, u2;
    while (k < m) {
        uniform_pair(c0, c1, c2, block, k0, k1, &u1, &u2);
        block += 1u;
        if (u1 > q) {
            j += 1;
        }
        if (k + 1 < m && u2 > q) {
            j += 1;
        }
        k += 2;
    }
    double w = 0.0;
    double prod = 1.0;
    k = 0;
    while (k < j) {
        uniform_pair(c0, c1, c2, block, k0, k1, &u1, &u2);
        block += 1u;
        prod *= u1;
        if (k + 1 < j) {
            prod *= u2;
        }
        if (prod < 1e-280) {  // keep the product normal: 2^-53 per factor at worst
            w -= log(prod);
            prod = 1.0;
        }
        k += 2;
    }
    if (j > 0) {
        w -= log(prod);
    }
    *w_out = w;
    *j_out = j;
}

// Numba twin: levyscore._forward.jump_mixing
// Mixing variable W and jump count N of one sample (N is the Binomial count J on the
// integer-m route); N = 0 exactly when there is no jump.
LS_HD inline void jump_mixing(ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 k0, ls_u32 k1, double t,
                              double theta, double jump_rate, double* w_out, ls_i64* n_out) {
    if (jump_rate <= 0.0) {
        *w_out = 0.0;
        *n_out = 0;
        return;
    }
    double two_theta = 2.0 * theta;
    double w = 0.0;
    ls_i64 n = 0;
    ls_u32 block = 0u;
    double u_gap, u_mark;
    if (theta > 0.0) {
        double m = jump_rate / two_theta;
        ls_i64 mi = to_int(m + 0.5);
        if (mi >= 1 && mi <= BINOMIAL_MAX_M && fabs(m - (double)mi) <= 1e-12 * m) {
            binomial_gamma_mixing(c0, c1, c2, k0, k1, two_theta * t, mi, w_out, n_out);
            return;
        }
        // the damping e^{-2 theta a} of the current age a, multiplied by u^{1/m} per spacing
        // below DAMPING_FLOOR (only when q is below it too) the next jump is placed in log
        // space, counted when it lies inside [0, t], and the loop stops (issue 10, bug 1)
        double inv_m = two_theta / jump_rate;
        double logq = -two_theta * t;
        double q = exp(logq);
        double damping = 1.0;
        while (true) {
            uniform_pair(c0, c1, c2, block, k0, k1, &u_gap, &u_mark);
            double previous = damping;
            if (inv_m == 1.0) {
                damping *= u_gap;
            } else {
                damping *= exp(inv_m * log(u_gap));
            }
            if (damping < DAMPING_FLOOR) {
                if (q < DAMPING_FLOOR) {
                    double logd = log(previous) + inv_m * log(u_gap);
                    if (logd >= logq) {
                        w += -log(u_mark) * exp(logd);
                        n += 1;
                    }
                }
                break;
            }
            if (damping < q) {
                break;
            }
            w += -log(u_mark) * damping;
            n += 1;
            block += 1u;
        }
        *w_out = w;
        *n_out = n;
        return;
    }
    double age = 0.0;
    while (true) {
        uniform_pair(c0, c1, c2, block, k0, k1, &u_gap, &u_mark);
        age += -log(u_gap) / jump_rate;
        if (age > t) {
            break;
        }
        w += -log(u_mark) * exp(-two_theta * age);
        n += 1;
        block += 1u;
    }
    *w_out = w;
    *n_out = n;
}

// Numba twin: levyscore._forward.gaussian_row
// out[d] = decay * base[d] + scale * xi_d (scale * xi_d without base), d < dim; xi from the
// stream word c2, block j giving xi_{2j}, xi_{2j+1}. No normal is drawn when scale == 0.
// T is the storage type of base and out (float or double); arithmetic is in double.
template <typename T>
LS_HD inline void gaussian_row(ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 k0, ls_u32 k1,
                               double scale, double decay, const T* base, bool has_base,
                               ls_i64 dim, T* out) {
    if (scale == 0.0) {
        for (ls_i64 d = 0; d < dim; ++d) {
            out[d] = has_base ? (T)(decay * (double)base[d]) : (T)0.0;
        }
        return;
    }
    for (ls_i64 d = 0; d < dim; d += 2) {
        double z0, z1;
        normal_pair(c0, c1, c2, (ls_u32)(d / 2), k0, k1, &z0, &z1);
        if (has_base) {
            out[d] = (T)(decay * (double)base[d] + scale * z0);
            if (d + 1 < dim) {
                out[d + 1] = (T)(decay * (double)base[d + 1] + scale * z1);
            }
        } else {
            out[d] = (T)(scale * z0);
            if (d + 1 < dim) {
                out[d + 1] = (T)(scale * z1);
            }
        }
    }
}

}  // namespace levyscore

#endif  // LEVYSCORE_FORWARD_CUH
