#pragma once
// What `baler info` prints: the input's shape and type, how each column is stored, the model,
// the latent, every section with its raw and stored size, and the honest size report.
#include <cstdio>
#include <map>
#include <string>

#include "baler/cli/size_report.hpp"
#include "baler/format/container.hpp"

namespace baler::cli {

inline std::string describe_file(const format::container_info& info) {
  const auto& h = info.header;
  std::string s;
  s += "baler file, format version " + std::to_string(info.format_version) + ", written by baler " +
       h.value("library_version", "?") + "\n";
  require(h.value("kind", "") == "baler.compressed", "baler info",
          h.value("kind", "") == "baler.model" ? "this is a model file, not compressed data"
                                                : "not a compressed baler file");
  // Numbers are printed as stored: a damaged header's 6e63 is not cast to an integer.
  const auto& in = h.at("input");
  std::string shape;
  for (const auto& d : in.at("shape")) shape += (shape.empty() ? "" : " x ") + d.dump();
  s += "input: " + shape + ", " + in.at("dtype").get<std::string>() + ", " +
       std::to_string(in.at("names").size()) + " column names\n";
  std::map<std::string, std::size_t> treatments;
  for (const auto& c : h.at("columns"))
    ++treatments[c.value("field", false) ? "model (every column: one range for the field)"
                                         : c.at("treatment").get<std::string>()];
  s += "columns:";
  for (const auto& [t, n] : treatments) s += " " + std::to_string(n) + " " + t;
  s += "\n";
  if (h.contains("model")) {
    const auto& m = h.at("model");
    const auto& a = m.at("arch");
    auto n = [](const nlohmann::json& v) { return v.dump(); };
    const std::string layers =
        a.contains("frame")  // the conv architecture: the frame, three convolutions' channels
            ? "frame " + n(a["frame"][0]) + "x" + n(a["frame"][1]) + "x" + n(a["frame"][2]) +
                  ", conv channels " + n(a.at("hidden")[0]) + "-" + n(a.at("hidden")[1]) + "-" +
                  n(a.at("hidden")[2]) + ", latent " + n(a.at("latent"))
            : n(a.at("features")) + " -> " + n(a.at("hidden")[0]) + " -> " +
                  n(a.at("hidden")[1]) + " -> " + n(a.at("hidden")[2]) + " -> " + n(a.at("latent"));
    s += "model: " + m.at("name").get<std::string>() + " (" + m.at("scalar").get<std::string>() +
         "), " + layers + " and back; decoder " +
         (m.at("embedded").get<bool>() ? "embedded (" + m.at("weights_dtype").get<std::string>() + ")"
                                       : "in a separate model file, id " + m.at("id").dump()) +
         "\n";
    const auto& l = h.at("latent");
    s += "latent: " + l.at("rows").dump() + " x " +
         l.at("cols").dump() + ", " + l.at("dtype").get<std::string>() + "\n";
  }
  s += "sections:\n";
  for (const auto& sec : info.sections) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-4s %12llu bytes raw, %12llu stored%s\n", sec.kind.c_str(),
                  (unsigned long long)sec.raw_size, (unsigned long long)sec.stored_size,
                  sec.compressed ? " (zstd)" : "");
    s += buf;
  }
  s += "sizes:\n" + size_report::of(info).format();
  return s;
}

}  // namespace baler::cli
