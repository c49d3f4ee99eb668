#pragma once
// Baler's frame-level convolutional autoencoder for fields: a sample is one frame, a 2-D
// (H x W) or 3-D (D x H x W) grid of one channel, encoded by three strided convolutions and a
// dense layer to the latent, and decoded by the mirror image:
//
//   encoder: frame (1 x D*H*W) -> [Conv k3 s2 p1 -> LeakyReLU] x 3 -> Flatten (c3 * P3)
//            -> Dense -> latent
//   decoder: latent -> Dense + LeakyReLU (c3 * P3) -> Reshape (c3 x grid3)
//            -> [ConvTranspose -> LeakyReLU] x 2 -> ConvTranspose -> frame
//
// The channels c1, c2, c3 are ae_shape::hidden, the frame ae_shape::frame (D = 1 for 2-D).
// An axis of length 1 is not swept (kernel 1, stride 1), so one model type serves 2-D and 3-D.
// Each transpose sweeps the grid its mirrored convolution read, so any length comes back
// exactly (n -> ceil(n/2) -> n): frames need no padding or cropping.
//
// The decoder is small because the convolutions are shared by every position: its size is
// dominated by the dense layer, (latent + 1) * c3 * P3 parameters.
#include <array>

#include "baler/models/baler_ae.hpp"
#include "baler/nn/conv.hpp"
#include "baler/nn/conv_transpose.hpp"
#include "baler/nn/reshape.hpp"

namespace baler::models {

using grid3 = std::array<std::size_t, 3>;

// Convolution i's sweep of `grid` with `channels` input channels: k3 s2 p1 along every axis
// longer than 1.
inline conv_geometry conv_ae_sweep(std::size_t channels, const grid3& grid) {
  conv_geometry g;
  g.channels = channels;
  for (int a = 0; a < 3; ++a) {
    const bool flat = grid[a] == 1;
    g.in[a] = grid[a];
    g.kernel[a] = flat ? 1 : 3;
    g.stride[a] = flat ? 1 : 2;
    g.pad[a] = flat ? 0 : 1;
  }
  return conv_geometry::checked(g);
}

// grids[0] = the frame, grids[i + 1] = the output grid of convolution i.
inline std::array<grid3, 4> conv_ae_grids(const grid3& frame) {
  std::array<grid3, 4> grids{frame};
  for (int i = 0; i < 3; ++i) {
    const conv_geometry g = conv_ae_sweep(1, grids[i]);
    grids[i + 1] = {g.out(0), g.out(1), g.out(2)};
  }
  return grids;
}

inline std::size_t positions(const grid3& g) { return g[0] * g[1] * g[2]; }

template <class B, class T>
using ConvAEEncoder = Sequential<Conv<B, T>, LeakyReLU<B, T>, Conv<B, T>, LeakyReLU<B, T>,
                                 Conv<B, T>, LeakyReLU<B, T>, Reshape<B, T>, Linear<B, T>>;
template <class B, class T>
using ConvAEDecoder = Sequential<LeakyDense<B, T>, Reshape<B, T>, ConvTranspose<B, T>,
                                 LeakyReLU<B, T>, ConvTranspose<B, T>, LeakyReLU<B, T>,
                                 ConvTranspose<B, T>>;
template <class B, class T>
using ConvAE = Autoencoder<ConvAEEncoder<B, T>, ConvAEDecoder<B, T>>;

inline void require_conv_shape(const ae_shape& s) {
  require(s.frame[0] > 0 && s.frame[1] > 0 && s.frame[2] > 0 && s.latent > 0 &&
              s.hidden[0] > 0 && s.hidden[1] > 0 && s.hidden[2] > 0 &&
              double(s.frame[0]) * double(s.frame[1]) * double(s.frame[2]) == double(s.features),
          "ConvAE", "the frame, channels and latent must be positive, the frame hold `features` values");
}

template <class B, class T>
ConvAE<B, T> make_conv_ae(const ae_shape& s) {
  require_conv_shape(s);
  const act::leaky_relu f(s.slope);
  const auto grids = conv_ae_grids(s.frame);
  const std::size_t c[4] = {1, s.hidden[0], s.hidden[1], s.hidden[2]};
  const std::size_t flat = c[3] * positions(grids[3]);
  const std::string shape3 = std::to_string(c[3]) + "@" + std::to_string(grids[3][0]) + "x" +
                             std::to_string(grids[3][1]) + "x" + std::to_string(grids[3][2]);
  auto conv = [&](int i) { return Conv<B, T>(conv_ae_sweep(c[i], grids[i]), c[i + 1]); };
  auto up = [&](int i) { return ConvTranspose<B, T>(c[i + 1], conv_ae_sweep(c[i], grids[i])); };
  ConvAEEncoder<B, T> encoder(s.features, conv(0), LeakyReLU<B, T>(f), conv(1),
                              LeakyReLU<B, T>(f), conv(2), LeakyReLU<B, T>(f),
                              Reshape<B, T>(flat, std::to_string(flat)),
                              Linear<B, T>(flat, s.latent));
  ConvAEDecoder<B, T> decoder(s.latent, LeakyDense<B, T>(s.latent, flat, f),
                              Reshape<B, T>(flat, shape3), up(2), LeakyReLU<B, T>(f), up(1),
                              LeakyReLU<B, T>(f), up(0));
  return ConvAE<B, T>(std::move(encoder), std::move(decoder));
}

// Parameters of the decoder half, computed without building anything (as ae_decoder_params).
inline double conv_ae_decoder_params(const ae_shape& s) {
  require_conv_shape(s);
  const auto grids = conv_ae_grids(s.frame);
  const double c[4] = {1, double(s.hidden[0]), double(s.hidden[1]), double(s.hidden[2])};
  double n = double(s.latent + 1) * c[3] * double(positions(grids[3]));
  for (int i = 0; i < 3; ++i) n += c[i + 1] * c[i] * double(conv_ae_sweep(1, grids[i]).taps()) + c[i];
  return n;
}

inline constexpr const char* conv_ae_name = "ConvAE";

}  // namespace baler::models
