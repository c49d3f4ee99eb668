// baler-mpi: the chunked compressor and data-parallel training over MPI ranks.
//
//   mpirun -np N baler-mpi compress BIG.npy -o BIG.baler --chunk-rows R [--error-bound B]
//       one file: its chunks split across the ranks, one output file (what one process writes)
//   mpirun -np N baler-mpi compress FOLDER -o OUTFOLDER [--chunk-rows R] ...
//       a folder: its .npy/.npz/.csv files split across the ranks, OUTFOLDER/NAME.baler each
//   mpirun -np N baler-mpi decompress BIG.baler -o BIG.npy
//       a chunked file's chunks decoded across the ranks into one .npy (a structured one, each
//       field in its dtype, for a table that came as records)
//   mpirun -np N baler-mpi train DATA -o MODEL.balermodel [--history CSV] ...
//       one model trained data-parallel: each rank its slice of every global batch
//
// Any output decompresses in one process with `baler decompress`. --threads sets the chunk
// workers per rank (default 1 here: one rank per core is the usual MPI layout).
#include <mpi.h>

#include "baler/cli/app.hpp"
#include "baler/mpi/mpi.hpp"

using namespace baler;

namespace {

int run(int argc, char** argv, MPI_Comm comm) {
  const bool root = mpi::rank_of(comm) == 0;
  CLI::App app{"baler-mpi: chunked compression and data-parallel training over MPI ranks"};
  app.require_subcommand(1);
  cli::io_flags io;
  cli::codec_flags cf;
  std::size_t chunk_rows = 0;
  unsigned threads = 1;
  bool force = false, quiet = false;
  auto* compress = app.add_subcommand("compress", "Compress a file (chunks split across ranks) or a folder (files split)");
  auto* train = app.add_subcommand("train", "Train one model data-parallel across the ranks");
  for (CLI::App* cmd : {compress, train}) {
    cmd->add_option("input", io.input, "dataset, or (compress) a folder of datasets")->required();
    cmd->add_option("-o,--output", io.output, "output file or folder")->required();
    cmd->add_option("--config", io.config, "JSON file of codec options");
    cmd->add_flag("--force", force, "replace existing outputs");
    cmd->add_flag("-q,--quiet", quiet, "no progress output");
    cli::add_codec_flags(cmd, cf);
  }
  compress->add_option("--chunk-rows", chunk_rows, "rows (or frames) per chunk (default: about 8 MB of input)");
  compress->add_option("--threads", threads, "chunk workers per rank (default 1)");
  train->add_option("--history", io.history, "also write the per-epoch losses as CSV");
  auto* decompress = app.add_subcommand("decompress", "Decode a chunked file into a .npy, chunks split across ranks");
  decompress->add_option("input", io.input, "chunked .baler file")->required();
  decompress->add_option("-o,--output", io.output, ".npy to write")->required();
  decompress->add_option("--threads", threads, "chunk workers per rank (default 1)");
  decompress->add_flag("--force", force, "replace an existing output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::ostream& out = std::cout;
  if (*decompress) {
    require(format_of(io.output) == file_format::npy, "baler-mpi decompress", "the output must be a .npy");
    mpi::decompress_sharded(io.input, io.output, force, threads, comm);
    if (root) out << "decompressed " << io.input << " -> " << io.output << " on " << mpi::size_of(comm) << " ranks\n";
    return 0;
  }
  codec::codec_options o = cli::make_options(cf, io);
  o.threads = threads;  // a rank's error-bounded columns coded at once, as many as its chunk workers

  if (*train) {
    cli::refuse_ignored_flags(cf, true, false, "baler-mpi train");
    const dataset d = load_dataset(io.input);  // every rank holds the training rows
    o.parallel = mpi::data_parallel_over(comm);
    if (root && !quiet) o.on_epoch = [&out](const epoch_report& r) {
      out << "epoch " << r.epoch + 1 << ": loss " << r.train_loss << ", validation " << r.validation_loss << "\n";
    };
    cpu be(threads);
    codec::Codec<cpu, models::AE<cpu, float>> c(be, o);
    const train_history h = c.train(d);
    if (root) {
      write_file_atomically(io.output, c.save_model(), force);
      if (!io.history.empty()) cli::detail::write_history_csv(io.history, h, force);
      out << "model trained on " << mpi::size_of(comm) << " ranks written to " << io.output << "\n";
    }
    return 0;
  }

  codec::chunked_options c;
  c.chunk_rows = chunk_rows;
  c.threads = threads;
  if (root && !quiet) c.log = [&out](const std::string& s) { out << s << "\n"; };
  namespace fs = std::filesystem;
  if (fs::is_directory(io.input)) {
    std::vector<fs::path> all;
    for (const auto& e : fs::directory_iterator(io.input))
      if (e.is_regular_file() && (e.path().extension() == ".npy" || e.path().extension() == ".npz" ||
                                  e.path().extension() == ".csv"))
        all.push_back(e.path());
    if (root) fs::create_directories(io.output);
    mpi::check(MPI_Barrier(comm), "MPI_Barrier");
    for (const fs::path& f : mpi::files_of_rank(all, comm)) {
      const fs::path target = fs::path(io.output) / (f.stem().string() + ".baler");
      const auto r = codec::compress_chunked(codec::file_rows(f).source(), target, force, o, c);
      if (!quiet)
        out << "rank " << mpi::rank_of(comm) << ": " << f.string() << " -> " << target.string() << " (" << r.chunks
            << " chunks)\n";
    }
    mpi::check(MPI_Barrier(comm), "MPI_Barrier");
    return 0;
  }
  const auto r = mpi::compress_sharded(codec::file_rows(io.input).source(), io.output, force, o, c, comm);
  if (root)
    out << "compressed " << io.input << " -> " << io.output << " on " << mpi::size_of(comm) << " ranks: " << r.chunks
        << " chunks of " << r.chunk_rows << " rows\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  try {
    status = run(argc, argv, MPI_COMM_WORLD);
  } catch (const mpi::collective_error& e) {  // every rank is here: each cleaned up, none waits
    if (e.own) std::cerr << "baler-mpi: error (rank " << mpi::rank_of(MPI_COMM_WORLD) << "): " << e.what() << "\n";
    status = 1;
  } catch (const std::exception& e) {
    // One rank's error cannot be left to hang the others in a collective.
    std::cerr << "baler-mpi: error (rank " << mpi::rank_of(MPI_COMM_WORLD) << "): " << e.what() << "\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return status;
}
