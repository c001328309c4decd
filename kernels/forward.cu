// forward.cu -- exact forward draws, one sample per thread (the loop bodies of
// levyscore._forward._forward_kernel and _stationary_kernel).
//
// Sample i has the global index start + i; its Philox counters are those of the Numba
// kernels, so Y, W and N agree with levyscore._forward bit for bit where libm agrees.
// Suffix _f64/_f32 is the storage type of x0, Y and W (arithmetic is float64); N is int64.
// Times t are float64, one per sample (t_per_row = 1) or one shared (t_per_row = 0).
// forward_* and stationary_* draw Laplace amplitudes (the paper's law); forward_law_* and
// stationary_law_* take the amplitude law as (law, law_param) = AmplitudeLaw.kernel_args()
// (levyscore.amplitudes) and share the same bodies, so law = 0 reproduces forward_* and
// stationary_* bit for bit.
#include "common.cuh"
#include "philox.cuh"
#include "forward.cuh"

namespace levyscore {

template <typename T>
LS_BODY void forward_body(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const T* x0,
                          ls_i64 has_x0, const double* t, ls_i64 t_per_row, double theta,
                          double diffusion, double jump_rate, double jump_var, ls_u64 start,
                          ls_u32 index, ls_u32 dom_gauss, ls_u32 dom_jump, ls_u32 dom_mark,
                          ls_i64 law, double law_param, T* out, T* w_out, ls_i64* n_out) {
    ls_u32 cg = stream_word(dom_gauss, index);
    ls_u32 cj = stream_word(dom_jump, index);
    ls_u32 cm = stream_word(dom_mark, index);
    LS_FOR_EACH(i, n) {
        ls_u64 gi = start + (ls_u64)i;
        ls_u32 c0 = (ls_u32)(gi & 0xFFFFFFFFull);
        ls_u32 c1 = (ls_u32)(gi >> 32);
        double ti = t_per_row ? t[i] : t[0];
        double w;
        ls_i64 nj;
        jump_mixing(c0, c1, cj, cm, k0, k1, ti, theta, jump_rate, law, law_param, &w, &nj);
        double scale = sqrt(gaussian_variance(theta, diffusion, ti) + jump_var * w);
        double decay = exp(-theta * ti);
        const T* base = has_x0 ? x0 + i * dim : (const T*)0;
        gaussian_row(c0, c1, cg, k0, k1, scale, decay, base, has_x0 != 0, dim, out + i * dim);
        w_out[i] = (T)w;
        n_out[i] = nj;
    }
}

template <typename T>
LS_BODY void stationary_body(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, double theta,
                             double diffusion, double jump_rate, double jump_var, ls_u64 start,
                             ls_u32 index, ls_i64 law, double law_param, T* out, T* w_out) {
    double s_inf = diffusion / (2.0 * theta);
    ls_u32 cg = stream_word(DOMAIN_STATIONARY, index);
    ls_u32 cw = stream_word(DOMAIN_STATIONARY_GAM, index);
    ls_u32 cj = stream_word(DOMAIN_STATIONARY_JUMP, index);
    ls_u32 cm = stream_word(DOMAIN_STATIONARY_MARK, index);
    LS_FOR_EACH(i, n) {
        ls_u64 gi = start + (ls_u64)i;
        ls_u32 c0 = (ls_u32)(gi & 0xFFFFFFFFull);
        ls_u32 c1 = (ls_u32)(gi >> 32);
        double w = stationary_mixing(c0, c1, cw, cj, cm, k0, k1, theta, jump_rate, law,
                                     law_param);
        double scale = sqrt(s_inf + jump_var * w);
        gaussian_row(c0, c1, cg, k0, k1, scale, 1.0, (const T*)0, false, dim, out + i * dim);
        w_out[i] = (T)w;
    }
}

// The exact path on a time grid (the loop of levyscore._forward._path_kernel): out is
// (n, n_times, dim); interval j (from times[j - 1], or 0, to times[j]) applies the exact
// transition with sub-stream index j (DOMAIN_FORWARD_*), from x0 (j = 0) or from the path's
// value at times[j - 1].
LS_BODY void forward_path_body(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const double* x0,
                               const double* times, ls_i64 n_times, double theta,
                               double diffusion, double jump_rate, double jump_var,
                               ls_u64 start, ls_i64 law, double law_param, double* out) {
    LS_FOR_EACH(i, n) {
        ls_u64 gi = start + (ls_u64)i;
        ls_u32 c0 = (ls_u32)(gi & 0xFFFFFFFFull);
        ls_u32 c1 = (ls_u32)(gi >> 32);
        double previous = 0.0;
        for (ls_i64 j = 0; j < n_times; ++j) {
            double dt = times[j] - previous;
            previous = times[j];
            ls_u32 cg = stream_word((ls_u32)DOMAIN_FORWARD_GAUSS, (ls_u32)j);
            ls_u32 cj = stream_word((ls_u32)DOMAIN_FORWARD_JUMP, (ls_u32)j);
            ls_u32 cm = stream_word((ls_u32)DOMAIN_FORWARD_MARK, (ls_u32)j);
            double w;
            ls_i64 nj;
            jump_mixing(c0, c1, cj, cm, k0, k1, dt, theta, jump_rate, law, law_param, &w, &nj);
            double scale = sqrt(gaussian_variance(theta, diffusion, dt) + jump_var * w);
            double decay = exp(-theta * dt);
            const double* base = j == 0 ? x0 + i * dim : out + (i * n_times + j - 1) * dim;
            gaussian_row(c0, c1, cg, k0, k1, scale, decay, base, true, dim,
                         out + (i * n_times + j) * dim);
        }
    }
}

}  // namespace levyscore

