// SPDX-License-Identifier: MIT
// Readers and writers of the stable file formats (README.md). Every reader validates completely and
// throws InputError naming the file, the line or field, and what was expected.
#pragma once

#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

#include <string>

namespace relustab::io {

/// CSV with header `x,y` (d = 1) or `x1,...,xd,y`; an optional last column `y_clean` is read as the clean
/// target. One row per sample; blank lines at the end are ignored. Whitespace around fields, CRLF line ends
/// and a UTF-8 byte order mark are tolerated; anything else (wrong field count, non-numbers, NaN/inf, blank
/// lines inside the data, no rows) throws InputError "<file>:<line>: <what was expected>", fields counted
/// from 1. `name` is the file name used in messages.
Dataset read_csv(const std::string& path);
Dataset parse_csv(const std::string& text, const std::string& name);
/// Writes the data set (with a y_clean column when present), atomically, full double precision.
void write_csv(const std::string& path, const Dataset& data);

/// Network JSON: {"format":"relustab-net","version":1,"input_dim":d,"width":k,"W1":[[..]...],
/// "b1":[..],"w2":[..],"b2":x, "activation":"relu"|"gelu", "meta":{...}}. Numbers round-trip exactly.
/// "activation" is optional on reading (absent: relu) and always written.
/// The reader rejects unknown or repeated top-level keys, non-integer or < 1 dimensions, rows of the wrong
/// length (rows and elements counted from 1 in messages) and non-finite numbers; "meta" is not read.
ShallowReluNet read_net_json(const std::string& path);
ShallowReluNet parse_net_json(const std::string& text, const std::string& name);
/// `meta_json` is a JSON object text stored under "meta" (empty: none).
std::string net_to_json(const ShallowReluNet& net, const std::string& meta_json = "");
void write_net_json(const std::string& path, const ShallowReluNet& net,
                    const std::string& meta_json = "");

/// Network .npz (numpy zip archive, stored or deflated): arrays W1 (k x d), b1 (k), w2 (k) or (1, k),
/// b2 (scalar, shape (1,) or (1, 1)), float64 or float32 (any byte order), C or Fortran order; or the
/// same arrays under the names of a PyTorch state_dict of nn.Sequential(Linear, act, Linear):
/// 0.weight, 0.bias, 2.weight, 2.bias (a state_dict with 4.weight, two hidden layers, is refused).
/// Other members of the archive are ignored. The writer stores '<f8' C-order arrays uncompressed, b2 with shape ().
ShallowReluNet read_net_npz(const std::string& path);
void write_net_npz(const std::string& path, const ShallowReluNet& net);

/// Reads a network by extension: .json or .npz.
ShallowReluNet read_net(const std::string& path);

}  // namespace relustab::io
