#pragma once
// The .baler file format: 16-bit float encodings, checksums, little-endian fields, zstd, and
// the container that holds a compressed data set's header and sections.
#include "baler/format/byte_io.hpp"
#include "baler/format/checksum.hpp"
#include "baler/format/container.hpp"
#include "baler/format/half.hpp"
#include "baler/format/latent_dtype.hpp"
#include "baler/format/zstd.hpp"