using namespace levyscore;

// X = exp(-theta t) x0 + Y (x0 of shape (n, dim), has_x0 = 1) or the increment Y alone
// (has_x0 = 0: x0 is not read, any pointer will do), with W and N, for Laplace amplitudes.
// dom_gauss/dom_jump are DOMAIN_FORWARD_* for the forward draw and DOMAIN_REVERSE_* (with
// theta -> -theta or 0) for reverse-time noise, as levyscore._forward.reverse_noise does.
// Laplace reads no mark stream, so the one passed (DOMAIN_FORWARD_MARK) is never used.
LS_KERNEL forward_f64(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const double* x0,
                      ls_i64 has_x0, const double* t, ls_i64 t_per_row, double theta,
                      double diffusion, double jump_rate, double jump_var, ls_u64 start,
                      ls_u32 index, ls_u32 dom_gauss, ls_u32 dom_jump, double* out,
                      double* w_out, ls_i64* n_out) {
    forward_body(n, dim, k0, k1, x0, has_x0, t, t_per_row, theta, diffusion, jump_rate,
                 jump_var, start, index, dom_gauss, dom_jump, (ls_u32)DOMAIN_FORWARD_MARK,
                 LAW_LAPLACE, 0.0, out, w_out, n_out);
}
LS_KERNEL forward_f32(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const float* x0,
                      ls_i64 has_x0, const double* t, ls_i64 t_per_row, double theta,
                      double diffusion, double jump_rate, double jump_var, ls_u64 start,
                      ls_u32 index, ls_u32 dom_gauss, ls_u32 dom_jump, float* out,
                      float* w_out, ls_i64* n_out) {
    forward_body(n, dim, k0, k1, x0, has_x0, t, t_per_row, theta, diffusion, jump_rate,
                 jump_var, start, index, dom_gauss, dom_jump, (ls_u32)DOMAIN_FORWARD_MARK,
                 LAW_LAPLACE, 0.0, out, w_out, n_out);
}

