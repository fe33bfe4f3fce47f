// SPDX-License-Identifier: MIT
// Data sets as CSV: a strict reader (every problem reported as file:line) and a bit-exact writer.
#include <relustab/io/formats.h>

#include <relustab/core/error.h>
#include <relustab/io/atomic_file.h>

#include "text_fields.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <system_error>
#include <vector>

namespace relustab::io {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::string_view kCleanColumn = "y_clean";
constexpr const char* kHeaderHelp = "'x,y' or 'x1,...,xd,y', optionally followed by ',y_clean' (a leading '# ', as np.savetxt writes it, is allowed)";

using detail::trim;

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                              : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

enum class NumberStatus { Ok, NotANumber, OutOfRange, NotFinite };

/// Parses a whole field as a double (std::from_chars: correctly rounded, so printing with shortest
/// round-trip digits and reading back is bit-exact). A leading '+' is accepted as other tools write it.
NumberStatus parse_number(std::string_view field, double& value) {
  if (field.size() > 1 && field[0] == '+' && field[1] != '-' && field[1] != '+') field.remove_prefix(1);
  if (field.empty()) return NumberStatus::NotANumber;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error == std::errc::result_out_of_range && end == field.data() + field.size()) {
    // Too small for a double (1e-400): read as the correctly rounded value, +-0, as strtod and numpy
    // read it (subnormals such as 1e-310 are exact doubles and read as such). Too large (1e400) has
    // no double and stays an error.
    const std::string text(field);
    const double rounded = std::strtod(text.c_str(), nullptr);
    if (std::abs(rounded) > 1.0) return NumberStatus::OutOfRange;
    value = rounded;
    return NumberStatus::Ok;
  }
  if (error == std::errc::result_out_of_range) return NumberStatus::OutOfRange;
  if (error != std::errc() || end != field.data() + field.size()) return NumberStatus::NotANumber;
  return std::isfinite(value) ? NumberStatus::Ok : NumberStatus::NotFinite;
}

struct CsvHeader {
  Index input_dim = 0;
  bool has_clean = false;
  std::string columns;  ///< "x1,x2,y" as it must appear in every row, for messages
};

CsvHeader parse_header(std::string_view line, const std::string& where) {
  // np.savetxt(..., header="x,y") writes the header as a comment, "# x,y": accepted (on this line
  // only; a '#' in the data is still an error).
  const std::string_view trimmed = trim(line);
  if (!trimmed.empty() && trimmed.front() == '#') line = trimmed.substr(1);
  if (trim(line).empty()) {
    throw InputError(where + ": expected a header " + kHeaderHelp + ", got an empty line");
  }
  const std::vector<std::string_view> fields = split_fields(line);
  bool all_numbers = true;
  for (const std::string_view field : fields) {
    double ignored = 0.0;
    all_numbers = all_numbers && parse_number(field, ignored) != NumberStatus::NotANumber;
  }
  if (all_numbers) {
    throw InputError(where + ": missing header: expected " + kHeaderHelp + " as the first line, got numbers");
  }
  CsvHeader header;
  header.has_clean = !fields.empty() && fields.back() == kCleanColumn;
  const std::size_t named = fields.size() - (header.has_clean ? 1 : 0);  // x columns and y
  if (named < 2) {
    throw InputError(where + ": bad header '" + std::string(line) + "': expected " + kHeaderHelp);
  }
  header.input_dim = static_cast<Index>(named - 1);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::string expected;
    if (i + 1 == named) {
      expected = "y";
    } else if (i + 1 > named) {
      expected = kCleanColumn;
    } else {
      // d = 1 says x (or x1); d > 1 numbers the columns x1..xd.
      const bool plain_x = header.input_dim == 1 && fields[i] != "x1";
      expected = plain_x ? std::string("x") : std::string("x").append(std::to_string(i + 1));
    }
    if (fields[i] != expected) {
      throw InputError(where + ": bad header: column " + std::to_string(i + 1) + " is named '" +
                       std::string(fields[i]) + "' but expected '" + expected + "' (header must be " +
                       kHeaderHelp + ")");
    }
    header.columns += (i > 0 ? "," : "") + expected;
  }
  return header;
}

}  // namespace

