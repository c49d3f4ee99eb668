#pragma once
// What Baler's `diagnose` mode shows: how each layer of a trained autoencoder behaves on data.
// For every layer output of encoder and decoder: the mean activation of each neuron, its mean
// absolute activation, the fraction of rows on which it is active (> 0), and the neurons that
// are never active on the data ("dead": a rectifier unit that outputs its negative slope, or
// zero, on every row, so that no gradient of size reaches its weights any more).
#include <cmath>
#include <string>
#include <vector>

#include "baler/codec/model_file.hpp"

namespace baler::diagnose {

struct layer_stats {
  std::string label;                     // "encoder 1": half and 1-based position
  std::string layer;                     // "Dense(20->200, leaky_relu)"
  bool rectifier = false;                // ReLU-like: "dead" is meaningful
  std::vector<double> mean;              // per neuron, over the rows
  std::vector<double> mean_abs;          // per neuron: mean |activation| over the rows
  std::vector<double> active_fraction;   // per neuron: fraction of rows with output > 0

  std::string name() const { return label + ": " + layer; }
  std::size_t width() const { return mean.size(); }
  bool dead(std::size_t neuron) const { return rectifier && active_fraction[neuron] == 0.0; }
  std::size_t dead_count() const {
    std::size_t n = 0;
    for (std::size_t k = 0; k < width(); ++k) n += dead(k);
    return n;
  }
  // Mean |activation| over rows and neurons: the layer's typical output size.
  double layer_mean_abs() const {
    double s = 0;
    for (double m : mean_abs) s += m;
    return mean_abs.empty() ? 0.0 : s / double(mean_abs.size());
  }
};

namespace detail {

// Adds the column sums of `y` (rows x width, row-major), of |y| and the counts of y > 0.
template <class T>
void accumulate(const std::vector<T>& y, std::size_t rows, layer_stats& s) {
  const std::size_t width = s.width();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < width; ++c) {
      const double v = double(y[r * width + c]);
      s.mean[c] += v;
      s.mean_abs[c] += std::abs(v);
      s.active_fraction[c] += v > 0 ? 1.0 : 0.0;
    }
}

// Sums for every layer output of `half` (a Sequential) after a forward of `rows` rows:
// out[slot...] are created on the first chunk and accumulated on the later ones.
template <class B, class Half>
void collect(B& be, const Half& half, const std::string& prefix, std::size_t rows,
             std::vector<layer_stats>& out, std::size_t& slot) {
  using T = typename Half::value_type;
  const std::vector<std::string> names = half.layer_names();
  for (std::size_t i = 0; i < Half::depth; ++i, ++slot) {
    const auto y = half.output(i);
    if (slot == out.size()) {
      layer_stats s;
      s.label = prefix + " " + std::to_string(i + 1);
      s.layer = names[i];
      s.rectifier = names[i].find("relu") != std::string::npos;
      s.mean.assign(y.cols, 0.0);
      s.mean_abs.assign(y.cols, 0.0);
      s.active_fraction.assign(y.cols, 0.0);
      out.push_back(std::move(s));
    }
    std::vector<T> host(y.size());
    be.download(y, host.data());
    accumulate(host, rows, out[slot]);
  }
}

}  // namespace detail

// Runs `m` over `data` (the original table, all columns) in evaluation mode, `chunk` rows at a
// time so that the activations of a large table need not fit at once. The network sees what
// the codec gives it: the modelled columns, normalised by the schema. Returns the encoder's
// layers, then the decoder's.
template <class B, class Model>
std::vector<layer_stats> activation_stats(B& be, codec::trained_model<B, Model>& m,
                                          const codec::table& data, std::size_t chunk = 65536) {
  using T = typename Model::value_type;
  require(m.has_network(), "diagnose", "the model file has no network: no column is modelled");
  require(data.cols == m.schema.names.size(), "diagnose",
          "the data has " + std::to_string(data.cols) + " columns, the model " +
              std::to_string(m.schema.names.size()));
  require(data.rows > 0 && chunk > 0, "diagnose", "no rows to run the model on");
  const std::vector<T> x = codec::network_inputs<T>(data, m.schema);
  const std::size_t width = m.schema.modelled.size();
  std::vector<layer_stats> out;
  for (std::size_t first = 0; first < data.rows; first += chunk) {
    const std::size_t n = std::min(chunk, data.rows - first);
    auto buf = be.template make<T>(n, width);
    be.upload(x.data() + first * width, B::view(buf));
    std::size_t slot = 0;
    m.visit([&](auto& net) {
      net.forward(be, B::view(buf), mode::eval);
      detail::collect(be, net.encoder(), "encoder", n, out, slot);
      detail::collect(be, net.decoder(), "decoder", n, out, slot);
    });
  }
  for (auto& s : out)
    for (std::size_t c = 0; c < s.width(); ++c) {
      s.mean[c] /= double(data.rows);
      s.mean_abs[c] /= double(data.rows);
      s.active_fraction[c] /= double(data.rows);
    }
  return out;
}

}  // namespace baler::diagnose
