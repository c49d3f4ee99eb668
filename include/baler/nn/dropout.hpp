#pragma once
// Inverted dropout: in training each value is zeroed with probability p and the survivors are
// scaled by 1/(1-p), so evaluation is the identity. The layer owns its generator, seeded from
// the model's generator in init(), so a seed fixes the masks too.
#include <string>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/layer.hpp"

namespace baler {

template <class B, class T>
class Dropout {
public:
  using backend = B;
  using value_type = T;

  explicit Dropout(double p) : p_(p) {
    require(p >= 0.0 && p < 1.0, "Dropout", "p must be in [0, 1), got " + std::to_string(p));
  }
  std::size_t out_features(std::size_t in) const { return in; }
  std::size_t param_count() const { return 0; }
  std::size_t state_count() const { return 0; }
  void bind(T*, T*, T*) {}
  void init(rng& gen, T*, T*) { gen_ = rng(gen.next()); }

  void forward(B& be, const_view<T> x, matrix_view<T> y, mode m) {
    if (m == mode::eval || p_ == 0.0) {
      be.copy(x, y);
      return;
    }
    auto mask = rows_view(be, mask_, x.rows, x.cols);
    be.dropout_forward(x, y, mask, p_, gen_);
  }
  void backward(B& be, const_view<T>, const_view<T> y, matrix_view<T> dy,
                matrix_view<T> dx) const {
    if (dx.empty()) return;
    if (p_ != 0.0) be.multiply(B::view(mask_).rows_slice(0, y.rows), dy);
    be.copy(const_view<T>(dy), dx);
  }
  std::string describe() const { return "Dropout(" + std::to_string(p_) + ")"; }

private:
  double p_;
  rng gen_{0};
  typename B::template matrix<T> mask_;
};

}  // namespace baler
