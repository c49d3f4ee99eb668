#pragma once
// An autoencoder of two Sequentials whose halves also run alone: encode() maps data to the
// latent space, decode() maps a (possibly dequantized) latent back. The latent is the
// encoder's output, kept for the activation-sparsity penalty and the backward pass.
#include <string>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/layer.hpp"

namespace baler {

template <class Encoder, class Decoder>
class Autoencoder {
public:
  using backend = typename Encoder::backend;
  using value_type = typename Encoder::value_type;
  static_assert(std::is_same_v<backend, typename Decoder::backend>,
                "encoder and decoder must use the same backend");
  static_assert(std::is_same_v<value_type, typename Decoder::value_type>,
                "encoder and decoder must use the same scalar type");

  Autoencoder(Encoder encoder, Decoder decoder)
      : encoder_(std::move(encoder)), decoder_(std::move(decoder)) {
    require(decoder_.in_features() == encoder_.out_features(), "Autoencoder",
            "encoder gives " + std::to_string(encoder_.out_features()) +
                " latent features, decoder takes " + std::to_string(decoder_.in_features()));
  }

  std::size_t in_features() const { return encoder_.in_features(); }
  std::size_t latent_features() const { return encoder_.out_features(); }
  std::size_t out_features() const { return decoder_.out_features(); }

  // Parameters: the encoder's first, then the decoder's, so the decoder is one contiguous
  // tail of the flat buffer (what a compressed file embeds).
  std::size_t param_count() const { return encoder_.param_count() + decoder_.param_count(); }
  std::size_t state_count() const { return encoder_.state_count() + decoder_.state_count(); }
  std::size_t decoder_param_offset() const { return encoder_.param_count(); }
  std::size_t decoder_state_offset() const { return encoder_.state_count(); }
  void bind(value_type* params, value_type* grads, value_type* state) {
    encoder_.bind(params, grads, state);
    decoder_.bind(params + encoder_.param_count(), grads + encoder_.param_count(),
                  state + encoder_.state_count());
  }
  void init(rng& gen, value_type* params, value_type* state) {
    encoder_.init(gen, params, state);
    decoder_.init(gen, params + encoder_.param_count(), state + encoder_.state_count());
  }

  const_view<value_type> forward(backend& be, const_view<value_type> x, mode m) {
    latent_ = encoder_.forward(be, x, m);
    return decoder_.forward(be, latent_, m);
  }
  const_view<value_type> encode(backend& be, const_view<value_type> x) {
    return latent_ = encoder_.forward(be, x, mode::eval);
  }
  const_view<value_type> decode(backend& be, const_view<value_type> z) {
    return decoder_.forward(be, z, mode::eval);
  }
  // The latent of the last forward/encode: (rows x latent_features).
  const_view<value_type> latent() const { return latent_; }

  // Backward in two halves so that a penalty on the latent can add its gradient in between:
  // backward_decoder fills latent_grad(), backward_encoder consumes it.
  void backward_decoder(backend& be, matrix_view<value_type> dy) {
    decoder_.backward(be, dy, latent_grad(be));
  }
  matrix_view<value_type> latent_grad(backend& be) {
    return rows_view(be, latent_grad_, latent_.rows, latent_.cols);
  }
  void backward_encoder(backend& be, matrix_view<value_type> dx) {
    encoder_.backward(be, backend::view(latent_grad_).rows_slice(0, latent_.rows), dx);
  }
  void backward(backend& be, matrix_view<value_type> dy, matrix_view<value_type> dx) {
    backward_decoder(be, dy);
    backward_encoder(be, dx);
  }

  Encoder& encoder() { return encoder_; }
  Decoder& decoder() { return decoder_; }
  const Encoder& encoder() const { return encoder_; }
  const Decoder& decoder() const { return decoder_; }
  std::string describe() const {
    return "Autoencoder(encoder=" + encoder_.describe() + ", decoder=" + decoder_.describe() +
           ")";
  }

private:
  Encoder encoder_;
  Decoder decoder_;
  const_view<value_type> latent_;
  typename backend::template matrix<value_type> latent_grad_;
};

}  // namespace baler
