#pragma once
// The `baler` command line: train, compress, decompress, info, evaluate, plot, new-project.
// run() parses, dispatches and turns every error into one line on stderr and exit status 1
// (2 for a usage error), so scripts can rely on the status.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "baler/backend/cpu.hpp"
#if defined(BALER_HAS_CUDA)
#include "baler/backend/cuda.hpp"
#endif
#include "baler/cli/chunked_commands.hpp"
#include "baler/cli/file_info.hpp"
#include "baler/cli/flags.hpp"
#include "baler/cli/paths.hpp"
#include "baler/cli/progress.hpp"
#include "baler/cli/size_report.hpp"
#include "baler/codec/codec.hpp"
#include "baler/diagnose/report.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/dataset.hpp"
#include "baler/metrics/bound_check.hpp"
#include "baler/metrics/column_errors.hpp"
#include "baler/plot/report.hpp"

namespace baler::cli {

template <class B>
using model_codec = codec::Codec<B, models::AE<B, float>>;

namespace detail {

// Runs f(backend) on the backend --device names. The GPU is chosen here only: every command
// body is one template over the backend.
template <class F>
auto with_backend(const global_flags& g, const char* cmd, F&& f) {
  if (g.device == "cuda") {
    require(g.threads == 0, cmd, "--threads sets CPU threads and does nothing with --device cuda");
#if defined(BALER_HAS_CUDA)
    cuda be;  // throws, saying why, when no GPU can be used
    return f(be);
#else
    throw error(std::string(cmd) + "(): --device cuda: this build has no CUDA backend; rebuild "
                "with the CUDA toolkit installed (CMake option BALER_ENABLE_CUDA)");
#endif
  }
  cpu be(g.threads);
  return f(be);
}

// Commands check every output against their inputs before any work (check_output); writing
// only creates the folder and goes through a temporary file, which still refuses a file that
// appeared meanwhile unless --force.
inline void make_parent_folder(const std::filesystem::path& out) {
  const std::filesystem::path file = file_of(out);  // FILE.h5 of FILE.h5:/group/dataset
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  require(!ec, "baler", "cannot create the folder '" + file.parent_path().string() + "' for " +
                            file.filename().string() + ": " + ec.message());
}
inline void write_output(const std::filesystem::path& out, byte_view bytes, bool force) {
  make_parent_folder(out);
  write_file_atomically(out, bytes, force);
}

inline void print_training(const train_history& h, std::ostream& out) {
  if (h.epochs.empty()) {
    out << "no column needs a model: every column is constant or stored exactly\n";
    return;
  }
  const auto& best = h.epochs[h.best_epoch];
  out << "trained " << h.epochs.size() << " epochs" << (h.stopped_early ? " (stopped early)" : "")
      << "; best epoch " << h.best_epoch + 1 << ": loss " << best.train_loss << ", validation "
      << best.validation_loss << "\n";
}

inline void write_history_csv(const std::filesystem::path& path, const train_history& h, bool force) {
  std::string csv = "epoch,train_loss,validation_loss,learning_rate,seconds\n";
  for (const auto& e : h.epochs)
    csv += std::to_string(e.epoch + 1) + "," + std::to_string(e.train_loss) + "," +
           std::to_string(e.validation_loss) + "," + std::to_string(e.learning_rate) + "," +
           std::to_string(e.seconds) + "\n";
  write_output(path, csv, force);
}

// The loss curves for a report: from a model file's training history, or from the CSV that
// `train --history` writes (epoch,train_loss,validation_loss,learning_rate,seconds).
inline void load_history(const std::string& model, const std::string& csv, plot::report_options& o) {
  if (!model.empty()) {
    cpu be;
    const auto m = codec::trained_model<cpu, models::AE<cpu, float>>::parse(be, read_file(model));
    for (const auto& e : m.history.epochs) {
      o.train_loss.push_back(e.train_loss);
      o.val_loss.push_back(e.validation_loss);
      o.learning_rate.push_back(e.learning_rate);
    }
  } else if (!csv.empty()) {
    std::istringstream in(text_of(read_file(csv)));
    std::string line;
    std::getline(in, line);
    require(line.rfind("epoch,train_loss,validation_loss,learning_rate", 0) == 0, "baler plot",
            csv + " is not a history written by `baler train --history`");
    while (std::getline(in, line)) {
      double epoch, train, val, lr;
      require(std::sscanf(line.c_str(), "%lf,%lf,%lf,%lf", &epoch, &train, &val, &lr) == 4, "baler plot",
              "bad line in " + csv + ": " + line);
      o.train_loss.push_back(train);
      o.val_loss.push_back(val);
      o.learning_rate.push_back(lr);
    }
  }
}

}  // namespace detail

inline int run(int argc, const char* const* argv, std::ostream& out = std::cout,
               std::ostream& err = std::cerr) {
  CLI::App app{"baler: machine-learning based lossy compression of scientific tables and fields"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags such as --force may follow the subcommand
  app.set_version_flag("--version", std::string("baler ") + codec::library_version +
                                        ", file format " + std::to_string(format::format_version));
  global_flags g;
  add_global_flags(app, g);

  // train ---------------------------------------------------------------------------------
  auto* train = app.add_subcommand("train", "Train a model on a dataset and save it (.balermodel)");
  io_flags train_io;
  codec_flags train_codec;
  add_input(train, train_io, "dataset to train on (.npz, .npy, .csv or FILE.h5:/dataset)");
  train->add_option("-o,--output", train_io.output, "model file to write");
  train->add_option("--history", train_io.history, "also write the per-epoch losses as CSV");
  add_codec_flags(train, train_codec);

  // compress ------------------------------------------------------------------------------
  auto* compress = app.add_subcommand("compress", "Compress a dataset into a .baler file");
  io_flags comp_io;
  codec_flags comp_codec;
  add_input(compress, comp_io, "dataset to compress (.npz, .npy, .csv or FILE.h5:/dataset)");
  std::string comp_layout = "auto";
  add_layout(compress, comp_layout);
  compress->add_option("-o,--output", comp_io.output, "compressed file to write (.baler)");
  compress->add_option("--model", comp_io.model, "use this trained model instead of training one");
  compress->add_option("--save-model", comp_io.save_model, "also save the model trained here");
  compress->add_option("--history", comp_io.history, "also write the per-epoch losses as CSV");
  std::size_t chunk_rows = 0;
  const CLI::Option* chunk_rows_given =
      compress
          ->add_option("--chunk-rows", chunk_rows,
                       "write a chunked file (format version 2) of chunks of N rows or frames, compressed "
                       "on --threads workers (default all cores); a .npy input is streamed in slices. "
                       "Default: chunks of about 32 MB for an input past 256 MB, else one blob; 0: one blob")
          ->check(CLI::NonNegativeNumber);
  add_codec_flags(compress, comp_codec);

  // decompress ----------------------------------------------------------------------------
  auto* decompress = app.add_subcommand("decompress", "Restore a dataset from a .baler file");
  io_flags dec_io;
  add_input(decompress, dec_io, "compressed file (.baler)", /*config=*/false);
  decompress->add_option("-o,--output", dec_io.output, "dataset to write (.npz, .npy, .csv or FILE.h5:/dataset)");
  decompress->add_option("--model", dec_io.model,
                         "model file, for files compressed with --separate-model");
  std::string dec_rows;
  decompress->add_option("--rows", dec_rows,
                         "only rows (or frames) A to B-1, as A:B; a chunked file decodes only the chunks that hold them");

  // info ----------------------------------------------------------------------------------
  auto* info = app.add_subcommand("info", "Describe a .baler file: contents, sizes and ratios");
  std::string info_path;
  info->add_option("file", info_path, "compressed file (.baler)")->required()->check(CLI::ExistingFile);
  bool info_header = false;
  info->add_flag("--header", info_header,
                 "print the file's JSON header as stored (a chunked file's shared part), every predictor's "
                 "description in full");

  // evaluate ------------------------------------------------------------------------------
  auto* evaluate = app.add_subcommand("evaluate", "Per-column errors of a reconstruction");
  std::string eval_orig, eval_dec, eval_csv, eval_plots;
  evaluate->add_option("original", eval_orig, "original dataset")->required()->check(existing_data);
  evaluate->add_option("decompressed", eval_dec, "decompressed dataset")->required()->check(existing_data);
  evaluate->add_option("--csv", eval_csv, "also write the table as CSV");
  evaluate->add_option("--plots", eval_plots, "also draw the comparison plots into this folder");
  std::string eval_layout = "auto";
  add_layout(evaluate, eval_layout);
  std::vector<std::string> eval_bounds;
  evaluate->add_option("--error-bound", eval_bounds,
                       "also check these bounds per column: abs:X, range:X, rel:X, psnr:X, NAME=BOUND")
      ->delimiter(',');

  // plot ----------------------------------------------------------------------------------
  auto* plot_cmd = app.add_subcommand(
      "plot", "Draw the comparison report: distributions, response and residual histograms, loss "
              "curves, field frames (PNG per plot, comparison.pdf, CSV)");
  std::string plot_orig, plot_dec, plot_dir, plot_model, plot_history;
  plot::report_options plot_options;
  plot_cmd->add_option("original", plot_orig, "original dataset")->required()->check(existing_data);
  plot_cmd->add_option("decompressed", plot_dec, "decompressed dataset")->required()->check(existing_data);
  plot_cmd->add_option("-o,--output", plot_dir, "folder to write the report into")->required();
  plot_cmd->add_option("--model", plot_model, "model file: adds its training loss curves")->check(CLI::ExistingFile);
  plot_cmd->add_option("--history", plot_history, "history CSV from `train --history`: adds the loss curves")
      ->check(CLI::ExistingFile);
  plot_cmd->add_option("--frames", plot_options.frames, "fields: frames to draw (default first, middle, last)")
      ->delimiter(',');
  plot_cmd->add_flag("--field", plot_options.field, "draw a 2-D array as one image instead of as a table");

  // diagnose ------------------------------------------------------------------------------
  auto* diagnose_cmd = app.add_subcommand(
      "diagnose", "Per-layer activation statistics of a trained model on data: dead neurons, heat map");
  std::string diag_data, diag_model, diag_dir;
  diagnose_cmd->add_option("data", diag_data, "dataset")->required()->check(existing_data);
  diagnose_cmd->add_option("model", diag_model, "model file (.balermodel)")->required()->check(CLI::ExistingFile);
  diagnose_cmd->add_option("-o,--output", diag_dir, "also write activations.csv and activations.png here");

  // new-project ---------------------------------------------------------------------------
  auto* new_project = app.add_subcommand("new-project", "Create Baler's project layout with a default config");
  std::vector<std::string> np_names;
  new_project->add_option("names", np_names, "WORKSPACE PROJECT")->expected(2)->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e, out, err);
    return status == 0 ? 0 : 2;  // help and version are not errors; every usage error is 2
  }

