#pragma once
// The preamble of a .npy file: magic "\x93NUMPY", version, header length, then a Python dict
// literal {'descr': ..., 'fortran_order': ..., 'shape': (...), }. numpy writes it with repr(),
// so the parser below accepts the Python literal subset repr() produces (strings, booleans,
// integers, tuples, lists) rather than a fixed template: spacing and key order vary between
// numpy versions and other writers.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/bytes.hpp"
#include "baler/io/ndarray.hpp"

namespace baler::npy {

inline constexpr char magic[] = "\x93NUMPY";
inline constexpr std::size_t magic_size = 6;

struct header {
  int major = 1;
  int minor = 0;
  std::string descr;  // as written, e.g. "<f8", ">i4", "<U16"; empty for a structured dtype
  // A structured (record) dtype: (name, descr) per field, in order, as np.save writes a record
  // array; padding fields (alignment) have no name and a void descr ("|V4").
  std::vector<std::pair<std::string, std::string>> fields;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;  // where the payload starts
};

// What a descr means for the readers: a numeric dtype, or fixed-width text: unicode ('U',
// UTF-32) or bytes ('S', as h5py writes fixed-length strings; read as Latin-1, so that ASCII
// stays itself and no byte is refused).
struct element_type {
  bool is_text = false;
  dtype type = dtype::f64;    // when !is_text
  std::size_t item_size = 0;  // bytes per element (char_size x characters for text)
  std::size_t char_size = 4;  // of text: 4 (unicode) or 1 (bytes)
  bool big_endian = false;
};

namespace detail {

// One Python literal; only what numpy headers contain.
struct py_value {
  enum class kind { string, boolean, integer, sequence, none } k = kind::none;
  std::string text;
  bool flag = false;
  std::uint64_t number = 0;
  std::vector<py_value> items;
};

class literal_parser {
 public:
  literal_parser(const std::string& s, const char* where) : s_(s), where_(where) {}

