// reverse.cu -- the exponential-Euler combine step, one array element per thread
// (levyscore._reverse._combine and _combine_noise over the flattened (n, D) arrays), and the
// stochastic step with its noise drawn in the same pass, one row per thread
// (levyscore._reverse._reverse_step_kernel).
// Suffix _f64/_f32 is the storage type of the arrays; a and c are float64 and the
// arithmetic is float64, exactly as Numba evaluates float64 scalars times float32 arrays.
#include "common.cuh"
#include "philox.cuh"
#include "forward.cuh"
#include "reverse.cuh"

namespace levyscore {

template <typename T>
LS_BODY void combine_body(ls_i64 n, double a, const T* x, double c, const T* s, T* out) {
    LS_FOR_EACH(i, n) {
        out[i] = (T)combine(a, (double)x[i], c, (double)s[i]);
    }
}

template <typename T>
LS_BODY void combine_noise_body(ls_i64 n, double a, const T* x, double c, const T* s,
                                const T* noise, T* out) {
    LS_FOR_EACH(i, n) {
        out[i] = (T)combine_noise(a, (double)x[i], c, (double)s[i], (double)noise[i]);
    }
}

// The loop body of levyscore._reverse._reverse_step_kernel: out = a x + c s + xi, xi the
// reverse noise of forward_body (no x0, shared time h), in the same operations.
template <typename T>
LS_BODY void reverse_step_body(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const T* x,
                               const T* s, double a, double c, double h, double theta,
                               double diffusion, double jump_rate, double jump_var,
                               ls_u64 start, ls_u32 index, ls_u32 dom_gauss, ls_u32 dom_jump,
                               ls_u32 dom_mark, ls_i64 law, double law_param, T* out) {
    ls_u32 cg = stream_word(dom_gauss, index);
    ls_u32 cj = stream_word(dom_jump, index);
    ls_u32 cm = stream_word(dom_mark, index);
    double s0 = gaussian_variance(theta, diffusion, h);
    bool ok;
    double lo, hi;
    first_block_test(theta, jump_rate, h, &ok, &lo, &hi);
    // a sample whose first jump-stream block says "no jump", in a step without a Gaussian
    // part, has the noise +0.0 (the Numba twin draws those blocks a batch at a time)
    bool quick = ok && sqrt(s0 + jump_var * 0.0) == 0.0;
    LS_FOR_EACH(i, n) {
        bool done = false;
        if (quick) {
            ls_u64 gi = start + (ls_u64)i;
            double u1, u2;
            uniform_pair((ls_u32)(gi & 0xFFFFFFFFull), (ls_u32)(gi >> 32), cj, 0u, k0, k1, &u1,
                         &u2);
            if (first_block_no_jump(u1, lo, hi, jump_rate, h)) {
                const T* xi = x + i * dim;
                const T* si = s + i * dim;
                T* oi = out + i * dim;
                for (ls_i64 d = 0; d < dim; ++d) {
                    oi[d] = (T)(a * (double)xi[d] + c * (double)si[d] + 0.0);
                }
                done = true;
            }
        }
        if (!done) {
            step_sample(i, dim, k0, k1, x, s, a, c, h, theta, jump_rate, jump_var, s0, start,
                        cg, cj, cm, law, law_param, out);
        }
    }
}

}  // namespace levyscore

using namespace levyscore;

// out = a x + c s over n elements.
LS_KERNEL combine_f64(ls_i64 n, double a, const double* x, double c, const double* s,
                      double* out) {
    combine_body(n, a, x, c, s, out);
}
LS_KERNEL combine_f32(ls_i64 n, double a, const float* x, double c, const float* s,
                      float* out) {
    combine_body(n, a, x, c, s, out);
}

// out = a x + c s + noise over n elements.
LS_KERNEL combine_noise_f64(ls_i64 n, double a, const double* x, double c, const double* s,
                            const double* noise, double* out) {
    combine_noise_body(n, a, x, c, s, noise, out);
}
LS_KERNEL combine_noise_f32(ls_i64 n, double a, const float* x, double c, const float* s,
                            const float* noise, float* out) {
    combine_noise_body(n, a, x, c, s, noise, out);
}

// out = a x + c s + xi (x, s, out of shape (n, dim)); xi the reverse-time noise of step
// `index` over the clock length h (theta -> -theta for the exponential step, 0 for Euler).
LS_KERNEL reverse_step_f64(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const double* x,
                           const double* s, double a, double c, double h, double theta,
                           double diffusion, double jump_rate, double jump_var, ls_u64 start,
                           ls_u32 index, ls_u32 dom_gauss, ls_u32 dom_jump, ls_u32 dom_mark,
                           ls_i64 law, double law_param, double* out) {
    reverse_step_body(n, dim, k0, k1, x, s, a, c, h, theta, diffusion, jump_rate, jump_var,
                      start, index, dom_gauss, dom_jump, dom_mark, law, law_param, out);
}
LS_KERNEL reverse_step_f32(ls_i64 n, ls_i64 dim, ls_u32 k0, ls_u32 k1, const float* x,
                           const float* s, double a, double c, double h, double theta,
                           double diffusion, double jump_rate, double jump_var, ls_u64 start,
                           ls_u32 index, ls_u32 dom_gauss, ls_u32 dom_jump, ls_u32 dom_mark,
                           ls_i64 law, double law_param, float* out) {
    reverse_step_body(n, dim, k0, k1, x, s, a, c, h, theta, diffusion, jump_rate, jump_var,
                      start, index, dom_gauss, dom_jump, dom_mark, law, law_param, out);
}
