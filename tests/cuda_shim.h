// CUDA shim for the host emulation of levyscore's kernels (tests only; see
// tests/cuda_emulation.py). Included first (g++ -include) with -DLS_EMULATE_DEVICE, so that
// kernels/common.cuh takes its device branch: LS_KERNEL is `extern "C" __global__ void` and
// LS_FOR_EACH the grid-stride loop over blockIdx, blockDim, threadIdx and gridDim. Here the
// qualifiers are empty and the indices are per-translation-unit globals that the generated
// launchers (ls_emu_<kernel>) set before calling the kernel once per emulated thread.
// __CUDA_ARCH__ stays undefined: the math is the host's (glibc), as in the Numba twins.
#ifndef LEVYSCORE_TESTS_CUDA_SHIM_H
#define LEVYSCORE_TESTS_CUDA_SHIM_H

#define __host__
#define __device__
#define __global__

struct ls_emu_dim3 {
    unsigned int x, y, z;
};

static ls_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

// The emulated threads run one after another, so an atomic add is a plain one.
static inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long val) {
    unsigned long long old = *address;
    *address = old + val;
    return old;
}

#endif  // LEVYSCORE_TESTS_CUDA_SHIM_H