  // The whole header: one dict, then only whitespace (numpy pads with spaces and '\n').
  std::vector<std::pair<std::string, py_value>> dict() {
    std::vector<std::pair<std::string, py_value>> out;
    expect('{');
    while (!peek('}')) {
      py_value key = value();
      if (key.k != py_value::kind::string) fail("dict keys must be strings");
      expect(':');
      out.emplace_back(key.text, value());
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the dict");
    return out;
  }

 private:
  // depth: how many sequences enclose this value. A real header nests one level (the shape
  // tuple); the limit keeps a hostile header from exhausting the stack through recursion.
  py_value value(int depth = 0) {
    if (depth > 16) fail("the header nests sequences too deeply");
    skip_space();
    if (pos_ >= s_.size()) fail("header ends inside a value");
    const char c = s_[pos_];
    py_value v;
    if (c == '\'' || c == '"') {
      v.k = py_value::kind::string;
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != c) {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        v.text += s_[pos_++];
      }
      if (pos_ >= s_.size()) fail("unterminated string");
      ++pos_;
    } else if (c == '(' || c == '[') {
      v.k = py_value::kind::sequence;
      const char close = c == '(' ? ')' : ']';
      ++pos_;
      while (!peek(close)) {
        v.items.push_back(value(depth + 1));
        if (!peek(close)) expect(',');
      }
      expect(close);
    } else if (c >= '0' && c <= '9') {
      v.k = py_value::kind::integer;
      for (; pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; ++pos_) {
        const std::uint64_t digit = static_cast<std::uint64_t>(s_[pos_] - '0');
        if (v.number > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
          fail("integer too large");
        v.number = v.number * 10 + digit;
      }
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 longs, as in old files
    } else if (word("True") || word("False")) {
      v.k = py_value::kind::boolean;
      v.flag = c == 'T';
    } else if (word("None")) {
      v.k = py_value::kind::none;
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
    return v;
  }

  bool word(const char* w) {
    const std::string ws(w);
    if (s_.compare(pos_, ws.size(), ws) != 0) return false;
    pos_ += ws.size();
    return true;
  }
  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw error(std::string(where_) + "(): malformed header: " + what + " at offset " +
                std::to_string(pos_) + " in \"" + s_ + "\"");
  }

  const std::string& s_;
  const char* where_;
  std::size_t pos_ = 0;
};

// numpy's name for a descr we do not read, so the message says "complex128", not "<c16".
inline std::string unsupported_name(char kind, std::size_t size, const std::string& descr) {
  switch (kind) {
    case 'c':
      return "complex" + std::to_string(8 * size);
    case 'f':
      return "float" + std::to_string(8 * size);
    case 'O':
      return "object (pickled Python objects)";
    case 'S':
    case 'a':
      return "bytes";
    case 'V':
      return "void/raw bytes";
    case 'M':  // int64 counts of a unit: the int64 view is the same values (wide_integers.hpp)
      return "datetime64 (pass its int64 view, a.view('i8'))";
    case 'm':
      return "timedelta64 (pass its int64 view, a.view('i8'))";
    default:
      return "'" + descr + "'";
  }
}

}  // namespace detail

// Meaning of a descr string; structured (list) descrs never get here, see parse_header.
inline element_type parse_descr(const std::string& descr, const char* where) {
  require(descr.size() >= 2, where, "malformed dtype descr '" + descr + "'");
  const char order = descr[0];
  require(order == '<' || order == '>' || order == '|' || order == '=', where,
          "dtype descr '" + descr + "' has no byte order ('<', '>', '|' or '=')");
  const char kind = descr[1];
  // The size is the digits after the kind; datetimes carry a unit suffix like "[ns]". Absurd
  // sizes (2^24 and more) stop the loop early and so read as unsupported instead of overflowing.
  std::size_t i = 2, size = 0;
  for (; i < descr.size() && descr[i] >= '0' && descr[i] <= '9' && size < (1u << 24); ++i)
    size = size * 10 + static_cast<std::size_t>(descr[i] - '0');
  const bool plain = i == descr.size() && i > 2;

  element_type e;
  e.big_endian = order == '>';
  if ((kind == 'U' || kind == 'S') && plain && size > 0) {
    e.is_text = true;
    e.char_size = kind == 'U' ? 4 : 1;
    e.item_size = e.char_size * size;
    return e;
  }
  if (plain) {
    for (dtype t : all_dtypes) {
      if (npy_descr(t).substr(1) == descr.substr(1)) {
        e.type = t;
        e.item_size = size;
        return e;
      }
    }
  }
  throw error(std::string(where) + "(): unsupported dtype " +
              detail::unsupported_name(kind, size, descr) + " (descr '" + descr +
              "'); supported: bool, int8..int64, uint8..uint64, float32, float64, unicode and byte strings");
}

// Parses and validates the preamble of a .npy buffer; the payload is the caller's business.
inline header parse_header(byte_view in, const char* where) {
  require(in.size >= magic_size + 2 &&
              std::equal(magic, magic + magic_size, reinterpret_cast<const char*>(in.data)),
          where, "not a .npy file (bad magic; expected \\x93NUMPY)");
  header h;
  h.major = std::to_integer<int>(in.data[6]);
  h.minor = std::to_integer<int>(in.data[7]);
  require((h.major == 1 || h.major == 2 || h.major == 3) && h.minor == 0, where,
          "unsupported .npy format version " + std::to_string(h.major) + "." +
              std::to_string(h.minor) + " (expected 1.0, 2.0 or 3.0)");
  const std::size_t len_size = h.major == 1 ? 2 : 4;
  require(in.size >= 8 + len_size, where, "truncated: file ends inside the header length");
  const std::size_t header_len = load_le(in.data + 8, len_size);
  h.data_offset = 8 + len_size + header_len;
  require(in.size >= h.data_offset, where,
          "truncated: header needs " + std::to_string(header_len) + " bytes, file has " +
              std::to_string(in.size - 8 - len_size));

  const std::string text(reinterpret_cast<const char*>(in.data) + 8 + len_size, header_len);
  bool has_descr = false, has_order = false, has_shape = false;
  for (const auto& [key, value] : detail::literal_parser(text, where).dict()) {
    using kind = detail::py_value::kind;
    if (key == "descr" && value.k == kind::sequence) {
      require(!value.items.empty(), where, "malformed header: a structured dtype without fields");
      for (const auto& f : value.items) {
        require(f.k == kind::sequence && f.items.size() >= 2 && f.items[0].k == kind::string &&
                    f.items[1].k == kind::string,
                where, "unsupported dtype: a structured field that is not (name, scalar type)");
        require(f.items.size() == 2, where,
                "unsupported dtype: structured field '" + f.items[0].text + "' holds an array (a subarray dtype)");
        h.fields.emplace_back(f.items[0].text, f.items[1].text);
      }
      has_descr = true;
    } else if (key == "descr") {
      require(value.k == kind::string, where, "malformed header: 'descr' is not a string");
      h.descr = value.text;
      has_descr = true;
    } else if (key == "fortran_order") {
      require(value.k == kind::boolean, where, "malformed header: 'fortran_order' is not a bool");
      h.fortran_order = value.flag;
      has_order = true;
    } else if (key == "shape") {
      require(value.k == kind::sequence, where, "malformed header: 'shape' is not a tuple");
      for (const auto& d : value.items) {
        require(d.k == kind::integer && d.number <= std::numeric_limits<std::size_t>::max(), where,
                "malformed header: 'shape' holds a non-integer or negative entry");
        h.shape.push_back(static_cast<std::size_t>(d.number));
      }
      has_shape = true;
    } else {
      throw error(std::string(where) + "(): malformed header: unexpected key '" + key + "'");
    }
  }
  require(has_descr && has_order && has_shape, where,
          "malformed header: needs the keys 'descr', 'fortran_order' and 'shape', got \"" + text +
              "\"");
  return h;
}

// The preamble for a C-order array: version 1.0 unless the header outgrows its 16-bit length
// field, then 2.0, or 3.0 where it is not ASCII. Padded with spaces and '\n' so the payload starts at a multiple of 64 bytes,
// as numpy does, which lets readers map the payload aligned.
// `descr` as a Python literal: "'<f8'", or "[('pt', '<f8'), ('eta', '<f8')]" for records.
inline std::vector<std::byte> format_header_literal(const std::string& descr,
                                                    const std::vector<std::size_t>& shape) {
  std::string dict =
      "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + shape_string(shape) + ", }";
  // Version 3 where the text is not ASCII (field names in UTF-8; 1 and 2 are Latin-1).
  const bool ascii = std::all_of(dict.begin(), dict.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  const int major = !ascii ? 3 : dict.size() + 1 + 10 + 63 <= 0xFFFF ? 1 : 2;
  const std::size_t prefix = major == 1 ? 10 : 12;
  const std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';

  std::vector<std::byte> out;
  out.reserve(total);
  for (std::size_t i = 0; i < magic_size; ++i) out.push_back(static_cast<std::byte>(magic[i]));
  out.push_back(static_cast<std::byte>(major));
  out.push_back(std::byte{0});
  append_le(out, dict.size(), major == 1 ? 2 : 4);
  for (char c : dict) out.push_back(static_cast<std::byte>(c));
  return out;
}
inline std::vector<std::byte> format_header(const std::string& descr, const std::vector<std::size_t>& shape) {
  return format_header_literal("'" + descr + "'", shape);
}

}  // namespace baler::npy
