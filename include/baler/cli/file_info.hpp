#pragma once
// What `baler info` prints: the input's shape and type, how each column is stored, the model,
// the latent, every section with its raw and stored size, and the honest size report.
#include <cstdio>
#include <map>
#include <string>

#include "baler/bounded/compressor.hpp"
#include "baler/cli/size_report.hpp"
#include "baler/format/container.hpp"

namespace baler::cli {

namespace detail {

// "abs 0.0123 (step 0.0245)", "rel 0.001 (16 codes per octave)" or "exact": a value code as stored.
inline std::string describe_code(const nlohmann::json& code) {
  if (code.at("kind") == "rel")
    return "rel " + code.at("bound").dump() + " (" + code.at("per_octave").dump() + " codes per octave)";
  const nlohmann::json& bound = code.at("bound");
  if (bound == 0) return "exact";
  const nlohmann::json step = code.contains("step") ? code["step"]  // else the one its bound gives
                              : bound.is_number()   ? nlohmann::json(codec::value_code::step_for(bound.get<double>()))
                                                    : nlohmann::json("?");
  return "abs " + bound.dump() + " (step " + step.dump() + ")";
}

// What codec::mark_table, mark_labels and mark_times wrote into a header's "input", as `baler
// info` prints it after the column names: ", records layout, columns of float32 float64 int32
// bool, 68 bytes as stored", ", 1 column(s) of text (3 labels)" or ", 1 column(s) of times
// (YYYY-MM-DD HH:MM:SS)" (values shown as stored). Whole and chunked files alike.
inline std::string table_note(const nlohmann::json& input) {
  std::string s;
  if (input.contains(layout_key)) s += ", " + input[layout_key].get<std::string>() + " layout";
  if (input.contains(column_types_key)) {
    s += ", columns of";
    for (const auto& t : input[column_types_key]) s += " " + (t.is_string() ? t.get<std::string>() : t.dump());
  }
  if (input.contains(stored_nbytes_key)) s += ", " + input[stored_nbytes_key].dump() + " bytes as stored";
  if (input.contains(labels_key)) {
    std::size_t columns = 0, labels = 0;
    for (const auto& l : input[labels_key]) columns += l.size() > 0, labels += l.size();
    s += ", " + std::to_string(columns) + " column(s) of text (" + std::to_string(labels) + " labels)";
  }
  if (input.contains(times_key)) {
    std::size_t columns = 0;
    std::string layouts;
    for (const auto& t : input[times_key])  // as a crafted header has it: what is not text is shown as it is
      if (!t.is_string() || !t.get<std::string>().empty())
        ++columns, layouts += (layouts.empty() ? "" : ", ") + (t.is_string() ? t.get<std::string>() : t.dump());
    s += ", " + std::to_string(columns) + " column(s) of times (" + layouts + ")";
  }
  return s;
}

}  // namespace detail

// The error-bounded mode's choices: the bound asked for and what it resolved to (a range or
// PSNR target becomes an absolute bound, or the lattice of a wavelet), the predictor and any
// refinement; per column for a table.
inline std::string describe_error_bound(const nlohmann::json& h) {
  const auto& eb = h.at("error_bound");
  if (eb.at("layout") == "field") {
    std::string s = "error bound: " + eb.at("bound").get<std::string>() + ", resolved to " +
                    detail::describe_code(eb.at("code")) + "; predictor " + bounded::predictor_label(eb.at("predictor"));
    if (eb.contains("refine")) s += "; refined by a " + std::to_string(eb.at("refine").size()) + "-neighbour filter";
    if (eb.at("predictor").value("coder", "") == bounded::wavelet::coder_name)
      s += " (the lattice the transform works on: the target bounds the rms error, not each value)";
    if (eb.at("predictor").value("coder", "") == bounded::wavelet::corrected_coder_name)
      s += " (corrected where the transform misses: every value within the bound)";
    return s + "\n";
  }
  std::string s = "error bound, per column (code; predictor):\n";
  const nlohmann::json& columns = h.at("columns");
  const std::vector<std::string> names = codec::column_names(h, columns.size());
  for (std::size_t col = 0; col < columns.size(); ++col)
    if (const nlohmann::json& c = columns[col]; c.value("treatment", "") == "bounded")
      s += "  " + names[col] + ": " + detail::describe_code(c.at("code")) + "; " +
           bounded::predictor_label(c.at("predictor")) + "\n";
  return s;
}

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
       std::to_string(in.at("names").size()) + " column names" + detail::table_note(in) + "\n";
  std::map<std::string, std::size_t> treatments;
  for (const auto& c : h.at("columns"))
    ++treatments[c.value("field", false) ? "model (every column: one range for the field)"
                                         : c.at("treatment").get<std::string>()];
  if (!treatments.empty()) {  // (a field in the error-bounded mode is one array, no columns)
    s += "columns:";
    for (const auto& [t, n] : treatments) s += " " + std::to_string(n) + " " + t;
    s += "\n";
  }
  if (h.contains("error_bound")) s += describe_error_bound(h);
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
