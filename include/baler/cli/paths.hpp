#pragma once
// Output safety for the command line: an output never replaces an input, an existing output is
// replaced only with --force, and every write goes through a temporary file and a rename.
#include <filesystem>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/dataset.hpp"

namespace baler::cli {

// An HDF5 output (FILE.h5:/dataset) is checked by its file; a dataset is added to an existing
// file without --force, and replacing an existing dataset needs it (hdf5::write checks).
inline void check_output(const std::filesystem::path& out,
                         const std::vector<std::filesystem::path>& inputs, bool force) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path file = file_of(out);
  if (!fs::exists(file, ec)) return;
  for (const auto& in : inputs)
    require(in.empty() || !fs::equivalent(file, file_of(in), ec), "baler",
            "refusing to write " + out.string() + ": it is an input of this command");
  require(force || hdf5_location_of(out), "baler", out.string() + " exists; use --force to replace it");
}

// A report folder: its files are replaced, so a folder holding files already needs --force,
// and one holding an input of the command is refused.
inline void check_output_dir(const std::filesystem::path& dir,
                             const std::vector<std::filesystem::path>& inputs, bool force) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  require(fs::is_directory(dir, ec), "baler", dir.string() + " exists and is not a folder");
  for (const auto& in : inputs)
    require(in.empty() || !fs::equivalent(fs::absolute(in).parent_path(), dir, ec), "baler",
            "refusing to write into " + dir.string() + ": it holds an input of this command");
  require(force || fs::is_empty(dir, ec), "baler",
          dir.string() + " is not empty; use --force to replace the report files in it");
}

// Baler's project layout: workspaces/WORKSPACE/PROJECT/{config,output/...}.
struct project_paths {
  std::filesystem::path root, config, model, compressed, decompressed, plots;

  project_paths(const std::string& workspace, const std::string& project) {
    require(!workspace.empty() && !project.empty() &&
                workspace.find('/') == std::string::npos && project.find('/') == std::string::npos,
            "baler --project", "WORKSPACE and PROJECT must be plain names");
    root = std::filesystem::path("workspaces") / workspace / project;
    config = root / "config" / (project + "_config.json");
    model = root / "output" / "training" / "model.balermodel";
    compressed = root / "output" / "compressed_output" / "compressed.baler";
    decompressed = root / "output" / "decompressed_output" / "decompressed.npz";
    plots = root / "output" / "plotting";
  }
};

}  // namespace baler::cli
