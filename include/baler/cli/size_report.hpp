#pragma once
// Honest sizes: what a compressed file holds, byte for byte, and ratios that say what they
// count. Baler quoted the latent alone (0.5 % of the input for its CFD example) while its
// decoder was ~600 MB for a 1.2 MB input; here every report gives latent-only and whole-file
// ratios side by side, against the input as stored and against float32.
#include <cstdio>
#include <string>

#include "baler/format/container.hpp"
#include "baler/io/dataset.hpp"

namespace baler::cli {

struct size_report {
  std::uint64_t input = 0;    // the input as stored (elements x its dtype's size)
  std::uint64_t float32 = 0;  // the same elements as float32
  std::uint64_t latent = 0, decoder = 0, exact = 0, residuals = 0, metadata = 0, total = 0;
  bool decoder_embedded = true;

  static size_report of(const format::container_info& info) {
    size_report r;
    const auto& in = info.header.at("input");
    // A table of mixed dtypes is held as float64; its input as stored is what its file held.
    r.input = format::header_int<std::uint64_t>(in.value(stored_nbytes_key, in.at("nbytes")), "the input size");
    std::uint64_t elements = 1;
    for (const auto& d : in.at("shape")) elements *= format::header_int<std::uint64_t>(d, "the input shape");
    r.float32 = 4 * elements;
    r.total = info.file_size;
    for (const auto& s : info.sections) {
      if (s.kind == "LATN") r.latent += s.stored_size;
      else if (s.kind == "DECW") r.decoder += s.stored_size;
      else if (s.kind == "EXCT") r.exact += s.stored_size;
      else if (s.kind == "RESQ") r.residuals += s.stored_size;
    }
    r.metadata = r.total - r.latent - r.decoder - r.exact - r.residuals;
    r.decoder_embedded = !info.header.contains("model") || info.header["model"].value("embedded", true);
    return r;
  }

  std::string format() const {
    std::string s;
    auto line = [&](const char* what, std::uint64_t bytes, const char* note = "") {
      char buf[160];
      std::snprintf(buf, sizeof buf, "  %-28s %14llu bytes%s\n", what, (unsigned long long)bytes, note);
      s += buf;
    };
    auto ratio = [&](const char* what, double num, double den) {
      char buf[160];
      if (den > 0) std::snprintf(buf, sizeof buf, "  %-44s %10.3f\n", what, num / den);
      else std::snprintf(buf, sizeof buf, "  %-44s %10s\n", what, "n/a (empty)");
      s += buf;
    };
    line("input as stored", input);
    line("input as float32", float32);
    line("latent", latent);
    line("decoder weights", decoder, decoder_embedded ? "" : "  (kept in the model file, not counted)");
    line("exact columns", exact);
    line("error-bounded residuals", residuals);
    line("metadata (header, tables)", metadata);
    line("whole file", total);
    s += "ratios (input / compressed):\n";
    ratio("whole file, against the input as stored", double(input), double(total));
    ratio("whole file, against float32", double(float32), double(total));
    ratio("latent only, against the input as stored", double(input), double(latent));
    ratio("latent only, against float32", double(float32), double(latent));
    return s;
  }
};

}  // namespace baler::cli
