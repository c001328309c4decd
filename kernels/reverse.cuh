// reverse.cuh -- the exponential-Euler combine step of the reverse-time samplers.
// Twin of levyscore/_reverse.py's _combine and _combine_noise (their loop bodies): the
// exp-Euler step is x <- E x + c S(x, t0) [+ xi], E = e^{theta h},
// c = (1 + eta) (E - 1) / theta (levyscore._reverse.ExpEuler.step).
#ifndef LEVYSCORE_REVERSE_CUH
#define LEVYSCORE_REVERSE_CUH

#include "common.cuh"

namespace levyscore {

// Numba twin: levyscore._reverse._combine (one element: out = a x + c s)
LS_HD inline double combine(double a, double x, double c, double s) {
    return a * x + c * s;
}

// Numba twin: levyscore._reverse._combine_noise (one element: out = a x + c s + noise)
LS_HD inline double combine_noise(double a, double x, double c, double s, double noise) {
    return a * x + c * s + noise;
}

}  // namespace levyscore

#endif  // LEVYSCORE_REVERSE_CUH
