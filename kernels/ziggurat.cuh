// Normal variates by the ziggurat method on Philox words (Numba twin: levyscore._ziggurat).
// 256 layers (Marsaglia & Tsang 2000, with Doornik's 2005 base strip); tables in
// ziggurat_tables.cuh. A candidate takes two 32-bit words: the low 8 bits of a are the layer,
// bit 8 the sign, and (a >> 9) 2**29 + (b >> 3) a 52-bit integer for the abscissa.
#ifndef LEVYSCORE_ZIGGURAT_CUH
#define LEVYSCORE_ZIGGURAT_CUH

#include "common.cuh"
#include "philox.cuh"
#include "ziggurat_tables.cuh"

namespace levyscore {

// Numba twin: levyscore._ziggurat.ziggurat_candidate
// The signed abscissa of the candidate in words (a, b); its layer in *i.
LS_HD inline double ziggurat_candidate(ls_u32 a, ls_u32 b, int* i) {
    *i = (int)(a & 0xFFu);
    ls_u64 k = ((ls_u64)(a >> 9) << 29) | (ls_u64)(b >> 3);
    double x = ((double)k + 0.5) * TWO_M52 * ZIG_X[*i];
    return ((a >> 8) & 1u) ? -x : x;
}

// Numba twin: levyscore._ziggurat.ziggurat_fast
// The normal of words (a, b) if its candidate is accepted at once (probability 0.990), else
// +inf (ZIG_NONE: finish it with ziggurat_slow).
LS_HD inline double ziggurat_fast(ls_u32 a, ls_u32 b) {
    int i;
    double x = ziggurat_candidate(a, b, &i);
    return fabs(x) < ZIG_X[i + 1] ? x : ls_inf();
}

// Numba twin: levyscore._ziggurat.ziggurat_slow
// Finish the candidate in words (a, b) exactly, reading Philox blocks (c0, c1, c2, *block),
// (.., *block + 1), ... as needed; *block ends at the first block not read. Each block is a
// new candidate (words 0, 1) and the height of its wedge test (words 2, 3), or the two
// uniforms of one attempt at the tail beyond R.
LS_HD inline double ziggurat_slow(ls_u32 a, ls_u32 b, ls_u32 c0, ls_u32 c1, ls_u32 c2,
                                  ls_u32* block, ls_u32 k0, ls_u32 k1) {
    int i;
    double x = ziggurat_candidate(a, b, &i);
    while (fabs(x) >= ZIG_X[i + 1]) {
        if (i == 0) {
            // the tail beyond R (Marsaglia 1964): R + E1/R, accepted when 2 E2 > (E1/R)^2
            double u1, u2, e;
            while (true) {
                uniform_pair(c0, c1, c2, *block, k0, k1, &u1, &u2);
                *block += 1u;
                e = -log(u1) / ZIG_R;
                if (-2.0 * log(u2) > e * e) {
                    break;
                }
            }
            return copysign(ZIG_R + e, x);
        }
        ls_u32 w0, w1, w2, w3;
        philox4x32_10(c0, c1, c2, *block, k0, k1, &w0, &w1, &w2, &w3);
        *block += 1u;
        double y = ZIG_F[i] + uniform_from_words(w2, w3) * (ZIG_F[i + 1] - ZIG_F[i]);
        if (y < exp(-0.5 * x * x)) {
            return x;
        }
        x = ziggurat_candidate(w0, w1, &i);
    }
    return x;
}

}  // namespace levyscore

#endif  // LEVYSCORE_ZIGGURAT_CUH
