#pragma once
// Codec<Backend, Model>: train an autoencoder on a table or field, compress data with it into
// one self-describing .baler file, and get the data back from that file alone.
//
//   compress:   columns -> normalise -> Model::encode -> latent in f32/f16/bf16 ─┐
//               constant columns once, exact columns packed, decoder weights ─────┴─> container
//   decompress: container -> latent -> Model::decode -> de-normalise -> round integers,
//               clamp to the observed range -> constant and exact columns -> original dtype
//
// The sections of a compressed file: LATN (latent), DECW (decoder weights, unless kept in a
// separate model file), EXCT (exact columns), RESQ (error-bounded mode: coded residuals, see
// bounded_coding.hpp). The JSON header holds everything else.
//
// Error-bounded mode (options.error_bound set): every modelled column (or the whole field) is
// quantised within its bound, integer columns exactly, as residuals to the best predictor;
// the file is written with and without the latent, and the smaller kept. A patch or conv
// model's reconstruction of a field's tiles, put back in the field's order, is that latent
// predictor for the field.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>

#include "baler/bounded/compressor.hpp"
#include "baler/codec/columns.hpp"
#include "baler/codec/exact_columns.hpp"
#include "baler/codec/model_file.hpp"
#include "baler/codec/options.hpp"
#include "baler/codec/quantised.hpp"
#include "baler/codec/table.hpp"
#include "baler/codec/tiling.hpp"
#include "baler/format/container.hpp"
#include "baler/format/latent_dtype.hpp"

namespace baler::codec {

inline constexpr const char* library_version = "0.1.0";
inline constexpr std::size_t chunk_rows = 65536;  // rows per encode/decode pass: bounded memory

// A header's "input" names a table's layout other than one array ("layout": "members" or
// "records", dataset::layout), so that decompress writes it back so, and, for columns of
// different dtypes, their dtypes (written back in them) and the bytes they held as stored (what
// ratios count, size_report); a reader from before these keys ignores them and writes one array.
inline void mark_table(nlohmann::json& input, table_layout layout, const std::vector<dtype>& column_types,
                       std::size_t rows) {
  if (layout != table_layout::array) input[layout_key] = layout_name(layout);
  if (column_types.empty()) return;
  for (dtype t : column_types) input[column_types_key].push_back(dtype_name(t));
  input[stored_nbytes_key] = row_bytes_of(column_types) * rows;
}
inline table_layout layout_of(const nlohmann::json& input) {
  return parse_layout(input.value(layout_key, layout_name(table_layout::array)));
}
// dataset::member in a header's "input" (a reader from before it writes "data").
inline void mark_member(nlohmann::json& input, const std::string& member) {
  if (!member.empty()) input[member_key] = member;
}
inline std::string member_of(const nlohmann::json& input) {
  if (!input.contains(member_key)) return "";
  require(input[member_key].is_string() && !input[member_key].get<std::string>().empty(), "member_of",
          "the header's npz member name is not a name");
  return input[member_key].get<std::string>();
}
// dataset::labels in a header's "input", where there are any.
inline void mark_labels(nlohmann::json& input, const std::vector<std::vector<std::string>>& labels) {
  if (!labels.empty()) input[labels_key] = labels;
}
// dataset::times in a header's "input", where there are any.
inline void mark_times(nlohmann::json& input, const std::vector<std::string>& times) {
  if (!times.empty()) input[times_key] = times;
}
// The labels an "input" of `cols` columns holds (none when it holds none).
inline std::vector<std::vector<std::string>> labels_of(const nlohmann::json& input, std::size_t cols) {
  if (!input.contains(labels_key)) return {};
  auto labels = input.at(labels_key).get<std::vector<std::vector<std::string>>>();
  require(labels.size() == cols, "labels_of",
          "the header holds labels for " + std::to_string(labels.size()) + " columns of " + std::to_string(cols));
  return labels;
}
// The times' layouts an "input" of `cols` columns holds (none when it holds none).
inline std::vector<std::string> times_of(const nlohmann::json& input, std::size_t cols) {
  if (!input.contains(times_key)) return {};
  auto times = input.at(times_key).get<std::vector<std::string>>();
  require(times.size() == cols, "times_of",
          "the header holds times for " + std::to_string(times.size()) + " columns of " + std::to_string(cols));
  for (const std::string& t : times)
    require(t.empty() || time_layout::of_pattern(t), "times_of", "the header holds the unknown time layout '" + t + "'");
  return times;
}
// The column dtypes an "input" of `cols` columns names (none when its columns have one dtype).
inline std::vector<dtype> column_types_of(const nlohmann::json& input, std::size_t cols) {
  if (!input.contains(column_types_key)) return {};
  std::vector<dtype> types;
  for (const nlohmann::json& name : input.at(column_types_key)) types.push_back(parse_dtype(name.get<std::string>()));
  require(types.size() == cols && input.at("dtype") == dtype_name(dtype::f64), "column_types_of",
          "the header names " + std::to_string(types.size()) + " column dtypes for " + std::to_string(cols) +
              " columns of " + input.at("dtype").dump());
  return types;
}

// The offsets of t's values (table::offsets) in a header's "input", each written as a value of
// its dtype; none where there are none.
inline void mark_offsets(nlohmann::json& input, const table& t) {
  for (std::size_t g = 0; g < t.offsets.size(); ++g) {
    const std::uint64_t bits = t.offsets[g];
    if (t.type_of(t.offsets.size() == 1 ? 0 : g) == dtype::i64) input[offsets_key].push_back(static_cast<std::int64_t>(bits));
    else input[offsets_key].push_back(bits);
  }
}
// The offsets an "input" names for a table of `cols` columns (one for a field) of `types`.
inline std::vector<std::uint64_t> offsets_of(const nlohmann::json& input, std::size_t cols, dtype type,
                                             const std::vector<dtype>& types) {
  if (!input.contains(offsets_key)) return {};
  const nlohmann::json& j = input.at(offsets_key);
  const bool wide = wide_integer(type) || std::any_of(types.begin(), types.end(), wide_integer);
  if (!(j.is_array() && (j.size() == 1 || j.size() == cols) && wide && (types.empty() || j.size() == cols) &&
        std::all_of(j.begin(), j.end(), [](const nlohmann::json& o) { return o.is_number_integer(); })))
    throw error("offsets_of(): the header's integer offsets (" + j.dump().substr(0, 80) + ") do not fit " +
                std::to_string(cols) + " columns of " + dtypes_string(type, types));
  std::vector<std::uint64_t> offsets;
  for (const nlohmann::json& o : j)
    offsets.push_back(o.is_number_unsigned() ? o.get<std::uint64_t>() : static_cast<std::uint64_t>(o.get<std::int64_t>()));
  return offsets;
}

template <class B, class Model>
class Codec {
public:
  using T = typename Model::value_type;

