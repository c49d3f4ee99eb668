#pragma once
// The outputs of `baler diagnose`: a table per layer, a CSV per neuron and a heat map of the
// mean activations (layers as rows, neurons as columns, narrower layers padded as undefined).
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/diagnose/activation_stats.hpp"
#include "baler/plot/figure.hpp"

namespace baler::diagnose {

inline std::string format_table(const std::vector<layer_stats>& layers) {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-52s %6s %12s %6s %7s\n", "layer", "width", "mean |act|", "dead", "dead %");
  out += buf;
  for (const auto& l : layers) {
    const std::size_t dead = l.dead();
    std::snprintf(buf, sizeof buf, "%-52s %6zu %12.4g %6s %7s\n", l.name.c_str(), l.mean.size(), l.mean_abs(),
                  l.rectifier ? std::to_string(dead).c_str() : "-",
                  l.rectifier ? (std::to_string(100 * dead / l.mean.size()) + "%").c_str() : "-");
    out += buf;
  }
  return out;
}

inline std::string to_csv(const std::vector<layer_stats>& layers) {
  std::string out = "layer,neuron,mean,active_fraction\n";
  char buf[160];
  for (std::size_t k = 0; k < layers.size(); ++k)
    for (std::size_t n = 0; n < layers[k].mean.size(); ++n) {
      std::snprintf(buf, sizeof buf, "%zu,%zu,%.9g,%.9g\n", k + 1, n, layers[k].mean[n], layers[k].active_fraction[n]);
      out += buf;
    }
  return out;
}

// The heat map as a figure: mean activation, with a diverging palette centred on zero.
inline plot::figure heat_map(const std::vector<layer_stats>& layers) {
  std::size_t width = 0;
  double peak = 0;
  for (const auto& l : layers) {
    width = std::max(width, l.mean.size());
    for (double m : l.mean) peak = std::max(peak, std::abs(m));
  }
  std::vector<double> image(layers.size() * width, std::nan(""));
  for (std::size_t k = 0; k < layers.size(); ++k)
    std::copy(layers[k].mean.begin(), layers[k].mean.end(), image.begin() + long(k * width));
  std::string ytics;
  for (std::size_t k = 0; k < layers.size(); ++k)
    ytics += (k ? ", " : "") + plot::quote(layers[k].name.substr(0, layers[k].name.find(':'))) + " " + std::to_string(k);
  plot::figure f;
  f.name = "activations";
  f.height = 140 + 40 * int(layers.size());
  f.data = plot::matrix_block("act", image.data(), layers.size(), width);
  f.commands = "set title 'mean activation per neuron on the data (blank: layer narrower)'\n"
               "set xlabel 'neuron'\nset yrange [" + plot::gp_number(double(layers.size()) - 0.5) +
               ":-0.5]\nset xrange [-0.5:" + plot::gp_number(double(width) - 0.5) + "]\n" +
               "set ytics (" + ytics + ")\n" +
               "set palette defined (0 '#2166ac', 1 '#92c5de', 2 '#f7f7f7', 3 '#f4a582', 4 '#b2182b')\n" +
               "set cbrange [" + plot::gp_number(-std::max(peak, 1e-12)) + ":" + plot::gp_number(std::max(peak, 1e-12)) +
               "]\nset cblabel 'mean activation'\nplot $act matrix with image notitle\n";
  return f;
}

}  // namespace baler::diagnose
