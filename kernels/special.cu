// special.cu -- elementwise kernels of the Philox generator and the Bessel functions.
//
// One element per thread (grid-stride loop, see common.cuh). Suffix _f64/_f32 is the storage
// type of the float arrays; all arithmetic is float64 (the Bessel series and the 52-bit
// uniforms are float64 algorithms), so an _f32 result is the _f64 result rounded once.
// Counters: element i uses the global sample index start + i as (c0, c1) = (low, high word)
// and the stream word stream_word(domain, index) as c2, as levyscore._philox does.
#include "common.cuh"
#include "philox.cuh"
#include "bessel.cuh"

namespace levyscore {

LS_HD inline void sample_words(ls_u64 start, ls_i64 i, ls_u32* c0, ls_u32* c1) {
    ls_u64 gi = start + (ls_u64)i;
    *c0 = (ls_u32)(gi & 0xFFFFFFFFull);
    *c1 = (ls_u32)(gi >> 32);
}

template <int KIND, typename T>
LS_BODY void variate_pair_body(ls_i64 n, ls_u64 start, ls_u32 domain, ls_u32 index, ls_u32 c3,
                               ls_u32 k0, ls_u32 k1, T* out) {
    ls_u32 c2 = stream_word(domain, index);
    LS_FOR_EACH(i, n) {
        ls_u32 c0, c1;
        sample_words(start, i, &c0, &c1);
        double a, b;
        if (KIND == 0) {
            uniform_pair(c0, c1, c2, c3, k0, k1, &a, &b);
        } else if (KIND == 1) {
            normal_pair(c0, c1, c2, c3, k0, k1, &a, &b);
        } else {
            exponential_pair(c0, c1, c2, c3, k0, k1, &a, &b);
        }
        out[2 * i] = (T)a;
        out[2 * i + 1] = (T)b;
    }
}

template <typename T>
LS_BODY void gamma_variate_body(ls_i64 n, double shape, ls_u64 start, ls_u32 domain,
                                ls_u32 index, ls_u32 k0, ls_u32 k1, T* out) {
    ls_u32 c2 = stream_word(domain, index);
    LS_FOR_EACH(i, n) {
        ls_u32 c0, c1;
        sample_words(start, i, &c0, &c1);
        out[i] = (T)gamma_variate(shape, c0, c1, c2, k0, k1);
    }
}

template <typename T>
LS_BODY void bessel_k_ratio_body(ls_i64 n, const T* nu, const T* x, T* out) {
    LS_FOR_EACH(i, n) {
        out[i] = (T)bessel_k_ratio((double)nu[i], (double)x[i]);
    }
}

template <typename T>
LS_BODY void log_bessel_k_body(ls_i64 n, const T* nu, const T* x, T* out) {
    LS_FOR_EACH(i, n) {
        out[i] = (T)log_bessel_k((double)nu[i], (double)x[i]);
    }
}

template <typename T>
LS_BODY void log_bessel_k_and_ratio_body(ls_i64 n, const T* nu, const T* x, T* logk_out,
                                         T* ratio_out) {
    LS_FOR_EACH(i, n) {
        double logk, ratio;
        log_bessel_k_and_ratio((double)nu[i], (double)x[i], &logk, &ratio);
        logk_out[i] = (T)logk;
        ratio_out[i] = (T)ratio;
    }
}

}  // namespace levyscore

using namespace levyscore;

// Philox4x32-10 on n counters: c and out have shape (n, 4).
LS_KERNEL philox4x32_10_u32(ls_i64 n, const ls_u32* c, ls_u32 k0, ls_u32 k1, ls_u32* out) {
    LS_FOR_EACH(i, n) {
        philox4x32_10(c[4 * i], c[4 * i + 1], c[4 * i + 2], c[4 * i + 3], k0, k1, &out[4 * i],
                      &out[4 * i + 1], &out[4 * i + 2], &out[4 * i + 3]);
    }
}

