#pragma once
// Every choice the codec makes, with its default, and how a JSON config sets it. An option the
// config names but the codec does not know is an error, never silently ignored.
#include <array>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/codec/columns.hpp"
#include "baler/codec/error_bound.hpp"
#include "baler/format/latent_dtype.hpp"
#include "baler/train/trainer.hpp"

namespace baler::codec {

enum class latent_use { automatic, always, never };
inline latent_use parse_latent_use(const std::string& s) {
  if (s == "auto") return latent_use::automatic;
  if (s == "always") return latent_use::always;
  if (s == "never") return latent_use::never;
  throw error("parse_latent_use(): '" + s + "' is not auto, always or never");
}

struct codec_options {
  // Model: Baler's dense autoencoder, features -> hidden[0..2] -> latent and back; for the conv
  // architecture `hidden` are the channels of its three convolutions (conv_shape).
  std::size_t latent = 0;  // 0: half the modelled columns, rounded up (Baler's ratio 2), <= 64;
                           // conv: 8 per frame
  std::array<std::size_t, 3> hidden{0, 0, 0};  // 0, 0, 0: Baler's 200-100-50, narrowed for wide
                                               // inputs (see default_shape in model_file.hpp);
                                               // conv: 8, 8, 8
  double slope = 0.01;  // LeakyReLU
  // "dense": one model over whole rows; "patch": the field cut into tiles, one model shared by
  // every tile (tiling.hpp); "conv": a convolutional autoencoder over frames or blocks
  // (models/conv_ae.hpp); "auto": patch for wide fields (choose_tile). `tile`: one size per
  // axis of the data, empty for the default.
  std::string architecture = "auto";
  std::vector<std::size_t> tile;
  std::size_t training_tiles = 65536;  // patch, conv: train on at most this many tiles, evenly spread

  // Storage.
  latent_dtype latent_type = latent_dtype::q;
  latent_dtype weights_type = latent_dtype::q;  // of the embedded decoder
  bool embed_decoder = true;  // false: the file needs the model file to decompress
  bool zstd = true;           // lossless pass over sections, kept only where it helps

  // Columns.
  scaling normalisation = scaling::minmax;
  std::string log_columns = "none";  // "none", "auto", or comma-separated column names
  std::vector<std::string> lossless_columns;  // stored exactly
  std::vector<std::string> integer_columns;   // rounded on the way back, even if not detected
  std::size_t lossless_max_distinct = 256;    // integer columns with at most this many distinct
                                              // values are stored exactly (0: never)
  bool allow_non_finite = false;  // true: columns with NaN/Inf are stored exactly

  // Error-bounded mode (error_bound.hpp): when set, every bounded column is restored within its
  // bound, integer columns exactly, and the codec keeps the latent only where it makes the
  // file smaller. Config: "error_bound": "range:1e-3", "error_bounds": {"pt": "rel:1e-3"}.
  bound_config error_bound;
  search_effort effort = search_effort::thorough;  // how hard it searches fields and tables (error_bound.hpp)
  // Whether the error-bounded mode trains an autoencoder to offer its reconstruction as a
  // predictor: auto (when a PCA estimate says its latent pays for itself), always, never.
  latent_use latent_predictor = latent_use::automatic;

  // Training.
  std::size_t epochs = 200;
  std::size_t batch_size = 0;  // 0: rows/16, between 8 and 512
  double learning_rate = 1e-3;
  double weight_decay = 0.0;  // AdamW's decoupled decay
  double validation_fraction = 0.1;
  std::string schedule = "constant";  // plateau decays too early on the noisy validation loss of small data
  std::size_t early_stopping_patience = 0;  // 0: off; the best epoch's weights are kept anyway
  double latent_l1 = 0.0;
  std::uint64_t seed = 0;
  std::function<void(const epoch_report&)> on_epoch;  // progress reporting, not a config key
  unsigned threads = 0;  // error-bounded table columns coded at once (0: all cores); not a config key:
                         // the file is the same for any count
  data_parallel parallel;  // data-parallel training across processes, not a config key
};

namespace detail {
// nlohmann converts a float to an integer with a plain cast, undefined beyond the integer's
// range ({"latent": 1e30}), and wraps a negative integer into an unsigned one: whole numbers
// are checked first.
template <class T>
void require_whole(const nlohmann::json& v, const char* key) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number()) return;  // not a number at all: nlohmann's type error says so
    const bool whole = v.is_number_integer() && (std::is_signed_v<T> || v.get<std::int64_t>() >= 0 ||
                                                 v.is_number_unsigned());
    require(whole, "codec_options",
            std::string(key) + " must be a" + (std::is_signed_v<T> ? "" : " non-negative") +
                " whole number, not " + v.dump());
  }
}
template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};

template <class T>
void set_if(const nlohmann::json& j, const char* key, T& value) {
  if (!j.contains(key)) return;
  const nlohmann::json& v = j.at(key);
  if constexpr (is_std_array<T>::value) {
    if (v.is_array())
      for (const auto& item : v) require_whole<typename T::value_type>(item, key);
  } else {
    require_whole<T>(v, key);
  }
  value = v.get<T>();
}
}  // namespace detail

