#pragma once
// Command-line flags and how they become codec options: defaults, then a JSON config file
// (--config, or the project's), then the flags actually given. Every flag has a config key;
// nothing is accepted and ignored.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "baler/cli/paths.hpp"
#include "baler/codec/chunked.hpp"
#include "baler/codec/options.hpp"
#include "baler/io/atomic_file.hpp"

namespace baler::cli {

// CLI::ExistingFile for data paths, which may name a dataset inside an HDF5 file (FILE.h5:/x).
inline const CLI::Validator existing_data{
    [](std::string& path) { return CLI::ExistingFile(file_of(path).string()); }, "DATA"};

struct global_flags {
  bool quiet = false, force = false, sync = false;
  int threads = 0;
  std::string device = "cpu";
};

struct io_flags {
  std::string input, output, model, save_model, history, config;
  std::vector<std::string> project;  // WORKSPACE PROJECT

  // The files a command reads: no output may replace one of them.
  std::vector<std::filesystem::path> inputs() const { return {input, model, config}; }
};

// One entry per codec flag: the flag's option (to see whether it was given) and how to apply it.
struct codec_flags {
  std::vector<std::pair<CLI::Option*, std::function<void(codec::codec_options&)>>> given;
  // storage for the parsed values
  std::size_t latent = 0, epochs = 0, batch = 0, patience = 0, max_distinct = 0;
  std::uint64_t seed = 0;
  std::vector<std::size_t> hidden, tile;
  std::string architecture, latent_dtype, weights_dtype, normalisation, log, schedule;
  std::vector<std::string> lossless, integer, error_bound;
  std::string latent_predictor, effort;
  double lr = 0, weight_decay = 0, validation = 0, l1 = 0;
  bool separate_model = false, no_zstd = false, non_finite = false;
};

inline void add_global_flags(CLI::App& app, global_flags& g) {
  app.add_flag("-q,--quiet", g.quiet, "no progress output");
  app.add_flag("-f,--force", g.force, "replace existing output files (never an input)");
  app.add_flag("--sync", g.sync, "flush every output to disk before it replaces the old file, so that it survives a power cut (a few ms per file)");
  app.add_option("--threads", g.threads, "CPU threads: OpenBLAS's for one file (default: its choice) and its error-bounded table columns coded at once (default: all cores), workers for chunked files (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", g.device, "where train, compress, decompress and diagnose run: cpu or cuda")
      ->check(CLI::IsMember({"cpu", "cuda"}));
}

inline std::string text_of(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// --layout: how a dataset is read, "auto" (codec::is_field: by its shape, names and values),
// "table" (columns with ranges of their own) or "field" (one array, one range).
inline void add_layout(CLI::App* cmd, std::string& layout) {
  cmd->add_option("--layout", layout,
                  "auto (default): a 2-D array without column names is a field unless it is 16 times taller than "
                  "wide or its columns' values say it is a table; table: each column bounded on its own range; "
                  "field: one array, one range")
      ->check(CLI::IsMember({"auto", "table", "field"}));
}
// Refuses --layout field for an input of one axis or with column names.
inline void check_layout(const std::string& layout, const std::vector<std::string>& names, std::size_t axes) {
  require(layout != "field" || (names.empty() && axes >= 2), "--layout field",
          "a field is an array of 2 or more axes without column names; this input " +
              std::string(names.empty() ? "has one axis" : "names its columns"));
}
// Whether d is taken as a field under `layout`.
inline bool field_by_layout(const dataset& d, const std::string& layout) {
  if (layout == "auto") return codec::is_field(d);
  check_layout(layout, d.names, d.data.shape.size());
  return layout == "field";
}
// Rows taken as `layout` says (auto: as their values say, which they already are).
inline void apply_layout(codec::file_rows& rows, const std::string& layout) {
  if (layout == "auto") return;
  check_layout(layout, rows.input_names(), rows.source().shape.size());
  rows.take_as(layout == "field");
}

inline void add_input(CLI::App* cmd, io_flags& io, const char* what, bool config = true) {
  cmd->add_option("input", io.input, what);
  if (config)
    cmd->add_option("--config", io.config, "JSON file of options; flags override it")->check(CLI::ExistingFile);
  cmd->add_option("--project", io.project, "use Baler's layout workspaces/WORKSPACE/PROJECT")
      ->expected(2);
}

inline void add_codec_flags(CLI::App* cmd, codec_flags& f) {
  using O = codec::codec_options;
  auto flag = [&](CLI::Option* opt, std::function<void(O&)> apply) { f.given.emplace_back(opt, std::move(apply)); };
  flag(cmd->add_option("--latent", f.latent, "latent size (default: half the modelled columns; conv: 8 per frame)")
           ->check(CLI::PositiveNumber), [&f](O& o) { o.latent = f.latent; });
  flag(cmd->add_option("--hidden", f.hidden, "three hidden widths, e.g. 200,100,50 (default: 200,100,50 narrowed so the decoder is at most a quarter of the input); with --architecture conv the channels of the three convolutions (default 8,8,8)")->delimiter(',')->expected(3),
       [&f](O& o) { std::copy(f.hidden.begin(), f.hidden.end(), o.hidden.begin()); });
  flag(cmd->add_option("--architecture", f.architecture,
                       "auto (default: patch for fields whose rows hold 256+ values, else dense), "
                       "dense (one model over whole rows), patch (the field cut into tiles, one "
                       "small model shared by every tile) or conv (a convolutional autoencoder over "
                       "the frames of a 3-D or 4-D array, or 32x32 blocks of a 2-D field); with "
                       "--error-bound, patch and conv predict fields with --latent-predictor always")
           ->check(CLI::IsMember({"auto", "dense", "patch", "conv"})),
       [&f](O& o) { o.architecture = f.architecture; });
  flag(cmd->add_option("--tile", f.tile, "patch or conv tile, one size per axis, e.g. 1,10,10 (patch default: 8 per axis, 1 along the frames of a 3-D array; conv default: one frame, or 32x32 blocks of a 2-D field)")
           ->delimiter(','),
       [&f](O& o) { o.tile = f.tile; });
  flag(cmd->add_option("--latent-dtype", f.latent_dtype,
                       "latent storage: f32, f16, bf16 or q (default: each latent column quantised to the coarsest "
                       "step that raises the reconstruction's mean squared error by at most 1 %, then entropy coded)")
           ->check(CLI::IsMember({"f32", "f16", "bf16", "q"})),
       [&f](O& o) { o.latent_type = parse_latent_dtype(f.latent_dtype); });
  flag(cmd->add_option("--weights-dtype", f.weights_dtype,
                       "embedded decoder weights: f32, f16, bf16 or q (default: quantised like the latent, to the "
                       "coarsest step that raises the mean squared error by at most 1 %, then entropy coded; f16 "
                       "where that is smaller)")
           ->check(CLI::IsMember({"f32", "f16", "bf16", "q"})),
       [&f](O& o) { o.weights_type = parse_latent_dtype(f.weights_dtype); });
  flag(cmd->add_flag("--separate-model", f.separate_model, "keep the decoder out of the file (needs the model file to decompress)"),
       [&f](O& o) { o.embed_decoder = !f.separate_model; });
  flag(cmd->add_flag("--no-zstd", f.no_zstd, "no lossless pass over the sections"),
       [&f](O& o) { o.zstd = !f.no_zstd; });
  flag(cmd->add_option("--normalisation,--normalization", f.normalisation, "minmax (default) or standard")
           ->check(CLI::IsMember({"minmax", "standard"})),
       [&f](O& o) { o.normalisation = codec::parse_scaling(f.normalisation); });
  flag(cmd->add_option("--log", f.log, "log-transform columns: none (default), auto, or NAME,NAME"),
       [&f](O& o) { o.log_columns = f.log; });
  flag(cmd->add_option("--lossless", f.lossless, "store these columns exactly")->delimiter(','),
       [&f](O& o) { o.lossless_columns = f.lossless; });
  flag(cmd->add_option("--integer", f.integer, "round these columns to integers")->delimiter(','),
       [&f](O& o) { o.integer_columns = f.integer; });
  flag(cmd->add_option("--lossless-max-distinct", f.max_distinct,
                       "store integer columns with at most this many values exactly (default 256)"),
       [&f](O& o) { o.lossless_max_distinct = f.max_distinct; });
  flag(cmd->add_flag("--allow-non-finite", f.non_finite, "store columns holding NaN/Inf exactly instead of refusing"),
       [&f](O& o) { o.allow_non_finite = f.non_finite; });
  flag(cmd->add_option("--error-bound", f.error_bound,
                       "guarantee |error| per column: abs:X, range:X (of the column's range) or rel:X "
                       "(pointwise), or a PSNR of at least X dB with psnr:X; NAME=BOUND for one column, "
                       "e.g. range:1e-3,pt=rel:1e-3")
           ->delimiter(','),
       [&f](O& o) { o.error_bound = codec::parse_bound_config(f.error_bound); });
  flag(cmd->add_option("--effort", f.effort,
                       "with --error-bound: thorough (default: every predictor, the smallest file) or fast "
                       "(fields: one quantisation, the fixed predictors and causal weights fitted on a box; "
                       "tables: no relation networks or mixed histograms): 1.6-3.6x faster on the shared data, "
                       "files 0-25 % larger")
           ->check(CLI::IsMember({"thorough", "fast"})),
       [&f](O& o) { o.effort = codec::parse_effort(f.effort); });
  flag(cmd->add_option("--latent-predictor", f.latent_predictor,
                       "with --error-bound: train an autoencoder as one more predictor: auto (default: "
                       "when a PCA estimate says its latent pays for itself), always, never")
           ->check(CLI::IsMember({"auto", "always", "never"})),
       [&f](O& o) { o.latent_predictor = codec::parse_latent_use(f.latent_predictor); });
  flag(cmd->add_option("--epochs", f.epochs, "training epochs (default 200)")->check(CLI::PositiveNumber),
       [&f](O& o) { o.epochs = f.epochs; });
  flag(cmd->add_option("--batch-size", f.batch, "mini-batch size (default rows/16 in [8, 512])")->check(CLI::PositiveNumber),
       [&f](O& o) { o.batch_size = f.batch; });
  flag(cmd->add_option("--lr", f.lr, "learning rate (default 1e-3)")->check(CLI::PositiveNumber),
       [&f](O& o) { o.learning_rate = f.lr; });
  flag(cmd->add_option("--weight-decay", f.weight_decay, "AdamW weight decay (default 0)")->check(CLI::NonNegativeNumber),
       [&f](O& o) { o.weight_decay = f.weight_decay; });
  flag(cmd->add_option("--validation-fraction", f.validation, "held-out fraction (default 0.1)")->check(CLI::Range(0.0, 0.99)),
       [&f](O& o) { o.validation_fraction = f.validation; });
  flag(cmd->add_option("--schedule", f.schedule, "learning rate: constant (default), plateau, step, cosine")
           ->check(CLI::IsMember({"constant", "plateau", "step", "cosine"})),
       [&f](O& o) { o.schedule = f.schedule; });
  flag(cmd->add_option("--patience", f.patience, "early stopping patience in epochs (default 0: off)"),
       [&f](O& o) { o.early_stopping_patience = f.patience; });
  flag(cmd->add_option("--latent-l1", f.l1, "L1 activation-sparsity weight on the latent (default 0)")->check(CLI::NonNegativeNumber),
       [&f](O& o) { o.latent_l1 = f.l1; });
  flag(cmd->add_option("--seed", f.seed, "random seed (default 0)"), [&f](O& o) { o.seed = f.seed; });
}

// Flags that shape the model or its training mean nothing with --model (already trained);
// flags about the compressed file mean nothing to `train`, which writes a model file.
inline void refuse_ignored_flags(const codec_flags& f, bool training_command, bool with_model,
                                 const char* cmd) {
  static const std::vector<std::string> storage{"--latent-dtype", "--weights-dtype", "--separate-model",
                                                "--no-zstd", "--error-bound", "--effort"};
  for (const auto& [opt, apply] : f.given) {
    if (opt->count() == 0) continue;
    const std::string name = opt->get_name();
    const bool is_storage = std::find(storage.begin(), storage.end(), name) != storage.end();
    require(!(training_command && is_storage), cmd, name + " has no effect on a model file");
    require(!(with_model && !is_storage), cmd, name + " has no effect with --model: that model is already trained");
    require(name != "--latent-predictor" || (!training_command && !with_model && !f.error_bound.empty()), cmd,
            "--latent-predictor decides whether compress --error-bound trains an autoencoder; it does "
            "nothing here");
    require(name != "--effort" || !f.error_bound.empty(), cmd,
            "--effort decides how compress --error-bound searches; it does nothing without one");
  }
}

// The project's default paths fill what the flags left empty.
inline void resolve_project(io_flags& io, const std::string& mode) {
  if (!io.project.empty()) {
    const project_paths p(io.project[0], io.project[1]);
    if (io.config.empty()) io.config = p.config.string();
    if (mode == "decompress") {
      if (io.input.empty()) io.input = p.compressed.string();
      if (io.output.empty()) io.output = p.decompressed.string();
    } else {
      if (io.input.empty()) {
        const auto j = nlohmann::json::parse(text_of(read_file(io.config)));
        require(j.contains("input_path"), "baler --project", io.config + " has no input_path");
        io.input = j["input_path"].get<std::string>();
      }
      if (io.output.empty()) io.output = (mode == "train" ? p.model : p.compressed).string();
      if (mode == "compress" && io.model.empty() && std::filesystem::exists(p.model))
        io.model = p.model.string();
    }
  }
  require(!io.input.empty(), ("baler " + mode).c_str(), "give an input file (or --project WORKSPACE PROJECT)");
}

inline codec::codec_options make_options(const codec_flags& f, const io_flags& io) {
  codec::codec_options o;
  if (!io.config.empty()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text_of(read_file(io.config)));
    } catch (const nlohmann::json::exception& e) {
      throw error("baler: " + io.config + " is not valid JSON: " + e.what());
    }
    j.erase("input_path");  // the project's, not the codec's
    codec::apply_json(o, j);
  }
  for (const auto& [opt, apply] : f.given)
    if (opt->count() > 0) apply(o);
  codec::validate(o);
  return o;
}

inline nlohmann::json default_config_json() {
  const codec::codec_options o;
  return {{"latent", o.latent},
          {"hidden", o.hidden},
          {"slope", o.slope},
          {"latent_dtype", baler::name(o.latent_type)},
          {"weights_dtype", baler::name(o.weights_type)},
          {"embed_decoder", o.embed_decoder},
          {"zstd", o.zstd},
          {"normalisation", codec::to_string(o.normalisation)},
          {"log_columns", o.log_columns},
          {"lossless_columns", o.lossless_columns},
          {"integer_columns", o.integer_columns},
          {"lossless_max_distinct", o.lossless_max_distinct},
          {"allow_non_finite", o.allow_non_finite},
          {"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"learning_rate", o.learning_rate},
          {"weight_decay", o.weight_decay},
          {"validation_fraction", o.validation_fraction},
          {"schedule", o.schedule},
          {"early_stopping_patience", o.early_stopping_patience},
          {"latent_l1", o.latent_l1},
          {"seed", o.seed}};
}

}  // namespace baler::cli
