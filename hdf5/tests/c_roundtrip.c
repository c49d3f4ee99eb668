/* An HDF5 program with no baler linked: writes a 3-D float field through the baler filter with
 * H5Pset_baler() (H5Zbaler.h), reads it back through the plugin found on HDF5_PLUGIN_PATH and
 * checks every value against the bound. Exit 0 on success.
 *   c_roundtrip FILE.h5 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "H5Zbaler.h"

#define NT 8
#define NY 24
#define NX 32

int main(int argc, char** argv) {
  if (argc != 2) return fprintf(stderr, "usage: c_roundtrip FILE.h5\n"), 2;
  static float in[NT][NY][NX], out[NT][NY][NX];
  float lo = INFINITY, hi = -INFINITY;
  for (int t = 0; t < NT; ++t)
    for (int y = 0; y < NY; ++y)
      for (int x = 0; x < NX; ++x) {
        in[t][y][x] = (float)(sin(0.3 * x + 0.1 * t) * cos(0.2 * y) + 0.01 * ((x * 7 + y * 13) % 5));
        lo = fminf(lo, in[t][y][x]);
        hi = fmaxf(hi, in[t][y][x]);
      }
  const double abs_bound = 1e-3;
  hsize_t dims[3] = {NT, NY, NX}, chunk[3] = {NT / 2, NY, NX};

  hid_t file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t space = H5Screate_simple(3, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (file < 0 || H5Pset_chunk(dcpl, 3, chunk) < 0 ||
      H5Pset_baler(dcpl, H5Z_BALER_ABS, abs_bound, H5Z_BALER_FIELD) < 0)
    return fprintf(stderr, "cannot set up the dataset\n"), 1;
  hid_t ds = H5Dcreate2(file, "field", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, in) < 0)
    return fprintf(stderr, "write failed\n"), 1;
  const hsize_t stored = H5Dget_storage_size(ds);
  H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Fclose(file);

  file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
  ds = H5Dopen2(file, "field", H5P_DEFAULT);
  if (ds < 0 || H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    return fprintf(stderr, "read failed\n"), 1;
  H5Dclose(ds);
  H5Fclose(file);

  double worst = 0;
  for (int t = 0; t < NT; ++t)
    for (int y = 0; y < NY; ++y)
      for (int x = 0; x < NX; ++x) worst = fmax(worst, fabs((double)out[t][y][x] - in[t][y][x]));
  printf("stored %llu of %zu bytes (ratio %.2f), max error %.3g, bound %.3g (range %.3g)\n",
         (unsigned long long)stored, sizeof in, (double)sizeof in / (double)stored, worst,
         abs_bound, (double)(hi - lo));
  return worst <= abs_bound ? 0 : 1;
}