  Codec(B& be, codec_options o) : be_(be), o_(std::move(o)) { validate(o_); }

  // Decides each column's treatment, fits the normalisation and trains the model on `d`. In
  // the error-bounded mode the model is only a predictor: it is trained when the options ask
  // for it, or (the default) when a cheap estimate says its latent can pay for its bytes
  // (bounded/latent_estimate.hpp); latent_note() says which. The patch and conv architectures
  // train on tiles (at most o.training_tiles, evenly spread, so time grows with the sample, not
  // the grid).
  const train_history& train(const dataset& d) {
    table t = as_table(d, "Codec::train", false);
    const bool bounded = o_.error_bound.enabled(), field = t.field;
    // A field in the error-bounded mode is one block: per-column plans (thousands of pixel
    // columns) only matter when an autoencoder is asked for, and without one its values are
    // not read here (compress converts them).
    const bool plan = !(bounded && field && o_.latent_predictor != latent_use::always);
    if (plan) read_values(t, d, "Codec::train");
    // The error-bounded mode takes a patch or conv model only when named (auto: dense), and
    // for a field only: its reconstruction predicts the field as one block.
    const bool tiles_wanted = o_.architecture == "patch" || o_.architecture == "conv";
    require(!bounded || !tiles_wanted || field, "Codec::train",
            "the error-bounded mode takes the " + o_.architecture +
                " architecture for fields only (an array without column names): use the dense one");
    const std::vector<std::size_t> tile = choose_tile(
        t.shape, field, bounded && (!plan || !tiles_wanted) ? "dense" : o_.architecture, o_.tile);
    if (!tile.empty()) t = sampled_rows(tile_table(t, tile), o_.training_tiles);
    model_ = std::make_unique<trained_model<B, Model>>(
        be_, !plan ? unplanned(t) : o_.architecture == "conv" ? plan_field(t, o_) : plan_training(t, o_),
        o_, stored_nbytes(d), tile);
    fitted_ = false;
    latent_note_ = plan ? "" : "no autoencoder trained for a field unless asked (--latent-predictor always): a decoder "
                               "over whole frames has cost more than the whole file of the spatial predictors";
    const auto& s = model_->schema;
    if (s.modelled.empty()) return model_->history;
    if (o_.error_bound.enabled() && o_.latent_predictor != latent_use::always) {
      if (o_.latent_predictor == latent_use::never) {
        latent_note_ = "no autoencoder trained: the latent predictor is off";
        return model_->history;
      }
      const bounded::latent_estimate e = bounded::estimate_latent(
          t, s, o_.error_bound, model_->arch.latent, std::size_t(decoder_params(model_->arch)));
      char buf[200];
      std::snprintf(buf, sizeof buf, "a latent of %zu would cost ~%.0f bytes and save ~%.0f",
                    model_->arch.latent, e.cost_bytes, e.gain_bytes);
      if (!e.pays()) {
        latent_note_ = std::string("no autoencoder trained: ") + buf + " (PCA estimate)";
        return model_->history;
      }
      latent_note_ = std::string("autoencoder trained: ") + buf + " (PCA estimate)";
    }
    const std::vector<T> x = network_inputs<T>(t, s);
    model_->fit(be_, x, t.rows, o_);
    fitted_ = true;
    return model_->history;
  }
  const std::string& latent_note() const { return latent_note_; }
  // Per block of the last error-bounded file: the predictors considered and the one chosen.
  const bounded::report& bounded_report() const { return report_; }
  bool trained() const { return model_ != nullptr; }
  const trained_model<B, Model>& model() const {
    require(trained(), "Codec::model", "no model: train or load one first");
    return *model_;
  }

