// Atomic writes: refusal to overwrite, replacement only when asked, no temporary file left
// behind on success or failure; whole-file reads with clear errors.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "baler/io/part_buffer.hpp"
#include "test_io_support.hpp"

using namespace baler;

namespace {

std::string content(const std::filesystem::path& p) {
  const std::vector<std::byte> b = read_file(p);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

TEST_CASE("write, refuse to overwrite, overwrite when asked; flushed to disk or not (--sync)") {
  struct restore {
    ~restore() { sync_outputs() = false; }
  } restore_default;
  for (const bool sync : {false, true}) {
    CAPTURE(sync);
    sync_outputs() = sync;
    io_test::scratch_dir dir;
    const auto path = dir / "out.bin";
    write_file_atomically(path, std::string("first"), false);
    CHECK(content(path) == "first");
    CHECK_ERROR_CONTAINS(write_file_atomically(path, std::string("second"), false),
                         "write_file_atomically(): refusing to overwrite existing");
    CHECK(content(path) == "first");
    write_file_atomically(path, std::string("second"), true);
    CHECK(content(path) == "second");
    CHECK(dir.files() == std::vector<std::string>{"out.bin"});  // no temporary files
  }
}

TEST_CASE("empty and large contents") {
  io_test::scratch_dir dir;
  write_file_atomically(dir / "empty", byte_view(), false);
  CHECK(read_file(dir / "empty").empty());
  std::vector<std::byte> big(3 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7919 % 251);
  write_file_atomically(dir / "big", big, false);
  CHECK(read_file(dir / "big") == big);
}

TEST_CASE("a path in the current folder") {
  io_test::scratch_dir dir;
  const auto saved = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  write_file_atomically("plain_name.txt", std::string("x"), false);
  std::filesystem::current_path(saved);
  CHECK(content(dir / "plain_name.txt") == "x");
}

TEST_CASE("failures leave nothing behind") {
  io_test::scratch_dir dir;
  CHECK_ERROR_CONTAINS(
      write_file_atomically(dir / "no_such_folder/out.bin", std::string("x"), false), "folder '");
  CHECK(dir.files().empty());

  // The target is a folder: the rename fails after the data was written.
  std::filesystem::create_directory(dir / "taken");
  std::filesystem::create_directory(dir / "taken/inside");
  CHECK_ERROR_CONTAINS(write_file_atomically(dir / "taken", std::string("x"), true),
                       "cannot rename the temporary file");
  CHECK(dir.files() == std::vector<std::string>{"taken"});

  // A folder we may not write into (root may write anywhere, so only check the cleanup then).
  std::filesystem::create_directory(dir / "locked");
  ::chmod((dir / "locked").c_str(), 0500);
  const std::string message = io_test::error_of(
      [&] { write_file_atomically(dir / "locked/out", std::string("x"), false); });
  if (::geteuid() != 0) CHECK(message.find("cannot create a temporary file") != std::string::npos);
  ::chmod((dir / "locked").c_str(), 0700);
  if (::geteuid() != 0) CHECK(std::filesystem::is_empty(dir / "locked"));
}

TEST_CASE("a write error (the file-size limit of ulimit -f) is a clear error and leaves nothing") {
  io_test::scratch_dir dir;
  // Past the limit write() fails with EFBIG once SIGXFSZ, which would kill us, is ignored.
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  const std::vector<std::byte> big(1 << 20);
  const std::string message = io_test::error_of([&] { write_file_atomically(dir / "out", big, false); });
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  CHECK(message.find("write_file_atomically(): cannot write '") != std::string::npos);
  CHECK(message.find("File too large") != std::string::npos);
  CHECK(dir.files().empty());
}

TEST_CASE("a dangling symbolic link counts as an existing output") {
  io_test::scratch_dir dir;
  std::filesystem::create_symlink(dir / "nowhere", dir / "link");
  CHECK_ERROR_CONTAINS(write_file_atomically(dir / "link", std::string("x"), false),
                       "refusing to overwrite");
}

TEST_CASE("read_file: missing, folder, unreadable") {
  io_test::scratch_dir dir;
  CHECK_ERROR_CONTAINS(read_file(dir / "missing.npz"), "read_file(): cannot open '");
  CHECK_ERROR_CONTAINS(read_file(dir / "missing.npz"), "missing.npz': no such file");
  CHECK_ERROR_CONTAINS(read_file(dir.path()), "is a folder, not a file");
  std::ofstream(dir / "secret") << "x";
  ::chmod((dir / "secret").c_str(), 0000);
  if (::geteuid() != 0) CHECK_ERROR_CONTAINS(read_file(dir / "secret"), "Permission denied");
}

TEST_CASE("with_context names the source of an error") {
  CHECK_ERROR_CONTAINS(with_context("file x.npy", [] { return npy::read(byte_view()); }),
                       "bad magic; expected \\x93NUMPY) [file x.npy]");
  CHECK(with_context("unused", [] { return 3; }) == 3);
}

TEST_CASE("a part buffer: held in memory and written once, or spilled past its limit; no part file left") {
  io_test::scratch_dir dir;
  const std::filesystem::path part = dir / "out.part0", out = dir / "out";
  std::vector<std::vector<std::byte>> chunks;
  std::vector<std::byte> all;
  for (int c = 0; c < 5; ++c) {
    chunks.emplace_back(std::size_t(100 + 37 * c));
    for (std::size_t i = 0; i < chunks.back().size(); ++i) chunks.back()[i] = std::byte(std::uint8_t(c * 31 + i));
    all.insert(all.end(), chunks.back().begin(), chunks.back().end());
  }
  for (const std::uint64_t memory : {std::uint64_t(1) << 20, std::uint64_t(300), std::uint64_t(0)}) {
    CAPTURE(memory);
    {
      part_buffer b(part, memory);
      for (const auto& c : chunks) b.add(c);
      b.finish();
      CHECK(b.size() == all.size());
      CHECK(b.spilled() == (memory < all.size()));
      CHECK(std::filesystem::exists(part) == b.spilled());
      // Into a file at offset 3, after three bytes already there.
      write_file_atomically(out, std::vector<std::byte>(3, std::byte{7}), true);
      const int fd = ::open(out.c_str(), O_WRONLY);
      REQUIRE(fd >= 0);
      b.write_into(fd, 3, out);
      ::close(fd);
    }
    CHECK_FALSE(std::filesystem::exists(part));
    const std::vector<std::byte> back = read_file(out);
    REQUIRE(back.size() == 3 + all.size());
    CHECK(std::equal(all.begin(), all.end(), back.begin() + 3));
  }
  // A part that fails before it is finished leaves nothing behind.
  {
    part_buffer b(part, 10);
    b.add(chunks[0]);
  }
  CHECK_FALSE(std::filesystem::exists(part));
}
