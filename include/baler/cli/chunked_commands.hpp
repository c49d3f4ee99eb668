#pragma once
// The command line's chunked paths: `compress --chunk-rows N` (a .npy input streamed in
// slices, other formats loaded whole), `decompress` of a chunked file (a .npy output written in
// slices; --rows A:B decodes only the chunks that hold those rows), and `info` of one.
#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "baler/cli/file_info.hpp"
#include "baler/codec/chunked.hpp"

namespace baler::cli {

// "A:B" as the half-open range [A, B) of `rows`; empty means all of them.
inline std::pair<std::size_t, std::size_t> parse_rows(const std::string& text, std::size_t rows) {
  if (text.empty()) return {0, rows};
  unsigned long long a = 0, b = 0;
  char tail = 0;
  require(std::sscanf(text.c_str(), "%llu:%llu%c", &a, &b, &tail) == 2 && a < b && b <= rows, "baler decompress",
          "--rows '" + text + "' is not A:B with 0 <= A < B <= " + std::to_string(rows));
  return {std::size_t(a), std::size_t(b)};
}

// An input past auto_chunk_input_bytes (as stored) is compressed in chunks of about
// auto_chunk_bytes unless --chunk-rows says otherwise: one blob peaks at about ten times its
// input in memory, a chunked compress at about ten times a chunk per worker (fields lose next
// to nothing by it, tables about 2 % and their choice of predictors made once a chunk).
constexpr std::uint64_t auto_chunk_input_bytes = std::uint64_t(256) << 20;
constexpr std::size_t auto_chunk_bytes = std::size_t(32) << 20;

// The rows of `input` when it is past auto_chunk_input_bytes as stored, else none. A .npy read
// in slices is judged by its size on disk; any other input is loaded to learn its size and, when
// small, left in `loaded` for the one-blob path (which would load it too).
inline std::optional<codec::file_rows> rows_past_auto_chunk(const std::string& input, std::optional<dataset>& loaded) {
  if (format_of(input) == file_format::npy && npy::file_slices(input)) {
    if (std::filesystem::file_size(input) <= auto_chunk_input_bytes) return std::nullopt;
    codec::file_rows rows(input);
    if (rows.stored_bytes() <= auto_chunk_input_bytes) return std::nullopt;  // its header made up the rest
    return std::optional<codec::file_rows>(std::move(rows));
  }
  loaded = load_dataset(input);
  // Chunks take no column of text or times (source_of): such a table stays one blob.
  if (stored_nbytes(*loaded) <= auto_chunk_input_bytes || !loaded->labels.empty() || !loaded->times.empty())
    return std::nullopt;
  std::optional<codec::file_rows> rows(std::in_place, std::move(*loaded));
  loaded.reset();
  return rows;
}

// `c`: chunk_rows, or 0 for rows of about c.target_chunk_bytes.
inline void compress_chunked_command(const std::string& input, codec::file_rows& rows, const std::string& output,
                                     bool force, const codec::codec_options& o, codec::chunked_options c,
                                     const std::string& model, const std::string& save_model, std::ostream& out) {
  require(save_model.empty() || !o.error_bound.enabled(), "baler compress",
          "--save-model: the error-bounded mode of a chunked file trains no shared model");
  c.log = [&out](const std::string& s) { out << s << "\n"; };
  const auto res =
      codec::compress_chunked(rows.source(), output, force, o, c, model.empty() ? std::vector<std::byte>{} : read_file(model));
  const std::uint64_t in_bytes = rows.stored_bytes(), out_bytes = std::filesystem::file_size(output);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%zu chunks of %zu rows, %llu bytes for %llu input bytes: whole-file ratio %.3f\n",
                res.chunks, res.chunk_rows, (unsigned long long)out_bytes, (unsigned long long)in_bytes,
                double(in_bytes) / double(out_bytes));
  out << "compressed " << input << " -> " << output << " (chunked, format version 2)\n" << buf;
  if (!save_model.empty()) write_file_atomically(save_model, res.model, force);
}

inline void decompress_chunked_command(const std::string& input, const std::string& output, bool force,
                                       const std::string& rows, unsigned threads, std::ostream& out) {
  const codec::chunked_decoder dec(input);
  const auto [a, b] = parse_rows(rows, dec.reader().rows());
  if (format_of(output) == file_format::npy && dec.layout() != table_layout::records) {
    dec.write_npy(output, force, a, b, threads);
  } else {
    save_dataset(output, dec.rows(a, b, threads), force);  // .npz, .csv and records are written whole
  }
  std::vector<std::size_t> shape = dec.shape();
  shape[0] = b - a;
  out << "decompressed " << input << " rows " << a << ":" << b << " -> " << output << " (shape "
      << shape_string(shape) << ", " << dtypes_string(dec.type(), dec.column_types()) << ")\n";
}

inline std::string describe_chunked(const std::string& path) {
  const codec::chunked_decoder dec(path);
  const format::chunked_reader& r = dec.reader();
  const nlohmann::json& h = r.shared().header;
  std::string s;
  // The decoder checked only the header fields it needs; the others may be missing or of
  // another type in a damaged file (fuzz finding: no "applied" in "error_bound").
  try {
    s = "baler file, format version 2 (chunked), written by baler " + h.value("library_version", "?") + "\n";
    s += "input: " + shape_string(dec.shape()) + ", " + dtype_name(dec.type()) + ", " +
         std::to_string(dec.names().size()) + " column names" + detail::table_note(h.at("input")) + "\n";
    std::uint64_t chunk_bytes = 0;
    for (const auto& e : r.index()) chunk_bytes += e.size;
    s += "chunks: " + std::to_string(r.index().size()) + " of up to " + h.value("chunk_rows", nlohmann::json(0)).dump() +
         " rows, " + std::to_string(chunk_bytes) + " bytes in all\n";
    if (const format::section* m = r.shared().find("MODL"))
      s += "shared model: " + std::to_string(m->payload.size()) + " bytes (stored once), trained on " +
           h.value("model_sample_rows", nlohmann::json(0)).dump() + " rows\n";
    if (h.contains("error_bound")) {
      const auto& eb = h["error_bound"];
      s += "error bound: " + eb.value("default", std::string()) + "; applied per column:";
      for (const auto& [name, b] : eb.at("applied").items()) s += " " + name + "=" + b.get<std::string>();
      s += "\n";
    }
  } catch (const nlohmann::json::exception& e) {
    throw error("baler info: '" + path + "': the chunked header is malformed: " + e.what());
  }
  const std::uint64_t in_bytes = dec.reader().rows() == 0 ? 0 : [&] {  // as stored (dataset::column_types)
    if (!dec.column_types().empty()) return row_bytes_of(dec.column_types()) * dec.shape()[0];
    std::uint64_t n = dtype_size(dec.type());
    for (std::size_t d : dec.shape()) n *= d;
    return n;
  }();
  char buf[128];
  std::snprintf(buf, sizeof buf, "file: %llu bytes; whole-file ratio %.3f against the input as stored\n",
                (unsigned long long)r.file_size(), double(in_bytes) / double(r.file_size()));
  s += buf;
  const auto bad = dec.damaged_chunks();
  if (bad.empty()) s += "every chunk's checksum holds\n";
  for (std::size_t i : bad)
    s += "chunk " + std::to_string(i) + " (rows " + std::to_string(r.index()[i].first_row) + " to " +
         std::to_string(r.index()[i].first_row + r.index()[i].rows - 1) + ") is DAMAGED\n";
  return s;
}

}  // namespace baler::cli
