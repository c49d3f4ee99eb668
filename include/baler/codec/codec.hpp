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
// the file is written with and without the latent, and the smaller kept.
#include <limits>
#include <memory>
#include <optional>

#include "baler/codec/bounded_coding.hpp"
#include "baler/codec/columns.hpp"
#include "baler/codec/exact_columns.hpp"
#include "baler/codec/model_file.hpp"
#include "baler/codec/relation_predictor.hpp"
#include "baler/codec/options.hpp"
#include "baler/codec/table.hpp"
#include "baler/format/container.hpp"
#include "baler/format/latent_dtype.hpp"

namespace baler::codec {

inline constexpr const char* library_version = "0.1.0";
inline constexpr std::size_t chunk_rows = 65536;  // rows per encode/decode pass: bounded memory

template <class B, class Model>
class Codec {
public:
  using T = typename Model::value_type;

  Codec(B& be, codec_options o) : be_(be), o_(std::move(o)) { validate(o_); }

  // Decides each column's treatment, fits the normalisation and trains the model on `d`.
  const train_history& train(const dataset& d) {
    const table t = as_table(d, "Codec::train");
    model_ = std::make_unique<trained_model<B, Model>>(be_, plan_training(t, o_), o_,
                                                       d.data.nbytes());
    const auto& s = model_->schema;
    if (!s.modelled.empty()) {
      const std::vector<T> x = network_inputs<T>(t, s);
      model_->fit(be_, x, t.rows, o_);
    }
    return model_->history;
  }
  bool trained() const { return model_ != nullptr; }
  const trained_model<B, Model>& model() const {
    require(trained(), "Codec::model", "no model: train or load one first");
    return *model_;
  }

  std::vector<std::byte> save_model() const { return model().serialize(); }
  void load_model(byte_view bytes) {
    model_ = std::make_unique<trained_model<B, Model>>(trained_model<B, Model>::parse(be_, bytes));
  }

  // Compresses `d`, which must have the schema the model was trained on.
  std::vector<std::byte> compress(const dataset& d) {
    require(trained(), "Codec::compress", "no model: train or load one first");
    const table t = as_table(d, "Codec::compress");
    const model_schema& s = model_->schema;
    check_schema(t, s);
    for (const auto& named : o_.error_bound.named)
      require(std::find(t.names.begin(), t.names.end(), named.first) != t.names.end(), "Codec::compress",
              "an error bound names the column '" + named.first + "', which the data does not have");
    if (o_.error_bound.enabled()) return compress_bounded(t, d.names);

    format::container c;
    c.header = input_header(t, d.names);
    nlohmann::json columns = nlohmann::json::array();
    std::vector<std::byte> exact;
    for (std::size_t col = 0; col < t.cols; ++col) {
      nlohmann::json j = column_entry(t, col, exact);
      if (j["treatment"] == "model") j["integer"] = s.integer[col];
      columns.push_back(j);
    }
    c.header["columns"] = columns;
    if (!s.modelled.empty()) add_latent(c, t);
    if (!exact.empty()) c.sections.push_back({"EXCT", std::move(exact)});
    return serialize(c);
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
      t.shape = h.at("input").at("shape").get<std::vector<std::size_t>>();
      t.type = parse_dtype(h.at("input").at("dtype").get<std::string>());
      require(!t.shape.empty() && t.shape[0] > 0, where, "the header's shape is empty");
      const std::size_t elements = shape_elements(t.shape, where);  // refuses overflow
      require(elements <= std::numeric_limits<std::size_t>::max() / dtype_size(t.type) &&
                  elements * dtype_size(t.type) == h.at("input").at("nbytes").get<std::size_t>(),
              where, "the header's shape, dtype and size disagree");
      t.rows = t.shape[0];
      t.cols = elements / t.rows;
      const nlohmann::json& columns = h.at("columns");
      const bool field = h.contains("error_bound") && h["error_bound"].at("layout") == "field";
      require(field || columns.size() == t.cols, where, "the header describes " +
              std::to_string(columns.size()) + " columns for " + std::to_string(t.cols));
      t.values.assign(t.rows * t.cols, 0.0);

      if (h.contains("model")) decode_into(c, t);
      if (h.contains("error_bound")) decode_bounded(c, t);
      std::size_t offset = 0;
      const format::section* exact = c.find("EXCT");
      for (std::size_t col = 0; col < (field ? 0 : t.cols); ++col) {
        const nlohmann::json& j = columns[col];
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
      out.data = ndarray::from_doubles(t.values, t.shape, t.type);
      return out;
    } catch (const nlohmann::json::exception& e) {
      throw error(std::string(where) + "(): the header is incomplete or malformed: " + e.what());
    }
  }

private:
  static nlohmann::json input_header(const table& t, const std::vector<std::string>& names) {
    nlohmann::json h;
    h["kind"] = "baler.compressed";
    h["library_version"] = library_version;
    h["input"] = {{"shape", t.shape}, {"dtype", dtype_name(t.type)},
                  {"nbytes", t.values.size() * dtype_size(t.type)}, {"names", names}};
    return h;
  }

