#pragma once
// BALER_HOST_DEVICE marks a small scalar formula that both the CPU loops and the CUDA kernels
// call, so each formula is written once. Outside nvcc it expands to nothing.
#if defined(__CUDACC__)
#define BALER_HOST_DEVICE __host__ __device__
#else
#define BALER_HOST_DEVICE
#endif
