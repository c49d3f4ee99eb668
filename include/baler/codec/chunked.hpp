#pragma once
// Compression of data sets larger than memory into a chunked .baler file (format/chunked.hpp),
// and random-access decompression of it. Chunks are cut along the leading axis, compressed and
// decompressed in parallel (parallel_for), and written in order, so the file does not depend
// on the thread count; memory holds one chunk per worker.
//
//   plain mode:         one model is trained on a sample of chunks (evenly spread) and stored
//                       once (section MODL of the shared part); each chunk keeps its latent and
//                       exact columns and the model's id.
//   error-bounded mode: each chunk is compressed on its own (compress_error_bounded). A range
//                       bound means the range of the whole column (or field), not the chunk's:
//                       a first pass finds it and the bound becomes an abs bound before any
//                       chunk is compressed; the shared header keeps both.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "baler/bounded/sentinel.hpp"
#include "baler/codec/error_bounded.hpp"
#include "baler/format/chunked.hpp"
#include "baler/io/dataset.hpp"
#include "baler/io/npy_stream.hpp"
#include "baler/parallel/parallel_for.hpp"

namespace baler::codec {

struct chunked_options {
  std::size_t chunk_rows = 0;            // 0: rows of about target_chunk_bytes of input
  std::size_t target_chunk_bytes = 8u << 20;
  unsigned threads = 0;                  // chunk workers; 0: all cores
  std::size_t sample_bytes = 64u << 20;  // plain mode trains on at most this much input
  std::function<void(const std::string&)> log = [](const std::string&) {};
};

// Rows of an array read by slice: a .npy on disk (streamed) or an array in memory.
struct row_source {
  std::vector<std::size_t> shape;
  dtype type = dtype::f64;
  std::vector<std::string> names;
  std::function<ndarray(std::size_t first, std::size_t count)> rows;  // thread-safe
  table_layout layout = table_layout::array;  // as dataset's: how the decompressed table is written
  std::vector<dtype> column_types{};          // as dataset's: of columns of different dtypes
  std::string member{};                       // as dataset's: the .npz member it came from
  bool field = false;                          // whether it is a field (is_field, on the whole)

  std::size_t row_count() const { return shape.at(0); }
  std::size_t row_bytes() const {
    std::size_t n = dtype_size(type);
    for (std::size_t k = 1; k < shape.size(); ++k) n *= shape[k];
    return n;
  }
  dataset slice(std::size_t first, std::size_t count) const {
    return {rows(first, count), names, table_layout::array, column_types, {}, {}, field};
  }
};

// Whether a source is a field (`known`, else is_field on its rows) and the names it gives its
// chunks: a table's, made up where it has none (col0, ...), so that every chunk, however few its
// rows, is the table the whole is and its bounds find their columns; a field's (none).
template <class RowsOf>
std::pair<bool, std::vector<std::string>> layout_of(const std::vector<std::size_t>& shape,
                                                    const std::vector<std::string>& names, RowsOf&& rows_of,
                                                    std::optional<bool> known = {}) {
  if (known ? *known : is_field(shape, !names.empty(), rows_of)) return {true, names};
  std::size_t cols = 1;
  for (std::size_t k = 1; k < shape.size(); ++k) cols *= shape[k];
  return {false, column_names(shape, cols, names)};
}

inline row_source source_of(const dataset& d) {
  require(!d.data.shape.empty() && d.data.shape[0] > 0, "source_of", "the data has no rows");
  require(d.column_offsets.empty(), "source_of",
          "chunks take no table of 64-bit integers past 2^53 beside other dtypes: compress without --chunk-rows");
  if (!d.labels.empty() || !d.times.empty())
    throw error("source_of(): chunks take no column of text (" + labelled_columns(d) + "): compress without --chunk-rows");
  auto rows = [&d](std::size_t first, std::size_t count) { return row_slice(d.data, first, count); };
  auto [field, names] = layout_of(d.data.shape, d.names, rows, d.field);
  return {d.data.shape, d.data.type, std::move(names), rows, d.layout, d.column_types, d.member, field};
}
inline row_source source_of(const npy::slice_reader& r) {
  require(r.rows() > 0, "source_of", "the data has no rows");
  auto rows = [&r](std::size_t first, std::size_t count) { return r.rows(first, count); };
  auto [field, names] = layout_of(r.shape(), {}, rows);
  return {r.shape(), r.type(), std::move(names), rows, table_layout::array, {}, {}, field};
}

// A dataset file as rows for compress_chunked: a .npy that slice_reader reads, in slices; any
// other (.npz, .csv, HDF5, a structured or Fortran-order .npy) loaded whole, or a dataset
// already loaded.
class file_rows {
public:
  explicit file_rows(const std::filesystem::path& path) {
    if (format_of(path) == file_format::npy && npy::file_slices(path)) {
      sliced_ = std::make_unique<npy::slice_reader>(path);
      source_ = source_of(*sliced_);
    } else {
      *this = file_rows(load_dataset(path));
    }
  }
  explicit file_rows(dataset d) : whole_(std::make_unique<dataset>(std::move(d))), source_(source_of(*whole_)) {}