  std::vector<std::byte> serialize(const format::container& c) const {
    return format::serialize(c, o_.zstd ? format::compression_policy::zstd()
                                        : format::compression_policy::none());
  }

  // The header entry of column `col`; a constant or lossless one is stored here (exact bytes
  // appended), a modelled one is left to the caller.
  nlohmann::json column_entry(const table& t, std::size_t col, std::vector<std::byte>& exact) const {
    const column_stats st = analyse(t.values.data(), t.rows, t.cols, col, 0);
    nlohmann::json j = {{"name", t.names[col]}, {"min", st.min}, {"max", st.max}};
    if (model_->schema.is_modelled(col)) {
      if (!st.finite) throw error(first_non_finite(t, col, "Codec::compress"));
      j["treatment"] = "model";
    } else if (st.finite && st.min == st.max) {
      j["treatment"] = "constant";
      j["value"] = st.min;
    } else {
      const std::string enc = exact_encoding(st.finite && st.integral, st.min, st.max);
      append_exact(exact, t.values, t.rows, t.cols, col, enc);
      j["treatment"] = "lossless";
      j["encoding"] = enc;
    }
    return j;
  }

  // LATN and DECW of `t` with their header entries.
  void add_latent(format::container& c, const table& t) {
    c.sections.push_back({"LATN", encode(t)});
    c.header["latent"] = {{"rows", t.rows}, {"cols", model_->arch.latent},
                          {"dtype", baler::name(o_.latent_type)}};
    c.header["model"] = model_->describe(o_.weights_type, o_.embed_decoder);
    if (o_.embed_decoder) c.sections.push_back({"DECW", model_->decoder_weights(o_.weights_type)});
  }

  // Error-bounded mode: the file with the latent as a predictor and the file without, the
  // smaller one returned. Predictions come from the stored latent and decoder, exactly as
  // decompress computes them.
  std::vector<std::byte> compress_bounded(const table& t, const std::vector<std::string>& names) {
    const bool field = is_field(t.shape, !names.empty());
    std::vector<std::byte> best;
    for (bool latent : {false, true}) {
      if (latent && model_->schema.modelled.empty()) continue;
      format::container c;
      c.header = input_header(t, names);
      table pred;
      if (latent) {
        add_latent(c, t);
        pred = t;
        pred.values.assign(t.values.size(), 0.0);
        decode_into(c, pred);
      }
      const std::vector<double>* p = latent ? &pred.values : nullptr;
      std::vector<std::byte> resq, exact;
      if (field) {
        c.header["columns"] = nlohmann::json::array();
        c.header["error_bound"] = encode_field(t, o_.error_bound.all, p, resq);
      } else {
        nlohmann::json columns = nlohmann::json::array();
        table rec = t;  // reconstructions of the bounded columns coded so far
        std::vector<std::size_t> decoded;  // bounded float columns, in decode order
        for (std::size_t col = 0; col < t.cols; ++col) {
          nlohmann::json j = column_entry(t, col, exact);
          if (j["treatment"] == "model") {
            j["treatment"] = "bounded";
            j.update(encode_column(t, col, p, decoded, rec, resq));
            if (!model_->schema.integer[col]) decoded.push_back(col);
          }
          columns.push_back(j);
        }
        c.header["columns"] = columns;
        c.header["error_bound"] = {{"layout", "table"}};
      }
      if (!exact.empty()) c.sections.push_back({"EXCT", std::move(exact)});
      c.sections.push_back({"RESQ", std::move(resq)});
      std::vector<std::byte> file = serialize(c);
      if (best.empty() || file.size() < best.size()) best = std::move(file);
    }
    return best;
  }

