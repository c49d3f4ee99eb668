// The Python module's native half (_baler): numpy arrays in and out of baler's one-call
// entry points and of Codec<cpu, AE> for training and model reuse. python/baler/__init__.py
// is the public face. Every baler::error becomes baler.BalerError (a ValueError) with the
// library's message; the GIL is released while the library works.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "baler/cli/file_info.hpp"
#include "baler/cli/size_report.hpp"
#include "baler/codec/error_bounded.hpp"
#include "baler/io/labels.hpp"
#include "baler/io/unicode.hpp"

namespace py = pybind11;
using namespace baler;

namespace {

using cpu_codec = codec::Codec<cpu, models::AE<cpu, float>>;

dtype dtype_of_numpy(const py::dtype& t) {
  const char kind = t.kind();
  const auto size = static_cast<std::size_t>(t.itemsize());
  require(t.byteorder() != '>', "baler", "big-endian arrays are not supported; use a.astype(a.dtype.newbyteorder('<'))");
  for (dtype d : all_dtypes) {
    const char k = d == dtype::bool_ ? 'b' : is_float(d) ? 'f' : is_signed(d) ? 'i' : 'u';
    if (k == kind && dtype_size(d) == size) return d;
  }
  throw error("baler(): unsupported dtype '" + py::str(py::handle(t)).cast<std::string>() + "' (expected " +
              supported_dtypes + ")");
}

dataset dataset_of(const py::array& a, const std::optional<std::vector<std::string>>& names);

// The cells of a column of text: a 1-D numpy str array, one of bytes (h5py's fixed-length
// strings; read as Latin-1, as baler reads them from files), or one of objects that are all
// str (as pandas gives a column of text).
std::vector<std::string> strings_of(const py::array& a, const std::string& name) {
  require(a.ndim() == 1, "baler", "column '" + name + "' is not one value per row");
  std::vector<std::string> cells;
  for (const py::handle cell : a.attr("tolist")()) {
    if (py::isinstance<py::bytes>(cell)) {
      std::string text;
      for (const char c : cell.cast<std::string>()) append_utf8(text, static_cast<unsigned char>(c), "baler");
      cells.push_back(std::move(text));
      continue;
    }
    if (!py::isinstance<py::str>(cell))
      throw error("baler(): column '" + name + "' holds objects that are not all str (" +
                  std::string(py::str(py::type::of(cell).attr("__name__"))) + "): give text as str, numbers as numbers");
    cells.push_back(cell.cast<std::string>());
  }
  return cells;
}

// Column `name` of a table, the c-th of `cols`: numbers as they are; text (strings_of) as its
// labels' indices, the labels put in labels[c] (labels sized to cols at the first).
ndarray column_of(const py::array& a, const std::string& name, std::size_t c, std::size_t cols,
                  std::vector<std::vector<std::string>>& labels) {
  const char kind = a.dtype().kind();
  if (kind == 'U' || kind == 'S' || kind == 'O') {
    labelled_column l = label_cells(strings_of(a, name));
    labels.resize(cols);
    labels[c] = std::move(l.labels);
    return ndarray::from_doubles(l.codes, {l.codes.size()}, dtype::i32);
  }
  return with_context("column '" + name + "'", [&] { return dataset_of(a, std::nullopt).data; });
}

// A 1-D structured array (records) as the table of its fields, named by them (table_layout::records).
dataset table_of_fields(const py::array& a) {
  require(a.ndim() == 1, "baler", "a structured array is a table when it is 1-D (N records); this one has " +
                                      std::to_string(a.ndim()) + " dimensions");
  std::vector<std::string> names;
  std::vector<ndarray> columns;
  std::vector<std::vector<std::string>> labels;
  const py::object contiguous = py::module_::import("numpy").attr("ascontiguousarray");
  const py::list fields = a.dtype().attr("names");
  for (const py::handle name : fields) {
    names.push_back(py::str(name));
    columns.push_back(with_context("field '" + names.back() + "'", [&] {
      return column_of(contiguous(a[name]).cast<py::array>(), names.back(), columns.size(), fields.size(), labels);
    }));
  }
  dataset d = detail::table_of_columns(std::move(names), columns, table_layout::records, "baler");
  d.labels = std::move(labels);
  return d;
}

// A dict of 1-D arrays (column name: values, as uproot's library="np" gives) as the table of
// them, in the dict's order (table_layout::members). A column of text (strings_of) is labels,
// its values their indices (labels.hpp).
dataset table_of_dict(const py::dict& columns) {
  std::vector<std::string> names;
  std::vector<ndarray> arrays;
  std::vector<std::vector<std::string>> labels;
  for (const auto& [name, values] : columns) {
    names.push_back(py::str(name));
    arrays.push_back(column_of(values.cast<py::array>(), names.back(), arrays.size(), columns.size(), labels));
  }
  dataset d = detail::table_of_columns(std::move(names), arrays, table_layout::members, "baler");
  d.labels = std::move(labels);
  return d;
}

// An array, or a dict of columns (table_of_dict).
dataset dataset_of(const py::object& a, const std::optional<std::vector<std::string>>& names) {
  if (!py::isinstance<py::dict>(a)) return dataset_of(a.cast<py::array>(), names);
  require(!names, "baler", "a dict names its columns by its keys; pass no names");
  return table_of_dict(a.cast<py::dict>());
}

// ndarray owns its bytes (a std::vector), so the one copy here cannot be avoided; a
// non-contiguous array is refused rather than silently gathered.
dataset dataset_of(const py::array& a, const std::optional<std::vector<std::string>>& names) {
  if (!a.dtype().attr("names").is_none()) {
    require(!names, "baler", "a structured array names its columns by its fields; pass no names");
    return table_of_fields(a);
  }
  require(a.flags() & py::array::c_style, "baler",
          "the array is not C-contiguous; pass numpy.ascontiguousarray(a)");
  dataset d;
  d.data.type = dtype_of_numpy(a.dtype());
  for (py::ssize_t i = 0; i < a.ndim(); ++i) d.data.shape.push_back(static_cast<std::size_t>(a.shape(i)));
  const auto* p = static_cast<const std::byte*>(a.data());
  d.data.bytes.assign(p, p + a.nbytes());
  if (names) d.names = *names;
  check_names(d, "baler");
  return d;
}

// Hands an array's bytes to numpy without a copy, as `t` (of the same item size) and `shape`:
// the numpy array keeps the ndarray alive.
py::array array_owning(ndarray&& a, const py::dtype& t, const std::vector<py::ssize_t>& shape) {
  auto owner = std::make_unique<ndarray>(std::move(a));
  void* data = owner->bytes.data();
  py::capsule base(owner.get(), [](void* p) { delete static_cast<ndarray*>(p); });
  owner.release();
  return py::array(t, shape, data, base);
}
py::array array_owning(ndarray&& a) {
  const py::dtype t(dtype_name(a.type));
  const std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
  return array_owning(std::move(a), t, shape);
}

// The decoded data for numpy. A table read from records goes back as records, a field per
// column in its dtype (text as unicode), the rows its records; one from a dict of columns, or
// another with a column of text, as a dict of them, the text as a str array.
py::object to_numpy(dataset&& d) {
  d = with_times_as_text(std::move(d));
  const bool table = d.data.ndim() == 2 && d.names.size() == d.data.shape[1];
  const bool records = d.layout == table_layout::records;
  if (table && (d.layout == table_layout::members || (!d.labels.empty() && !records))) {
    std::vector<ndarray> columns = columns_of(d);
    py::dict out;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (d.labels.empty() || d.labels[c].empty()) {
        out[py::str(d.names[c])] = array_owning(std::move(columns[c]));
        continue;
      }
      py::list text;
      for (const std::string& cell : cells_of(d.labels[c], columns[c].to_doubles(), "baler.decompress", c))
        text.append(py::str(cell));
      out[py::str(d.names[c])] = py::module_::import("numpy").attr("array")(text, py::arg("dtype") = "U");
    }
    return out;
  }
  if (table && records) {
    npy::described_records r = npy::describe_records(columns_of(d), d.labels);
    py::list fields;
    for (std::size_t c = 0; c < r.descrs.size(); ++c) fields.append(py::make_tuple(d.names[c], r.descrs[c]));
    const std::size_t rows = d.data.shape[0];
    return array_owning(ndarray{dtype::u8, {r.records.bytes.size()}, std::move(r.records.bytes)},
                        py::dtype::from_args(fields), {py::ssize_t(rows)});
  }
  return array_owning(std::move(d.data));
}