  const row_source& source() const { return source_; }
  // The column names the file gives (source().names makes up a table's where it gives none).
  std::vector<std::string> input_names() const { return whole_ ? whole_->names : std::vector<std::string>{}; }
  // Taken as a field or a table, whatever its values say (baler compress --layout).
  void take_as(bool field) { std::tie(source_.field, source_.names) = layout_of(source_.shape, input_names(), source_.rows, field); }
  // The bytes of its values in the file: what ratios count.
  std::uint64_t stored_bytes() const {
    return whole_ ? stored_nbytes(*whole_) : std::uint64_t(source_.row_count()) * source_.row_bytes();
  }

private:
  std::unique_ptr<npy::slice_reader> sliced_;
  std::unique_ptr<dataset> whole_;
  row_source source_;  // reads through sliced_ or whole_, which stay where they are when this moves
};

namespace detail {

inline std::size_t rows_per_chunk(const row_source& s, const chunked_options& c) {
  if (c.chunk_rows > 0) return c.chunk_rows;
  return std::clamp<std::size_t>(c.target_chunk_bytes / s.row_bytes(), 1, s.row_count());
}

inline std::size_t chunk_count(std::size_t rows, std::size_t chunk_rows) { return (rows + chunk_rows - 1) / chunk_rows; }

// Calls f(chunk, first row, rows) over chunks [c0, c1) on the pool, `threads` at a time, then
// done(chunk, result) in chunk order: memory holds one wave of results.
template <class R, class F, class Done>
void in_waves(std::size_t c0, std::size_t c1, std::size_t rows, std::size_t chunk_rows, unsigned threads, F&& f,
              Done&& done) {
  const std::size_t wave = parallel::thread_count(threads);
  for (std::size_t w = c0; w < c1; w += wave) {
    std::vector<R> results(std::min(wave, c1 - w));
    parallel::parallel_for(results.size(), threads, [&](std::size_t i) {
      const std::size_t first = (w + i) * chunk_rows;
      results[i] = f(w + i, first, std::min(chunk_rows, rows - first));
    });
    for (std::size_t i = 0; i < results.size(); ++i) done(w + i, std::move(results[i]));
  }
}

using column_ranges = std::vector<std::pair<double, double>>;

// Finite min and max of every column (one pair for a field) over chunks [c0, c1), streamed.
inline column_ranges ranges_of(const row_source& s, std::size_t c0, std::size_t c1, std::size_t chunk_rows,
                               unsigned threads, bool field) {
  const std::size_t cols = field ? 1 : s.row_bytes() / dtype_size(s.type);
  using ranges = column_ranges;
  ranges all(cols, {INFINITY, -INFINITY});
  in_waves<ranges>(
      c0, c1, s.row_count(), chunk_rows, threads,
      [&](std::size_t, std::size_t first, std::size_t count) {
        // Ranges over chunks are compared as doubles: values held less an offset would not compare.
        const offset_doubles o = to_offset_doubles(s.rows(first, count), cols, "compress_chunked");
        require(o.offsets.empty(), "compress_chunked",
                "the data holds 64-bit integers past 2^53, which float64 does not hold exactly: a range or PSNR "
                "bound over chunks (and a field's fill value) needs their ranges as float64; give an abs bound, or "
                "compress without --chunk-rows (which codes them less their smallest value)");
        const std::vector<double>& v = o.values;
        ranges r(cols, {INFINITY, -INFINITY});
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (!std::isfinite(v[i])) continue;
          auto& [lo, hi] = r[field ? 0 : i % cols];
          lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
        }
        return r;
      },
      [&](std::size_t, ranges r) {
        for (std::size_t c = 0; c < cols; ++c)
          all[c] = {std::min(all[c].first, r[c].first), std::max(all[c].second, r[c].second)};
      });
  return all;
}

}  // namespace detail

