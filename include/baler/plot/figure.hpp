#pragma once
// A figure as gnuplot text, independent of where it goes: the data it reads (inline
// datablocks, so a script is self-contained and no data files need cleaning up) and the
// commands that draw it. The same figure renders to its own PNG and to a page of the PDF.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/plot/gnuplot.hpp"

namespace baler::plot {

struct figure {
  std::string name;      // file stem of its PNG ("column_PX"), see safe_file_stem
  std::string data;      // datablock definitions that `commands` read
  std::string commands;  // settings and plot commands, starting from gnuplot's defaults
  int width = 1600, height = 560;  // PNG size in pixels
};

// Every page of the PDF has this size: a pdfcairo file cannot change it between pages. The
// aspect ratio fits the widest figures (three panels side by side).
inline constexpr const char* pdf_terminal = "set terminal pdfcairo size 13.3in,4.7in noenhanced font 'Sans,9'\n";

// Numbers for gnuplot: 7 significant digits are more than a plot resolves and keep large
// images' scripts small. NaN is read by gnuplot as undefined and not drawn.
inline std::string gp_number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return buf;
}

// A datablock "$name" with one line per row of the given equal-length columns.
inline std::string datablock(const std::string& name, const std::vector<std::vector<double>>& columns) {
  require(!columns.empty(), "plot::datablock", "datablock " + name + " has no columns");
  for (const auto& column : columns)
    require(column.size() == columns[0].size(), "plot::datablock",
            "datablock " + name + ": columns of different lengths");
  std::string out = "$" + name + " << EOD\n";
  for (std::size_t r = 0; r < columns[0].size(); ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) out += (c ? " " : "") + gp_number(columns[c][r]);
    out += '\n';
  }
  return out + "EOD\n";
}

// A datablock holding a rows x cols image in row-major order, for `plot $name matrix with image`.
inline std::string matrix_block(const std::string& name, const double* values, std::size_t rows, std::size_t cols) {
  std::string out = "$" + name + " << EOD\n";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) out += (c ? " " : "") + gp_number(values[r * cols + c]);
    out += '\n';
  }
  return out + "EOD\n";
}

// A file-name stem from a column name: letters, digits, '-', '_' and '.' kept, every other run of
// characters (slashes, spaces, quotes, non-ASCII) turned into one '_', no leading dot, and
// "unnamed" for what is left empty, so that no name can escape the output folder or hide a file.
inline std::string safe_file_stem(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    const bool keep = std::isalnum(c) || c == '-' || c == '_' || c == '.';
    if (keep)
      out += static_cast<char>(c);
    else if (out.empty() || out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out.empty() || out == "_" ? "unnamed" : out;
}

namespace detail {

inline std::string png_terminal(const figure& f) {
  return "set terminal pngcairo size " + std::to_string(f.width) + "," + std::to_string(f.height) +
         " noenhanced font 'Sans,11'\n";
}

// `reset` returns every setting but the terminal and output to its default, so a figure never
// inherits its predecessor's axes or palette; the data are (re)defined right before the
// commands, which lets different figures use the same block names.
inline std::string page(const figure& f) { return f.data + "reset\n" + f.commands + "\n"; }

}  // namespace detail

// Renders every figure to <png_dir>/<name>.png and, if pdf is not empty, all of them as the
// pages of one PDF, in one gnuplot run.
inline void render(const std::vector<figure>& figures, const std::filesystem::path& png_dir,
                   const std::filesystem::path& pdf = {}) {
  std::string script;
  for (const figure& f : figures)
    script += detail::png_terminal(f) + "set output " + quote((png_dir / (f.name + ".png")).string()) + "\n" +
              detail::page(f) + "unset output\n";
  if (!pdf.empty() && !figures.empty()) {
    script += std::string(pdf_terminal) + "set output " + quote(pdf.string()) + "\n";
    for (const figure& f : figures) script += detail::page(f);
    script += "unset output\n";
  }
  run_gnuplot(script);
}

// Renders one figure to `path`, a PNG or a PDF by its extension.
inline void render_file(const figure& f, const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  const bool pdf = ext == ".pdf" || ext == ".PDF";
  require(pdf || ext == ".png" || ext == ".PNG", "plot::render_file",
          "cannot tell the image format of '" + path.string() + "': expected .png or .pdf");
  run_gnuplot((pdf ? std::string(pdf_terminal) : detail::png_terminal(f)) + "set output " +
              quote(path.string()) + "\n" + detail::page(f) + "unset output\n");
}

}  // namespace baler::plot
