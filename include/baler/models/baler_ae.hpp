#pragma once
// Baler's dense autoencoders. "AE" (its HEP model): n -> 200 -> 100 -> 50 -> latent and back,
// LeakyReLU after every layer but the bottleneck and the output. The hidden widths are a
// run-time choice here (Baler fixes 200/100/50), so a small decoder can be traded for ratio.
// "AE_Dropout_BN" adds BatchNorm1d and Dropout after each hidden layer of the encoder.
#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "baler/format/container.hpp"
#include "baler/nn/activation_layer.hpp"
#include "baler/nn/autoencoder.hpp"
#include "baler/nn/batchnorm.hpp"
#include "baler/nn/dense.hpp"
#include "baler/nn/dropout.hpp"
#include "baler/nn/sequential.hpp"

namespace baler::models {

struct ae_shape {
  std::size_t features = 24;
  std::size_t latent = 15;
  std::array<std::size_t, 3> hidden{200, 100, 50};  // encoder widths; the decoder mirrors them
  double slope = 0.01;                              // LeakyReLU slope
  // The convolutional architecture's frame (D, H, W; conv_ae.hpp), whose `hidden` are then the
  // channels of its three convolutions; all 0: the dense architecture.
  std::array<std::size_t, 3> frame{0, 0, 0};
  bool convolutional() const { return frame[0] != 0; }
};

template <class B, class T>
using LeakyDense = Dense<B, T, act::leaky_relu>;
template <class B, class T>
using Linear = Dense<B, T, act::identity>;

template <class B, class T>
using AEHalf = Sequential<LeakyDense<B, T>, LeakyDense<B, T>, LeakyDense<B, T>, Linear<B, T>>;
template <class B, class T>
using AE = Autoencoder<AEHalf<B, T>, AEHalf<B, T>>;

template <class B, class T>
AE<B, T> make_ae(const ae_shape& s) {
  const act::leaky_relu f(s.slope);
  const auto& h = s.hidden;
  AEHalf<B, T> encoder(s.features, LeakyDense<B, T>(s.features, h[0], f),
                       LeakyDense<B, T>(h[0], h[1], f), LeakyDense<B, T>(h[1], h[2], f),
                       Linear<B, T>(h[2], s.latent));
  AEHalf<B, T> decoder(s.latent, LeakyDense<B, T>(s.latent, h[2], f),
                       LeakyDense<B, T>(h[2], h[1], f), LeakyDense<B, T>(h[1], h[0], f),
                       Linear<B, T>(h[0], s.features));
  return AE<B, T>(std::move(encoder), std::move(decoder));
}

// Encoder hidden block of AE_Dropout_BN: Dense, BatchNorm1d, LeakyReLU, Dropout.
template <class B, class T>
using BNBlock = Sequential<Linear<B, T>, BatchNorm1d<B, T>, LeakyReLU<B, T>, Dropout<B, T>>;
template <class B, class T>
using AEDropoutBNEncoder = Sequential<BNBlock<B, T>, BNBlock<B, T>, BNBlock<B, T>, Linear<B, T>>;
template <class B, class T>
using AEDropoutBN = Autoencoder<AEDropoutBNEncoder<B, T>, AEHalf<B, T>>;

template <class B, class T>
AEDropoutBN<B, T> make_ae_dropout_bn(const ae_shape& s, double dropout = 0.2) {
  const act::leaky_relu f(s.slope);
  const auto& h = s.hidden;
  auto block = [&](std::size_t in, std::size_t out) {
    return BNBlock<B, T>(in, Linear<B, T>(in, out), BatchNorm1d<B, T>(out), LeakyReLU<B, T>(f),
                         Dropout<B, T>(dropout));
  };
  AEDropoutBNEncoder<B, T> encoder(s.features, block(s.features, h[0]), block(h[0], h[1]),
                                   block(h[1], h[2]), Linear<B, T>(h[2], s.latent));
  AEHalf<B, T> decoder(s.latent, LeakyDense<B, T>(s.latent, h[2], f),
                       LeakyDense<B, T>(h[2], h[1], f), LeakyDense<B, T>(h[1], h[0], f),
                       Linear<B, T>(h[0], s.features));
  return AEDropoutBN<B, T>(std::move(encoder), std::move(decoder));
}

// How the codec builds, names and records a model type: its architecture as JSON, so that a
// compressed file rebuilds exactly the decoder it was written with.
template <class Model>
struct model_traits {
  static_assert(sizeof(Model) == 0,
                "baler::models::model_traits<Model> is not specialised for this model type: "
                "specialise it (name, make, to_json, from_json) to use the model in a Codec");
};

inline nlohmann::json to_json(const ae_shape& s) {
  nlohmann::json j = {{"features", s.features}, {"latent", s.latent}, {"hidden", s.hidden},
                      {"slope", s.slope}};
  if (s.convolutional()) j["frame"] = s.frame;  // absent in dense models (and all older files)
  return j;
}
inline ae_shape ae_shape_from_json(const nlohmann::json& j) {
  ae_shape s;
  s.features = format::header_size(j.at("features"), "the features");
  s.latent = format::header_size(j.at("latent"), "the latent size");
  s.hidden = format::header_int_array<std::size_t, 3>(j.at("hidden"), "the hidden layers");
  s.slope = j.at("slope").get<double>();
  if (j.contains("frame")) s.frame = format::header_int_array<std::size_t, 3>(j["frame"], "a conv model's frame");
  return s;
}

// Parameters of the decoder half (both models share it), computed without building anything:
// a file's claim can be checked against its section sizes first.
inline double ae_decoder_params(const ae_shape& s) {
  const auto& h = s.hidden;
  return double(s.latent + 1) * double(h[2]) + double(h[2] + 1) * double(h[1]) +
         double(h[1] + 1) * double(h[0]) + double(h[0] + 1) * double(s.features);
}

template <class B, class T>
struct model_traits<AE<B, T>> {
  static constexpr const char* name = "AE";
  static AE<B, T> make(const ae_shape& s) { return make_ae<B, T>(s); }
};
template <class B, class T>
struct model_traits<AEDropoutBN<B, T>> {
  static constexpr const char* name = "AE_Dropout_BN";
  static AEDropoutBN<B, T> make(const ae_shape& s) { return make_ae_dropout_bn<B, T>(s); }
};

}  // namespace baler::models