// How this process takes part in a chunked compression: by default alone, over every chunk.
// Several processes (MPI ranks) each take a range of chunks, combine their column ranges
// (min of mins, max of maxes over all of them) and train one model data-parallel
// (codec_options::parallel).
struct chunk_share {
  std::size_t first = 0, last = std::size_t(-1);  // chunks [first, last), clipped to the count
  std::function<void(detail::column_ranges&)> combine_ranges = [](detail::column_ranges&) {};
  std::function<void(std::vector<double>&)> add_up = [](std::vector<double>&) {};  // sums, element by element
};

namespace detail {

// A field's fill value, where it has one (bounded::write's rule, streamed over its chunks, each
// process counting its share), and the range of its other values: a range bound is of that
// range, as it is of one blob's, and every chunk stores the fill value exactly.
struct fill_value {
  double value = 0;
  std::pair<double, double> others;
};
inline std::optional<fill_value> fill_of(const row_source& s, std::pair<double, double> r, std::size_t chunk_rows,
                                         unsigned threads, const chunk_share& share) {
  using bounded::extremes;
  const std::size_t chunks = chunk_count(s.row_count(), chunk_rows);
  extremes all;
  std::tie(all.lo, all.hi) = r;
  in_waves<extremes>(
      std::min(share.first, chunks), std::min(share.last, chunks), s.row_count(), chunk_rows, threads,
      [&](std::size_t, std::size_t first, std::size_t count) {
        const std::vector<double> v = s.rows(first, count).to_doubles();
        extremes e;
        std::tie(e.lo, e.hi) = r;
        bounded::count_extremes(e, v.data(), v.size());
        return e;
      },
      [&](std::size_t, const extremes& e) {
        all.above_lo = std::min(all.above_lo, e.above_lo), all.below_hi = std::max(all.below_hi, e.below_hi);
        all.at_lo += e.at_lo, all.at_hi += e.at_hi, all.n += e.n;
      });
  column_ranges nearest{{all.above_lo, all.below_hi}};
  share.combine_ranges(nearest);
  std::vector<double> counts{double(all.at_lo), double(all.at_hi), double(all.n)};
  share.add_up(counts);
  all.above_lo = nearest[0].first, all.below_hi = nearest[0].second;
  all.at_lo = std::size_t(counts[0]), all.at_hi = std::size_t(counts[1]), all.n = std::size_t(counts[2]);
  const std::optional<double> fill = bounded::sentinel_at(all, bounded::field_fill_apart);
  if (!fill) return std::nullopt;
  return fill_value{*fill, bounded::range_without(all, *fill)};
}

// The bound with every range bound turned into the abs bound it means over the whole data, and
// every PSNR target taken on the whole data's range: each chunk's mean squared error then
// stays within what the whole allows, and so does their mean. A field's carries its fill
// value, found over the whole data (fill_of).
inline bound_config global_bounds(const row_source& s, const bound_config& b, std::size_t chunk_rows,
                                  unsigned threads, const chunk_share& share) {
  const bool field = s.field;
  auto global = [](const bound_spec& spec) { return spec.kind == bound_kind::range || spec.kind == bound_kind::psnr; };
  bool any_range = b.all.set() && global(b.all);
  for (const auto& [name, spec] : b.named) any_range = any_range || global(spec);
  // A field's fill value is found over all its chunks under any bound but a PSNR target (a
  // mean, which takes the data as it is), as in one blob: a chunk holding it on a few points
  // stores them exactly too.
  const bool fill_sought = field && b.all.set() && b.all.kind != bound_kind::psnr;
  if (!any_range && !fill_sought) return b;
  const std::size_t chunks = chunk_count(s.row_count(), chunk_rows);
  column_ranges ranges = ranges_of(s, std::min(share.first, chunks), std::min(share.last, chunks), chunk_rows,
                                   threads, field);
  share.combine_ranges(ranges);
  auto absolute = [](bound_spec spec, std::pair<double, double> r) {
    // A constant (or all non-finite) column stays a range bound: every chunk stores it exactly.
    if (!(r.second > r.first)) return spec;
    if (spec.kind == bound_kind::psnr) spec.range = r.second - r.first;
    if (spec.kind != bound_kind::range) return spec;
    return bound_spec{bound_kind::abs, fraction_of_range(spec.value, r.first, r.second)};
  };
  bound_config out;
  if (field) {
    out.named = b.named;  // which each chunk refuses, as one blob does
    std::pair<double, double> r = ranges[0];
    if (fill_sought)
      if (const std::optional<fill_value> fill = fill_of(s, r, chunk_rows, threads, share))
        r = fill->others, out.fill = fill->value;
    out.all = absolute(b.all, r);  // abs and rel bounds stay as they are
    return out;
  }
  for (std::size_t c = 0; c < s.names.size(); ++c) {
    const bound_spec spec = b.of(s.names[c]);
    if (spec.set()) out.named[s.names[c]] = absolute(spec, ranges[c]);
  }
  return out;
}

// Evenly spaced chunks of the input, up to `bytes` of it, as one dataset.
inline dataset training_sample(const row_source& s, std::size_t chunk_rows, std::size_t bytes) {
  const std::size_t chunks = chunk_count(s.row_count(), chunk_rows);
  const std::size_t take = std::clamp<std::size_t>(bytes / (chunk_rows * s.row_bytes()), 1, chunks);
  dataset d{ndarray{s.type, s.shape, {}}, s.names};
  d.data.shape[0] = 0;
  for (std::size_t k = 0; k < take; ++k) {
    const std::size_t first = (k * chunks / take) * chunk_rows;
    const ndarray part = s.rows(first, std::min(chunk_rows, s.row_count() - first));
    d.data.bytes.insert(d.data.bytes.end(), part.bytes.begin(), part.bytes.end());
    d.data.shape[0] += part.shape[0];
  }
  return d;
}

}  // namespace detail