  sync_outputs() = g.sync;
  try {
    require(g.device == "cpu" || *train || *compress || *decompress || *diagnose_cmd, "baler",
            "--device applies to train, compress, decompress and diagnose only");

    if (*new_project) {
      const project_paths p(np_names[0], np_names[1]);
      check_output(p.config, {}, g.force);
      std::filesystem::create_directories(p.config.parent_path());
      for (const auto& d : {p.model, p.compressed, p.decompressed})
        std::filesystem::create_directories(d.parent_path());
      std::filesystem::create_directories(p.plots);
      std::filesystem::create_directories(std::filesystem::path("workspaces") / np_names[0] / "data");
      nlohmann::json j = default_config_json();
      j["input_path"] = (std::filesystem::path("workspaces") / np_names[0] / "data" /
                         (np_names[1] + "_data.npz")).string();
      write_file_atomically(p.config, j.dump(2) + "\n", g.force);
      out << "created " << p.root.string() << "; put the data at " << j["input_path"].get<std::string>()
          << " and edit " << p.config.string() << "\n";
      return 0;
    }

    if (*train || *compress) {
      io_flags& io = *train ? train_io : comp_io;
      codec_flags& cf = *train ? train_codec : comp_codec;
      const char* cmd = *train ? "baler train" : "baler compress";
      resolve_project(io, *train ? "train" : "compress");
      refuse_ignored_flags(cf, bool(*train), !io.model.empty(), cmd);
      require(io.model.empty() || (io.history.empty() && io.save_model.empty()), cmd,
              "--history and --save-model come from training, and --model skips it");
      codec::codec_options o = make_options(cf, io);
      // Every output is checked before any work, against every input, so a refused run has
      // spent no training time and left nothing behind.
      const std::vector<std::filesystem::path> inputs = io.inputs();
      require(!io.output.empty(), cmd, *train ? "give the model file to write with -o" : "give the file to write with -o");
      require(*train || o.embed_decoder || !io.model.empty() || !io.save_model.empty(), cmd,
              "--separate-model needs --model or --save-model: the file cannot decompress without it");
      for (const std::string& path : {io.output, io.save_model, io.history})
        if (!path.empty()) check_output(path, inputs, g.force);

      o.threads = static_cast<unsigned>(g.threads);
      codec::chunked_options c;
      c.chunk_rows = chunk_rows;
      c.threads = static_cast<unsigned>(g.threads);
      if (chunk_rows > 0) {
        require(*compress && io.history.empty() && g.device == "cpu", cmd,
                "--chunk-rows: chunked files are written by compress, on the CPU, without --history");
        require(o.embed_decoder, cmd, "--chunk-rows stores the model once in the file; --separate-model does not apply");
        codec::file_rows rows(io.input);
        apply_layout(rows, comp_layout);
        compress_chunked_command(io.input, rows, io.output, g.force, o, c, io.model, io.save_model, out);
        return 0;
      }
      // A large input goes in chunks where a chunked file can hold what was asked for.
      std::optional<dataset> loaded;
      if (*compress && !chunk_rows_given->count() && io.history.empty() && g.device == "cpu" && o.embed_decoder &&
          (io.save_model.empty() || !o.error_bound.enabled())) {
        if (std::optional<codec::file_rows> rows = rows_past_auto_chunk(io.input, loaded)) {
          apply_layout(*rows, comp_layout);
          c.target_chunk_bytes = auto_chunk_bytes;
          out << "the input is " << (rows->stored_bytes() >> 20) << " MB as stored, past "
              << (auto_chunk_input_bytes >> 20) << " MB: compressing it in chunks of about " << (auto_chunk_bytes >> 20)
              << " MB (one blob would take about ten times the input in memory; --chunk-rows 0 keeps one)\n";
          compress_chunked_command(io.input, *rows, io.output, g.force, o, c, io.model, io.save_model, out);
          return 0;
        }
      }
      progress bar(o.epochs, g.quiet);
      o.on_epoch = [&bar](const epoch_report& r) { bar(r); };
      dataset input = loaded ? std::move(*loaded) : load_dataset(io.input);
      input.field = field_by_layout(input, comp_layout);  // read on its values once, for training and compressing
      return detail::with_backend(g, cmd, [&](auto& be) {
        model_codec<std::decay_t<decltype(be)>> c(be, o);
        std::optional<train_history> history;
        if (!io.model.empty()) {
          c.load_model(read_file(io.model));
        } else {
          history = c.train(input);
          if (history->epochs.size() < o.epochs) bar.finish();
          if (!history->epochs.empty() || c.latent_note().empty()) detail::print_training(*history, out);
          if (!c.latent_note().empty()) out << c.latent_note() << "\n";
        }
        if (*train) {
          detail::write_output(io.output, c.save_model(), g.force);
          out << "model written to " << io.output << "\n";
        } else {
          const auto bytes = c.compress(std::move(input));  // its values released once read
          detail::write_output(io.output, bytes, g.force);
          if (!c.bounded_report().empty()) out << bounded::format_report(c.bounded_report());
          out << "compressed " << io.input << " -> " << io.output << "\n"
              << size_report::of(format::inspect(bytes)).format();
          if (!io.save_model.empty()) detail::write_output(io.save_model, c.save_model(), g.force);
        }
        if (history && !io.history.empty()) detail::write_history_csv(io.history, *history, g.force);
        return 0;
      });
    }

    if (*decompress) {
      resolve_project(dec_io, "decompress");
      require(!dec_io.output.empty(), "baler decompress", "give the dataset to write with -o");
      check_output(dec_io.output, dec_io.inputs(), g.force);
      detail::make_parent_folder(dec_io.output);
      if (format::version_of(std::filesystem::path(dec_io.input)) == format::chunked_format_version) {
        require(dec_io.model.empty() && g.device == "cpu", "baler decompress",
                "a chunked file holds its model and decodes on the CPU: --model and --device do not apply");
        decompress_chunked_command(dec_io.input, dec_io.output, g.force, dec_rows,
                                   static_cast<unsigned>(g.threads), out);
        return 0;
      }
      dataset d = detail::with_backend(g, "baler decompress", [&](auto& be) {
        model_codec<std::decay_t<decltype(be)>> c(be, codec::codec_options{});
        if (!dec_io.model.empty()) c.load_model(read_file(dec_io.model));
        return c.decompress(read_file(dec_io.input));
      });
      if (!dec_rows.empty()) {
        const auto [a, b] = parse_rows(dec_rows, d.data.shape[0]);
        d.data = codec::row_slice(d.data, a, b - a);
      }
      save_dataset(dec_io.output, d, g.force);
      out << "decompressed " << dec_io.input << " -> " << dec_io.output << " (shape "
          << shape_string(d.data.shape) << ", " << dtypes_string(d.data.type, d.column_types, d.labels, d.times) << ")\n";
      return 0;
    }

    if (*info) {
      const bool chunked = format::version_of(std::filesystem::path(info_path)) == format::chunked_format_version;
      if (info_header)
        out << (chunked ? codec::chunked_decoder(info_path).reader().shared().header
                        : format::inspect(read_file(info_path)).header)
                   .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
      else
        out << (chunked ? describe_chunked(info_path) : describe_file(format::inspect(read_file(info_path))));
      return 0;
    }

    if (*evaluate) {
      dataset a = load_dataset(eval_orig);
      const dataset b = load_dataset(eval_dec);
      a.field = field_by_layout(a, eval_layout);
      const auto errors = metrics::compare(a, b);
      out << metrics::format_table(errors);
      if (!eval_plots.empty()) check_output_dir(eval_plots, {eval_orig, eval_dec}, g.force);
      if (!eval_csv.empty()) {
        check_output(eval_csv, {eval_orig, eval_dec}, g.force);
        write_file_atomically(eval_csv, metrics::to_csv(errors), g.force);
      }
      if (!eval_bounds.empty()) {
        const auto results = metrics::check_bounds(a, b, codec::parse_bound_config(eval_bounds));
        out << "\n" << metrics::format_bounds(results);
        for (const auto& r : results)
          if (!r.holds()) return 1;
      }
      if (!eval_plots.empty()) {
        const auto files = plot::write_report(eval_plots, a, b);
        out << "wrote " << files.size() << " plot files to " << eval_plots << "\n";
      }
      return 0;
    }

    if (*plot_cmd) {
      check_output_dir(plot_dir, {plot_orig, plot_dec, plot_model, plot_history}, g.force);
      detail::load_history(plot_model, plot_history, plot_options);
      const auto files = plot::write_report(plot_dir, load_dataset(plot_orig), load_dataset(plot_dec), plot_options);
      out << "wrote " << files.size() << " files to " << plot_dir << " (comparison.pdf holds every plot)\n";
      return 0;
    }

    if (*diagnose_cmd) {
      if (!diag_dir.empty()) check_output_dir(diag_dir, {diag_data, diag_model}, g.force);
      const auto table = codec::as_table(load_dataset(diag_data), "baler diagnose");
      const auto layers = detail::with_backend(g, "baler diagnose", [&](auto& be) {
        using B = std::decay_t<decltype(be)>;
        auto m = codec::trained_model<B, models::AE<B, float>>::parse(be, read_file(diag_model));
        return diagnose::activation_stats(be, m, m.tile.empty() ? table : codec::tile_table(table, m.tile));
      });
      out << diagnose::format_table(layers);
      if (!diag_dir.empty()) {
        std::filesystem::create_directories(diag_dir);
        const auto csv = std::filesystem::path(diag_dir) / "activations.csv";
        write_file_atomically(csv, diagnose::to_csv(layers), true);
        plot::render_file(diagnose::heat_map(layers), std::filesystem::path(diag_dir) / "activations.png");
        out << "wrote " << csv.string() << " and activations.png\n";
      }
      return 0;
    }
  } catch (const std::exception& e) {
    err << "baler: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace baler::cli
