// closed_form.cu -- closed-form score kernels of the pure-jump process with integer m
// (MATH.md section 4, route a), one point per thread.
//
// Weight tables are float64 arrays of 2 (m + 1) doubles per table (layout in
// closed_form.cuh), computed by weight_table_f64. With per_row = 0 every point uses table 0,
// latom[0] and atom[0] (one time for the batch, or a Bessel target's given weights, as
// levyscore._closed_form.bessel_mixture_score); with per_row = 1 point i uses table i,
// latom[i] and atom[i] (one time per point, as closed_form_score with t of shape (n,)).
// Suffix _f64/_f32 is the storage type of points, radii and results; arithmetic is float64.
#include "common.cuh"
#include "closed_form.cuh"

namespace levyscore {

LS_HD inline ls_i64 table_row(ls_i64 i, ls_i64 per_row) {
    return per_row ? i : 0;
}

template <typename T>
LS_BODY void h_linear_body(ls_i64 n, const T* r, ls_i64 dim, double lam, double b, ls_i64 m,
                           const double* atom, const double* lw, ls_i64 per_row, T* h_out) {
    LS_FOR_EACH(i, n) {
        ls_i64 row = table_row(i, per_row);
        h_out[i] = (T)h_linear((double)r[i], dim, lam, b, m, atom[row], lw + row * 2 * (m + 1));
    }
}

template <typename T>
LS_BODY void point_closed_form_body(ls_i64 n, const T* r, ls_i64 dim, double lam, double b,
                                    ls_i64 m, const double* latom, const double* lw,
                                    ls_i64 per_row, ls_i64 want_logp, T* logp_out, T* h_out) {
    LS_FOR_EACH(i, n) {
        ls_i64 row = table_row(i, per_row);
        double lp, hh;
        point_closed_form((double)r[i], dim, lam, b, m, latom[row], lw + row * 2 * (m + 1),
                          want_logp != 0, &lp, &hh);
        logp_out[i] = (T)lp;
        h_out[i] = (T)hh;
    }
}

template <typename T>
LS_BODY void h_fast_body(ls_i64 n, const T* r, ls_i64 dim, double lam, double b, ls_i64 m,
                         const double* latom, const double* atom, const double* lw,
                         ls_i64 per_row, T* h_out) {
    LS_FOR_EACH(i, n) {
        ls_i64 row = table_row(i, per_row);
        h_out[i] = (T)h_fast((double)r[i], dim, lam, b, m, latom[row], atom[row],
                             lw + row * 2 * (m + 1));
    }
}

// The loop body of levyscore._closed_form.closed_form_score_kernel, one row per thread
// (one_row: the usual row inline, every other row by score_row, the same bits for the usual
// row; the Numba twin takes rows two at a time for 8 <= D < 128, with the same operations
// per row); bad_out[0] counts the rows of y or of the score with a NaN or inf entry.
template <typename T>
LS_BODY void closed_form_score_body(ls_i64 n, ls_i64 dim, const T* y, double lam, double b,
                                    ls_i64 m, const double* latom, const double* atom,
                                    const double* lw, ls_i64 per_row,
                                    const double* ratio_coef, ls_i64 has_ratio, double a,
                                    double c, ls_i64 combine, T* out, ls_i64* bad_out) {
    bool usual_law = has_ratio != 0 && m == 1 && dim >= 2;
    LS_FOR_EACH(i, n) {
        ls_i64 row = table_row(i, per_row);
        const T* yi = y + i * dim;
        if (one_row(yi, norm2(yi, dim), dim, lam, b, m, latom[row], atom[row],
                    lw + row * 2 * (m + 1), ratio_coef, has_ratio, usual_law, a, c, combine,
                    out + i * dim)) {
            count_one(bad_out);
        }
    }
}

}  // namespace levyscore

using namespace levyscore;

// Weight tables at times t[i] (t = inf: stationary): lw_out has shape (n, 2, m + 1).
LS_KERNEL weight_table_f64(ls_i64 n, const double* t, double theta, double lam, ls_i64 m,
                           double* lw_out, double* latom_out, double* atom_out) {
    LS_FOR_EACH(i, n) {
        weight_table(t[i], theta, lam, m, lw_out + i * 2 * (m + 1), &latom_out[i],
                     &atom_out[i]);
    }
}