  std::vector<std::byte> save_model() const { return model().serialize(); }
  void load_model(byte_view bytes) {
    model_ = std::make_unique<trained_model<B, Model>>(trained_model<B, Model>::parse(be_, bytes));
    fitted_ = true;
  }

  // Compresses `d`, which must have the schema the model was trained on.
  std::vector<std::byte> compress(const dataset& d) { return compress(as_table(d, "Codec::compress"), d); }
  // The same, releasing d's values once they are read as doubles: a large field is not held
  // twice while it is coded (64 MB of a 64 MB float32 field's peak).
  std::vector<std::byte> compress(dataset&& d) {
    table t = as_table(d, "Codec::compress");  // its layout decided on the values,
    d.data.bytes = std::vector<std::byte>{};    // which go; its shape, dtype and names stay for the header
    return compress(std::move(t), d);
  }

  // Restores the data of a .baler file. A file written with embed_decoder = false needs the
  // codec to hold the same model (load_model), which is checked by its id.
  dataset decompress(byte_view file) {
    const format::container c = format::parse(file);
    const nlohmann::json& h = c.header;
    const char* where = "Codec::decompress";
    require(h.value("kind", "") == "baler.compressed", where,
            h.value("kind", "") == "baler.model"
                ? "this is a model file, not compressed data"
                : "the file is not compressed data written by baler");
    try {
      table t;
      t.shape = format::header_sizes(h.at("input").at("shape"), "the input shape");
      t.type = parse_dtype(h.at("input").at("dtype").get<std::string>());
      require(!t.shape.empty() && t.shape[0] > 0, where, "the header's shape is empty");
      const std::size_t elements = shape_elements(t.shape, where);  // refuses overflow
      require(elements <= std::numeric_limits<std::size_t>::max() / dtype_size(t.type) &&
                  elements * dtype_size(t.type) == format::header_size(h.at("input").at("nbytes"), "the input size"),
              where, "the header's shape, dtype and size disagree");
      t.rows = t.shape[0];
      t.cols = elements / t.rows;
      std::optional<tiling> tiles;  // a patch model's file holds the tiles as rows
      if (h.contains("tiling")) {
        tiles.emplace(t.shape, choose_tile(t.shape, true, "patch",
                                           format::header_sizes(h["tiling"].at("tile"), "the tile")));
        t.rows = tiles->tiles();
        t.cols = tiles->tile_size();
      }
      const nlohmann::json& columns = h.at("columns");
      const bool field = h.contains("error_bound") && h["error_bound"].at("layout") == "field";
      // A conv model's file has one entry for every column (the field's range).
      const bool one_entry = columns.size() == 1 && columns[0].value("field", false);
      require(field || one_entry || columns.size() == t.cols, where, "the header describes " +
              std::to_string(columns.size()) + " columns for " + std::to_string(t.cols));
      // A bounded field without a model is decoded whole into t.values; all else fills it in.
      if (!field || h.contains("model")) t.values.assign(t.rows * t.cols, 0.0);

      if (h.contains("model")) decode_into(c, t);
      if (h.contains("error_bound")) {
        if (tiles) {  // a patch or conv model predicted the tiles; the bounded field is whole
          require(field, where, "a tiled file's error-bounded part must be a field");
          t.values = tiles->to_field(t.values);
          t.rows = t.shape[0];
          t.cols = elements / t.rows;
          tiles.reset();
        }
        bounded::read(c, t);
      }
      std::size_t offset = 0;
      const format::section* exact = c.find("EXCT");
      for (std::size_t col = 0; col < (field ? 0 : t.cols); ++col) {
        const nlohmann::json& j = columns[one_entry ? 0 : col];
        const treatment how = parse_treatment(j.at("treatment").get<std::string>());
        if (how == treatment::constant) {
          const double v = j.at("value").get<double>();
          for (std::size_t r = 0; r < t.rows; ++r) t.values[r * t.cols + col] = v;
        } else if (how == treatment::lossless) {
          require(exact != nullptr, where, "the file has exact columns but no EXCT section");
          offset = read_exact(exact->payload, offset, t.values, t.rows, t.cols, col,
                              j.at("encoding").get<std::string>());
        } else if (how == treatment::model) {
          restore_range(t, col, j.at("min").get<double>(), j.at("max").get<double>(),
                        j.at("integer").get<bool>());
        }
      }
      dataset out;
      out.names = h.at("input").at("names").get<std::vector<std::string>>();
      out.layout = layout_of(h.at("input"));
      out.member = member_of(h.at("input"));
      out.column_types = column_types_of(h.at("input"), t.shape.size() == 2 ? t.shape[1] : 0);
      out.labels = labels_of(h.at("input"), t.shape.size() == 2 ? t.shape[1] : 0);
      out.times = times_of(h.at("input"), t.shape.size() == 2 ? t.shape[1] : 0);
      t.offsets = offsets_of(h.at("input"), t.cols, t.type, out.column_types);
      if (tiles) t.values = tiles->to_field(t.values);
      if (out.column_types.empty()) {
        out.data = from_offset_doubles(t.values, t.shape, t.type, t.offsets);
      } else {  // float64 less the offsets, which columns_of adds
        out.data = ndarray::from_doubles(t.values, t.shape, t.type);
        out.column_offsets = t.offsets;
      }
      return out;
    } catch (const nlohmann::json::exception& e) {
      throw error(std::string(where) + "(): the header is incomplete or malformed: " + e.what());
    }
  }

private:
  // The tiles of t for the model's tile, which must fit t's grid.
  table model_tiles(const table& t) const {
    choose_tile(t.shape, true, "patch", model_->tile);
    return tile_table(t, model_->tile);
  }

