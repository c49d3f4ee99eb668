// The `baler` command line; everything lives in include/baler/cli so the tests can run it.
//
// The plain `baler` loads neither CUDA nor HDF5: cuBLAS alone takes ~0.1 s to map, and HDF5
// brings ~40 libraries (curl, Kerberos, TLS) that cost ~10 ms at every start, as much as
// decompressing a megabyte. Runs that need them are handed to baler-cuda or baler-hdf5, the same
// command line built with them, beside this program.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <filesystem>

#include "baler/cli/app.hpp"

namespace {

// Buffers up to this size come from the heap, larger ones are mapped on their own (main()).
constexpr std::size_t largest_from_heap = std::size_t(32) << 20;

// Replaces this process with `program` from this program's folder, same arguments; returns
// when there is no such program (run() then explains what this build lacks).
void hand_over(char** argv, const char* program) {
  std::error_code ec;
  const auto other = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / program;
  if (ec || !std::filesystem::exists(other)) return;
  argv[0] = const_cast<char*>(other.c_str());
  execv(other.c_str(), argv);
}

// A 4 KiB page fault costs ~3 us on a virtual machine, a 2 MiB one ~0.2 us per 4 KiB: where
// transparent huge pages are given on request (`madvise`, the usual setting), ask for them on
// the first 64 MiB of heap, where the arrays of a file of a few megabytes live. Untouched pages
// stay virtual; past 64 MiB the heap grows as usual.
void prefer_huge_pages() {
  constexpr std::uintptr_t huge = std::uintptr_t(2) << 20;
  constexpr std::size_t reach = std::size_t(64) << 20;
  mallopt(M_TOP_PAD, int(reach));  // the next growth of the heap takes it all at once
  const auto start = reinterpret_cast<std::uintptr_t>(sbrk(0));
  void* volatile grow = malloc(huge);  // volatile: a malloc and free of nothing would be left out
  free(grow);
  mallopt(M_TOP_PAD, 0);
  const auto end = reinterpret_cast<std::uintptr_t>(sbrk(0));
  const std::uintptr_t lo = (start + huge - 1) & ~(huge - 1), hi = end & ~(huge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // a hint: errors change nothing
}

}  // namespace

// Arrays past largest_from_heap are mapped afresh, and first touching them costs a fault per
// 4 KiB: on a 64 MB field, decompression spent more time there than decoding. Asked for
// transparent huge pages too, they take a fault per 2 MiB (what glibc.malloc.hugetlb=1 does, set
// from here so that no one needs the environment variable): decompression 2.3x faster there.
// The C++ library's other forms of new call this one, and its delete frees what malloc gave; a
// sanitizer keeps its own. Not inlined: its malloc() and the library's delete would look
// mismatched to the compiler.
#if !defined(__SANITIZE_ADDRESS__)
[[gnu::noinline]] void* operator new(std::size_t bytes) {
  constexpr std::size_t page = 4096;
  void* p = std::malloc(bytes ? bytes : 1);
  if (!p) throw std::bad_alloc();
  if (bytes >= largest_from_heap) {
    const auto lo = (reinterpret_cast<std::uintptr_t>(p) + page - 1) & ~(page - 1);
    const auto hi = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(page - 1);
    madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // a hint: errors change nothing
  }
  return p;
}
#endif

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which becomes a clear
  // error and no partial file, instead of SIGXFSZ killing the process with a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
  // Buffers up to 32 MB from the heap, kept after they are freed: a run makes and drops several
  // arrays the size of the data, and each fresh page from the kernel costs a fault (a fifth of
  // the time of decompressing a megabyte, before this).
  mallopt(M_MMAP_THRESHOLD, int(largest_from_heap));
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  prefer_huge_pages();
  baler::park_blas_threads();
#if !defined(BALER_HAS_CUDA)
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--device=cuda") == 0 ||
        (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc && std::strcmp(argv[i + 1], "cuda") == 0)) {
      hand_over(argv, "baler-cuda");
      break;
    }
#endif
#if !defined(BALER_HAS_HDF5)
  for (int i = 1; i < argc; ++i)
    if (baler::hdf5_location_of(argv[i])) {  // FILE.h5:/dataset
      hand_over(argv, "baler-hdf5");
      break;
    }
#endif
  return baler::cli::run(argc, argv);
}