// The forward draw for any amplitude law (law, law_param: AmplitudeLaw.kernel_args()), the
// multi-uniform marks (Student-t) on the stream dom_mark: DOMAIN_FORWARD_MARK with the
// forward domains, DOMAIN_REVERSE_MARK with the reverse-time ones.
LS_KERNEL forward_law_f64(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const double* x0,
                          ls_i64 has_x0, const double* t, ls_i64 t_per_row, double theta,
                          double diffusion, double jump_rate, double jump_var, ls_u64 start,
                          ls_u32 index, ls_u32 dom_gauss, ls_u32 dom_jump, ls_u32 dom_mark,
                          ls_i64 law, double law_param, double* out, double* w_out,
                          ls_i64* n_out) {
    forward_body(n, dim, k0, k1, x0, has_x0, t, t_per_row, theta, diffusion, jump_rate,
                 jump_var, start, index, dom_gauss, dom_jump, dom_mark, law, law_param, out,
                 w_out, n_out);
}
LS_KERNEL forward_law_f32(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const float* x0,
                          ls_i64 has_x0, const double* t, ls_i64 t_per_row, double theta,
                          double diffusion, double jump_rate, double jump_var, ls_u64 start,
                          ls_u32 index, ls_u32 dom_gauss, ls_u32 dom_jump, ls_u32 dom_mark,
                          ls_i64 law, double law_param, float* out, float* w_out,
                          ls_i64* n_out) {
    forward_body(n, dim, k0, k1, x0, has_x0, t, t_per_row, theta, diffusion, jump_rate,
                 jump_var, start, index, dom_gauss, dom_jump, dom_mark, law, law_param, out,
                 w_out, n_out);
}

// Exact draw from the stationary law (theta > 0) with its Gamma(m) mixing variable W_inf
// (Laplace amplitudes).
LS_KERNEL stationary_f64(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, double theta,
                         double diffusion, double jump_rate, double jump_var, ls_u64 start,
                         ls_u32 index, double* out, double* w_out) {
    stationary_body(n, dim, k0, k1, theta, diffusion, jump_rate, jump_var, start, index,
                    LAW_LAPLACE, 0.0, out, w_out);
}
LS_KERNEL stationary_f32(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, double theta,
                         double diffusion, double jump_rate, double jump_var, ls_u64 start,
                         ls_u32 index, float* out, float* w_out) {
    stationary_body(n, dim, k0, k1, theta, diffusion, jump_rate, jump_var, start, index,
                    LAW_LAPLACE, 0.0, out, w_out);
}

// The stationary draw for any amplitude law: Laplace as stationary_*, other laws with W
// drawn over the horizon 2 theta T = 64 log 2 (levyscore._forward.stationary_mixing).
LS_KERNEL stationary_law_f64(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, double theta,
                             double diffusion, double jump_rate, double jump_var, ls_u64 start,
                             ls_u32 index, ls_i64 law, double law_param, double* out,
                             double* w_out) {
    stationary_body(n, dim, k0, k1, theta, diffusion, jump_rate, jump_var, start, index, law,
                    law_param, out, w_out);
}
LS_KERNEL stationary_law_f32(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, double theta,
                             double diffusion, double jump_rate, double jump_var, ls_u64 start,
                             ls_u32 index, ls_i64 law, double law_param, float* out,
                             float* w_out) {
    stationary_body(n, dim, k0, k1, theta, diffusion, jump_rate, jump_var, start, index, law,
                    law_param, out, w_out);
}

// Exact path values on a time grid, for any amplitude law (law, law_param). float64 only:
// the path feeds on its own stored values, so a float32 variant would round at every time;
// the device path computes in float64 and rounds once.
LS_KERNEL forward_path_f64(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const double* x0,
                           const double* times, ls_i64 n_times, double theta,
                           double diffusion, double jump_rate, double jump_var, ls_u64 start,
                           ls_i64 law, double law_param, double* out) {
    forward_path_body(n, dim, k0, k1, x0, times, n_times, theta, diffusion, jump_rate,
                      jump_var, start, law, law_param, out);
}