  // At most `n` rows of v (rows x width, row-major), evenly spread.
  template <class V>
  static std::vector<V> spread_rows(const std::vector<V>& v, std::size_t rows, std::size_t width, std::size_t n) {
    if (rows <= n) return v;
    std::vector<V> kept(n * width);
    for (std::size_t i = 0; i < n; ++i) std::copy_n(v.begin() + (i * rows / n) * width, width, kept.begin() + i * width);
    return kept;
  }
  // At most `n` rows of t, evenly spread.
  static table sampled_rows(table t, std::size_t n) {
    if (t.rows <= n) return t;
    t.values = spread_rows(t.values, t.rows, t.cols, n);
    t.rows = n;
    t.shape[0] = n;
    return t;
  }

  static nlohmann::json input_header(const table& t, const dataset& d) {
    nlohmann::json h;
    h["kind"] = "baler.compressed";
    h["library_version"] = library_version;
    h["input"] = {{"shape", t.shape}, {"dtype", dtype_name(t.type)},
                  {"nbytes", t.values.size() * dtype_size(t.type)}, {"names", d.names}};
    mark_table(h["input"], d.layout, d.column_types, t.shape[0]);
    mark_member(h["input"], d.member);
    mark_labels(h["input"], d.labels);
    mark_times(h["input"], d.times);
    mark_offsets(h["input"], t);
    return h;
  }

  std::vector<std::byte> serialize(const format::container& c) const {
    return format::serialize(c, o_.zstd ? format::compression_policy::zstd()
                                        : format::compression_policy::none());
  }

