#pragma once
// One flat buffer each for a model's parameters, their gradients and its saved state (batch
// norm statistics), so that an optimizer step is one pass and a checkpoint is one copy.
#include <vector>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"

namespace baler {

template <class B, class T>
class parameters {
public:
  // Allocates the buffers, binds the model's layers to them and initialises them from `seed`
  // (on the host, so every backend starts from the same numbers).
  template <class Model>
  parameters(B& be, Model& model, std::uint64_t seed)
      : values_(be.template make<T>(1, model.param_count())),
        grads_(be.template make<T>(1, model.param_count())),
        state_(be.template make<T>(1, model.state_count())) {
    model.bind(B::view(values_).data, B::view(grads_).data, B::view(state_).data);
    std::vector<T> host_values(model.param_count()), host_state(model.state_count());
    rng gen(seed);
    model.init(gen, host_values.data(), host_state.data());
    be.upload(host_values.data(), values());
    be.upload(host_state.data(), state());
    be.fill(gradients(), T(0));
  }

  // Layers hold pointers into the buffers: copying would leave them bound to the original.
  parameters(const parameters&) = delete;
  parameters& operator=(const parameters&) = delete;
  parameters(parameters&&) = default;

  std::size_t size() const { return values_.shape(1); }
  std::size_t state_size() const { return state_.shape(1); }
  matrix_view<T> values() { return B::view(values_); }
  matrix_view<T> gradients() { return B::view(grads_); }
  matrix_view<T> state() { return B::view(state_); }
  const_view<T> values() const { return B::view(values_); }
  const_view<T> gradients() const { return B::view(grads_); }
  const_view<T> state() const { return B::view(state_); }

private:
  typename B::template matrix<T> values_, grads_, state_;
};

}  // namespace baler
