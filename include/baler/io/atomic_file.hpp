#pragma once
// Whole-file reads and crash-safe writes. A compressor that dies (or is killed, or fills the
// disk) halfway through an output must not leave a truncated file that looks like a result, nor
// destroy the previous one: outputs are written to a temporary file in the same folder, then
// renamed over the target, which POSIX makes atomic; with sync_outputs() they are also flushed
// to disk first. POSIX only (open/fsync/link).
// On Linux the file is written unnamed (O_TMPFILE) and only named once complete, so a process
// killed while writing leaves nothing. A new output is named at once; one that replaces a file
// gets a temporary name first, and a process killed in the instant between that and the rename
// leaves a dot-prefixed ".NAME.tmp-PID-..." beside the output.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/bytes.hpp"

namespace baler {

// Whether a committed output is also flushed to disk (fsync of the file before its rename and
// of the folder after), so that a power cut or kernel crash right after a write finds the old
// file or the new one, never an empty one. Off by default, as in gzip, zstd and xz: the rename
// alone already keeps outputs whole against killed processes and full disks, and a flush
// costs a few milliseconds per file (about what decompressing a megabyte takes). The command
// line's --sync turns it on.
inline std::atomic<bool>& sync_outputs() {
  static std::atomic<bool> on{false};
  return on;
}

namespace detail {

inline std::string errno_message(int e) {
  return std::error_code(e, std::generic_category()).message();
}

// Closes a descriptor on every path out of a function.
class unique_fd {
 public:
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports the error: on NFS a failed write may only show up at close.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// A temporary file name beside `path` that no concurrent writer picks: pid, counter and a
// random number, and the file is created with O_EXCL anyway.
inline std::filesystem::path temp_name_for(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return path.parent_path() /
         ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
          std::to_string(counter++) + "-" + std::to_string(rng() % 1000000));
}

// An unnamed file in `folder` (Linux's O_TMPFILE), or -1 where there is none or no /proc to
// name it through later.
inline int open_unnamed(const std::filesystem::path& folder) {
#ifdef O_TMPFILE
  if (::access("/proc/self/fd", F_OK) != 0) return -1;
  return ::open(folder.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#else
  (void)folder;
  return -1;
#endif
}

// Creates a new temporary file beside `path`, its name in `temp`; -1 with errno on failure.
inline int create_temp(const std::filesystem::path& path, std::filesystem::path& temp) {
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    temp = temp_name_for(path);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) temp.clear();
  return fd;
}

// Names the unnamed file `fd` `path`; false with errno (EEXIST where `path` exists) otherwise.
inline bool link_fd(int fd, const std::filesystem::path& path) {
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  return ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0;
}

// Gives the complete unnamed file `fd` a temporary name beside `path`, in `temp`.
inline bool link_unnamed(int fd, const std::filesystem::path& path, std::filesystem::path& temp) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = temp_name_for(path);
    if (link_fd(fd, temp)) return true;
    if (errno != EEXIST) break;
  }
  temp.clear();
  return false;
}

}  // namespace detail

// The bytes of a file; the message says whether it is missing, a folder or unreadable.
inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
  const std::string name = "'" + path.string() + "'";
  detail::unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int e = errno;
    throw error("read_file(): cannot open " + name + ": " +
                (e == ENOENT ? std::string("no such file") : detail::errno_message(e)));
  }
  struct stat st {};
  require(::fstat(fd.get(), &st) == 0, "read_file",
          "cannot stat " + name + ": " + detail::errno_message(errno));
  require(!S_ISDIR(st.st_mode), "read_file", name + " is a folder, not a file");
  std::vector<std::byte> out;
  if (S_ISREG(st.st_mode)) out.reserve(static_cast<std::size_t>(st.st_size));
  // Read to end of file rather than st_size bytes: pipes and /proc files report no size.
  std::byte chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    require(n >= 0, "read_file", "cannot read " + name + ": " + detail::errno_message(errno));
    if (n == 0) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  return out;
}

// Runs f(), appending " [context]" to the message of any baler::error it throws, so that an
// error deep in a parser says which file or archive member it came from.
template <class F>
auto with_context(const std::string& context, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const error& e) {
    throw error(std::string(e.what()) + " [" + context + "]");
  }
}

// reader(byte_view) applied to the bytes of a file, its errors naming the file.
template <class Reader>
auto read_file_with(const std::filesystem::path& path, Reader&& reader) {
  const std::vector<std::byte> bytes = read_file(path);
  return with_context("file " + path.string(), [&] { return reader(byte_view(bytes)); });
}