  // LATN and DECW of `t` with their header entries.
  void add_latent(format::container& c, const table& t) {
    const model_schema& s = model_->schema;
    const std::vector<T> x = network_inputs<T>(t, s);
    require_finite_inputs(x, t, s);
    c.sections.push_back({"LATN", encode(x, t.rows)});
    c.header["latent"] = {{"rows", t.rows}, {"cols", model_->arch.latent},
                          {"dtype", baler::name(o_.latent_type)}};
    // Quantised weights carry a container of their own (~300 bytes): a decoder of a few hundred
    // weights keeps them in f16 when that is smaller.
    latent_dtype weights = o_.weights_type;
    if (o_.embed_decoder) {
      std::vector<std::byte> decw = model_->decoder_weights(weights, weights == latent_dtype::q ? weights_quantisation(x, t.rows) : 0);
      if (weights == latent_dtype::q)
        if (std::vector<std::byte> f16 = model_->decoder_weights(latent_dtype::f16); f16.size() < decw.size())
          decw = std::move(f16), weights = latent_dtype::f16;
      c.sections.push_back({"DECW", std::move(decw)});
    }
    c.header["model"] = model_->describe(weights, o_.embed_decoder);
  }

  std::vector<std::byte> compress(table t, const dataset& d) {
    require(trained(), "Codec::compress", "no model: train or load one first");
    if (o_.error_bound.enabled()) refuse_relative_bounds_on_offsets(t);
    return o_.error_bound.enabled() ? compress_bounded(t, d) : compress_plain(std::move(t), d);
  }

  // A pointwise relative bound is of each value's magnitude, which values held less an offset
  // (wide_integers.hpp) no longer show. (A table's integer columns are exact under any bound.)
  void refuse_relative_bounds_on_offsets(const table& t) const {
    require(t.offsets.empty() || !t.field || o_.error_bound.all.kind != bound_kind::rel,
            "Codec::compress", "the array holds 64-bit integers past 2^53, which baler codes less their smallest "
            "value: a relative bound would be of that difference; give an abs or range bound instead");
  }

  // The plain mode: latent and decoder, every value as the model reconstructs it.
  std::vector<std::byte> compress_plain(table t, const dataset& d) {
    nlohmann::json header = input_header(t, d);  // the data as given, tiled or not
    if (!model_->tile.empty()) {
      header["tiling"] = {{"tile", model_->tile}};
      t = model_tiles(t);
    }
    const model_schema& s = model_->schema;
    check_schema(t, s);

    format::container c;
    c.header = std::move(header);
    nlohmann::json columns = nlohmann::json::array();
    std::vector<std::byte> exact;
    if (s.field) {  // the conv architecture: every column modelled, one range (plan_field)
      const auto [lo, hi] = finite_range(t.values.data(), t.values.size());
      columns.push_back({{"field", true}, {"treatment", "model"}, {"min", lo}, {"max", hi}, {"integer", false}});
    }
    for (std::size_t col = 0; col < (s.field ? 0 : t.cols); ++col) {
      nlohmann::json j = column_entry(t, col, s, exact);
      if (j["treatment"] == "model") j["integer"] = s.integer[col];
      columns.push_back(j);
    }
    c.header["columns"] = columns;
    if (!s.modelled.empty()) add_latent(c, t);
    if (!exact.empty()) c.sections.push_back({"EXCT", std::move(exact)});
    return serialize(c);
  }

  // Error-bounded mode (bounded/compressor.hpp): the file without the latent and, when a
  // model was trained or loaded, with its reconstruction as one more predictor (under a PSNR
  // target also the plain file, where it meets the target); the smallest one returned.
  // Predictions come from the stored latent and decoder, exactly as decompress computes them.
  // A patch or conv model predicts the tiles of a field, and its prediction goes back to the
  // field's order. A table of one float column (a 1-D array, N x 1, a one-column CSV) is also
  // tried as a 1-D field: a column's coders (a histogram, the row before) suit values in no
  // order, a field's predictors (multilevel interpolation) a smooth signal; its one range bounds
  // it either way.
  std::vector<std::byte> compress_bounded(const table& t, const dataset& d) {
    const bool field = t.field, tiled = !model_->tile.empty();
    require(field || !tiled, "Codec::compress",
            "a patch or conv model predicts fields only (arrays without column names)");
    if (!tiled) check_schema(t, model_->schema);
    const bool signal = !field && t.cols == 1 && is_float(t.type);
    std::vector<std::byte> best;
    for (int variant : {0, 1, 2}) {  // 0: as it is, 1: with the latent, 2: a signal as a 1-D field
      const bool latent = variant == 1;
      if (latent && (!fitted_ || model_->schema.modelled.empty())) continue;
      if (variant == 2 && !signal) continue;
      format::container c;
      c.header = input_header(t, d);
      table pred;
      if (latent) {
        pred = tiled ? model_tiles(t) : t;
        if (tiled) {
          check_schema(pred, model_->schema);
          c.header["tiling"] = {{"tile", model_->tile}};
        }
        add_latent(c, pred);
        std::fill(pred.values.begin(), pred.values.end(), 0.0);
        decode_into(c, pred);
        if (tiled) pred.values = tiling(t.shape, model_->tile).to_field(pred.values);
      }
      bounded::report r;
      // The signal's one column: its bound, named (a chunk's) or not, is the field's.
      const bound_config bounds = variant == 2 ? bound_config{o_.error_bound.of(t.names.at(0)), {}, o_.error_bound.fill} : o_.error_bound;
      bounded::write(c, t, field || variant == 2, model_->schema, bounds, latent ? &pred.values : nullptr, &r,
                     o_.threads, o_.effort);
      std::vector<std::byte> file = serialize(c);
      if (best.empty() || file.size() < best.size()) best = std::move(file), report_ = std::move(r);
    }
    bounded::report r;
    if (std::vector<std::byte> plain = plain_meeting_target(t, d, r); !plain.empty() && plain.size() < best.size()) {
      r.front().estimates.push_back({"with residuals", double(best.size())});
      best = std::move(plain), report_ = std::move(r);
    }
    return best;
  }