byte_view view_of(const py::bytes& b) {
  char* data = nullptr;
  py::ssize_t size = 0;
  PYBIND11_BYTES_AS_STRING_AND_SIZE(b.ptr(), &data, &size);
  return byte_view(reinterpret_cast<const std::byte*>(data), static_cast<std::size_t>(size));
}

py::bytes to_bytes(const std::vector<std::byte>& v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

codec::codec_options options_of(const std::string& json) {
  codec::codec_options o;
  if (!json.empty()) codec::apply_json(o, nlohmann::json::parse(json));
  return o;
}

py::object from_json(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

}  // namespace

PYBIND11_MODULE(_baler, m) {
  m.doc() = "baler's native module; use the package `baler`";
  static py::exception<error> exc(m, "BalerError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const error& e) {
      exc(e.what());
    } catch (const nlohmann::json::exception& e) {
      exc((std::string("baler(): ") + e.what()).c_str());
    }
  });

  m.def("compress_bounded", [](const py::object& a, const std::string& bound,
                               const std::optional<std::vector<std::string>>& names,
                               const std::string& options) {
    dataset d = dataset_of(a, names);
    const codec::bound_config b = codec::parse_bound_config(bound);
    codec::codec_options o = options_of(options);
    std::vector<std::byte> out;
    {
      py::gil_scoped_release release;
      out = codec::compress_error_bounded(std::move(d), b, o);
    }
    return to_bytes(out);
  });

  // With a model: its file's bytes are loaded; without one, a model is trained on `a`.
  m.def("compress_with_model", [](const py::object& a, const std::optional<py::bytes>& model,
                                  const std::string& bound,
                                  const std::optional<std::vector<std::string>>& names,
                                  const std::string& options) {
    dataset d = dataset_of(a, names);
    d.field = codec::is_field(d);  // read on the values once, for training and compressing
    codec::codec_options o = options_of(options);
    if (!bound.empty()) o.error_bound = codec::parse_bound_config(bound);
    std::optional<byte_view> m;
    if (model) m = view_of(*model);
    std::vector<std::byte> out;
    {
      py::gil_scoped_release release;
      cpu be(1);
      cpu_codec c(be, o);
      if (m) c.load_model(*m);
      else c.train(d);
      out = c.compress(d);
    }
    return to_bytes(out);
  });

  m.def("train", [](const py::object& a, const std::optional<std::vector<std::string>>& names,
                    const std::string& options) {
    const dataset d = dataset_of(a, names);
    const codec::codec_options o = options_of(options);
    std::vector<std::byte> model;
    {
      py::gil_scoped_release release;
      cpu be(1);
      cpu_codec c(be, o);
      c.train(d);
      model = c.save_model();
    }
    return to_bytes(model);
  });

  m.def("decompress", [](const py::bytes& file, const std::optional<py::bytes>& model) {
    const byte_view in = view_of(file);
    std::optional<byte_view> m;
    if (model) m = view_of(*model);
    dataset d;
    {
      py::gil_scoped_release release;
      if (!m) {
        d = codec::decompress_file(in);
      } else {
        cpu be(1);
        cpu_codec c(be, codec::codec_options{});
        c.load_model(*m);
        d = c.decompress(in);
      }
    }
    return to_numpy(std::move(d));
  });

  m.def("info", [](const py::bytes& file) {
    const format::container_info info = format::inspect(view_of(file));
    py::dict out;
    out["format_version"] = info.format_version;
    out["file_size"] = info.file_size;
    out["header"] = from_json(info.header);
    py::list sections;
    for (const auto& s : info.sections)
      sections.append(py::dict(py::arg("kind") = s.kind, py::arg("raw_size") = s.raw_size,
                               py::arg("stored_size") = s.stored_size,
                               py::arg("compressed") = s.compressed));
    out["sections"] = sections;
    if (info.header.value("kind", "") == "baler.compressed") {
      const cli::size_report r = cli::size_report::of(info);
      out["sizes"] = py::dict(py::arg("input") = r.input, py::arg("float32") = r.float32,
                              py::arg("latent") = r.latent, py::arg("decoder") = r.decoder,
                              py::arg("exact") = r.exact, py::arg("residuals") = r.residuals,
                              py::arg("metadata") = r.metadata, py::arg("total") = r.total);
      out["ratio"] = r.total ? double(r.input) / double(r.total) : 0.0;
      out["text"] = cli::describe_file(info);
    }
    return out;
  });

  // (kind, value) of one KIND:VALUE bound, checked by the library's parser.
  m.def("parse_bound", [](const std::string& text) {
    const codec::bound_config c = codec::parse_bound_config(text);
    require(c.named.empty() && c.all.set(), "baler.hdf5_filter",
            "the HDF5 filter takes one bound for all columns (KIND:VALUE), not '" + text + "'");
    return py::make_tuple(static_cast<int>(c.all.kind), c.all.value);
  });
}
