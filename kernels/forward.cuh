// forward.cuh -- exact per-sample forward draw of the jump-diffusion (MATH.md sections 1, 2,
// 8 and 11). Twin of levyscore/_forward.py: read its docstring for the Gaussian scale mixture
// Y = sqrt(s + sigma_A**2 W) xi, the two exact routes for W and the counter layout; and of
// the amplitude marks of levyscore/amplitudes/ (one branch of draw_mark per law).
#ifndef LEVYSCORE_FORWARD_CUH
#define LEVYSCORE_FORWARD_CUH

#include "common.cuh"
#include "philox.cuh"
#include "ziggurat.cuh"

namespace levyscore {

// Integer m up to this uses the Binomial-Gamma representation of W
// (levyscore._forward._BINOMIAL_MAX_M).
static constexpr ls_i64 BINOMIAL_MAX_M = 64;
// relative margin of first_block_test's thresholds (levyscore._forward._FIRST_MARGIN)
static constexpr double FIRST_MARGIN = 9.094947017729282e-13;  // 2**-40
// Jump loop damping floor (levyscore._forward._DAMPING_FLOOR).
static constexpr double DAMPING_FLOOR = 1e-300;
// 2 theta T of the stationary draw of laws without an exact W_inf sampler: 64 log 2, so that
// q(T) = 2**-64 (levyscore._forward.STATIONARY_TWO_THETA_T = 64.0 * math.log(2.0); the
// product is exact and 0.6931471805599453 is log 2 correctly rounded, as glibc returns it).
static constexpr double STATIONARY_TWO_THETA_T = 64.0 * 0.6931471805599453;

// Amplitude laws: the codes of levyscore.amplitudes._dispatch.LAW_* (AmplitudeLaw.code).
static constexpr ls_i64 LAW_LAPLACE = 0;
static constexpr ls_i64 LAW_GAUSSIAN = 1;
static constexpr ls_i64 LAW_STUDENT_T = 2;
// Philox blocks reserved per pair of jumps on the mark stream (levyscore.amplitudes.
// student_t.MARK_BLOCKS): jumps 2p, 2p + 1 read blocks (p mod 2**20) * MARK_BLOCKS, ...
// (below 2**32; see student_t_mark).
static constexpr ls_u32 MARK_BLOCKS = 4096u;

// Numba twin: levyscore._time.gaussian_variance
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

// Numba twin: levyscore.amplitudes.laplace.laplace_mark
// M / sigma_A**2 ~ Exp(1) from the jump's own uniform, by inversion -log u.
LS_HD inline double laplace_mark(double u_mark) {
    return -log(u_mark);
}

// Numba twin: levyscore.amplitudes.gaussian.gaussian_mark
// M / sigma_A**2 = 1: no random number is drawn.
LS_HD inline double gaussian_mark() {
    return 1.0;
}

// Numba twin: levyscore.amplitudes.student_t.student_t_mark
// M / sigma_A**2 = ((nu - 2) / 2) / G, G ~ Gamma(nu / 2) by Marsaglia-Tsang with ziggurat
// normals (ziggurat.cuh). Jumps 2p and 2p + 1 share block base = (p mod 2**20) * MARK_BLOCKS
// of the mark stream cm: words 0, 1 are the candidate of jump 2p's first normal, words 2, 3
// that of jump 2p + 1, evaluated by jump 2p and carried in *spare (+inf when it needs the
// slow path, which jump 2p + 1 runs). The first attempt's acceptance uniform is the jump's
// own u_mark. Everything else jump j reads (the slow path, then each retry: a candidate in
// words 0, 1 and the acceptance uniform in words 2, 3 of one block) comes in order from
// blocks base + 1 + (j mod 2) MARK_BLOCKS / 2, ...
LS_HD inline double student_t_mark(double nu, double u_mark, ls_u32 c0, ls_u32 c1, ls_u32 cm,
                                   ls_i64 j, ls_u32 k0, ls_u32 k1, double* spare) {
    double a = 0.5 * nu;
    double d = a - 1.0 / 3.0;  // a float division
    double c = 1.0 / sqrt(9.0 * d);
    ls_u64 jj = (ls_u64)j;
    ls_u32 odd = (ls_u32)(jj & 1ull);
    ls_u32 base = ((ls_u32)((jj >> 1) & 0xFFFFFull)) * MARK_BLOCKS;
    ls_u32 block = base + 1u + odd * (MARK_BLOCKS / 2u);
    ls_u32 w0, w1, w2, w3;
    double x, v;
    if (odd == 0u) {
        philox4x32_10(c0, c1, cm, base, k0, k1, &w0, &w1, &w2, &w3);
        x = ziggurat_fast(w0, w1);
        if (x == ls_inf()) {
            x = ziggurat_slow(w0, w1, c0, c1, cm, &block, k0, k1);
        }
        *spare = ziggurat_fast(w2, w3);
    } else {
        x = *spare;
        if (x == ls_inf()) {
            philox4x32_10(c0, c1, cm, base, k0, k1, &w0, &w1, &w2, &w3);
            x = ziggurat_slow(w2, w3, c0, c1, cm, &block, k0, k1);
        }
    }
    double u = u_mark;
    while (true) {
        v = marsaglia_tsang_cube(x, u, c, d);
        if (v > 0.0) {
            break;
        }
        philox4x32_10(c0, c1, cm, block, k0, k1, &w0, &w1, &w2, &w3);
        block += 1u;
        u = uniform_from_words(w2, w3);
        x = ziggurat_fast(w0, w1);
        if (x == ls_inf()) {
            x = ziggurat_slow(w0, w1, c0, c1, cm, &block, k0, k1);
        }
    }
    return (a - 1.0) / (d * v);
}

// Numba twin: levyscore.amplitudes._dispatch.draw_mark
// M / sigma_A**2 of jump j (unit mean) for the law with code law (param: nu for Student-t);
// u_mark is the jump's own uniform (second uniform of its jump-stream block); *spare is the
// state carried from jump j - 1 to jump j (Student-t: a spare normal), 0 before jump 0.
LS_HD inline double draw_mark(ls_i64 law, double param, double u_mark, ls_u32 c0, ls_u32 c1,
                              ls_u32 cm, ls_i64 j, ls_u32 k0, ls_u32 k1, double* spare) {
    if (law == LAW_LAPLACE) {
        return laplace_mark(u_mark);
    }
    if (law == LAW_GAUSSIAN) {
        return gaussian_mark();
    }
    return student_t_mark(param, u_mark, c0, c1, cm, j, k0, k1, spare);
}

// Numba twin: levyscore._forward.jump_mixing
// Mixing variable W and jump count N of one sample (N is the Binomial count J on the
// integer-m route, Laplace marks only); N = 0 exactly when there is no jump. c2 is the jump
// stream (block j: the j-th spacing and the j-th jump's own uniform), cm the stream of the
// marks that need more than one uniform (Student-t); law, param select the amplitude law.
LS_HD inline void jump_mixing(ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 cm, ls_u32 k0, ls_u32 k1,
                              double t, double theta, double jump_rate, ls_i64 law, double param,
                              double* w_out, ls_i64* n_out) {
    if (jump_rate <= 0.0) {
        *w_out = 0.0;
        *n_out = 0;
        return;
    }
    double two_theta = 2.0 * theta;
    double w = 0.0;
    ls_i64 n = 0;
    double spare = 0.0;  // state of the marks from one jump to the next (draw_mark)
    ls_u32 block = 0u;
    double u_gap, u_mark;
    if (theta > 0.0) {
        double m = jump_rate / two_theta;
        ls_i64 mi = to_int(m + 0.5);
        if (law == LAW_LAPLACE && mi >= 1 && mi <= BINOMIAL_MAX_M
                && fabs(m - (double)mi) <= 1e-12 * m) {
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
                        double mark = draw_mark(law, param, u_mark, c0, c1, cm, n, k0, k1, &spare);
                        w += mark * exp(logd);
                        n += 1;
                    }
                }
                break;
            }
            if (damping < q) {
                break;
            }
            double mark = draw_mark(law, param, u_mark, c0, c1, cm, n, k0, k1, &spare);
            w += mark * damping;
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
        double mark = draw_mark(law, param, u_mark, c0, c1, cm, n, k0, k1, &spare);
        w += mark * exp(-two_theta * age);
        n += 1;
        block += 1u;
    }
    *w_out = w;
    *n_out = n;
}

