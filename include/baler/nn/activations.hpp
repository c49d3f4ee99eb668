#pragma once
// Scalar activation formulas, shared by every backend (BALER_HOST_DEVICE lets a CUDA kernel
// call the same function). The derivative is written in terms of the OUTPUT y = f(x), so a
// fused Dense+activation layer needs to keep only its output for the backward pass.
#include <cmath>
#include <string>

#include "baler/core/error.hpp"
#include "baler/core/host_device.hpp"

namespace baler::act {

struct identity {
  static constexpr const char* name = "identity";
  template <class T> BALER_HOST_DEVICE T f(T x) const { return x; }
  template <class T> BALER_HOST_DEVICE T df(T) const { return T(1); }
};

struct relu {
  static constexpr const char* name = "relu";
  template <class T> BALER_HOST_DEVICE T f(T x) const { return x > T(0) ? x : T(0); }
  template <class T> BALER_HOST_DEVICE T df(T y) const { return y > T(0) ? T(1) : T(0); }
};

// f(x) = x for x > 0, slope * x otherwise. slope >= 0 keeps sign(y) == sign(x), which is what
// lets the derivative be read off the output.
struct leaky_relu {
  static constexpr const char* name = "leaky_relu";
  double slope = 0.01;
  leaky_relu() = default;
  explicit leaky_relu(double s) : slope(s) {
    require(s >= 0.0, "leaky_relu", "negative slope " + std::to_string(s) + " is not supported");
  }
  // Written as selects between two computed values so that loops over them vectorise.
  template <class T> BALER_HOST_DEVICE T f(T x) const {
    const T scaled = T(slope) * x;
    return x > T(0) ? x : scaled;
  }
  template <class T> BALER_HOST_DEVICE T df(T y) const {
    const T s = T(slope);
    return y > T(0) ? T(1) : s;
  }
};

struct tanh {
  static constexpr const char* name = "tanh";
  template <class T> BALER_HOST_DEVICE T f(T x) const { return std::tanh(x); }
  template <class T> BALER_HOST_DEVICE T df(T y) const { return T(1) - y * y; }
};

struct sigmoid {
  static constexpr const char* name = "sigmoid";
  template <class T> BALER_HOST_DEVICE T f(T x) const { return T(1) / (T(1) + std::exp(-x)); }
  template <class T> BALER_HOST_DEVICE T df(T y) const { return y * (T(1) - y); }
};

}  // namespace baler::act
