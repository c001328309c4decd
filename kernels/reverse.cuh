// reverse.cuh -- the exponential-Euler combine step of the reverse-time samplers.
// Twin of levyscore/_reverse.py's _combine and _combine_noise (their loop bodies): the
// exp-Euler step is x <- E x + c S(x, t0) [+ xi], E = e^{theta h},
// c = (1 + eta) (E - 1) / theta (levyscore._reverse.ExpEuler.step).
#ifndef LEVYSCORE_REVERSE_CUH
#define LEVYSCORE_REVERSE_CUH

#include "common.cuh"
#include "philox.cuh"
#include "forward.cuh"

namespace levyscore {

// Numba twin: levyscore._reverse._combine (one element: out = a x + c s)
LS_HD inline double combine(double a, double x, double c, double s) {
    return a * x + c * s;
}

// Numba twin: levyscore._reverse._combine_noise (one element: out = a x + c s + noise)
LS_HD inline double combine_noise(double a, double x, double c, double s, double noise) {
    return a * x + c * s + noise;
}

// Numba twin: levyscore._reverse.step_sample
// Row i of the stochastic step drawn in full: out[i] = a x[i] + c s[i] + xi_i, W from
// jump_mixing, the Gaussian draw scaled by sqrt(s0 + jump_var W) (none where that is 0).
template <typename T>
LS_HD inline void step_sample(ls_i64 i, ls_i64 dim, ls_u32 k0, ls_u32 k1, const T* x,
                              const T* s, double a, double c, double h, double theta,
                              double jump_rate, double jump_var, double s0, ls_u64 start,
                              ls_u32 cg, ls_u32 cj, ls_u32 cm, ls_i64 law, double law_param,
                              T* out) {
    ls_u64 gi = start + (ls_u64)i;
    ls_u32 c0 = (ls_u32)(gi & 0xFFFFFFFFull);
    ls_u32 c1 = (ls_u32)(gi >> 32);
    double w;
    ls_i64 nj;
    jump_mixing(c0, c1, cj, cm, k0, k1, h, theta, jump_rate, law, law_param, &w, &nj);
    double scale = sqrt(s0 + jump_var * w);
    const T* xi = x + i * dim;
    const T* si = s + i * dim;
    T* oi = out + i * dim;
    if (scale == 0.0) {  // the noise is exactly +0.0 (no normal is drawn)
        for (ls_i64 d = 0; d < dim; ++d) {
            oi[d] = (T)(a * (double)xi[d] + c * (double)si[d] + 0.0);
        }
        return;
    }
    for (ls_i64 d = 0; d < dim; d += 2) {
        double z0, z1;
        normal_pair(c0, c1, cg, (ls_u32)(d / 2), k0, k1, &z0, &z1);
        oi[d] = (T)(a * (double)xi[d] + c * (double)si[d] + scale * z0);
        if (d + 1 < dim) {
            oi[d + 1] = (T)(a * (double)xi[d + 1] + c * (double)si[d + 1] + scale * z1);
        }
    }
}

}  // namespace levyscore

#endif  // LEVYSCORE_REVERSE_CUH