  // A PSNR target on a field is a promise about the whole field, which the model's
  // reconstruction alone may keep: then the plain file (latent and decoder, no residuals) is one
  // more candidate, decoded here as decompress decodes it. The margin (0.23 % of the MSE) covers
  // another machine's or device's rounding in the decoder. Empty where it does not apply or misses.
  static constexpr double plain_psnr_margin_db = 0.01;
  std::vector<std::byte> plain_meeting_target(const table& t, const dataset& d, bounded::report& r) {
    const bound_spec& target = o_.error_bound.all;  // a field's one bound
    if (target.kind != bound_kind::psnr || !fitted_ || model_->schema.modelled.empty() || !t.offsets.empty() ||
        !t.field ||
        !std::all_of(t.values.begin(), t.values.end(), [](double v) { return std::isfinite(v); }))
      return {};
    std::vector<std::byte> file = compress_plain(t, d);
    const std::vector<double> y = decompress(byte_view(file)).data.to_doubles();
    double squares = 0;
    for (std::size_t i = 0; i < y.size(); ++i) squares += (y[i] - t.values[i]) * (y[i] - t.values[i]);
    const auto [lo, hi] = finite_range(t.values.data(), t.values.size());
    const double mse = squares / double(y.size()), range = bounded::psnr_range(target, lo, hi);
    const double db = mse > 0 ? 20 * std::log10(range) - 10 * std::log10(mse) : HUGE_VAL;
    if (!(db >= target.value + plain_psnr_margin_db)) return {};
    char chosen[64];
    std::snprintf(chosen, sizeof chosen, "the model alone (PSNR %.2f dB)", db);
    r = {{"field", {{"model alone", double(file.size())}}, chosen, file.size(), 0, {}}};
    return file;
  }

  // The LATN payload of the network inputs x (rows x modelled), encoded chunk by chunk; a
  // 16-bit latent is rounded where the model runs, so only the codes travel back (the backends
  // round identically). An f32 or quantised latent comes back whole.
  std::vector<std::byte> encode(const std::vector<T>& x, std::size_t rows) {
    const std::size_t m = model_->schema.modelled.size(), l = model_->arch.latent;
    const latent_dtype type = o_.latent_type;
    const bool floats = type == latent_dtype::f32 || type == latent_dtype::q;
    std::vector<float> latent(floats ? rows * l : 0);
    std::vector<std::uint16_t> codes(floats ? 0 : rows * l);
    for (std::size_t first = 0; first < rows; first += chunk_rows) {
      const std::size_t n = std::min(chunk_rows, rows - first);
      auto buf = be_.template make<T>(n, m);
      be_.upload(x.data() + first * m, B::view(buf));
      const auto z = model_->visit([&](auto& net) { return net.encode(be_, B::view(buf)); });
      auto as_floats = [&] {  // the chunk's latent, on the host
        std::vector<T> host(n * l);
        be_.download(z, host.data());
        return std::vector<float>(host.begin(), host.end());
      };
      if (floats) {
        const std::vector<float> chunk = as_floats();
        std::copy(chunk.begin(), chunk.end(), latent.begin() + first * l);
        continue;
      }
      auto bits = be_.template make<std::uint16_t>(n, l);
      be_.quantize_latent(z, half_format_of(type), B::view(bits));
      std::uint16_t* out = codes.data() + first * l;
      be_.download(const_view<std::uint16_t>(B::view(bits)), out);
      if (std::any_of(out, out + n * l, [&](std::uint16_t b) { return non_finite_code(b, type); }))
        check_half_overflow(as_floats().data(), out, n * l, first * l, type, half_values::latent);
    }
    if (type == latent_dtype::q) return encode_quantised(latent, rows, l, latent_quantisation(x, latent, rows));
    return type == latent_dtype::f32 ? encode_latent(latent.data(), latent.size(), type)
                                     : half_bytes(codes.data(), codes.size());
  }

