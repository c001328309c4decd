// common.cuh -- shared definitions of the levyscore CUDA sources.
//
// Every .cuh file of this folder holds LS_HD ("__host__ __device__") scalar functions that
// mirror the Numba scalar functions of levyscore one for one: same names (without the
// leading underscore of private Numba functions; each carries a "Numba twin:" comment), same
// structure, same order of floating-point operations. They compile two ways:
//
//   * nvcc / NVRTC (CuPy's RawModule): __host__ __device__ functions, __global__ kernels;
//   * a host C++ compiler (g++ -x c++ file.cu): plain inline functions, and each kernel
//     becomes a serial loop over its elements (tests/test_kernel_parity.py compares them
//     with Numba on the CPU);
//   * the host compiler with -DLS_EMULATE_DEVICE and tests/cuda_shim.h: the device branch
//     itself, grid-stride loops and all, launched thread by thread over an emulated grid
//     (tests/cuda_emulation.py; the fake CuPy of tests/test_gpu_dispatch_fake.py runs the
//     public device paths through it).
//
// Kernels. A .cu file defines each kernel as an LS_BODY template (the storage type T of its
// float arrays) holding an LS_FOR_EACH loop over the elements, and one LS_KERNEL wrapper per
// type: `extern "C" __global__` with a grid-stride loop on the device, `extern "C"` with a
// serial loop on the host. One element (point, sample, array entry) per loop iteration.
//
// Floating-point contract. Numba (fastmath off) never fuses a multiply and an add, so a
// bit-for-bit mirror needs the same: host builds use -ffp-contract=off, device builds
// --fmad=false (levyscore/_gpu.py). With that, IEEE +, -, *, /, sqrt give identical bits
// everywhere; only libm calls (log, exp, sin, cos, expm1, lgamma, ...) may differ by an ulp
// or two between glibc (what Numba calls) and CUDA's libdevice.
//
// Multiple results are returned through pointer out-parameters (the Numba twins return
// tuples). Integers that are int64 in Numba are ls_i64 here; Philox words (uint64 below
// 2**32 in Numba) are ls_u32.
#ifndef LEVYSCORE_COMMON_CUH
#define LEVYSCORE_COMMON_CUH

#if !defined(__CUDACC_RTC__)
#include <math.h>
#endif

// LS_EMULATE_DEVICE: the device branch on the host C++ compiler, with tests/cuda_shim.h
// supplying __host__, __device__, __global__ and the thread indices (tests/cuda_emulation.py
// walks the grid), so the kernels' grid-stride loops run without a GPU.
#if defined(__CUDACC__) || defined(__CUDACC_RTC__) || defined(LS_EMULATE_DEVICE)
#define LS_HD __host__ __device__
// extern "C" names: CuPy looks kernels up by these plain names (no name_expressions).
#define LS_KERNEL extern "C" __global__ void
// The body of a kernel: a device function holding the grid-stride loop.
#define LS_BODY __device__ inline
// Grid-stride loop: one element per thread for a launch of >= n threads.
#define LS_FOR_EACH(i, n)                                                                 \
    for (ls_i64 i = (ls_i64)blockIdx.x * (ls_i64)blockDim.x + (ls_i64)threadIdx.x;      \
         i < (ls_i64)(n); i += (ls_i64)blockDim.x * (ls_i64)gridDim.x)
#else
#define LS_HD
#define LS_KERNEL extern "C" void
#define LS_BODY inline
#define LS_FOR_EACH(i, n) for (ls_i64 i = 0; i < (ls_i64)(n); ++i)
#endif

// Coefficient tables: __constant__ memory on the device, static const data on the host.
// (nvcc compiles a __host__ __device__ function twice; each pass sees its own table.)
#if defined(__CUDA_ARCH__)
#define LS_TABLE static __constant__ const
#else
#define LS_TABLE static const
#endif

// Own fixed-width names: NVRTC has no <stdint.h>, and these never clash with one.
typedef unsigned int ls_u32;
typedef unsigned long long ls_u64;
typedef long long ls_i64;

namespace levyscore {

LS_HD inline double ls_inf() {
#if defined(__CUDA_ARCH__)
    return __longlong_as_double(0x7ff0000000000000LL);
#else
    return HUGE_VAL;
#endif
}

LS_HD inline double ls_nan() {
#if defined(__CUDA_ARCH__)
    return __longlong_as_double(0x7ff8000000000000LL);
#else
    return NAN;
#endif
}

// a ** b for a float a and an int64 b, as Numba computes it (numba/cpython/numbers.py,
// int_power_impl): binary exponentiation, 1/r for negative b, math.pow beyond 2**16.
// C's pow(a, (double)b) rounds differently, so this loop is part of the mirror.
LS_HD inline double ipow(double a, ls_i64 b) {
    double r = 1.0;
    bool invert = b < 0;
    ls_i64 e = invert ? -b : b;
    if (e > 0x10000) {
        return pow(a, (double)b);
    }
    while (e != 0) {
        if (e & 1) {
            r *= a;
        }
        e >>= 1;
        a *= a;
    }
    if (invert) {
        return 1.0 / r;
    }
    return r;
}

// Numba's int(x) for a finite float x: truncation toward zero. Values beyond the int64
// range (where Numba's fptosi is undefined; x86 gives INT64_MIN) map to INT64_MIN here
// too, so that every comparison of the result behaves the same.
LS_HD inline ls_i64 to_int(double x) {
    if (!(x > -9.2e18 && x < 9.2e18)) {
        return (ls_i64)(-9223372036854775807LL - 1);
    }
    return (ls_i64)x;
}

}  // namespace levyscore

#endif  // LEVYSCORE_COMMON_CUH