// Everything the chunks of one file share: decided once, before any chunk is compressed.
struct chunk_plan {
  format::container shared;  // the file's shared part
  codec_options options;     // per chunk: the applied bound, or the shared model's options
  std::size_t chunk_rows = 0, chunks = 0, sample_rows = 0;  // sample_rows: plain mode
  std::vector<std::byte> model;                              // plain mode: the shared model file
};

// Plans the chunked compression of `s`: the global ranges of range bounds, or the model
// (`model` when given, else trained on a sample of chunks).
inline chunk_plan plan_chunks(const row_source& s, codec_options o, const chunked_options& c,
                              const std::vector<std::byte>& model = {}, const chunk_share& share = {}) {
  chunk_plan p;
  p.chunk_rows = detail::rows_per_chunk(s, c);
  p.chunks = detail::chunk_count(s.row_count(), p.chunk_rows);
  const bool bounded = o.error_bound.enabled();
  require(!bounded || model.empty(), "plan_chunks", "the error-bounded mode uses no model file");
  p.shared.header = {{"kind", "baler.chunked"},
                     {"library_version", library_version},
                     {"input", {{"shape", s.shape}, {"dtype", dtype_name(s.type)}, {"names", s.names}}},
                     {"chunk_rows", p.chunk_rows}};
  mark_table(p.shared.header["input"], s.layout, s.column_types, s.row_count());
  mark_member(p.shared.header["input"], s.member);
  if (bounded) {
    const bound_config applied = detail::global_bounds(s, o.error_bound, p.chunk_rows, c.threads, share);
    nlohmann::json eb = {{"default", o.error_bound.all.set() ? to_string(o.error_bound.all) : ""}};
    for (const auto& [name, spec] : o.error_bound.named) eb["named"][name] = to_string(spec);
    eb["applied"] = nlohmann::json::object();
    if (applied.all.set()) eb["applied"]["*"] = to_string(applied.all);
    for (const auto& [name, spec] : applied.named) eb["applied"][name] = to_string(spec);
    p.shared.header["error_bound"] = eb;
    o.error_bound = applied;
  } else {
    p.model = model;
    if (p.model.empty()) {
      const dataset sample = detail::training_sample(s, p.chunk_rows, c.sample_bytes);
      p.sample_rows = sample.data.shape[0];
      if (p.sample_rows < s.row_count())
        c.log("training on a sample of " + std::to_string(p.sample_rows) + " of " +
              std::to_string(s.row_count()) + " rows (evenly spread chunks)");
      cpu be(1);  // one OpenBLAS thread: the model, and so the file, must not depend on the machine
      Codec<cpu, models::AE<cpu, float>> trainer(be, o);
      trainer.train(sample);
      p.model = trainer.save_model();
    }
    p.shared.header["model_sample_rows"] = p.sample_rows;
    p.shared.sections.push_back({"MODL", p.model});
    o.embed_decoder = false;
  }
  o.on_epoch = nullptr;  // chunks train nothing worth reporting
  o.parallel = {};
  p.options = o;
  return p;
}

