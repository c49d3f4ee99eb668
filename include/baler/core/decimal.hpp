#pragma once
// Numbers that a JSON header writes in few characters. A value that only has to be agreed on
// by writer and reader (a quantisation step, a bucket edge) need not carry 17 digits: rounded to
// a short decimal, it is written and read back as the same double, and costs a third of the bytes.
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace baler {

enum class rounding { down, nearest };

// The double parsed from x written with `digits` significant decimal digits; with
// rounding::down never above x (toward -inf), so a bound stays a bound. Non-finite x and 0
// come back unchanged.
inline double short_decimal(double x, int digits, rounding mode = rounding::nearest) {
  if (!std::isfinite(x) || x == 0) return x;
  char text[40];
  std::snprintf(text, sizeof text, "%.*e", digits - 1, x);
  double y = std::strtod(text, nullptr);
  if (mode == rounding::down && y > x) {
    // One unit in the last written digit lower: the decimal just below x.
    const double unit = std::pow(10.0, std::floor(std::log10(std::abs(y))) - (digits - 1));
    std::snprintf(text, sizeof text, "%.*e", digits - 1, y - unit);
    y = std::strtod(text, nullptr);
  }
  return y;
}

}  // namespace baler
