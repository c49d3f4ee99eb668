#pragma once
// Plots are drawn by gnuplot, run as a separate program: it is packaged everywhere (Debian's
// gnuplot-nox has the cairo PNG and PDF terminals), needs no display, and keeps a plotting
// library out of the header-only build. Finding it, running a script and reporting its errors
// live here; what to draw lives in the *_plots.hpp files.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#include "baler/core/error.hpp"

namespace baler::plot {

inline bool is_executable_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// $BALER_GNUPLOT when set (the user's explicit choice: no fallback to PATH if it is wrong),
// else the first executable "gnuplot" on $PATH.
inline std::optional<std::filesystem::path> find_gnuplot() {
  if (const char* env = std::getenv("BALER_GNUPLOT"); env && *env) {
    if (is_executable_file(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  const std::string dirs = path ? path : "";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', begin), dirs.size());
    // An empty PATH entry means the current folder, as for the shell.
    const std::filesystem::path dir = end == begin ? "." : dirs.substr(begin, end - begin);
    if (is_executable_file(dir / "gnuplot")) return dir / "gnuplot";
    begin = end + 1;
  }
  return std::nullopt;
}

inline bool gnuplot_available() { return find_gnuplot().has_value(); }

// Where find_gnuplot() looked, for messages telling the user why there are no plots.
inline std::string gnuplot_search_description() {
  if (const char* env = std::getenv("BALER_GNUPLOT"); env && *env)
    return "BALER_GNUPLOT='" + std::string(env) + "' is not an executable file";
  return "no executable 'gnuplot' on PATH (install gnuplot, e.g. Debian's gnuplot-nox, or set "
         "BALER_GNUPLOT to its path)";
}

// A gnuplot string literal: single quotes take everything verbatim except a quote, written ''.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

namespace detail {

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace detail

// Runs a complete gnuplot script. The script goes through a temporary file and gnuplot's output
// (stdout and stderr together) comes back through popen: writing the script into gnuplot's
// stdin instead would kill this process with SIGPIPE whenever gnuplot stops early on an error.
// gnuplot exits non-zero at the first error of a non-interactive script; the message then holds
// its output, which quotes the failing line, and the script is kept for inspection.
inline void run_gnuplot(const std::string& script) {
  constexpr const char* where = "plot::run_gnuplot";
  const std::optional<std::filesystem::path> exe = find_gnuplot();
  require(exe.has_value(), where, "gnuplot not found: " + gnuplot_search_description());

  std::random_device rd;
  const std::filesystem::path script_path =
      std::filesystem::temp_directory_path() /
      ("baler_plot_" + std::to_string(::getpid()) + "_" + std::to_string(rd()) + ".gp");
  {
    std::ofstream out(script_path, std::ios::binary);
    out << script;
    require(static_cast<bool>(out.flush()), where, "cannot write the script to '" + script_path.string() + "'");
  }

  const std::string command = detail::shell_quote(exe->string()) + " " + detail::shell_quote(script_path.string()) + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    std::filesystem::remove(script_path);
    throw error(std::string(where) + "(): cannot start '" + exe->string() + "'");
  }
  std::string output;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  const int status = ::pclose(pipe);

  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    std::filesystem::remove(script_path);
    return;
  }
  const std::string how = status != -1 && WIFEXITED(status)
                              ? "exited with status " + std::to_string(WEXITSTATUS(status))
                              : "was terminated abnormally";
  throw error(std::string(where) + "(): gnuplot (" + exe->string() + ") " + how + "; script kept at '" +
              script_path.string() + "'; its output:\n" + output);
}

}  // namespace baler::plot
