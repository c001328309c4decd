// mixture.cuh -- time constants of the transition law (twin of
// levyscore._time.time_constants; the W-mixture quadrature itself has no CUDA twin yet).
#ifndef LEVYSCORE_MIXTURE_CUH
#define LEVYSCORE_MIXTURE_CUH

#include "common.cuh"

namespace levyscore {

// Numba twin: levyscore._time.time_constants
// (m, q, log q, log(1 - q), s) at time t; t = +inf is the stationary law.
LS_HD inline void time_constants(double t, double theta, double diffusion, double lam,
                                 double* m, double* q, double* logq, double* log1mq,
                                 double* s) {
    *m = lam / (2.0 * theta);
    if (fabs(t) == ls_inf()) {  // math.isinf(t)
        *q = 0.0;
        *logq = -ls_inf();
        *log1mq = 0.0;
        *s = diffusion / (2.0 * theta);
        return;
    }
    *logq = -2.0 * theta * t;
    *q = exp(*logq);
    double om = -expm1(*logq);
    *log1mq = log(om);
    *s = diffusion * om / (2.0 * theta);
}

}  // namespace levyscore

#endif  // LEVYSCORE_MIXTURE_CUH
