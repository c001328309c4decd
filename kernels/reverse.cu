// reverse.cu -- the exponential-Euler combine step, one array element per thread
// (levyscore._reverse._combine and _combine_noise over the flattened (n, D) arrays).
// Suffix _f64/_f32 is the storage type of the arrays; a and c are float64 and the
// arithmetic is float64, exactly as Numba evaluates float64 scalars times float32 arrays.
#include "common.cuh"
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
