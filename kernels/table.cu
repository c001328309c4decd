// table.cu -- ScoreTable evaluation kernels (levyscore/_table_kernel.py), one point per
// thread: h at radii (table_h) and the score S = -y h(|y|, t) at points (table_score).
//
// t has n entries (t_per_row = 1) or one, shared (t_per_row = 0). leaf_out[i] is the panel
// that served point i, -1 where the table does not serve it (the caller computes it by
// quadrature), -2 for the exact h = 0 at r = 0 of a pure-jump process. Suffix _f64/_f32 is
// the storage type of radii, points and results; arithmetic and the table are float64.
// n_coef <= TABLE_MAX_COEF (checked by the caller).
#include "common.cuh"
#include "closed_form.cuh"
#include "table.cuh"

namespace levyscore {

template <typename T>
LS_BODY void table_h_body(ls_i64 n, const T* r, const double* t, ls_i64 t_per_row,
                          const double* params, const ls_i64* roots, const ls_i64* split,
                          const double* value, const ls_i64* child, const ls_i64* leaf_of,
                          const double* boxes, const double* coef, ls_i64 n_coef, T* h_out,
                          ls_i64* leaf_out) {
    LS_FOR_EACH(i, n) {
        double ti = t_per_row ? t[i] : t[0];
        ls_i64 leaf;
        double hh = point_h((double)r[i], ti, params, roots, split, value, child, leaf_of,
                            boxes, coef, n_coef, &leaf);
        h_out[i] = (T)hh;
        leaf_out[i] = leaf;
    }
}

// The loop body of levyscore._table_kernel.table_score: r = |y_i| summed in index order
// (the rescaled norm where |y|^2 over- or underflows), S_i = -y_i h.
template <typename T>
LS_BODY void table_score_body(ls_i64 n, ls_i64 dim, const T* y, const double* t,
                              ls_i64 t_per_row, const double* params, const ls_i64* roots,
                              const ls_i64* split, const double* value, const ls_i64* child,
                              const ls_i64* leaf_of, const double* boxes, const double* coef,
                              ls_i64 n_coef, T* out, ls_i64* leaf_out) {
    LS_FOR_EACH(i, n) {
        double ti = t_per_row ? t[i] : t[0];
        const T* yi = y + i * dim;
        T* oi = out + i * dim;
        double r2 = 0.0;
        for (ls_i64 k = 0; k < dim; ++k) {
            r2 += (double)yi[k] * (double)yi[k];
        }
        double r = sqrt(r2);
        if (!(r2 > 1e-290 && r2 < 1e290)) {
            r = rescaled_norm(yi, dim);
        }
        ls_i64 leaf;
        double hh = point_h(r, ti, params, roots, split, value, child, leaf_of, boxes, coef,
                            n_coef, &leaf);
        leaf_out[i] = leaf;
        for (ls_i64 k = 0; k < dim; ++k) {
            oi[k] = (T)(-(double)yi[k] * hh);
        }
    }
}

}  // namespace levyscore

using namespace levyscore;

LS_KERNEL table_h_f64(ls_i64 n, const double* r, const double* t, ls_i64 t_per_row,
                      const double* params, const ls_i64* roots, const ls_i64* split,
                      const double* value, const ls_i64* child, const ls_i64* leaf_of,
                      const double* boxes, const double* coef, ls_i64 n_coef, double* h_out,
                      ls_i64* leaf_out) {
    table_h_body(n, r, t, t_per_row, params, roots, split, value, child, leaf_of, boxes, coef,
                 n_coef, h_out, leaf_out);
}
LS_KERNEL table_h_f32(ls_i64 n, const float* r, const double* t, ls_i64 t_per_row,
                      const double* params, const ls_i64* roots, const ls_i64* split,
                      const double* value, const ls_i64* child, const ls_i64* leaf_of,
                      const double* boxes, const double* coef, ls_i64 n_coef, float* h_out,
                      ls_i64* leaf_out) {
    table_h_body(n, r, t, t_per_row, params, roots, split, value, child, leaf_of, boxes, coef,
                 n_coef, h_out, leaf_out);
}

LS_KERNEL table_score_f64(ls_i64 n, ls_i64 dim, const double* y, const double* t,
                          ls_i64 t_per_row, const double* params, const ls_i64* roots,
                          const ls_i64* split, const double* value, const ls_i64* child,
                          const ls_i64* leaf_of, const double* boxes, const double* coef,
                          ls_i64 n_coef, double* out, ls_i64* leaf_out) {
    table_score_body(n, dim, y, t, t_per_row, params, roots, split, value, child, leaf_of,
                     boxes, coef, n_coef, out, leaf_out);
}
LS_KERNEL table_score_f32(ls_i64 n, ls_i64 dim, const float* y, const double* t,
                          ls_i64 t_per_row, const double* params, const ls_i64* roots,
                          const ls_i64* split, const double* value, const ls_i64* child,
                          const ls_i64* leaf_of, const double* boxes, const double* coef,
                          ls_i64 n_coef, float* out, ls_i64* leaf_out) {
    table_score_body(n, dim, y, t, t_per_row, params, roots, split, value, child, leaf_of,
                     boxes, coef, n_coef, out, leaf_out);
}