// Two uniforms / normals / Exp(1) per element from block c3: out has shape (n, 2).
LS_KERNEL uniform_pair_f64(ls_i64 n, ls_u64 start, ls_u32 domain, ls_u32 index, ls_u32 c3,
                           ls_u32 k0, ls_u32 k1, double* out) {
    variate_pair_body<0>(n, start, domain, index, c3, k0, k1, out);
}
LS_KERNEL uniform_pair_f32(ls_i64 n, ls_u64 start, ls_u32 domain, ls_u32 index, ls_u32 c3,
                           ls_u32 k0, ls_u32 k1, float* out) {
    variate_pair_body<0>(n, start, domain, index, c3, k0, k1, out);
}
LS_KERNEL normal_pair_f64(ls_i64 n, ls_u64 start, ls_u32 domain, ls_u32 index, ls_u32 c3,
                          ls_u32 k0, ls_u32 k1, double* out) {
    variate_pair_body<1>(n, start, domain, index, c3, k0, k1, out);
}
LS_KERNEL normal_pair_f32(ls_i64 n, ls_u64 start, ls_u32 domain, ls_u32 index, ls_u32 c3,
                          ls_u32 k0, ls_u32 k1, float* out) {
    variate_pair_body<1>(n, start, domain, index, c3, k0, k1, out);
}
LS_KERNEL exponential_pair_f64(ls_i64 n, ls_u64 start, ls_u32 domain, ls_u32 index, ls_u32 c3,
                               ls_u32 k0, ls_u32 k1, double* out) {
    variate_pair_body<2>(n, start, domain, index, c3, k0, k1, out);
}
LS_KERNEL exponential_pair_f32(ls_i64 n, ls_u64 start, ls_u32 domain, ls_u32 index, ls_u32 c3,
                               ls_u32 k0, ls_u32 k1, float* out) {
    variate_pair_body<2>(n, start, domain, index, c3, k0, k1, out);
}

// Gamma(shape, 1) per element, reading blocks 0, 1, ... of its (sample, stream) pair.
LS_KERNEL gamma_variate_f64(ls_i64 n, double shape, ls_u64 start, ls_u32 domain, ls_u32 index,
                            ls_u32 k0, ls_u32 k1, double* out) {
    gamma_variate_body(n, shape, start, domain, index, k0, k1, out);
}
LS_KERNEL gamma_variate_f32(ls_i64 n, double shape, ls_u64 start, ls_u32 domain, ls_u32 index,
                            ls_u32 k0, ls_u32 k1, float* out) {
    gamma_variate_body(n, shape, start, domain, index, k0, k1, out);
}

// K_{nu+1}(x) / K_nu(x), log K_nu(x), and both, elementwise over nu[i], x[i].
LS_KERNEL bessel_k_ratio_f64(ls_i64 n, const double* nu, const double* x, double* out) {
    bessel_k_ratio_body(n, nu, x, out);
}
LS_KERNEL bessel_k_ratio_f32(ls_i64 n, const float* nu, const float* x, float* out) {
    bessel_k_ratio_body(n, nu, x, out);
}
LS_KERNEL log_bessel_k_f64(ls_i64 n, const double* nu, const double* x, double* out) {
    log_bessel_k_body(n, nu, x, out);
}
LS_KERNEL log_bessel_k_f32(ls_i64 n, const float* nu, const float* x, float* out) {
    log_bessel_k_body(n, nu, x, out);
}
LS_KERNEL log_bessel_k_and_ratio_f64(ls_i64 n, const double* nu, const double* x,
                                     double* logk_out, double* ratio_out) {
    log_bessel_k_and_ratio_body(n, nu, x, logk_out, ratio_out);
}
LS_KERNEL log_bessel_k_and_ratio_f32(ls_i64 n, const float* nu, const float* x, float* logk_out,
                                     float* ratio_out) {
    log_bessel_k_and_ratio_body(n, nu, x, logk_out, ratio_out);
}