// The window of Bessel orders for (dim[i], m[i]): mu0 and (kstar, kmin, kmax), shape (n, 3).
LS_KERNEL window_i64(ls_i64 n, const ls_i64* dim, const ls_i64* m, double* mu0_out,
                     ls_i64* k_out) {
    LS_FOR_EACH(i, n) {
        window(dim[i], m[i], &mu0_out[i], &k_out[3 * i], &k_out[3 * i + 1], &k_out[3 * i + 2]);
    }
}

// h at radii r by the linear-domain fast path (-1 where it cannot be used).
LS_KERNEL h_linear_f64(ls_i64 n, const double* r, ls_i64 dim, double lam, double b, ls_i64 m,
                       const double* atom, const double* lw, ls_i64 per_row, double* h_out) {
    h_linear_body(n, r, dim, lam, b, m, atom, lw, per_row, h_out);
}
LS_KERNEL h_linear_f32(ls_i64 n, const float* r, ls_i64 dim, double lam, double b, ls_i64 m,
                       const double* atom, const double* lw, ls_i64 per_row, float* h_out) {
    h_linear_body(n, r, dim, lam, b, m, atom, lw, per_row, h_out);
}

// (log p, h) at radii r in log space (log p = 0 unless want_logp).
LS_KERNEL point_closed_form_f64(ls_i64 n, const double* r, ls_i64 dim, double lam, double b,
                                ls_i64 m, const double* latom, const double* lw,
                                ls_i64 per_row, ls_i64 want_logp, double* logp_out,
                                double* h_out) {
    point_closed_form_body(n, r, dim, lam, b, m, latom, lw, per_row, want_logp, logp_out,
                           h_out);
}
LS_KERNEL point_closed_form_f32(ls_i64 n, const float* r, ls_i64 dim, double lam, double b,
                                ls_i64 m, const double* latom, const double* lw,
                                ls_i64 per_row, ls_i64 want_logp, float* logp_out,
                                float* h_out) {
    point_closed_form_body(n, r, dim, lam, b, m, latom, lw, per_row, want_logp, logp_out,
                           h_out);
}

// h at radii r: fast path, log-space fallback.
LS_KERNEL h_fast_f64(ls_i64 n, const double* r, ls_i64 dim, double lam, double b, ls_i64 m,
                     const double* latom, const double* atom, const double* lw, ls_i64 per_row,
                     double* h_out) {
    h_fast_body(n, r, dim, lam, b, m, latom, atom, lw, per_row, h_out);
}
LS_KERNEL h_fast_f32(ls_i64 n, const float* r, ls_i64 dim, double lam, double b, ls_i64 m,
                     const double* latom, const double* atom, const double* lw, ls_i64 per_row,
                     float* h_out) {
    h_fast_body(n, r, dim, lam, b, m, latom, atom, lw, per_row, h_out);
}

// Generalized score S(y) = -y h(|y|) at points y of shape (n, dim), the base Bessel ratio
// from the prepared table ratio_coef where has_ratio != 0; bad_out[0] += rows with NaN or inf;
// combine != 0: a y + c S instead of S (the reverse step's combine, in the same pass).
LS_KERNEL closed_form_score_f64(ls_i64 n, ls_i64 dim, const double* y, double lam, double b,
                                ls_i64 m, const double* latom, const double* atom,
                                const double* lw, ls_i64 per_row, const double* ratio_coef,
                                ls_i64 has_ratio, double a, double c, ls_i64 combine, double* out,
                                ls_i64* bad_out) {
    closed_form_score_body(n, dim, y, lam, b, m, latom, atom, lw, per_row, ratio_coef,
                           has_ratio, a, c, combine, out, bad_out);
}
LS_KERNEL closed_form_score_f32(ls_i64 n, ls_i64 dim, const float* y, double lam, double b,
                                ls_i64 m, const double* latom, const double* atom,
                                const double* lw, ls_i64 per_row, const double* ratio_coef,
                                ls_i64 has_ratio, double a, double c, ls_i64 combine, float* out,
                                ls_i64* bad_out) {
    closed_form_score_body(n, dim, y, lam, b, m, latom, atom, lw, per_row, ratio_coef,
                           has_ratio, a, c, combine, out, bad_out);
}
