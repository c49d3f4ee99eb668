// The baler HDF5 filter plugin (H5Zbaler.h has the parameters). Each chunk becomes one
// self-contained .baler file written by codec::compress_error_bounded, so any chunk decodes
// alone, in any order, with nothing but this plugin.
//
// How a chunk is read: with layout "table" a 2-D chunk is rows x columns (columns named c0, c1,
// ... so that each column gets its own range and predictor, as an HEP ntuple should) and a 1-D
// chunk is one column; with layout "field", and always for 3 or more dimensions, the chunk is
// one grid (Lorenzo prediction over the quantized grid).
//
// A "range" bound is relative to the chunk's range (of each column, for a table), since a
// filter sees one chunk at a time. HDF5 pads a partial edge chunk with the fill value (0 by
// default), which then widens that chunk's range: where the chunk shape does not divide the
// dataset's, an "abs" bound is the one that holds against the dataset's own range. A "psnr"
// target is met by every chunk on its own range, so the whole dataset meets it too where the
// chunks divide it (its mean squared error is the chunks' mean, its range at least any chunk's).
#include <H5PLextern.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "H5Zbaler.h"
#include "H5Zbaler_chunk.hpp"
#include "baler/io/hdf5.hpp"

namespace {

using namespace baler;

static_assert(h5z::user_params == H5Z_BALER_USER_NPARAMS && h5z::table_layout == H5Z_BALER_TABLE &&
              h5z::fast_effort == H5Z_BALER_FAST);
static_assert(int(codec::bound_kind::abs) == H5Z_BALER_ABS && int(codec::bound_kind::range) == H5Z_BALER_RANGE &&
                  int(codec::bound_kind::rel) == H5Z_BALER_REL && int(codec::bound_kind::psnr) == H5Z_BALER_PSNR,
              "H5Zbaler.h numbers the bound kinds as codec::bound_kind does");
constexpr int max_rank = 32;  // H5S_MAX_RANK

void push_error(const char* func, const std::string& what) {
  H5Epush2(H5E_DEFAULT, __FILE__, func, __LINE__, H5E_ERR_CLS, H5E_PLINE, H5E_CANTFILTER, "%s",
           what.c_str());
}

// The HDF5 element type as a baler dtype; only little-endian integers and IEEE floats.
dtype dtype_of_hdf5(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  require(cls == H5T_INTEGER || cls == H5T_FLOAT, "H5Zbaler",
          "only integer and floating-point datasets can be compressed");
  require(H5Tget_order(type) == H5T_ORDER_LE, "H5Zbaler", "only little-endian data is supported");
  if (cls == H5T_FLOAT) {
    if (hdf5::detail::is_ieee_half(type)) return dtype::f16;
    require(size == 4 || size == 8, "H5Zbaler", "floats must be IEEE 16, 32 or 64 bits");
    return size == 4 ? dtype::f32 : dtype::f64;
  }
  const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
  switch (size) {
    case 1: return is_signed ? dtype::i8 : dtype::u8;
    case 2: return is_signed ? dtype::i16 : dtype::u16;
    case 4: return is_signed ? dtype::i32 : dtype::u32;
    case 8: return is_signed ? dtype::i64 : dtype::u64;
  }
  throw error("H5Zbaler(): integers must be 1, 2, 4 or 8 bytes");
}

// Records the element type and chunk dimensions, checking the user's parameters on the way.
herr_t set_local(hid_t dcpl, hid_t type, hid_t /*space*/) {
  try {
    unsigned flags = 0;
    std::size_t n = 16;
    unsigned cd[16] = {};
    require(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_BALER, &flags, &n, cd, 0, nullptr, nullptr) >= 0,
            "H5Zbaler", "cannot read the filter's parameters");
    require(n >= H5Z_BALER_USER_NPARAMS, "H5Zbaler",
            "needs 4 parameters (kind, bound low word, bound high word, layout), got " +
                std::to_string(n) + "; use H5Pset_baler() or baler.hdf5_filter()");
    h5z::bound_of(cd);
    hsize_t dims[max_rank];
    const int rank = H5Pget_chunk(dcpl, max_rank, dims);
    require(rank > 0, "H5Zbaler", "the dataset must be chunked");
    std::vector<unsigned> all(cd, cd + H5Z_BALER_USER_NPARAMS);
    all.push_back(static_cast<unsigned>(dtype_of_hdf5(type)));
    all.push_back(static_cast<unsigned>(rank));
    for (int i = 0; i < rank; ++i) all.push_back(static_cast<unsigned>(dims[i]));
    return H5Pmodify_filter(dcpl, H5Z_FILTER_BALER, flags, all.size(), all.data());
  } catch (const std::exception& e) {
    push_error("H5Zbaler_set_local", e.what());
    return -1;
  }
}

// Replaces the chunk buffer by `out`; HDF5 owns and frees buffers with its own allocator.
std::size_t hand_over(const std::byte* out, std::size_t size, std::size_t* buf_size, void** buf) {
  void* fresh = H5allocate_memory(size, false);
  require(fresh != nullptr, "H5Zbaler", "out of memory");
  std::memcpy(fresh, out, size);
  H5free_memory(*buf);
  *buf = fresh;
  *buf_size = size;
  return size;
}

std::size_t filter(unsigned flags, std::size_t n_cd, const unsigned cd[], std::size_t nbytes,
                   std::size_t* buf_size, void** buf) {
  try {
    const byte_view in(static_cast<const std::byte*>(*buf), nbytes);
    const std::vector<std::byte> out =
        (flags & H5Z_FLAG_REVERSE) ? h5z::decode_chunk(n_cd, cd, in) : h5z::encode_chunk(n_cd, cd, in);
    return hand_over(out.data(), out.size(), buf_size, buf);
  } catch (const std::exception& e) {
    push_error("H5Zbaler_filter", e.what());
    return 0;
  }
}

const H5Z_class2_t baler_class = {
    H5Z_CLASS_T_VERS, static_cast<H5Z_filter_t>(H5Z_FILTER_BALER), 1, 1, "baler", nullptr,
    set_local,        filter,
};

}  // namespace

extern "C" {
H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }
const void* H5PLget_plugin_info(void) { return &baler_class; }
}
