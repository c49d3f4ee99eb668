#pragma once
// Numbers that a JSON header writes in few characters. A value that only has to be agreed on
// by writer and reader (a quantisation step, a bucket edge) need not carry 17 digits: rounded to
// a short decimal, it is written and read back as the same double, and costs a third of the bytes.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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
    // One unit lower in the last written digit: the mantissa's digits as an integer less one,
    // in integer arithmetic, so that a reader deriving a value from another (a step from its
    // bound) gets the same double on any machine.
    const char* e = std::strchr(text, 'e');
    long long mantissa = 0;
    for (const char* p = text; p != e; ++p)
      if (*p >= '0' && *p <= '9') mantissa = 10 * mantissa + (*p - '0');
    const int exponent = std::atoi(e + 1) - (digits - 1);
    std::snprintf(text, sizeof text, "%llde%d", text[0] == '-' ? -mantissa - 1 : mantissa - 1, exponent);
    y = std::strtod(text, nullptr);
  }
  return y;
}

}  // namespace baler
