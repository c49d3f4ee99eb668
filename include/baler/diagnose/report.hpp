#pragma once
// The outputs of `baler diagnose`: a table per layer, a CSV per neuron and a heat map.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "baler/diagnose/activation_stats.hpp"
#include "baler/plot/figure.hpp"

namespace baler::diagnose {

// One line per layer: width, mean |activation|, dead neurons ("-" where the layer is linear and
// a neuron that is never positive is just one with a negative output).
inline std::string format_table(const std::vector<layer_stats>& layers) {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-42s %6s %12s %6s %7s\n", "layer", "width", "mean |act|", "dead", "dead %");
  out += buf;
  for (const auto& l : layers) {
    std::string dead = "-", percent = "-";
    if (l.rectifier) {
      dead = std::to_string(l.dead_count());
      std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * double(l.dead_count()) / double(l.width()));
      percent = buf;
    }
    std::snprintf(buf, sizeof buf, "%-42s %6zu %12.4g %6s %7s\n", l.name().c_str(), l.width(), l.layer_mean_abs(),
                  dead.c_str(), percent.c_str());
    out += buf;
  }
  return out;
}

// layer,neuron,mean,active_fraction with the layer as its label ("encoder 1") and neurons from 0.
inline std::string to_csv(const std::vector<layer_stats>& layers) {
  std::string out = "layer,neuron,mean,active_fraction\n";
  char buf[160];
  for (const auto& l : layers)
    for (std::size_t n = 0; n < l.width(); ++n) {
      std::snprintf(buf, sizeof buf, "%s,%zu,%.9g,%.9g\n", l.label.c_str(), n, l.mean[n], l.active_fraction[n]);
      out += buf;
    }
  return out;
}

// The heat map: layers as rows, neurons as cells. Each row is stretched to the full width, one
// cell per neuron, because the widths differ by up to 300x (a 2370-wide output next to 8-wide
// latents in the CFD model): padding to the widest layer would leave the narrow layers a few
// pixels. Two panels:
//   top     mean activation over the layer's largest |mean|, in [-1, 1]: the output sizes of
//           different layers differ by orders of magnitude, so one colour scale would leave
//           all but the largest layer white; the absolute values are in the table and CSV
//   bottom  fraction of rows on which the neuron is active, dead neurons marked with a cross
inline plot::figure heat_map(const std::vector<layer_stats>& layers) {
  require(!layers.empty(), "diagnose::heat_map", "no layers");
  // $cells: x_low x_high row relative_mean active_fraction; $dead: x row.
  std::vector<std::vector<double>> cells(5), dead(2);
  std::string ytics;
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const auto& l = layers[k];
    const double w = double(l.width());
    double peak = 0;
    for (double m : l.mean) peak = std::max(peak, std::abs(m));
    for (std::size_t n = 0; n < l.width(); ++n) {
      const double values[] = {double(n) / w, double(n + 1) / w, double(k), peak > 0 ? l.mean[n] / peak : 0.0,
                               l.active_fraction[n]};
      for (std::size_t c = 0; c < 5; ++c) cells[c].push_back(values[c]);
      if (l.dead(n)) {
        dead[0].push_back((double(n) + 0.5) / w);
        dead[1].push_back(double(k));
      }
    }
    ytics += (k ? ", " : "") + plot::quote(l.label + " (" + std::to_string(l.width()) + ")") + " " + std::to_string(k);
  }
  const std::string rows = "set yrange [" + plot::gp_number(double(layers.size()) - 0.5) + ":-0.5]\n";
  const std::string boxes =
      "$cells using (($1+$2)/2):3:1:2:($3-0.5):($3+0.5):COLUMN with boxxyerror fs solid 1.0 noborder fc palette notitle";
  const auto panel = [&](const std::string& column) {
    std::string b = boxes;
    b.replace(b.find("COLUMN"), 6, column);
    return b;
  };

  plot::figure f;
  f.name = "activations";
  f.width = 1600;
  f.height = 240 + 2 * 34 * int(layers.size());
  f.data = plot::datablock("cells", cells) + (dead[0].empty() ? "" : plot::datablock("dead", dead));
  f.commands =
      "set multiplot layout 2,1 title 'activations of each layer on the data (rows: layers, width in brackets; "
      "cells: its neurons in order)'\n"
      "set lmargin 18\nset rmargin 16\nset xrange [0:1]\n" + rows +
      "set ytics (" + ytics + ")\nset ytics scale 0\nset xtics format ''\nset xtics scale 0\n"
      "set title 'mean activation / the layer''s largest |mean|'\n"
      "set palette defined (-1 '#2166ac', -0.5 '#92c5de', 0 '#f7f7f7', 0.5 '#f4a582', 1 '#b2182b')\n"
      "set cbrange [-1:1]\nset cblabel 'relative mean'\n"
      "plot " + panel("4") + "\n"
      "set title 'fraction of rows on which the neuron is active (> 0); x: dead, never active'\n"
      "set xlabel 'neuron, as a fraction of the layer''s width'\nset xtics format '%g'\n"
      "set palette defined (0 '#000004', 0.25 '#51127c', 0.5 '#b73779', 0.75 '#fc8961', 1 '#fcfdbf')\n"
      "set cbrange [0:1]\nset cblabel 'active fraction'\n"
      "plot " + panel("5") +
      (dead[0].empty() ? "" : ", $dead using 1:2 with points pt 2 ps 0.8 lc rgb '#00e5ff' notitle") +
      "\nunset multiplot\n";
  return f;
}

}  // namespace baler::diagnose