  // Codes column `col`; `decoded` lists the columns a relation network may read from `rec`,
  // whose column `col` receives the reconstruction.
  nlohmann::json encode_column(const table& t, std::size_t col, const std::vector<double>* pred,
                               const std::vector<std::size_t>& decoded, table& rec,
                               std::vector<std::byte>& resq) const {
    const column_stats st = analyse(t.values.data(), t.rows, t.cols, col, 0);
    const bool integer = model_->schema.integer[col];
    const value_code code = code_for(o_.error_bound.of(t.names[col]), st, integer);
    const std::vector<double> x = column_of(t.values, t, col);
    std::vector<value_prediction> extra;
    if (pred) extra.push_back({{{"kind", "latent"}}, column_of(*pred, t, col), {}});
    if (!integer && !decoded.empty()) {
      std::vector<double> lo, hi;
      for (std::size_t c : decoded) {
        const column_stats s = analyse(rec.values.data(), rec.rows, rec.cols, c, 0);
        lo.push_back(s.min), hi.push_back(s.max);
      }
      lo.push_back(st.min), hi.push_back(st.max);
      const relation_net net = relation_net::fit(rec.values, t.rows, t.cols, decoded, x, lo, hi);
      extra.push_back({{{"kind", "relation"}}, net.predict(rec.values, t.rows, t.cols), net.bytes()});
    }
    const coded_block b = code_block(x.data(), t.rows, code, t.type, nullptr, extra);
    for (std::size_t r = 0; r < t.rows; ++r) rec.values[r * t.cols + col] = b.result.recon[r];
    nlohmann::json j = {{"code", code.to_json()}, {"predictor", b.predictor},
                        {"offset", resq.size()}, {"exceptions", b.result.exceptions}};
    resq.insert(resq.end(), b.result.bytes.begin(), b.result.bytes.end());
    return j;
  }

  static nlohmann::json encode_field(const table& t, const bound_spec& b, const std::vector<double>* pred,
                                     std::vector<std::byte>& resq) {
    const column_stats st = analyse(t.values.data(), t.values.size(), 1, 0, 0);
    const bool integer = t.type != dtype::f32 && t.type != dtype::f64;
    const value_code code = code_for(b, st, integer);
    std::vector<value_prediction> extra;
    if (pred) extra.push_back({{{"kind", "latent"}}, *pred, {}});
    const coded_block cb = code_block(t.values.data(), t.values.size(), code, t.type, &t.shape, extra);
    resq = cb.result.bytes;
    return {{"layout", "field"}, {"bound", to_string(b)}, {"code", code.to_json()},
            {"predictor", cb.predictor}, {"exceptions", cb.result.exceptions}};
  }

  // Overwrites the bounded columns (or the whole field) of t, which holds the latent's
  // predictions (or zeros) on entry.
  static void decode_bounded(const format::container& c, table& t) {
    const nlohmann::json& eb = c.header.at("error_bound");
    const byte_view resq(c.get("RESQ").payload);
    const std::vector<double> pred = t.values;
    // Columns decode in order, so t holds every column a relation network reads.
    auto values_for = [&](std::size_t col, const nlohmann::json& desc, rans::reader& in) {
      if (desc.at("kind") == "relation" && col < t.cols)
        return relation_net::read(in, t.cols).predict(t.values, t.rows, t.cols);
      require(desc.at("kind") == "latent" && c.header.contains("model"), "Codec::decompress",
              "unknown predictor '" + desc.at("kind").get<std::string>() + "'");
      return col == t.cols ? pred : column_of(pred, t, col);
    };
    if (eb.at("layout") == "field") {
      rans::reader in{resq};
      t.values = decode_coded_block(in, t.values.size(), value_code::from_json(eb.at("code")), &t.shape,
                                    eb.at("predictor"),
                                    [&](const nlohmann::json& d, rans::reader& r) { return values_for(t.cols, d, r); });
      return;
    }
    const nlohmann::json& columns = c.header.at("columns");
    for (std::size_t col = 0; col < t.cols; ++col) {
      const nlohmann::json& j = columns[col];
      if (j.at("treatment") != "bounded") continue;
      const std::size_t offset = j.at("offset").get<std::size_t>();
      require(offset <= resq.size, "Codec::decompress", "a residual block starts past the RESQ section");
      rans::reader in{resq, offset};
      const std::vector<double> x = decode_coded_block(
          in, t.rows, value_code::from_json(j.at("code")), nullptr, j.at("predictor"),
          [&](const nlohmann::json& d, rans::reader& r) { return values_for(col, d, r); });
      for (std::size_t r = 0; r < t.rows; ++r) t.values[r * t.cols + col] = x[r];
    }
  }

