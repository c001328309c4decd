// closed_form.cuh -- the closed-form score of the pure-jump process with integer m
// (MATH.md section 4, route a). Twin of levyscore/_closed_form.py: read its docstring for
// the Bessel-potential mixture, the window of orders and the log-space sums.
//
// Weight tables. The Numba functions take lw of shape (2, m + 1), C-contiguous:
// lw[0, j] = log(w_j c_j) and lw[1, j] = w_j c_j. Here lw points at the same 2 (m + 1)
// doubles: lw[j] is lw[0, j] and lw[m + 1 + j] is lw[1, j].
#ifndef LEVYSCORE_CLOSED_FORM_CUH
#define LEVYSCORE_CLOSED_FORM_CUH

#include "common.cuh"
#include "bessel.cuh"
#include "mixture.cuh"

namespace levyscore {

static constexpr double LOG2PI = 1.8378770664093453;  // math.log(2.0 * math.pi)
static constexpr double LOG2 = 0.6931471805599453;    // math.log(2.0)

// Numba twin: levyscore._closed_form._log_weight
// log w_j + log c_j = log[C(m, j) q^{m-j} (1-q)^j 2^{1-j} / Gamma(j)].
LS_HD inline double log_weight(ls_i64 j, ls_i64 m, double logq, double log1mq) {
    double lw = lgamma((double)m + 1.0) - lgamma((double)j + 1.0) -
                lgamma((double)(m - j) + 1.0) + (double)j * log1mq;
    if (m > j) {
        lw += (double)(m - j) * logq;
    }
    return lw + (1.0 - (double)j) * LOG2 - lgamma((double)j);
}

// Numba twin: levyscore._closed_form._weight_table
// Fills out (2 (m + 1) doubles, layout above) and returns the atom coefficient q^m as
// (log, linear) through latom and atom.
LS_HD inline void weight_table(double t, double theta, double lam, ls_i64 m, double* out,
                               double* latom, double* atom) {
    double m_unused, q, logq, log1mq, s_unused;
    time_constants(t, theta, 0.0, lam, &m_unused, &q, &logq, &log1mq, &s_unused);
    out[0] = -ls_inf();
    out[m + 1] = 0.0;
    for (ls_i64 j = 1; j < m + 1; ++j) {
        double lw = (logq == -ls_inf() && j < m) ? -ls_inf() : log_weight(j, m, logq, log1mq);
        out[j] = lw;
        out[m + 1 + j] = exp(lw);
    }
    double la = q > 0.0 ? (double)m * logq : -ls_inf();
    double at = exp(la);
    // index 0 of the linear row: the m = 1 coefficient lam q^m / (w_1 c_1) of h (h_one)
    out[m + 1] = out[m + 1 + 1] > 0.0 ? lam * at / out[m + 1 + 1] : 0.0;
    *latom = la;
    *atom = at;
}

// Numba twin: levyscore._closed_form._lse_add
// Online log-sum-exp: adds exp(val) to the pair (max, scaled sum), in place.
LS_HD inline void lse_add(double* mx, double* acc, double val) {
    if (val == -ls_inf()) {
        return;
    }
    if (val > *mx) {
        *acc = *acc * exp(*mx - val) + 1.0;
        *mx = val;
        return;
    }
    *acc = *acc + exp(val - *mx);
}

// Numba twin: levyscore._closed_form._window
// Orders nu = mu0 + k, k in [kmin, kmax], covering |D/2 - j| (j = 1..m) and D/2 (= kstar).
LS_HD inline void window(ls_i64 dim, ls_i64 m, double* mu0, ls_i64* kstar, ls_i64* kmin,
                         ls_i64* kmax) {
    double half = 0.5 * (double)dim;
    double mu = half - floor(half);
    ls_i64 ks = to_int(half - mu + 0.5);
    ls_i64 lo = ks;
    for (ls_i64 j = 1; j < m + 1; ++j) {
        ls_i64 kj = to_int(fabs(half - (double)j) - mu + 0.5);
        if (kj < lo) {
            lo = kj;
        }
    }
    ls_i64 hi = ks;
    if ((double)m > half) {
        ls_i64 km = to_int((double)m - half - mu + 0.5);
        hi = hi > km ? hi : km;  // max(kmax, ...)
    }
    *mu0 = mu;
    *kstar = ks;
    *kmin = lo;
    *kmax = hi;
}

// Numba twin: levyscore._closed_form._origin_logpdf
// log p(0) = log sum_j w_j g_j(0): finite only if every j with w_j > 0 has j > D/2.
LS_HD inline double origin_logpdf(ls_i64 dim, ls_i64 m, const double* lw, double b) {
    double half = 0.5 * (double)dim;
    double mx = -ls_inf();
    double acc = 0.0;
    for (ls_i64 j = 1; j < m + 1; ++j) {
        if (lw[j] == -ls_inf()) {
            continue;
        }
        if ((double)j <= half) {
            return ls_inf();
        }
        // g_j(0) = b^{-D} (2 pi)^{-D/2} c_j Gamma(j - D/2) 2^{j - 1 - D/2}
        lse_add(&mx, &acc,
                lw[j] + lgamma((double)j - half) + ((double)j - 1.0 - half) * LOG2);
    }
    return (double)(-dim) * log(b) - half * LOG2PI + mx + log(acc);
}

// Numba twin: levyscore._ratio_table: layout of the prepared Bessel quotient (read the
// module docstring). Head: r_lo, r_hi, biased exponent of r_lo; then per piece RT_STRIDE
// doubles (G at t = 0, then RT_NC polynomial coefficients), RT_S pieces per octave of r.
static constexpr ls_i64 RT_S = 16;
static constexpr ls_i64 RT_NC = 10;
static constexpr ls_i64 RT_STRIDE = 11;
static constexpr ls_i64 RT_HEAD = 3;
static constexpr ls_i64 RT_SHIFT = 48;
static constexpr ls_i64 RT_MASK = 281474976710655LL;  // 2**48 - 1
static constexpr double RT_TSCALE = 7.105427357601002e-15;  // 2**-47

// Numba twin: levyscore._ratio_table.double_bits
// The IEEE-754 bits of x as an int64.
LS_HD inline ls_i64 double_bits(double x) {
#if defined(__CUDA_ARCH__)
    return __double_as_longlong(x);
#else
    ls_i64 u;
    __builtin_memcpy(&u, &x, sizeof(u));
    return u;
#endif
}

// Numba twin: levyscore._ratio_table.ratio_lookup
// G(r) from the prepared table coef, or NaN where it does not serve r.
LS_HD inline double ratio_lookup(const double* coef, double r) {
    if (!(r >= coef[0] && r < coef[1])) {
        return ls_nan();
    }
    ls_i64 u = double_bits(r);
    ls_i64 piece = ((u >> 52) - to_int(coef[2])) * RT_S + ((u >> RT_SHIFT) & (RT_S - 1));
    double t = (double)(u & RT_MASK) * RT_TSCALE - 1.0;
    const double* c = coef + RT_HEAD + piece * RT_STRIDE;
    // Estrin's scheme for the degree-9 polynomial c[1] + c[2] t + ... + c[10] t^9
    double t2 = t * t;
    double t4 = t2 * t2;
    double r0 = (c[1] + c[2] * t) + (c[3] + c[4] * t) * t2;
    double r1 = (c[5] + c[6] * t) + (c[7] + c[8] * t) * t2;
    double v = (r0 + r1 * t4) + (c[9] + c[10] * t) * (t4 * t4);
    return c[0] + v;
}

// Numba twin: levyscore._closed_form._h_linear_window
// h_linear from the base ratio K_{nu+1}/K_nu(rho): the upward recurrence over the window.
LS_HD inline double h_linear_window(double rho, double ratio, ls_i64 dim, double lam, ls_i64 m,
                                    double atom, const double* lw) {
    double mu0;
    ls_i64 kstar, kmin, kmax;
    window(dim, m, &mu0, &kstar, &kmin, &kmax);
    double half = 0.5 * (double)dim;
    double prod = 1.0;  // K_nu / K_{base}
    double num = 0.0;
    double den = 0.0;
    for (ls_i64 k = kmin; k < kmax + 1; ++k) {
        double nu = mu0 + (double)k;
        if (k > kmin) {
            prod *= ratio;
            ratio = 1.0 / ratio + 2.0 * nu / rho;
        }
        ls_i64 j1 = to_int(half - nu + 0.5);
        if (j1 >= 1 && j1 <= m) {
            double term = lw[m + 1 + j1] * ipow(rho, j1) * prod;
            den += term;
            num += term / (2.0 * (double)j1);
        }
        if (nu > 0.0) {
            ls_i64 j2 = to_int(half + nu + 0.5);
            if (j2 <= m) {
                double term = lw[m + 1 + j2] * ipow(rho, j2) * prod;
                den += term;
                num += term / (2.0 * (double)j2);
            }
        }
        if (k == kstar) {
            num += atom * prod;
        }
    }
    if (!(den > 1e-280 && den < 1e280 && num < 1e300)) {
        return -1.0;
    }
    return lam * num / den;
}

// Numba twin: levyscore._closed_form._h_one
// h for m = 1: lam / 2 + c g, c = lam q / w_1 = lw[1, 0] (D = 1: 1 / rho for g); -1 where the
// linear domain cannot be used.
LS_HD inline double h_one(double r, double b, double g, ls_i64 dim, double lam, double c,
                          double w) {
    if (dim < 2) {
        g = 1.0 / (r / b);
    }
    double hh = 0.5 * lam + c * g;
    if (!(w > 1e-280 && hh < 1e280)) {
        return -1.0;
    }
    return hh;
}

// Numba twin: levyscore._closed_form._h_linear_ratio
// h_linear at r (rho = r / b) from the base quotient g = K_{nu+1}(rho) / (rho K_nu(rho)).
LS_HD inline double h_linear_ratio(double r, double b, double g, ls_i64 dim, double lam,
                                   ls_i64 m, double atom, const double* lw) {
    if (m == 1) {
        return h_one(r, b, g, dim, lam, lw[m + 1], lw[m + 1 + 1]);
    }
    double rho = r / b;
    return h_linear_window(rho, g * rho, dim, lam, m, atom, lw);
}

// Numba twin: levyscore._closed_form._h_linear
// h from products of Bessel ratios (no log or exp); -1 if over- or underflow threatens.
LS_HD inline double h_linear(double r, ls_i64 dim, double lam, double b, ls_i64 m, double atom,
                             const double* lw) {
    double rho = r / b;
    double mu0;
    ls_i64 kstar, kmin, kmax;
    window(dim, m, &mu0, &kstar, &kmin, &kmax);
    return h_linear_ratio(r, b, bessel_k_ratio(mu0 + (double)kmin, rho) / rho, dim, lam, m,
                          atom, lw);
}

// Numba twin: levyscore._closed_form._point_closed_form_log
// (log p, log h) of a Bessel-potential mixture at radius r, in log space; log p only if
// want_logp (else 0).
LS_HD inline void point_closed_form_log(double r, ls_i64 dim, double lam, double b, ls_i64 m,
                                        double latom, const double* lw, bool want_logp,
                                        double* lp_out, double* lh_out) {
    if (r == 0.0) {
        *lp_out = want_logp ? origin_logpdf(dim, m, lw, b) : 0.0;
        *lh_out = -ls_inf();
        return;
    }
    double rho = r / b;
    double logrho = log(rho);
    double half = 0.5 * (double)dim;
    double mu0;
    ls_i64 kstar, kmin, kmax;
    window(dim, m, &mu0, &kstar, &kmin, &kmax);
    double logk_base, ratio;
    if (want_logp) {
        log_bessel_k_and_ratio(mu0 + (double)kmin, rho, &logk_base, &ratio);
    } else {
        logk_base = 0.0;
        ratio = bessel_k_ratio(mu0 + (double)kmin, rho);
    }
    double mx_a = -ls_inf();
    double acc_a = 0.0;
    double mx_b = -ls_inf();
    double acc_b = 0.0;
    double rel = 0.0;  // log K_nu - log K_{base}
    for (ls_i64 k = kmin; k < kmax + 1; ++k) {
        double nu = mu0 + (double)k;
        if (k > kmin) {
            rel += log(ratio);
            ratio = 1.0 / ratio + 2.0 * nu / rho;
        }
        // j with |D/2 - j| = nu: j = D/2 - nu and j = D/2 + nu
        ls_i64 j1 = to_int(half - nu + 0.5);
        if (j1 >= 1 && j1 <= m && lw[j1] > -ls_inf()) {
            double ell = lw[j1] + (double)j1 * logrho + rel;
            lse_add(&mx_b, &acc_b, ell);
            lse_add(&mx_a, &acc_a, ell - log(2.0 * (double)j1));
        }
        if (nu > 0.0) {
            ls_i64 j2 = to_int(half + nu + 0.5);
            if (j2 <= m && lw[j2] > -ls_inf()) {
                double ell = lw[j2] + (double)j2 * logrho + rel;
                lse_add(&mx_b, &acc_b, ell);
                lse_add(&mx_a, &acc_a, ell - log(2.0 * (double)j2));
            }
        }
        if (k == kstar) {
            lse_add(&mx_a, &acc_a, latom + rel);
        }
    }
    *lh_out = log(lam) + (mx_a - mx_b) + log(acc_a / acc_b);
    double lp = 0.0;
    if (want_logp) {
        // -(D/2) log(2 pi b r) as one large term (see the Numba twin)
        double big = half * ((LOG2PI + log(b)) + log(r));
        lp = (logk_base - big) + (mx_b + log(acc_b));
    }
    *lp_out = lp;
}

// Numba twin: levyscore._closed_form._point_closed_form
// (log p, h) of a Bessel-potential mixture at radius r (h overflows below r ~ 1e-150).
LS_HD inline void point_closed_form(double r, ls_i64 dim, double lam, double b, ls_i64 m,
                                    double latom, const double* lw, bool want_logp,
                                    double* lp_out, double* h_out) {
    double lh;
    point_closed_form_log(r, dim, lam, b, m, latom, lw, want_logp, lp_out, &lh);
    *h_out = exp(lh);
}

// Numba twin: levyscore._closed_form._h_limit
// h as rho -> inf: the top order j with a weight dominates, h -> lambda / (2 j).
LS_HD inline double h_limit(double lam, ls_i64 m, const double* lw) {
    ls_i64 j = m;
    while (j > 1 && lw[j] == -ls_inf()) {
        j -= 1;
    }
    return lam / (2.0 * (double)j);
}

// Numba twin: levyscore._closed_form.rescaled_norm
// |y| of one row through a power-of-two rescaling (exact): used when sum y^2 over- or
// underflows (|y| above 1.3e154 or below 1e-145).
template <typename T>
LS_HD inline double rescaled_norm(const T* yi, ls_i64 dim) {
    double big = 0.0;
    for (ls_i64 d = 0; d < dim; ++d) {
        double a = fabs((double)yi[d]);
        if (a > big) {
            big = a;
        }
    }
    if (big == 0.0) {
        return 0.0;
    }
    int e;
    frexp(big, &e);
    double acc = 0.0;
    for (ls_i64 d = 0; d < dim; ++d) {
        double u = ldexp((double)yi[d], -e);
        acc += u * u;
    }
    return ldexp(sqrt(acc), e);
}

// Numba twin: levyscore._closed_form._score_row_near_origin
// out = -y h(r) where h ~ 1/r^2 overflows (r below ~1e-145): as -(y/r) e^{log h + log r}.
template <typename T>
LS_HD inline void score_row_near_origin(const T* yi, ls_i64 dim, double r, double lam, double b,
                                        ls_i64 m, double latom, const double* lw, T* oi) {
    double lp_unused, lh;
    point_closed_form_log(r, dim, lam, b, m, latom, lw, false, &lp_unused, &lh);
    double rh = exp(lh + log(r));
    for (ls_i64 d = 0; d < dim; ++d) {
        oi[d] = (T)(-((double)yi[d] / r) * rh);
    }
}

// Numba twin: levyscore._closed_form._h_fast
// h: the linear-domain fast path, or the log-space evaluation where it cannot be used.
LS_HD inline double h_fast(double r, ls_i64 dim, double lam, double b, ls_i64 m, double latom,
                           double atom, const double* lw) {
    if (r == 0.0) {
        return 0.0;
    }
    if (fabs(r / b) == ls_inf()) {  // math.isinf(r / b)
        return h_limit(lam, m, lw);
    }
    double hh = h_linear(r, dim, lam, b, m, atom, lw);
    if (hh < 0.0) {
        double lp_unused;
        point_closed_form(r, dim, lam, b, m, latom, lw, false, &lp_unused, &hh);
    }
    return hh;
}

// Numba twin: levyscore._closed_form._h_prepared
// h_fast with the base quotient from the prepared table ratio_coef where has_ratio is nonzero
// and the table serves r: the linear domain, else h_fast (exact).
LS_HD inline double h_prepared(double r, ls_i64 dim, double lam, double b, ls_i64 m,
                               double latom, double atom, const double* lw,
                               const double* ratio_coef, ls_i64 has_ratio) {
    double hh = -1.0;
    if (has_ratio != 0) {
        double g = ratio_lookup(ratio_coef, r);
        if (!(g != g)) {  // not math.isnan(g)
            hh = h_linear_ratio(r, b, g, dim, lam, m, atom, lw);
        }
    }
    if (hh < 0.0) {
        hh = h_fast(r, dim, lam, b, m, latom, atom, lw);
    }
    return hh;
}

// Numba twin: levyscore._closed_form.row_not_finite
// 1 if row yi or row oi has a NaN or an infinite entry, else 0.
template <typename T>
LS_HD inline ls_i64 row_not_finite(const T* yi, const T* oi, ls_i64 dim) {
    for (ls_i64 d = 0; d < dim; ++d) {
        double a = (double)yi[d];
        double c = (double)oi[d];
        if (!(a - a == 0.0 && c - c == 0.0)) {  // math.isfinite
            return 1;
        }
    }
    return 0;
}

// Numba twin: levyscore._closed_form.norm2
// |yi|^2: for D < 8 in index order; for D >= 8 the first 8 floor(D/8) squares in eight partial
// sums (sum k takes the indices = k mod 8), added as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) +
// (s6 + s7)), then the last D mod 8 squares in index order.
template <typename T>
LS_HD inline double norm2(const T* yi, ls_i64 dim) {
    if (dim < 8) {
        double r2 = 0.0;
        for (ls_i64 d = 0; d < dim; ++d) {
            r2 += (double)yi[d] * (double)yi[d];
        }
        return r2;
    }
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ls_i64 top = dim - dim % 8;
    for (ls_i64 d = 0; d < top; d += 8) {
        for (int k = 0; k < 8; ++k) {
            s[k] += (double)yi[d + k] * (double)yi[d + k];
        }
    }
    double r2 = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (ls_i64 d = top; d < dim; ++d) {
        r2 += (double)yi[d] * (double)yi[d];
    }
    return r2;
}

// Numba twin: levyscore._closed_form.usual_h
// true, with *hh = lam/2 + c G(r), when a row with |y|^2 = r2 and weight table lw is the usual
// row of a law with m = 1 and D >= 2 (a table hit, no under- or overflow of r2, h or h r).
LS_HD inline bool usual_h(double r2, double lam, const double* lw, ls_i64 m,
                          const double* ratio_coef, double* hh) {
    double r = sqrt(r2);
    *hh = 0.5 * lam + lw[m + 1] * ratio_lookup(ratio_coef, r);
    return r2 > 1e-290 && r2 < 1e290 && lw[m + 1 + 1] > 1e-280 && *hh < 1e280 &&
           *hh * r < 1e300;
}

// Numba twin: levyscore._closed_form.write_row
// oi = S = -hh yi, or a yi + c S if combine (the reverse step's combine).
template <typename T>
LS_HD inline void write_row(const T* yi, ls_i64 dim, double hh, double a, double c,
                            ls_i64 combine, T* oi) {
    if (combine != 0) {
        for (ls_i64 d = 0; d < dim; ++d) {
            oi[d] = (T)(a * (double)yi[d] + c * (-hh * (double)yi[d]));
        }
    } else {
        for (ls_i64 d = 0; d < dim; ++d) {
            oi[d] = (T)(-hh * (double)yi[d]);
        }
    }
}

// Numba twin: levyscore._closed_form.score_row
// oi = S = -yi h(|yi|) with the row's weight table lw, any row (rescaled norm, h_prepared, the
// near-origin form), or a yi + c S if combine; 1 if row yi or oi has a NaN or inf entry.
template <typename T>
LS_HD inline ls_i64 score_row(const T* yi, ls_i64 dim, double lam, double b, ls_i64 m,
                              double latom, double atom, const double* lw,
                              const double* ratio_coef, ls_i64 has_ratio, double a, double c,
                              ls_i64 combine, T* oi) {
    double r2 = norm2(yi, dim);
    double r = sqrt(r2);
    bool usual = r2 > 1e-290 && r2 < 1e290;
    if (!usual) {
        r = rescaled_norm(yi, dim);
    }
    double hh = h_prepared(r, dim, lam, b, m, latom, atom, lw, ratio_coef, has_ratio);
    if (hh < 1e290) {
        write_row(yi, dim, hh, a, c, combine, oi);
    } else {
        score_row_near_origin(yi, dim, r, lam, b, m, latom, lw, oi);
        if (combine != 0) {  // float32: from the stored S (near the origin only)
            for (ls_i64 d = 0; d < dim; ++d) {
                oi[d] = (T)(a * (double)yi[d] + c * (double)oi[d]);
            }
        }
    }
    if (!(usual && hh * r < 1e300)) {
        return row_not_finite(yi, oi, dim);
    }
    return 0;
}

// Numba twin: levyscore._closed_form.one_row
// A row of closed_form_score with |yi|^2 = r2 (norm2): the usual row (usual_h) inline, any
// other by score_row; 1 if row yi or oi has a NaN or inf entry.
template <typename T>
LS_HD inline ls_i64 one_row(const T* yi, double r2, ls_i64 dim, double lam, double b, ls_i64 m,
                            double latom, double atom, const double* lw,
                            const double* ratio_coef, ls_i64 has_ratio, bool usual_law,
                            double a, double c, ls_i64 combine, T* oi) {
    double hh = 0.0;
    if (usual_law && usual_h(r2, lam, lw, m, ratio_coef, &hh)) {
        write_row(yi, dim, hh, a, c, combine, oi);
        return 0;
    }
    return score_row(yi, dim, lam, b, m, latom, atom, lw, ratio_coef, has_ratio, a, c, combine,
                     oi);
}

// Adds one to the counter *count (atomically on the device).
LS_HD inline void count_one(ls_i64* count) {
#if defined(__CUDA_ARCH__) || defined(LS_EMULATE_DEVICE)
    atomicAdd((ls_u64*)count, (ls_u64)1);
#else
    *count += 1;
#endif
}

}  // namespace levyscore

#endif  // LEVYSCORE_CLOSED_FORM_CUH
