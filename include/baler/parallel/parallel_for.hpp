#pragma once
// Runs f(i) for i in [0, n) on up to `threads` std::threads, each taking the next index as it
// finishes one; returns when all are done and rethrows the first exception (by index order).
// The results go where f puts them, so output order never depends on the thread count.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace baler::parallel {

// All cores when `requested` is 0.
inline unsigned thread_count(unsigned requested) {
  return requested > 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
}

template <class F>
void parallel_for(std::size_t n, unsigned threads, F&& f) {
  const std::size_t workers = std::min<std::size_t>(thread_count(threads), n);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < n;) {
      try {
        f(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();  // the calling thread is a worker too
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace baler::parallel