// A file written piece by piece (streaming outputs larger than memory) so that afterwards either
// the complete new file is at `path` or nothing changed: the pieces go to a temporary file in
// the same folder (unnamed until complete where Linux offers O_TMPFILE, then named at once where
// the output is new), which commit() renames over the target (POSIX makes that atomic),
// flushing it first with sync_outputs().
// Destroyed without commit(), the temporary file is removed. An existing file is an error
// unless `overwrite`; even then the old content stays intact until the new one is on disk.
class atomic_file_writer {
public:
  atomic_file_writer(const std::filesystem::path& path, bool overwrite)
      : path_(path), overwrite_(overwrite) {
    std::error_code ec;
    require(overwrite || !std::filesystem::exists(std::filesystem::symlink_status(path, ec)), where,
            "refusing to overwrite existing " + name() + " (overwrite was not requested)");
    folder_ = path.parent_path().empty() ? "." : path.parent_path();
    require(std::filesystem::is_directory(folder_, ec), where,
            "cannot write " + name() + ": folder '" + folder_.string() + "' does not exist");
    // An unnamed file where the kernel and file system offer one, a named temporary otherwise.
    fd_ = detail::open_unnamed(folder_);
    unnamed_ = fd_ >= 0;
    if (!unnamed_) fd_ = detail::create_temp(path, temp_);
    require(fd_ >= 0, where,
            "cannot create a temporary file in '" + folder_.string() + "': " + detail::errno_message(errno));
  }
  atomic_file_writer(const atomic_file_writer&) = delete;
  atomic_file_writer& operator=(const atomic_file_writer&) = delete;
  ~atomic_file_writer() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
  }

  void write(byte_view bytes) {
    for (std::size_t done = 0; done < bytes.size;) {
      const ssize_t n = ::write(fd_, bytes.data + done, bytes.size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot write " + name());
      done += static_cast<std::size_t>(n);
    }
    written_ += bytes.size;
  }
  std::uint64_t size() const { return written_; }

  void commit() {
    const bool sync = sync_outputs();
    if (sync && ::fsync(fd_) != 0) fail("cannot flush " + name() + " to disk");
    // A complete unnamed file takes its name at once where no file has it (a new output): no
    // temporary name, which a process killed before the rename would leave behind. Replacing
    // a file still goes through one, as rename() needs.
    bool named = false;
    if (unnamed_) {
      named = detail::link_fd(fd_, path_);
      if (!named && errno == EEXIST && !overwrite_)
        fail("refusing to overwrite " + name() + ", which appeared while writing");
      if (!named && !detail::link_unnamed(fd_, path_, temp_))
        fail("cannot name the temporary file in '" + folder_.string() + "'");
    }
    const int rc = ::close(fd_);  // on NFS a failed write may only show up at close
    fd_ = -1;
    if (rc != 0 && named) ::unlink(path_.c_str());
    if (rc != 0) fail("cannot close " + name());
    if (!named) move_temp();
    committed_ = true;
    if (!sync) return;
    // Make the new directory entry itself durable; some file systems cannot fsync a folder,
    // which is not worth failing a completed write for.
    detail::unique_fd dir(::open(folder_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
  }

private:
  static constexpr const char* where = "write_file_atomically";

  // The complete temporary file becomes the output.
  void move_temp() {
    if (overwrite_) {
      if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot rename the temporary file to " + name());
    } else if (::link(temp_.c_str(), path_.c_str()) == 0) {
      // link() refuses an existing target atomically, closing the race with a file that
      // appeared after the check in the constructor; the temporary name is then dropped.
      ::unlink(temp_.c_str());
    } else if (errno == EEXIST) {
      fail("refusing to overwrite " + name() + ", which appeared while writing");
    } else if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == ENOSYS) {
      // File systems without hard links (FAT, some network mounts): the check above must do.
      if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot rename the temporary file to " + name());
    } else {
      fail("cannot create " + name());
    }
  }
  std::string name() const { return "'" + path_.string() + "'"; }
  [[noreturn]] void fail(const std::string& what) const {
    throw error(std::string(where) + "(): " + what + ": " + detail::errno_message(errno));
  }

  std::filesystem::path path_, folder_, temp_;
  bool overwrite_, unnamed_ = false;
  int fd_ = -1;
  bool committed_ = false;
  std::uint64_t written_ = 0;
};

// Writes `bytes` to `path` atomically (see atomic_file_writer).
inline void write_file_atomically(const std::filesystem::path& path, byte_view bytes, bool overwrite) {
  atomic_file_writer w(path, overwrite);
  w.write(bytes);
  w.commit();
}

}  // namespace baler
