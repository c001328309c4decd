// philox.cuh -- Philox4x32-10 and rejection-free variate transforms.
// Twin of levyscore/_philox.py (read its docstring for the counter layout and domains).
#ifndef LEVYSCORE_PHILOX_CUH
#define LEVYSCORE_PHILOX_CUH

#include "common.cuh"

namespace levyscore {

// Domains of the stream word c2 (levyscore._philox.DOMAIN_*).
enum {
    DOMAIN_FORWARD_GAUSS = 0x00,
    DOMAIN_FORWARD_JUMP = 0x01,
    DOMAIN_STATIONARY = 0x02,
    DOMAIN_STATIONARY_GAM = 0x03,
    DOMAIN_FORWARD_MARK = 0x04,
    DOMAIN_STATIONARY_JUMP = 0x05,
    DOMAIN_STATIONARY_MARK = 0x06,
    DOMAIN_REVERSE_GAUSS = 0x10,
    DOMAIN_REVERSE_JUMP = 0x11,
    DOMAIN_REVERSE_MARK = 0x12,
    DOMAIN_TEST = 0xFF
};

static constexpr ls_u32 PHILOX_M0 = 0xD2511F53u;
static constexpr ls_u32 PHILOX_M1 = 0xCD9E8D57u;
static constexpr ls_u32 PHILOX_W0 = 0x9E3779B9u;  // golden ratio
static constexpr ls_u32 PHILOX_W1 = 0xBB67AE85u;  // sqrt(3) - 1
static constexpr double TWO_M52 = 2.220446049250313e-16;  // 2**-52
static constexpr double TWO_PI = 6.283185307179586;       // 2.0 * math.pi

// Numba twin: levyscore._philox.stream_word
LS_HD inline ls_u32 stream_word(ls_u32 domain, ls_u32 index) {
    return (domain << 24) | index;
}

// Numba twin: levyscore._philox.philox4x32_10 (output words in Random123's order).
LS_HD inline void philox4x32_10(ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 c3, ls_u32 k0,
                                ls_u32 k1, ls_u32* w0, ls_u32* w1, ls_u32* w2, ls_u32* w3) {
    ls_u32 x0 = c0;
    ls_u32 x1 = c1;
    ls_u32 x2 = c2;
    ls_u32 x3 = c3;
    ls_u32 y0 = k0;
    ls_u32 y1 = k1;
    for (int round = 0; round < 10; ++round) {
        ls_u64 p0 = (ls_u64)PHILOX_M0 * (ls_u64)x0;  // exact: both factors < 2**32
        ls_u64 p1 = (ls_u64)PHILOX_M1 * (ls_u64)x2;
        ls_u32 n0 = (ls_u32)(p1 >> 32) ^ x1 ^ y0;
        ls_u32 n2 = (ls_u32)(p0 >> 32) ^ x3 ^ y1;
        x1 = (ls_u32)p1;  // low words (the Numba twin masks with 0xFFFFFFFF)
        x3 = (ls_u32)p0;
        x0 = n0;
        x2 = n2;
        y0 = y0 + PHILOX_W0;  // wraps mod 2**32
        y1 = y1 + PHILOX_W1;
    }
    *w0 = x0;
    *w1 = x1;
    *w2 = x2;
    *w3 = x3;
}

// Numba twin: levyscore._philox.uniform_from_words. k is a 52-bit integer and every
// operation is exact, so u = (k + 0.5) 2**-52 lies in [2**-53, 1 - 2**-53].
LS_HD inline double uniform_from_words(ls_u32 a, ls_u32 b) {
    ls_u64 k = ((ls_u64)(a >> 6) << 26) | (ls_u64)(b >> 6);
    return ((double)k + 0.5) * TWO_M52;
}

// Numba twin: levyscore._philox.uniform_pair (words (0, 1) and (2, 3)).
LS_HD inline void uniform_pair(ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 c3, ls_u32 k0, ls_u32 k1,
                               double* u1, double* u2) {
    ls_u32 w0, w1, w2, w3;
    philox4x32_10(c0, c1, c2, c3, k0, k1, &w0, &w1, &w2, &w3);
    *u1 = uniform_from_words(w0, w1);
    *u2 = uniform_from_words(w2, w3);
}

// Numba twin: levyscore._philox.box_muller (no rejection).
LS_HD inline void box_muller(double u1, double u2, double* z0, double* z1) {
    double r = sqrt(-2.0 * log(u1));
    double a = TWO_PI * u2;
    *z0 = r * cos(a);
    *z1 = r * sin(a);
}

// Numba twin: levyscore._philox.normal_pair
LS_HD inline void normal_pair(ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 c3, ls_u32 k0, ls_u32 k1,
                              double* z0, double* z1) {
    double u1, u2;
    uniform_pair(c0, c1, c2, c3, k0, k1, &u1, &u2);
    box_muller(u1, u2, z0, z1);
}

// Numba twin: levyscore._philox.exponential_pair (inversion -log u).
LS_HD inline void exponential_pair(ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 c3, ls_u32 k0,
                                   ls_u32 k1, double* e0, double* e1) {
    double u1, u2;
    uniform_pair(c0, c1, c2, c3, k0, k1, &u1, &u2);
    *e0 = -log(u1);
    *e1 = -log(u2);
}

// Numba twin: levyscore._philox.marsaglia_tsang_cube
// One Marsaglia-Tsang attempt (normal x, uniform u, d = a - 1/3, c = 1/sqrt(9 d)): v^3 if it
// accepts (G = d v^3), else 0. Shared by gamma_variate and student_t_mark (forward.cuh).
LS_HD inline double marsaglia_tsang_cube(double x, double u, double c, double d) {
    double v = 1.0 + c * x;
    if (v <= 0.0) {
        return 0.0;
    }
    v = v * v * v;
    double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) {
        return v;
    }
    if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) {
        return v;
    }
    return 0.0;
}

// Numba twin: levyscore._philox.gamma_variate
// Marsaglia-Tsang for shape >= 1, the boost U**(1/shape) in log space below 1; block 0 holds
// the boost uniform, attempt j reads blocks 2j + 1 (a Box-Muller normal) and 2j + 2 (the
// acceptance uniform).
LS_HD inline double gamma_variate(double shape, ls_u32 c0, ls_u32 c1, ls_u32 c2, ls_u32 k0,
                                  ls_u32 k1) {
    if (shape <= 0.0) {
        return 0.0;
    }
    bool boost = shape < 1.0;
    double a = boost ? shape + 1.0 : shape;
    double d = a - 1.0 / 3.0;  // a float division: 1 / 3 would be the integer 0
    double c = 1.0 / sqrt(9.0 * d);
    ls_u32 block = 1u;
    double x, u, v, u1, u2, unused;
    while (true) {
        uniform_pair(c0, c1, c2, block, k0, k1, &u1, &u2);
        x = sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
        uniform_pair(c0, c1, c2, block + 1u, k0, k1, &u, &unused);
        block += 2u;
        v = marsaglia_tsang_cube(x, u, c, d);
        if (v > 0.0) {
            break;
        }
    }
    double g = d * v;
    if (boost) {
        double ub;
        uniform_pair(c0, c1, c2, 0u, k0, k1, &ub, &unused);
        return exp(log(g) + log(ub) / shape);
    }
    return g;
}

}  // namespace levyscore

#endif  // LEVYSCORE_PHILOX_CUH
