#pragma once
// Timestamps written as text (2024-01-31, 2024-01-31 12:05, 2024-01-31T12:05:00.250Z: the ISO
// 8601 forms pandas, spreadsheets and loggers write) as whole numbers of their finest unit since
// 1970-01-01 (days, minutes, seconds or 10^-k seconds), and back to the same text.
//
// A layout is a cell's form: a date alone, or a date, 'T' or ' ', HH:MM, :SS, a fraction of k
// digits, a 'Z'. A column is one of times when every cell has one layout and a valid date and
// time (no 2023-02-29, no 24:00, no leap second, no offset such as +01:00): each value written
// in that layout is then the cell it came from, so the text comes back as it was, and the values
// of a regular series differ by a constant that a table's predictors code in next to nothing.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "baler/core/error.hpp"

namespace baler {

struct time_layout {
  char separator = 0;     // 'T' or ' ' between date and time; 0: a date alone
  bool seconds = false;   // HH:MM:SS, else HH:MM
  unsigned fraction = 0;  // digits after the seconds' point, 0 to 9
  bool zulu = false;      // a trailing 'Z'

  // Its pattern, as a header stores it: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS.fffZ".
  std::string pattern() const {
    std::string p = "YYYY-MM-DD";
    if (!separator) return p;
    p += separator;
    p += "HH:MM";
    if (seconds) p += ":SS";
    if (fraction) p += "." + std::string(fraction, 'f');
    if (zulu) p += 'Z';
    return p;
  }
  // The layout whose pattern() is p; none for any other text (a crafted header's).
  static std::optional<time_layout> of_pattern(std::string_view p) {
    for (char separator : {'\0', 'T', ' '})
      for (bool seconds : {false, true})
        for (unsigned fraction = 0; fraction <= 9; ++fraction)
          for (bool zulu : {false, true}) {
            const time_layout l{separator, seconds, fraction, zulu};
            if (l.valid() && l.pattern() == p) return l;
          }
    return std::nullopt;
  }
  bool valid() const {
    return separator ? (seconds || fraction == 0) : (!seconds && fraction == 0 && !zulu);
  }
  // pattern().size(), without building it: parse_time asks for every cell.
  std::size_t length() const {
    return 10 + (separator ? 6 + (seconds ? 3 : 0) + (fraction ? 1 + fraction : 0) + (zulu ? 1 : 0) : 0);
  }
  bool operator==(const time_layout& o) const {
    return separator == o.separator && seconds == o.seconds && fraction == o.fraction && zulu == o.zulu;
  }
};

namespace detail {

// Days from 1970-01-01 to year y, month m (1-12), day d of the proleptic Gregorian calendar
// (Howard Hinnant's days_from_civil), and back.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + std::int64_t(doe) - 719468;
}
struct civil_date {
  std::int64_t year;
  unsigned month, day;
};
constexpr civil_date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  return {std::int64_t(yoe) + era * 400 + (m <= 2), m, d};
}
constexpr unsigned days_in_month(std::int64_t y, unsigned m) {
  constexpr std::array<unsigned, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
  return m == 2 && leap ? 29 : days[m - 1];
}

// The number of `width` digits at s[at], or -1 where one is not a digit.
inline std::int64_t digits_at(std::string_view s, std::size_t at, std::size_t width) {
  std::int64_t v = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

constexpr std::int64_t power_of_ten(unsigned k) { return k == 0 ? 1 : 10 * power_of_ten(k - 1); }

}  // namespace detail

