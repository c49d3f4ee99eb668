#pragma once
// The one exception type of the library. Messages read "Class::method(): what was wrong".
#include <stdexcept>
#include <string>

namespace baler {

class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Throws baler::error(where + "(): " + what) when cond is false. Always checked, also in
// release builds: sizes and user input are never validated by assert alone.
inline void require(bool cond, const char* where, const std::string& what) {
  if (!cond) throw error(std::string(where) + "(): " + what);
}

}  // namespace baler