Dataset parse_csv(const std::string& text_in, const std::string& name) {
  std::string_view text = text_in;
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());

  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t newline = text.find('\n', start);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  // Blank lines at the end (an editor's extra newline) are ignored; anywhere else they are an error.
  while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
  if (lines.empty()) {
    throw InputError(name + ": empty file: expected a header " + kHeaderHelp + " followed by data rows");
  }

  const CsvHeader header = parse_header(lines[0], name + ":1");
  const std::size_t columns = static_cast<std::size_t>(header.input_dim) + (header.has_clean ? 2 : 1);
  if (lines.size() < 2) {
    throw InputError(name + ": no data rows: expected at least one row of " + header.columns +
                     " after the header");
  }

  const std::size_t rows = lines.size() - 1;
  std::vector<double> values;
  values.reserve(rows * columns);
  for (std::size_t row = 0; row < rows; ++row) {
    const std::string where = name + ":" + std::to_string(row + 2);
    const std::string_view line = lines[row + 1];
    if (trim(line).empty()) {
      throw InputError(where + ": blank line inside the data (only blank lines at the end are allowed)");
    }
    const std::vector<std::string_view> fields = split_fields(line);
    if (fields.size() != columns) {
      throw InputError(where + ": expected " + std::to_string(columns) + " fields (" + header.columns +
                       "), got " + std::to_string(fields.size()));
    }
    for (std::size_t j = 0; j < columns; ++j) {
      const std::string field_name = "field " + std::to_string(j + 1);
      if (fields[j].empty()) throw InputError(where + ": " + field_name + " is empty: expected a number");
      double value = 0.0;
      switch (parse_number(fields[j], value)) {
        case NumberStatus::Ok:
          break;
        case NumberStatus::NotANumber:
          throw InputError(where + ": " + field_name + " '" + std::string(fields[j]) + "' is not a number");
        case NumberStatus::OutOfRange:
          throw InputError(where + ": " + field_name + " '" + std::string(fields[j]) +
                           "' is outside the range of a double");
        case NumberStatus::NotFinite:
          throw InputError(where + ": " + field_name + " is NaN/inf: values must be finite");
      }
      values.push_back(value);
    }
  }

  Dataset data;
  const auto n = static_cast<Index>(rows);
  const Index d = header.input_dim;
  const auto stride = static_cast<Index>(columns);
  data.X.resize(n, d);
  data.y.resize(n);
  if (header.has_clean) data.y_clean.resize(n);
  for (Index i = 0; i < n; ++i) {
    const double* row = values.data() + i * stride;
    for (Index j = 0; j < d; ++j) data.X(i, j) = row[j];
    data.y[i] = row[d];
    if (header.has_clean) data.y_clean[i] = row[d + 1];
  }
  validate_dataset(data, name);
  return data;
}

Dataset read_csv(const std::string& path) { return parse_csv(read_file(path), path); }

void write_csv(const std::string& path, const Dataset& data) {
  validate_dataset(data, path);
  require(data.y_clean.size() == 0 || data.y_clean.allFinite(),
          path + ": clean targets must be finite (found NaN or infinity)");
  const bool clean = data.y_clean.size() > 0;
  const Index d = data.dim();

  std::string out;
  if (d == 1) {
    out = "x";
  } else {
    for (Index j = 0; j < d; ++j) out += (j > 0 ? ",x" : "x") + std::to_string(j + 1);
  }
  out += clean ? ",y,y_clean\n" : ",y\n";
  // Shortest digits that read back to the same double (std::to_chars without a precision).
  char buffer[32];
  const auto append = [&](double value, char after) {
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
    out.push_back(after);
  };
  for (Index i = 0; i < data.n(); ++i) {
    for (Index j = 0; j < d; ++j) append(data.X(i, j), ',');
    append(data.y[i], clean ? ',' : '\n');
    if (clean) append(data.y_clean[i], '\n');
  }
  write_file_atomically(path, out);
}

}  // namespace relustab::io
