#pragma once
// The geometry of one convolution window sweep, shared by convolution, its transpose and
// pooling, and by the CPU loops and the CUDA kernels (one formula for both, BALER_HOST_DEVICE).
//
// A sample is one row of C * D * H * W values in PyTorch's NCDHW order (a 2-D field has D = 1
// and kernel depth 1, so one geometry serves 2-D and 3-D). The window sweep gives
// P = Do * Ho * Wo output positions with Do = (D + 2 pad_d - kernel_d) / stride_d + 1 (same for
// H, W) and K = kd * kh * kw taps per channel.
//
// im2col:  col (C*K x P), col[c*K + (kz*kh + ky)*kw + kx][(oz*Ho + oy)*Wo + ox]
//            = x[c][oz*sd - pd + kz][oy*sh - ph + ky][ox*sw - pw + kx], 0 outside the input.
// col2im:  the adjoint: x[c][z][y][x] = sum of the col entries im2col would read it into.
#include <cstddef>
#include <string>

#include "baler/core/error.hpp"
#include "baler/core/host_device.hpp"

namespace baler {

struct conv_geometry {
  std::size_t channels = 1;
  std::size_t in[3] = {1, 1, 1};  // D, H, W of the swept input
  std::size_t kernel[3] = {1, 1, 1};
  std::size_t stride[3] = {1, 1, 1};
  std::size_t pad[3] = {0, 0, 0};

  // A square/cubic window on a 2-D (H x W) or 3-D (D x H x W) grid.
  static conv_geometry grid_2d(std::size_t c, std::size_t h, std::size_t w, std::size_t k,
                               std::size_t s = 1, std::size_t p = 0) {
    return checked({c, {1, h, w}, {1, k, k}, {1, s, s}, {0, p, p}});
  }
  static conv_geometry grid_3d(std::size_t c, std::size_t d, std::size_t h, std::size_t w,
                               std::size_t k, std::size_t s = 1, std::size_t p = 0) {
    return checked({c, {d, h, w}, {k, k, k}, {s, s, s}, {p, p, p}});
  }
  // The output side of PyTorch's ConvTranspose on an input grid `in`:
  // out = (in - 1) * s - 2p + k + output_padding per axis (depth stays 1 for 2-D).
  static conv_geometry transposed(conv_geometry g, std::size_t output_padding = 0) {
    for (int a = 0; a < 3; ++a) {
      const bool flat = g.in[a] == 1 && g.kernel[a] == 1;  // the unused depth of a 2-D grid
      const std::size_t grown =
          (g.in[a] - 1) * g.stride[a] + g.kernel[a] + (flat ? 0 : output_padding);
      require(grown > 2 * g.pad[a], "conv_geometry::transposed", "padding exceeds the output");
      g.in[a] = grown - 2 * g.pad[a];
    }
    return checked(g);
  }

  static conv_geometry checked(const conv_geometry& g) {
    require(g.channels > 0, "conv_geometry", "no channels");
    for (int a = 0; a < 3; ++a) {
      require(g.in[a] > 0 && g.kernel[a] > 0 && g.stride[a] > 0, "conv_geometry",
              "sizes and strides must be positive, got " + g.describe());
      require(g.in[a] + 2 * g.pad[a] >= g.kernel[a], "conv_geometry",
              "kernel larger than the padded input: " + g.describe());
      require(g.pad[a] < g.kernel[a], "conv_geometry", "padding must be below the kernel size");
    }
    return g;
  }

  BALER_HOST_DEVICE std::size_t out(int a) const {
    return (in[a] + 2 * pad[a] - kernel[a]) / stride[a] + 1;
  }
  BALER_HOST_DEVICE std::size_t in_positions() const { return in[0] * in[1] * in[2]; }
  BALER_HOST_DEVICE std::size_t out_positions() const { return out(0) * out(1) * out(2); }
  BALER_HOST_DEVICE std::size_t taps() const { return kernel[0] * kernel[1] * kernel[2]; }
  BALER_HOST_DEVICE std::size_t in_size() const { return channels * in_positions(); }
  BALER_HOST_DEVICE std::size_t col_rows() const { return channels * taps(); }

  // col entry i (row-major in col) = x[im2col_source(i)], or 0 where it returns -1.
  BALER_HOST_DEVICE long long im2col_source(std::size_t i) const {
    const std::size_t p = i % out_positions(), r = i / out_positions();
    const std::size_t k = r % taps(), c = r / taps();
    const std::size_t tap[3] = {k / (kernel[1] * kernel[2]), k / kernel[2] % kernel[1],
                                k % kernel[2]};
    const std::size_t pos[3] = {p / (out(1) * out(2)), p / out(2) % out(1), p % out(2)};
    std::size_t index = c;
    for (int a = 0; a < 3; ++a) {
      const long long v =
          static_cast<long long>(pos[a] * stride[a] + tap[a]) - static_cast<long long>(pad[a]);
      if (v < 0 || v >= static_cast<long long>(in[a])) return -1;
      index = index * in[a] + static_cast<std::size_t>(v);
    }
    return static_cast<long long>(index);
  }

