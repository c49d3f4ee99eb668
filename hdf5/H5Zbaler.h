/* The baler HDF5 filter: error-bounded lossy compression of each chunk.
 *
 * Filter id 305 lies in the range HDF5 leaves for testing (256-511); distributing files
 * written with it needs an id registered with The HDF Group.
 *
 * Parameters (cd_values), as the user sets them:
 *   [0] bound kind: 0 abs, 1 range, 2 rel, 3 psnr  (as `baler --error-bound KIND:VALUE`)
 *   [1] low 32 bits, [2] high 32 bits of the bound, an IEEE double
 *   [3] layout: 0 table (a 1-D or 2-D chunk is rows x columns, each column bounded on its own
 *       range), 1 field (the chunk is one grid; chunks of 3 or more dimensions always are);
 *       plus 2 (H5Z_BALER_FAST) for `baler --effort fast`, which only the writer reads
 * set_local appends the element type and the chunk's dimensions, so a chunk decodes alone:
 *   [4] dtype (baler::dtype's value), [5] rank, [6..] the chunk's dimensions.
 *
 * H5Pset_baler() below is all a C program needs; it links nothing of baler. Reading only
 * needs the plugin on HDF5_PLUGIN_PATH. */
#ifndef H5Z_BALER_H
#define H5Z_BALER_H

#include <hdf5.h>
#include <string.h>

#define H5Z_FILTER_BALER 305
#define H5Z_BALER_USER_NPARAMS 4

enum h5z_baler_kind { H5Z_BALER_ABS = 0, H5Z_BALER_RANGE = 1, H5Z_BALER_REL = 2, H5Z_BALER_PSNR = 3 };
enum h5z_baler_layout { H5Z_BALER_TABLE = 0, H5Z_BALER_FIELD = 1, H5Z_BALER_FAST = 2 /* or'ed with either */ };

/* Fills the four user parameters; cd must hold H5Z_BALER_USER_NPARAMS values. */
static inline void H5Z_baler_params(unsigned cd[H5Z_BALER_USER_NPARAMS], int kind, double bound,
                                    int layout) {
  unsigned words[2];
  memcpy(words, &bound, sizeof bound); /* little-endian host: words[0] is the low half */
  cd[0] = (unsigned)kind;
  cd[1] = words[0];
  cd[2] = words[1];
  cd[3] = (unsigned)layout;
}

/* Adds the baler filter to a dataset creation property list (which must be chunked). */
static inline herr_t H5Pset_baler(hid_t dcpl, int kind, double bound, int layout) {
  unsigned cd[H5Z_BALER_USER_NPARAMS];
  H5Z_baler_params(cd, kind, bound, layout);
  return H5Pset_filter(dcpl, H5Z_FILTER_BALER, H5Z_FLAG_MANDATORY, H5Z_BALER_USER_NPARAMS, cd);
}

#endif