// Numba twin: levyscore._forward.stationary_mixing
// W_inf of one stationary draw: for Laplace the exact Gamma(m) variate on the stream cw;
// other laws draw W over the horizon 2 theta T = 64 log 2 with jump_mixing (streams cj, cm),
// below W_inf by a relative 2**-64 W'_inf / W_inf (W'_inf an independent copy).
LS_HD inline double stationary_mixing(ls_u32 c0, ls_u32 c1, ls_u32 cw, ls_u32 cj, ls_u32 cm,
                                      ls_u32 k0, ls_u32 k1, double theta, double jump_rate,
                                      ls_i64 law, double param) {
    if (law == LAW_LAPLACE) {
        return gamma_variate(jump_rate / (2.0 * theta), c0, c1, cw, k0, k1);
    }
    double w;
    ls_i64 unused;
    jump_mixing(c0, c1, cj, cm, k0, k1, STATIONARY_TWO_THETA_T / (2.0 * theta), theta,
                jump_rate, law, param, &w, &unused);
    return w;
}

// Numba twin: levyscore._forward.first_block_test
// Whether the first jump-stream block of a sample decides "no jump" in the elapsed time t:
// jump_mixing's route of ages (theta <= 0), decided without the log outside [lo, hi] (read
// the Numba docstring for the margins).
LS_HD inline void first_block_test(double theta, double jump_rate, double t, bool* ok,
                                   double* lo, double* hi) {
    *ok = false;
    *lo = 0.0;
    *hi = 0.0;
    if (jump_rate <= 0.0 || theta > 0.0) {
        return;
    }
    *ok = true;
    double lt = jump_rate * t;
    if (!(lt <= 2700.0)) {
        return;
    }
    *lo = exp(-lt * (1.0 + FIRST_MARGIN)) * (1.0 - FIRST_MARGIN);
    *hi = exp(-lt * (1.0 - FIRST_MARGIN)) * (1.0 + FIRST_MARGIN);
}

// Numba twin: levyscore._forward.first_block_no_jump
// True when the first uniform u1 of the first block gives no jump (W = 0, N = 0):
// jump_mixing's own decision, bit for bit.
LS_HD inline bool first_block_no_jump(double u1, double lo, double hi, double jump_rate,
                                      double t) {
    if (u1 < lo) {
        return true;
    }
    if (u1 > hi) {
        return false;
    }
    return 0.0 + -log(u1) / jump_rate > t;  // jump_mixing's first age, as it computes it
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