// Applies a JSON object of options, e.g. {"latent": 8, "latent_dtype": "f16", "epochs": 500}.
inline void apply_json(codec_options& o, const nlohmann::json& j) {
  static const char* known[] = {"latent", "hidden", "slope", "architecture", "tile",
                                "training_tiles", "latent_dtype", "weights_dtype",
                                "embed_decoder", "zstd", "normalisation", "log_columns",
                                "lossless_columns", "integer_columns", "lossless_max_distinct",
                                "allow_non_finite", "error_bound", "error_bounds", "effort", "latent_predictor", "epochs", "batch_size", "learning_rate",
                                "weight_decay", "validation_fraction", "schedule",
                                "early_stopping_patience", "latent_l1", "seed"};
  require(j.is_object(), "codec_options", "the config must be a JSON object");
  for (const auto& item : j.items()) {
    const bool ok = std::any_of(std::begin(known), std::end(known),
                                [&](const char* k) { return item.key() == k; });
    require(ok, "codec_options", "unknown option '" + item.key() + "' in the config");
  }
  try {
    detail::set_if(j, "latent", o.latent);
    detail::set_if(j, "hidden", o.hidden);
    detail::set_if(j, "slope", o.slope);
    detail::set_if(j, "architecture", o.architecture);
    detail::set_if(j, "tile", o.tile);
    detail::set_if(j, "training_tiles", o.training_tiles);
    if (j.contains("latent_dtype"))
      o.latent_type = parse_latent_dtype(j.at("latent_dtype").get<std::string>());
    if (j.contains("weights_dtype"))
      o.weights_type = parse_latent_dtype(j.at("weights_dtype").get<std::string>());
    detail::set_if(j, "embed_decoder", o.embed_decoder);
    detail::set_if(j, "zstd", o.zstd);
    if (j.contains("normalisation"))
      o.normalisation = parse_scaling(j.at("normalisation").get<std::string>());
    detail::set_if(j, "log_columns", o.log_columns);
    detail::set_if(j, "lossless_columns", o.lossless_columns);
    detail::set_if(j, "integer_columns", o.integer_columns);
    detail::set_if(j, "lossless_max_distinct", o.lossless_max_distinct);
    detail::set_if(j, "allow_non_finite", o.allow_non_finite);
    if (j.contains("error_bound")) o.error_bound.all = parse_bound(j.at("error_bound").get<std::string>());
    if (j.contains("error_bounds")) {
      require(j.at("error_bounds").is_object(), "codec_options",
              "error_bounds must map column names to bounds, e.g. {\"pt\": \"rel:1e-3\"}");
      for (const auto& item : j.at("error_bounds").items())
        o.error_bound.named[item.key()] = parse_bound(item.value().get<std::string>());
    }
    if (j.contains("effort")) o.effort = parse_effort(j.at("effort").get<std::string>());
    if (j.contains("latent_predictor"))
      o.latent_predictor = parse_latent_use(j.at("latent_predictor").get<std::string>());
    detail::set_if(j, "epochs", o.epochs);
    detail::set_if(j, "batch_size", o.batch_size);
    detail::set_if(j, "learning_rate", o.learning_rate);
    detail::set_if(j, "weight_decay", o.weight_decay);
    detail::set_if(j, "validation_fraction", o.validation_fraction);
    detail::set_if(j, "schedule", o.schedule);
    detail::set_if(j, "early_stopping_patience", o.early_stopping_patience);
    detail::set_if(j, "latent_l1", o.latent_l1);
    detail::set_if(j, "seed", o.seed);
  } catch (const nlohmann::json::exception& e) {
    throw error(std::string("codec_options(): bad value in the config: ") + e.what());
  }
}

// Checks ranges once, so that a bad value fails before hours of training, with its name.
inline void validate(const codec_options& o) {
  const bool auto_hidden = o.hidden[0] == 0 && o.hidden[1] == 0 && o.hidden[2] == 0;
  require(auto_hidden || (o.hidden[0] > 0 && o.hidden[1] > 0 && o.hidden[2] > 0), "codec_options",
          "hidden widths must all be positive (or all 0 for the automatic choice)");
  require(o.slope >= 0, "codec_options", "slope must be >= 0");
  require(o.architecture == "auto" || o.architecture == "dense" || o.architecture == "patch" ||
              o.architecture == "conv",
          "codec_options", "architecture must be auto, dense, patch or conv");
  require(std::all_of(o.tile.begin(), o.tile.end(), [](std::size_t n) { return n > 0; }) &&
              o.training_tiles > 0,
          "codec_options", "tile sizes and training_tiles must be positive");
  require(o.epochs > 0, "codec_options", "epochs must be positive");
  require(o.learning_rate > 0 && std::isfinite(o.learning_rate), "codec_options",
          "learning_rate must be positive");
  require(o.validation_fraction >= 0 && o.validation_fraction < 1, "codec_options",
          "validation_fraction must be in [0, 1)");
  lr_schedule::parse(o.schedule);
}

}  // namespace baler::codec
