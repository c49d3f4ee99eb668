// Latent quantisation: values <-> IEEE binary16 or bfloat16 bits with the scalar conversions
// of format/half.hpp, so the GPU writes exactly the bits the CPU writes.
#include "baler/format/half.hpp"
#include "kernel_support.cuh"

namespace baler::cuda_kernels {

template <class T>
void encode_half(cudaStream_t s, const T* x, std::uint16_t* bits, std::size_t n, bool bf16) {
  if (bf16)
    for_each(s, n, [=] __device__(auto i) { bits[i] = float_to_bf16(static_cast<float>(x[i])); });
  else
    for_each(s, n, [=] __device__(auto i) { bits[i] = float_to_f16(static_cast<float>(x[i])); });
}

template <class T>
void decode_half(cudaStream_t s, const std::uint16_t* bits, T* x, std::size_t n, bool bf16) {
  if (bf16)
    for_each(s, n, [=] __device__(auto i) { x[i] = T(bf16_to_float(bits[i])); });
  else
    for_each(s, n, [=] __device__(auto i) { x[i] = T(f16_to_float(bits[i])); });
}

template void encode_half<float>(cudaStream_t, const float*, std::uint16_t*, std::size_t, bool);
template void encode_half<double>(cudaStream_t, const double*, std::uint16_t*, std::size_t, bool);
template void decode_half<float>(cudaStream_t, const std::uint16_t*, float*, std::size_t, bool);
template void decode_half<double>(cudaStream_t, const std::uint16_t*, double*, std::size_t, bool);

}  // namespace baler::cuda_kernels