// Rows of chunk i and its compressed bytes; `single_thread`: one OpenBLAS thread, for workers.
inline std::size_t chunk_rows_of(const chunk_plan& p, const row_source& s, std::size_t i) {
  return std::min(p.chunk_rows, s.row_count() - i * p.chunk_rows);
}
inline std::vector<std::byte> compress_chunk(const chunk_plan& p, const row_source& s, std::size_t i,
                                             bool single_thread) {
  dataset d = s.slice(i * p.chunk_rows, chunk_rows_of(p, s, i));
  if (p.options.error_bound.enabled()) {
    codec_options o = p.options;
    if (single_thread) o.threads = 1;  // the chunks are the workers
    return compress_error_bounded(std::move(d), o.error_bound, o);
  }
  cpu be(single_thread ? 1 : 0);  // OpenBLAS threads would multiply with the workers
  Codec<cpu, models::AE<cpu, float>> codec(be, p.options);
  codec.load_model(p.model);
  return codec.compress(std::move(d));
}

// Compresses chunks [c0, c1) of the plan on `threads` workers, passing each to
// sink(chunk, bytes) in chunk order.
template <class Sink>
void compress_chunks(const chunk_plan& p, const row_source& s, std::size_t c0, std::size_t c1, unsigned threads,
                     Sink&& sink) {
  const bool single = parallel::thread_count(threads) > 1;
  detail::in_waves<std::vector<std::byte>>(
      c0, c1, s.row_count(), p.chunk_rows, threads,
      [&](std::size_t i, std::size_t, std::size_t) { return compress_chunk(p, s, i, single); }, sink);
}

struct chunked_result {
  std::size_t chunks = 0, chunk_rows = 0, sample_rows = 0;
  std::vector<std::byte> model;
};

// Compresses `s` into the chunked file `path`. `model`, when given, is a model file to use
// instead of training one (plain mode only).
inline chunked_result compress_chunked(const row_source& s, const std::filesystem::path& path, bool overwrite,
                                       const codec_options& o, const chunked_options& c,
                                       const std::vector<std::byte>& model = {}) {
  const chunk_plan p = plan_chunks(s, o, c, model);
  format::chunked_writer out(path, overwrite, p.shared);
  compress_chunks(p, s, 0, p.chunks, c.threads,
                  [&](std::size_t i, std::vector<std::byte> bytes) { out.add(bytes, chunk_rows_of(p, s, i)); });
  out.finish();
  return {p.chunks, p.chunk_rows, p.sample_rows, p.model};
}

// Reads a chunked file: any chunk, any row range, or all of it into a .npy slice by slice.
class chunked_decoder {
public:
  explicit chunked_decoder(const std::filesystem::path& path) : r_(path) {
    const nlohmann::json& h = r_.shared().header;
    require(h.value("kind", "") == "baler.chunked", "chunked_decoder",
            "'" + path.string() + "' is not a chunked compressed file");
    try {
      shape_ = format::header_sizes(h.at("input").at("shape"), "the input shape");
      type_ = parse_dtype(h.at("input").at("dtype").get<std::string>());
      names_ = h.at("input").at("names").get<std::vector<std::string>>();
      layout_ = layout_of(h.at("input"));
      member_ = member_of(h.at("input"));
      column_types_ = column_types_of(h.at("input"), shape_.size() == 2 ? shape_[1] : 0);
    } catch (const nlohmann::json::exception& e) {
      throw error(std::string("chunked_decoder(): the header is incomplete: ") + e.what());
    }
    require(!shape_.empty() && shape_[0] == r_.rows(), "chunked_decoder",
            "the header's shape and the index's row count disagree");
    if (const format::section* m = r_.shared().find("MODL")) model_ = m->payload;
  }