// The value of `cell` in layout l (whole units of its finest field since 1970-01-01), or none
// where the cell is not in that layout or names no valid date and time.
inline std::optional<std::int64_t> parse_time(std::string_view cell, const time_layout& l) {
  using detail::digits_at;
  if (cell.size() != l.length() || cell[4] != '-' || cell[7] != '-') return std::nullopt;
  const std::int64_t year = digits_at(cell, 0, 4), month = digits_at(cell, 5, 2), day = digits_at(cell, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > detail::days_in_month(year, unsigned(month)))
    return std::nullopt;
  const std::int64_t days = detail::days_from_civil(year, unsigned(month), unsigned(day));
  if (!l.separator) return days;
  if (cell[10] != l.separator || cell[13] != ':') return std::nullopt;
  const std::int64_t hour = digits_at(cell, 11, 2), minute = digits_at(cell, 14, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return std::nullopt;
  const std::int64_t minutes = days * 1440 + hour * 60 + minute;
  std::size_t at = 16;
  std::int64_t v = minutes;
  if (l.seconds) {
    const std::int64_t second = cell[at] == ':' ? digits_at(cell, at + 1, 2) : -1;
    if (second < 0 || second > 59) return std::nullopt;
    v = minutes * 60 + second, at += 3;
    if (l.fraction) {
      const std::int64_t f = cell[at] == '.' ? digits_at(cell, at + 1, l.fraction) : -1;
      // |v| < 2^38 seconds here: past 2^62 in the unit (years past 2116 in nanoseconds) no int64 holds it
      if (f < 0 || std::abs(v) > (std::int64_t(1) << 62) / detail::power_of_ten(l.fraction)) return std::nullopt;
      v = v * detail::power_of_ten(l.fraction) + f, at += 1 + l.fraction;
    }
  }
  if (l.zulu && cell[at] != 'Z') return std::nullopt;
  return v;
}

// The layout of a cell that is a timestamp, or none.
inline std::optional<time_layout> layout_of_time(std::string_view cell) {
  if (cell.size() < 10) return std::nullopt;
  time_layout l;
  if (cell.size() > 10) {
    l.separator = cell[10];
    if (l.separator != 'T' && l.separator != ' ') return std::nullopt;
    l.zulu = cell.back() == 'Z';
    const std::size_t clock = cell.size() - 11 - l.zulu;  // HH:MM[:SS[.f...]]
    l.seconds = clock >= 8;
    l.fraction = clock > 9 ? unsigned(clock - 9) : 0;
    if ((clock != 5 && clock < 8) || clock == 9 || l.fraction > 9) return std::nullopt;
  }
  if (!parse_time(cell, l)) return std::nullopt;
  return l;
}

// v (parse_time's value) in layout l.
inline std::string format_time(std::int64_t v, const time_layout& l) {
  auto floor_div = [](std::int64_t a, std::int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); };
  std::int64_t fraction = 0, second = 0, minutes = v;
  if (l.separator && l.seconds) {
    const std::int64_t scale = detail::power_of_ten(l.fraction);
    const std::int64_t seconds = floor_div(v, scale);
    fraction = v - seconds * scale;
    minutes = floor_div(seconds, 60), second = seconds - minutes * 60;
  }
  const std::int64_t days = l.separator ? floor_div(minutes, 1440) : v;
  const std::int64_t minute_of_day = minutes - days * 1440;
  const detail::civil_date date = detail::civil_from_days(days);
  auto two = [](std::int64_t n) { return std::string{char('0' + n / 10), char('0' + n % 10)}; };
  std::string year = std::to_string(date.year);
  std::string s = std::string(year.size() < 4 ? 4 - year.size() : 0, '0') + year + "-" + two(date.month) + "-" +
                  two(date.day);
  if (!l.separator) return s;
  s += l.separator + two(minute_of_day / 60) + ":" + two(minute_of_day % 60);
  if (l.seconds) s += ":" + two(second);
  if (l.fraction) {
    const std::string f = std::to_string(fraction);
    s += "." + std::string(l.fraction - f.size(), '0') + f;
  }
  if (l.zulu) s += 'Z';
  return s;
}

// The cell of value v (format_time), v being row `row` of column `column` (from 0, for the
// message): an error where v is not a whole number of l's unit in the years 0000 to 9999 below
// 2^53 in size, as a crafted file's value may be.
inline std::string time_cell(double v, const time_layout& l, const char* where, std::size_t row, std::size_t column) {
  const double per_day = !l.separator ? 1 : l.seconds ? 86400 * double(detail::power_of_ten(l.fraction)) : 1440;
  const double lo = std::max(double(detail::days_from_civil(0, 1, 1)) * per_day, -0x1p53),
               hi = std::min(double(detail::days_from_civil(10000, 1, 1)) * per_day, 0x1p53);
  if (!(v >= lo && v < hi && v == std::floor(v)))
    throw error(std::string(where) + "(): row " + std::to_string(row) + " of column " + std::to_string(column + 1) +
                " holds " + std::to_string(v) + ", not a time of the years 0000 to 9999 in " + l.pattern());
  return format_time(std::int64_t(v), l);
}

// A column of cells as times: their layout and values, where every cell is a timestamp of one
// layout (a column of other text, or of dates in two forms, stays text) and every value is
// below 2^53 in size, which a float64 holds exactly.
struct times_column {
  time_layout layout;
  std::vector<double> values;
};
inline std::optional<times_column> read_times(const std::vector<std::string>& cells) {
  if (cells.empty()) return std::nullopt;
  const std::optional<time_layout> l = layout_of_time(cells[0]);
  if (!l) return std::nullopt;
  times_column t{*l, {}};
  t.values.reserve(cells.size());
  constexpr std::int64_t exact = std::int64_t(1) << 53;
  for (const std::string& cell : cells) {
    const std::optional<std::int64_t> v = parse_time(cell, *l);
    if (!v || *v >= exact || *v <= -exact) return std::nullopt;
    t.values.push_back(double(*v));
  }
  return t;
}

}  // namespace baler