  static std::vector<double> column_of(const std::vector<double>& v, const table& t, std::size_t col) {
    std::vector<double> x(t.rows);
    for (std::size_t r = 0; r < t.rows; ++r) x[r] = v[r * t.cols + col];
    return x;
  }

  // The LATN payload of t: the network inputs of the modelled columns (rows x modelled) are
  // encoded chunk by chunk; a 16-bit latent is rounded where the model runs, so only the codes
  // travel back (the backends round identically).
  std::vector<std::byte> encode(const table& t) {
    const model_schema& s = model_->schema;
    const std::vector<T> x = network_inputs<T>(t, s);
    require_finite_inputs(x, t, s);
    const std::size_t m = s.modelled.size(), l = model_->arch.latent;
    const latent_dtype type = o_.latent_type;
    std::vector<float> latent(type == latent_dtype::f32 ? t.rows * l : 0);
    std::vector<std::uint16_t> codes(type == latent_dtype::f32 ? 0 : t.rows * l);
    for (std::size_t first = 0; first < t.rows; first += chunk_rows) {
      const std::size_t n = std::min(chunk_rows, t.rows - first);
      auto buf = be_.template make<T>(n, m);
      be_.upload(x.data() + first * m, B::view(buf));
      const auto z = model_->model->encode(be_, B::view(buf));
      auto as_floats = [&] {  // the chunk's latent, on the host
        std::vector<T> host(n * l);
        be_.download(z, host.data());
        return std::vector<float>(host.begin(), host.end());
      };
      if (type == latent_dtype::f32) {
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
    return type == latent_dtype::f32 ? encode_latent(latent.data(), latent.size(), type)
                                     : half_bytes(codes.data(), codes.size());
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
      require(trained() && model_->id() == mj.at("id").get<std::uint32_t>(), "Codec::decompress",
              "the file keeps its decoder in a separate model file (id " +
                  std::to_string(mj.at("id").get<std::uint32_t>()) +
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
    const std::size_t l = lj.at("cols").get<std::size_t>(), mcols = m->schema.modelled.size();
    require(lj.at("rows").get<std::size_t>() == t.rows && l == m->arch.latent,
            "Codec::decompress", "the latent's shape does not match the model");
    const auto dt = parse_latent_dtype(lj.at("dtype").get<std::string>());
    const byte_view payload(c.get("LATN").payload);
    require_latent_size(payload, t.rows * l, dt);
    // A 16-bit latent travels as its codes and is widened where the model runs.
    const std::vector<float> latent = dt == latent_dtype::f32 ? decode_latent(payload, t.rows * l, dt)
                                                              : std::vector<float>{};
    for (std::size_t first = 0; first < t.rows; first += chunk_rows) {
      const std::size_t n = std::min(chunk_rows, t.rows - first);
      auto buf = be_.template make<T>(n, l);
      if (dt == latent_dtype::f32) {
        const std::vector<T> z(latent.begin() + first * l, latent.begin() + (first + n) * l);
        be_.upload(z.data(), B::view(buf));
      } else {
        std::vector<std::uint16_t> codes(n * l);
        read_half_codes(payload, first * l, n * l, codes.data());
        auto bits = be_.template make<std::uint16_t>(n, l);
        be_.upload(codes.data(), B::view(bits));
        be_.dequantize_latent(const_view<std::uint16_t>(B::view(bits)), half_format_of(dt), B::view(buf));
      }
      const auto y = m->model->decode(be_, B::view(buf));
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
};

}  // namespace baler::codec