  // The mean squared error of the decoder's reconstruction of xs from zs (the same rows).
  double reconstruction_mse(const std::vector<T>& xs, const std::vector<T>& zs) {
    const std::size_t l = model_->arch.latent, n = zs.size() / l;
    auto buf = be_.template make<T>(n, l);
    be_.upload(zs.data(), B::view(buf));
    const auto y = model_->visit([&](auto& net) { return net.decode(be_, B::view(buf)); });
    std::vector<T> host(xs.size());
    be_.download(y, host.data());
    double sum = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) sum += (double(host[i]) - double(xs[i])) * (double(host[i]) - double(xs[i]));
    return sum / double(xs.size());
  }
  // The coarsest range:2^-e whose mse(E) is at most quantisation_mse_allowance above `reference`.
  template <class Mse>
  static double coarsest_quantisation(double reference, Mse&& mse) {
    const double allowed = (1 + quantisation_mse_allowance) * reference;
    for (int e = coarsest_quantisation_exponent; e < finest_quantisation_exponent; ++e)
      if (const double bound = std::ldexp(1.0, -e); mse(bound) <= allowed) return bound;
    return std::ldexp(1.0, -finest_quantisation_exponent);
  }

  // The quantisation bounds (quantised.hpp) are chosen on up to chunk_rows rows, evenly spread.
  // The bound of a quantised latent z of network inputs x (rows of each): its columns' ranges
  // come from all rows, as the stored latent's do.
  double latent_quantisation(const std::vector<T>& x, const std::vector<float>& z, std::size_t rows) {
    const std::size_t m = model_->schema.modelled.size(), l = model_->arch.latent, n = std::min(rows, chunk_rows);
    const std::vector<T> xs = spread_rows(x, rows, m, n);
    const std::vector<float> zs = spread_rows(z, rows, l, n);
    const auto ranges = value_ranges(z, rows, l);
    auto mse = [&](const std::vector<float>& latent) {
      return reconstruction_mse(xs, std::vector<T>(latent.begin(), latent.end()));
    };
    return coarsest_quantisation(mse(zs), [&](double bound) { return mse(quantised_values(zs, n, l, bound, ranges)); });
  }
  // The bound of the quantised decoder weights, on the latent of (the sampled rows of) x;
  // the model keeps its own weights.
  double weights_quantisation(const std::vector<T>& x, std::size_t rows) {
    const std::size_t m = model_->schema.modelled.size(), l = model_->arch.latent;
    const std::vector<T> xs = spread_rows(x, rows, m, std::min(rows, chunk_rows));
    auto buf = be_.template make<T>(xs.size() / m, m);
    be_.upload(xs.data(), B::view(buf));
    const auto z = model_->visit([&](auto& net) { return net.encode(be_, B::view(buf)); });
    std::vector<T> zs(xs.size() / m * l);
    be_.download(z, zs.data());
    const std::vector<float> w = model_->decoder_values();
    const auto ranges = value_ranges(w, w.size(), 1);
    const double bound = coarsest_quantisation(reconstruction_mse(xs, zs), [&](double e) {
      model_->set_decoder_values(quantised_values(w, w.size(), 1, e, ranges));
      return reconstruction_mse(xs, zs);
    });
    model_->set_decoder_values(w);
    return bound;
  }