  // x entry j of col2im: the sum over the taps that read x[j], in a fixed order (so the CPU
  // and a GPU thread per j add the same numbers in the same order).
  template <class T>
  BALER_HOST_DEVICE T col2im_value(const T* col, std::size_t j) const {
    const std::size_t n = in_positions(), q = j % n, c = j / n;
    const std::size_t at[3] = {q / (in[1] * in[2]), q / in[2] % in[1], q % in[2]};
    T sum = T(0);
    for (std::size_t kz = 0; kz < kernel[0]; ++kz)
      for (std::size_t ky = 0; ky < kernel[1]; ++ky)
        for (std::size_t kx = 0; kx < kernel[2]; ++kx) {
          const std::size_t tap[3] = {kz, ky, kx};
          std::size_t p = 0;
          bool hit = true;
          for (int a = 0; a < 3 && hit; ++a) {
            const long long v =
                static_cast<long long>(at[a] + pad[a]) - static_cast<long long>(tap[a]);
            const long long o = v / static_cast<long long>(stride[a]);
            hit = v >= 0 && v % static_cast<long long>(stride[a]) == 0 &&
                  o < static_cast<long long>(out(a));
            p = p * out(a) + static_cast<std::size_t>(o);
          }
          if (hit)
            sum +=
                col[((c * taps()) + (kz * kernel[1] + ky) * kernel[2] + kx) * out_positions() + p];
        }
    return sum;
  }

  // Max pooling. Entry i = c*P + p of the output: the index into x of the largest value in
  // window p of channel c, the first in tap order among equals; padding is skipped (PyTorch
  // pads with -inf), and every window holds an input value since pad < kernel.
  template <class T>
  BALER_HOST_DEVICE std::size_t window_argmax(const T* x, std::size_t i) const {
    const std::size_t p = i % out_positions(), c = i / out_positions();
    const std::size_t pos[3] = {p / (out(1) * out(2)), p / out(2) % out(1), p % out(2)};
    std::size_t best = 0;
    bool found = false;
    for (std::size_t k = 0; k < taps(); ++k) {
      const std::size_t tap[3] = {k / (kernel[1] * kernel[2]), k / kernel[2] % kernel[1],
                                  k % kernel[2]};
      std::size_t index = c;
      bool inside = true;
      for (int a = 0; a < 3 && inside; ++a) {
        const long long v =
            static_cast<long long>(pos[a] * stride[a] + tap[a]) - static_cast<long long>(pad[a]);
        inside = v >= 0 && v < static_cast<long long>(in[a]);
        index = index * in[a] + static_cast<std::size_t>(v);
      }
      if (inside && (!found || x[index] > x[best])) best = index, found = true;
    }
    return best;
  }
  // x entry j of max pooling's input gradient: the sum of dy over the windows whose maximum
  // is x[j], gathered in a fixed order like col2im_value (no scatter, no atomics on a GPU).
  template <class T>
  BALER_HOST_DEVICE T max_pool_gradient(const T* x, const T* dy, std::size_t j) const {
    const std::size_t n = in_positions(), q = j % n, c = j / n;
    const std::size_t at[3] = {q / (in[1] * in[2]), q / in[2] % in[1], q % in[2]};
    T sum = T(0);
    for (std::size_t k = 0; k < taps(); ++k) {
      const std::size_t tap[3] = {k / (kernel[1] * kernel[2]), k / kernel[2] % kernel[1],
                                  k % kernel[2]};
      std::size_t p = 0;
      bool hit = true;
      for (int a = 0; a < 3 && hit; ++a) {
        const long long v = static_cast<long long>(at[a] + pad[a]) - static_cast<long long>(tap[a]);
        const long long o = v / static_cast<long long>(stride[a]);
        hit = v >= 0 && v % static_cast<long long>(stride[a]) == 0 &&
              o < static_cast<long long>(out(a));
        p = p * out(a) + static_cast<std::size_t>(o);
      }
      const std::size_t i = c * out_positions() + p;
      if (hit && window_argmax(x, i) == j) sum += dy[i];
    }
    return sum;
  }

  std::string describe() const {
    auto triple = [](const std::size_t* v) {
      return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" + std::to_string(v[2]);
    };
    return std::to_string(channels) + "@" + triple(in) + " k" + triple(kernel) + " s" +
           triple(stride) + " p" + triple(pad);
  }
};

}  // namespace baler
