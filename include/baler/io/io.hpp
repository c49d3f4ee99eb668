#pragma once
// Everything for reading and writing data: arrays (ndarray), .npy, .npz, .csv, atomic files,
// and the dataset layer that picks the format from the file name.
#include "baler/io/atomic_file.hpp"
#include "baler/io/bytes.hpp"
#include "baler/io/csv.hpp"
#include "baler/io/dataset.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/io/npy.hpp"
#include "baler/io/npy_header.hpp"
#include "baler/io/npz.hpp"
#include "baler/io/unicode.hpp"
