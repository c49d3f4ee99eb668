#pragma once
// What Baler's `diagnose` mode shows: how each layer of a trained autoencoder behaves on data.
// For every layer output of encoder and decoder: the mean activation of each neuron, the
// fraction of rows on which it is active (> 0), and the neurons that are never active on the
// data ("dead": a rectifier unit that outputs its negative slope, or zero, on every row).
#include <string>
#include <vector>

#include "baler/codec/model_file.hpp"

namespace baler::diagnose {

struct layer_stats {
  std::string name;                      // "encoder 1: Dense(20->200, leaky_relu)"
  bool rectifier = false;                // ReLU-like: "dead" is meaningful
  std::vector<double> mean;              // per neuron, over the rows
  std::vector<double> active_fraction;   // per neuron: rows with output > 0
  std::size_t dead() const {
    std::size_t n = 0;
    for (double f : active_fraction) n += f == 0.0;
    return rectifier ? n : 0;
  }
  double mean_abs() const {
    double s = 0;
    for (double m : mean) s += std::abs(m);
    return mean.empty() ? 0.0 : s / double(mean.size());
  }
};

namespace detail {

// Adds the column sums of `y` (rows x width) and the counts of positive entries.
template <class T>
void accumulate(const std::vector<T>& y, std::size_t rows, layer_stats& s) {
  const std::size_t width = s.mean.size();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < width; ++c) {
      s.mean[c] += double(y[r * width + c]);
      s.active_fraction[c] += y[r * width + c] > T(0) ? 1.0 : 0.0;
    }
}

// Statistics of every layer output of `half` (a Sequential), appended to `out` the first time
// and accumulated afterwards.
template <class B, class Half>
void collect(B& be, const Half& half, const std::string& prefix, std::size_t rows,
             std::vector<layer_stats>& out, std::size_t& slot) {
  using T = typename Half::value_type;
  const std::vector<std::string> names = half.layer_names();
  for (std::size_t i = 0; i < Half::depth; ++i, ++slot) {
    const auto y = half.output(i);
    if (slot == out.size()) {
      layer_stats s;
      s.name = prefix + " " + std::to_string(i + 1) + ": " + names[i];
      s.rectifier = names[i].find("relu") != std::string::npos;
      s.mean.assign(y.cols, 0.0);
      s.active_fraction.assign(y.cols, 0.0);
      out.push_back(std::move(s));
    }
    std::vector<T> host(y.size());
    be.download(y, host.data());
    accumulate(host, rows, out[slot]);
  }
}

}  // namespace detail

// Runs `m` over `data` in evaluation mode, in chunks of `chunk` rows.
template <class B, class Model>
std::vector<layer_stats> activation_stats(B& be, codec::trained_model<B, Model>& m,
                                          const codec::table& data, std::size_t chunk = 65536) {
  using T = typename Model::value_type;
  require(m.model != nullptr, "diagnose", "the model file has no network: no column is modelled");
  require(data.cols == m.schema.names.size(), "diagnose",
          "the data has " + std::to_string(data.cols) + " columns, the model " +
              std::to_string(m.schema.names.size()));
  const std::vector<T> x = codec::network_inputs<T>(data, m.schema);
  const std::size_t width = m.schema.modelled.size();
  std::vector<layer_stats> out;
  for (std::size_t first = 0; first < data.rows; first += chunk) {
    const std::size_t n = std::min(chunk, data.rows - first);
    auto buf = be.template make<T>(n, width);
    be.upload(x.data() + first * width, B::view(buf));
    m.model->forward(be, B::view(buf), mode::eval);
    std::size_t slot = 0;
    detail::collect(be, m.model->encoder(), "encoder", n, out, slot);
    detail::collect(be, m.model->decoder(), "decoder", n, out, slot);
  }
  for (auto& s : out)
    for (std::size_t c = 0; c < s.mean.size(); ++c) {
      s.mean[c] /= double(data.rows);
      s.active_fraction[c] /= double(data.rows);
    }
  return out;
}

}  // namespace baler::diagnose