  // Runs the decoder of the file (embedded, or the loaded model) over the latent and writes the
  // de-normalised modelled columns into t.
  void decode_into(const format::container& c, table& t) {
    const nlohmann::json& mj = c.header.at("model");
    std::unique_ptr<trained_model<B, Model>> embedded;
    trained_model<B, Model>* m = nullptr;
    if (mj.at("embedded").get<bool>()) {
      embedded = std::make_unique<trained_model<B, Model>>(
          trained_model<B, Model>::from_description(be_, mj, c.get("DECW").payload));
      m = embedded.get();
    } else {
      require(trained() && model_->id() == format::header_int<std::uint32_t>(mj.at("id"), "the model id"), "Codec::decompress",
              "the file keeps its decoder in a separate model file (id " +
                  mj.at("id").dump() +
                  "): give that model file to decompress it");
      m = model_.get();
    }
    // The model's columns must be exactly the columns the header marks as modelled.
    require(m->schema.names.size() == t.cols, "Codec::decompress",
            "the model describes " + std::to_string(m->schema.names.size()) + " columns, the data " +
                std::to_string(t.cols));
    const nlohmann::json columns = c.header.value("columns", nlohmann::json::array());
    if (columns.size() == t.cols)
      for (std::size_t col = 0; col < t.cols; ++col) {
        const std::string how = columns[col].at("treatment").get<std::string>();
        const bool modelled = m->schema.is_modelled(col);
        require(how == "model" ? modelled : (!modelled || how == "bounded"), "Codec::decompress",
                "column " + std::to_string(col) + " is modelled in one part of the header only");
      }
    const nlohmann::json& lj = c.header.at("latent");
    const std::size_t l = format::header_size(lj.at("cols"), "the latent columns"), mcols = m->schema.modelled.size();
    require(format::header_size(lj.at("rows"), "the latent rows") == t.rows && l == m->arch.latent,
            "Codec::decompress", "the latent's shape does not match the model");
    const auto dt = parse_latent_dtype(lj.at("dtype").get<std::string>());
    const byte_view payload(c.get("LATN").payload);
    const bool floats = dt == latent_dtype::f32 || dt == latent_dtype::q;
    if (dt != latent_dtype::q) require_latent_size(payload, t.rows * l, dt);
    // A 16-bit latent travels as its codes and is widened where the model runs.
    const std::vector<float> latent = dt == latent_dtype::q     ? decode_quantised(payload, t.rows, l)
                                      : dt == latent_dtype::f32 ? decode_latent(payload, t.rows * l, dt)
                                                                : std::vector<float>{};
    for (std::size_t first = 0; first < t.rows; first += chunk_rows) {
      const std::size_t n = std::min(chunk_rows, t.rows - first);
      auto buf = be_.template make<T>(n, l);
      if (floats) {
        const std::vector<T> z(latent.begin() + first * l, latent.begin() + (first + n) * l);
        be_.upload(z.data(), B::view(buf));
      } else {
        std::vector<std::uint16_t> codes(n * l);
        read_half_codes(payload, first * l, n * l, codes.data());
        auto bits = be_.template make<std::uint16_t>(n, l);
        be_.upload(codes.data(), B::view(bits));
        be_.dequantize_latent(const_view<std::uint16_t>(B::view(bits)), half_format_of(dt), B::view(buf));
      }
      const auto y = m->visit([&](auto& net) { return net.decode(be_, B::view(buf)); });
      std::vector<T> host(n * mcols);
      be_.download(y, host.data());
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t k = 0; k < mcols; ++k)
          t.values[(first + r) * t.cols + m->schema.modelled[k]] =
              m->schema.normalisers[k].inverse(double(host[r * mcols + k]));
    }
  }

  // Values outside the column's observed range are certainly wrong: clamp them. Integer
  // columns are rounded to nearest, never truncated.
  static void restore_range(table& t, std::size_t col, double lo, double hi, bool integer) {
    for (std::size_t r = 0; r < t.rows; ++r) {
      double& v = t.values[r * t.cols + col];
      if (!std::isfinite(v)) v = 0.5 * (lo + hi);  // a decoder overflow; never leave NaN
      v = std::clamp(integer ? std::nearbyint(v) : v, lo, hi);
    }
  }

  static void check_schema(const table& t, const model_schema& s) {
    require(t.cols == s.names.size(), "Codec::compress",
            "the data has " + std::to_string(t.cols) + " columns, the model was trained on " +
                std::to_string(s.names.size()));
    for (std::size_t c = 0; c < t.cols; ++c)
      require(t.names[c] == s.names[c], "Codec::compress",
              "column " + std::to_string(c) + " is '" + t.names[c] + "' here but '" +
                  s.names[c] + "' in the model");
  }

  B& be_;
  codec_options o_;
  std::unique_ptr<trained_model<B, Model>> model_;
  bool fitted_ = false;  // the model has weights (trained or loaded), so its latent can be used
  std::string latent_note_;
  bounded::report report_;
};

}  // namespace baler::codec