  const format::chunked_reader& reader() const { return r_; }
  const std::vector<std::size_t>& shape() const { return shape_; }
  dtype type() const { return type_; }
  const std::vector<std::string>& names() const { return names_; }
  table_layout layout() const { return layout_; }
  const std::vector<dtype>& column_types() const { return column_types_; }

  // Chunk i, decoded; one OpenBLAS thread when `single_thread` (the caller runs workers).
  ndarray chunk(std::size_t i, bool single_thread = true) const {
    const std::vector<std::byte> bytes = r_.chunk(i);
    cpu be(single_thread ? 1 : 0);
    Codec<cpu, models::AE<cpu, float>> c(be, codec_options{});
    if (!model_.empty()) c.load_model(model_);
    ndarray a = with_context("chunk " + std::to_string(i), [&] { return c.decompress(bytes).data; });
    // Every dimension but the first must be the header's: rows() and write_npy() lay the chunks
    // out by the header's shape.
    require(a.type == type_ && a.shape.size() == shape_.size() && a.shape[0] == r_.index()[i].rows &&
                std::equal(a.shape.begin() + 1, a.shape.end(), shape_.begin() + 1),
            "chunked_decoder::chunk", "chunk " + std::to_string(i) + " does not have the file's shape");
    return a;
  }

  // Rows [first, last), decoding only the chunks that hold them.
  dataset rows(std::size_t first, std::size_t last, unsigned threads = 0) const {
    // Not a structured binding: C++17 lambdas cannot capture one (clang refuses it).
    const std::pair<std::size_t, std::size_t> span = r_.chunks_for(first, last);
    const std::size_t a = span.first, b = span.second;
    std::vector<ndarray> parts(b - a);
    parallel::parallel_for(parts.size(), threads, [&](std::size_t k) { parts[k] = chunk(a + k, threads != 1); });
    dataset d{ndarray{type_, shape_, {}}, names_, layout_, column_types_, member_};
    d.data.shape[0] = last - first;
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const auto& e = r_.index()[a + k];
      const std::size_t from = std::max<std::size_t>(first, e.first_row) - e.first_row;
      const std::size_t to = std::min<std::size_t>(last, e.first_row + e.rows) - e.first_row;
      const ndarray s = row_slice(parts[k], from, to - from);
      d.data.bytes.insert(d.data.bytes.end(), s.bytes.begin(), s.bytes.end());
    }
    return d;
  }

  // Rows [first, last) into a .npy, one wave of chunks in memory at a time.
  void write_npy(const std::filesystem::path& path, bool overwrite, std::size_t first, std::size_t last,
                 unsigned threads = 0) const {
    const auto [a, b] = r_.chunks_for(first, last);
    std::vector<std::size_t> shape = shape_;
    shape[0] = last - first;
    npy::slice_writer out(path, type_, shape, overwrite);
    const std::size_t wave = parallel::thread_count(threads);
    for (std::size_t w = a; w < b; w += wave) {
      const std::size_t n = std::min(wave, b - w);
      const dataset part = rows(std::max<std::size_t>(first, r_.index()[w].first_row),
                                std::min<std::size_t>(last, r_.index()[w + n - 1].first_row + r_.index()[w + n - 1].rows),
                                threads);
      out.append(part.data);
    }
    out.commit();
  }

  // The numbers of the chunks whose checksum fails.
  std::vector<std::size_t> damaged_chunks() const {
    std::vector<std::size_t> bad;
    for (std::size_t i = 0; i < r_.index().size(); ++i) {
      try {
        r_.chunk(i);
      } catch (const error&) {
        bad.push_back(i);
      }
    }
    return bad;
  }

private:
  format::chunked_reader r_;
  std::vector<std::size_t> shape_;
  dtype type_ = dtype::f64;
  std::vector<std::string> names_;
  table_layout layout_ = table_layout::array;
  std::string member_;
  std::vector<dtype> column_types_;
  std::vector<std::byte> model_;
};

}  // namespace baler::codec
