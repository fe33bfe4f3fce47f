// SPDX-License-Identifier: MIT
// Experiment files (TOML) -> ExperimentSpec, with includes, sweep ranges, overrides and messages
// that name the file, the line and the key.
#include <relustab/experiment/toml_reader.h>

#include <relustab/core/error.h>
#include <relustab/core/format.h>
#include <relustab/core/limits.h>

#include <toml++/toml.h>  // Debian installs the header as toml.h (upstream also ships toml.hpp)

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace relustab::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSeedsShorthand = "seeds";  ///< [sweep] seeds = ... means "run.seed"
constexpr std::string_view kSeedKey = "run.seed";
/// Unknown keys get a suggestion when a known key is at most this many single-character edits away.
constexpr std::size_t kMaxSuggestionDistance = 3;

/// One experiment file being read.
struct SourceFile {
  std::string display;  ///< the name used in messages
  fs::path identity;    ///< normalised absolute path, to detect include cycles
  fs::path dir;         ///< includes and data files are relative to this
};

[[noreturn]] void fail_at(const SourceFile& file, const toml::source_region& where,
                          const std::string& message) {
  if (where.begin.line == 0) throw InputError(file.display + ": " + message);
  throw InputError(file.display + ":" + std::to_string(where.begin.line) + ": " + message);
}

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string node_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

std::string expected_text(ParamType type) {
  switch (type) {
    case ParamType::Int:
    case ParamType::UInt: return "an integer";
    case ParamType::Double: return "a number";
    case ParamType::Bool: return "a boolean";
    case ParamType::String: return "a string";
  }
  return "a value";
}

/// "unknown key 'optim.etaa' (did you mean 'optim.eta'?)".
std::string unknown_key_message(std::string_view key, const std::vector<std::string>& candidates) {
  std::string message = "unknown key " + in_quotes(key);
  // A typo: the nearest key within a third of the length of the key's last part (short keys would
  // match anything).
  const std::string_view last = key.substr(key.rfind('.') + 1);
  const std::size_t allowed = std::clamp<std::size_t>(last.size() / 3, 1, kMaxSuggestionDistance);
  const std::string* best = nullptr;
  std::size_t best_distance = allowed + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = &candidate;
    }
  }
  // A longer or shorter spelling ("optimizer" for "optim").
  constexpr std::size_t kMinPrefix = 3;
  for (const std::string& candidate : candidates) {
    if (best != nullptr) break;
    const std::size_t common = std::min(candidate.size(), key.size());
    if (common >= kMinPrefix && candidate.compare(0, common, key.substr(0, common)) == 0) best = &candidate;
  }
  // A key in the wrong section ("eta" at the top, "model.eta"): the parameter of that name.
  if (best == nullptr) {
    for (const std::string& candidate : candidates) {
      const auto dot = candidate.rfind('.');
      if (dot != std::string::npos && std::string_view(candidate).substr(dot + 1) == last) {
        best = &candidate;
        break;
      }
    }
  }
  // The step size under its other names: the table has one key for it (optim.eta), no alias, so
  // that a run has one spelling in files, --set, sweep axes and the database.
  if (best == nullptr && (last == "lr" || last == "learning_rate" || last == "step_size" || last == "stepsize")) {
    const auto eta = std::find(candidates.begin(), candidates.end(), "optim.eta");
    if (eta != candidates.end()) best = &*eta;
  }
  if (best != nullptr) message += " (did you mean " + in_quotes(*best) + "?)";
  return message;
}

std::vector<std::string> parameter_keys() {
  std::vector<std::string> keys;
  for (const ParamSpec& spec : run_parameters()) keys.emplace_back(spec.key);
  return keys;
}

std::vector<std::string> section_names() {
  std::vector<std::string> sections;
  for (const ParamSpec& spec : run_parameters()) {
    std::string section(spec.key.substr(0, spec.key.find('.')));
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
      sections.push_back(std::move(section));
    }
  }
  return sections;
}

bool is_section(std::string_view name) {
  const auto sections = section_names();
  return std::find(sections.begin(), sections.end(), name) != sections.end();
}

/// A relative data file is relative to the file that names it; stored absolute, so that run keys
/// do not depend on the directory the sweep was started from.
std::string resolve_data_file(const fs::path& dir, const std::string& value) {
  if (value.empty()) return value;
  const fs::path path(value);
  return fs::absolute(path.is_absolute() ? path : dir / path).lexically_normal().string();
}

/// A TOML scalar as a value of `spec`'s type; throws (naming the file, line and key) for arrays,
/// tables, dates and a float where an integer is expected.
ParamValue scalar_value(const SourceFile& file, const ParamSpec& spec, const toml::node& node) {
  const auto wrong_type = [&]() {
    fail_at(file, node.source(),
            "key " + in_quotes(spec.key) + " expects " + expected_text(spec.type) + ", got " +
                node_type_name(node));
  };
  ParamValue value;
  if (const auto* i = node.as_integer()) {
    value = i->get();
  } else if (const auto* d = node.as_floating_point()) {
    value = d->get();
  } else if (const auto* b = node.as_boolean()) {
    value = b->get();
  } else if (const auto* s = node.as_string()) {
    value = s->get();
  } else {
    wrong_type();
  }
  if (spec.type == ParamType::Double) {
    if (const auto* i = std::get_if<std::int64_t>(&value)) value = static_cast<double>(*i);
  }
  if (spec.key == "data.file") {
    if (const auto* s = std::get_if<std::string>(&value)) value = resolve_data_file(file.dir, *s);
  }
  return value;
}

/// Sets `value` in `config` through the table, turning its InputError into one with file and line.
void set_checked(const SourceFile& file, const toml::source_region& where, const ParamSpec& spec,
                 RunConfig& config, const ParamValue& value) {
  try {
    spec.set(config, value);
  } catch (const InputError& e) {
    fail_at(file, where, e.what());
  }
}

/// A numeric range endpoint pair [a, b] of a {log = ...} or {linear = ...} table.
std::pair<double, double> range_ends(const SourceFile& file, const std::string& axis,
                                     std::string_view kind, const toml::node& node) {
  const auto* array = node.as_array();
  const auto bad = [&]() {
    fail_at(file, node.source(),
            "sweep axis " + in_quotes(axis) + ": " + std::string(kind) + " expects two numbers [a, b]");
  };
  if (array == nullptr || array->size() != 2) bad();
  double ends[2] = {0.0, 0.0};
  for (std::size_t i = 0; i < 2; ++i) {
    const toml::node& end = *array->get(i);
    if (const auto* integer = end.as_integer()) {
      ends[i] = static_cast<double>(integer->get());
    } else if (const auto* real = end.as_floating_point()) {
      ends[i] = real->get();
    } else {
      bad();
    }
    if (!std::isfinite(ends[i])) bad();
  }
  return {ends[0], ends[1]};
}

std::int64_t integer_field(const SourceFile& file, const std::string& axis, std::string_view field,
                           const toml::node& node) {
  const auto* integer = node.as_integer();
  if (integer == nullptr) {
    fail_at(file, node.source(),
            "sweep axis " + in_quotes(axis) + ": " + std::string(field) + " expects an integer, got " +
                node_type_name(node));
  }
  return integer->get();
}

/// An axis cannot have more values than a sweep has runs: refused before the values are built.
void check_axis_length(const SourceFile& file, const toml::source_region& where, const std::string& axis,
                       const char* field, std::int64_t n) {
  if (n > limits::kMaxRuns) {
    fail_at(file, where, "sweep axis " + in_quotes(axis) + ": " + field + " = " + std::to_string(n) +
                             " is above the limit of " + std::to_string(limits::kMaxRuns) +
                             " runs per sweep");
  }
}

/// Values of a range table: {log = [a, b], num = N}, {linear = [a, b], num = N} or
/// {start = S, count = N}.
std::vector<ParamValue> range_values(const SourceFile& file, const ParamSpec& spec,
                                     const toml::table& range) {
  const std::string axis(spec.key);
  const toml::source_region& where = range.source();
  for (auto&& [name, node] : range) {
    const std::string_view field = name.str();
    if (field != "log" && field != "linear" && field != "num" && field != "start" && field != "count") {
      fail_at(file, name.source(),
              "sweep axis " + in_quotes(axis) + ": unknown range key " + in_quotes(field) +
                  " (expected log or linear with num, or start and count)");
    }
  }
  const toml::node* log = range.get("log");
  const toml::node* linear = range.get("linear");
  const toml::node* num = range.get("num");
  const toml::node* start = range.get("start");
  const toml::node* count = range.get("count");
  const bool is_integer = spec.type == ParamType::Int || spec.type == ParamType::UInt;
  const bool is_number = is_integer || spec.type == ParamType::Double;
  if (!is_number) {
    fail_at(file, where,
            "sweep axis " + in_quotes(axis) + ": a range needs a numeric key; list the values instead");
  }
  std::vector<ParamValue> values;

  if (count != nullptr || start != nullptr) {
    if (log != nullptr || linear != nullptr || num != nullptr || count == nullptr) {
      fail_at(file, where,
              "sweep axis " + in_quotes(axis) + ": a consecutive range is {start = S, count = N}");
    }
    if (!is_integer) {
      fail_at(file, where,
              "sweep axis " + in_quotes(axis) + ": {start, count} needs an integer key; use linear");
    }
    const std::int64_t first = start ? integer_field(file, axis, "start", *start) : 0;
    const std::int64_t n = integer_field(file, axis, "count", *count);
    if (n < 0) fail_at(file, count->source(), "sweep axis " + in_quotes(axis) + ": count must be >= 0");
    if (n == 0) fail_at(file, where, "sweep axis " + in_quotes(axis) + " has no values (count = 0)");
    check_axis_length(file, where, axis, "count", n);
    if (first > std::numeric_limits<std::int64_t>::max() - (n - 1)) {
      fail_at(file, where, "sweep axis " + in_quotes(axis) + ": start + count overflows");
    }
    for (std::int64_t i = 0; i < n; ++i) values.emplace_back(first + i);
    return values;
  }

  if ((log == nullptr) == (linear == nullptr) || num == nullptr) {
    fail_at(file, where,
            "sweep axis " + in_quotes(axis) +
                ": a range is {log = [a, b], num = N}, {linear = [a, b], num = N} or "
                "{start = S, count = N}");
  }
  const std::int64_t n = integer_field(file, axis, "num", *num);
  if (n < 0) fail_at(file, num->source(), "sweep axis " + in_quotes(axis) + ": num must be >= 0");
  if (n == 0) fail_at(file, where, "sweep axis " + in_quotes(axis) + " has no values (num = 0)");
  check_axis_length(file, where, axis, "num", n);
  const bool geometric = log != nullptr;
  const auto [a, b] = range_ends(file, axis, geometric ? "log" : "linear", geometric ? *log : *linear);
  if (geometric && !(a > 0.0 && b > 0.0)) {
    fail_at(file, log->source(), "sweep axis " + in_quotes(axis) + ": log range needs a > 0 and b > 0");
  }
  // t_i = i / (N - 1); the endpoints are set exactly rather than through the formula.
  std::vector<double> points(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (i == 0) {
      points[0] = a;
    } else if (i == n - 1) {
      points[static_cast<std::size_t>(i)] = b;
    } else {
      const double t = static_cast<double>(i) / static_cast<double>(n - 1);
      points[static_cast<std::size_t>(i)] = geometric ? a * std::pow(b / a, t) : a + (b - a) * t;
    }
  }

  if (!is_integer) {
    for (const double point : points) values.emplace_back(point);
    return values;
  }
  // Integer keys: a linear range must land on integers exactly; a log range is rounded to the
  // nearest integers, which must stay distinct.
  constexpr double kInt64Limit = 9.2e18;  // below 2^63, so llround cannot overflow
  // The lambda captures copies of the ends: C++20 lets lambdas capture structured bindings, but
  // Clang 14 does not implement it.
  const auto range_text = [&, a = a, b = b]() {
    return std::string(geometric ? "log" : "linear") + " range [" +
           format_param_value(ParamValue(a)) + ", " + format_param_value(ParamValue(b)) +
           "] with num = " + std::to_string(n);
  };
  for (const double point : points) {
    if (std::abs(point) > kInt64Limit) {
      fail_at(file, where, "sweep axis " + in_quotes(axis) + ": " + range_text() + " leaves int64");
    }
  }
  if (!geometric) {
    if (a != std::trunc(a) || b != std::trunc(b)) {
      fail_at(file, where,
              "sweep axis " + in_quotes(axis) + ": " + range_text() +
                  " does not give integers (a and b must be integers)");
    }
    // Both ends are below 2^63 in size, their difference need not be: refused before it is formed.
    if (std::abs(b - a) > kInt64Limit) {
      fail_at(file, where, "sweep axis " + in_quotes(axis) + ": " + range_text() +
                               " spans more than int64 can hold");
    }
    const auto first = static_cast<std::int64_t>(a);
    const auto last = static_cast<std::int64_t>(b);
    if (n == 1) {
      values.emplace_back(first);
      return values;
    }
    if ((last - first) % (n - 1) != 0) {
      fail_at(file, where,
              "sweep axis " + in_quotes(axis) + ": " + range_text() +
                  " does not give integers (b - a must be a multiple of num - 1)");
    }
    const std::int64_t step = (last - first) / (n - 1);
    for (std::int64_t i = 0; i < n; ++i) values.emplace_back(first + i * step);
    return values;
  }
  for (const double point : points) {
    const std::int64_t rounded = std::llround(point);
    if (!values.empty() && std::get<std::int64_t>(values.back()) == rounded) {
      fail_at(file, where,
              "sweep axis " + in_quotes(axis) + ": " + range_text() + " repeats the integer " +
                  std::to_string(rounded) + " after rounding; use a smaller num");
    }
    values.emplace_back(rounded);
  }
  return values;
}

/// One axis as written in a file, with where it was written.
struct FileAxis {
  SweepAxis axis;
  std::string written_as;  ///< the key as in the file ("seeds" or "run.seed")
  toml::source_region where;
};

/// `cases = [ { "key" = value, ... }, ... ]`: one axis whose values each set several keys (for runs
/// that are not a Cartesian product, e.g. a depth-2 net with its own initialisation). Each case is
/// stored as the text of detail::encode_case, checked key by key here.
FileAxis read_cases(const SourceFile& file, const toml::source_region& key_where,
                    const toml::node& node) {
  FileAxis result{{std::string(kCasesAxis), {}}, std::string(kCasesAxis), node.source()};
  const auto* array = node.as_array();
  if (array == nullptr || array->empty()) {
    fail_at(file, key_where, "sweep: cases expects a non-empty list of tables {\"key\" = value, ...}");
  }
  for (const toml::node& element : *array) {
    const auto* table = element.as_table();
    if (table == nullptr || table->empty()) {
      fail_at(file, element.source(), "sweep: each case is a non-empty table {\"key\" = value, ...}");
    }
    std::vector<std::pair<std::string, ParamValue>> settings;
    RunConfig scratch;
    for (auto&& [name, value_node] : *table) {
      const std::string key(name.str());
      const ParamSpec* spec = find_parameter(key);
      if (spec == nullptr) {
        fail_at(file, name.source(), "sweep case: " + unknown_key_message(key, parameter_keys()));
      }
      ParamValue value = scalar_value(file, *spec, value_node);
      set_checked(file, value_node.source(), *spec, scratch, value);
      settings.emplace_back(key, std::move(value));
    }
    result.axis.values.emplace_back(detail::encode_case(settings));
  }
  return result;
}

FileAxis read_axis(const SourceFile& file, const std::string& written_as,
                   const toml::source_region& key_where, const toml::node& node) {
  if (written_as == kCasesAxis) return read_cases(file, key_where, node);
  const std::string key = written_as == kSeedsShorthand ? std::string(kSeedKey) : written_as;
  const ParamSpec* spec = find_parameter(key);
  if (spec == nullptr) {
    std::vector<std::string> candidates = parameter_keys();
    candidates.emplace_back(kSeedsShorthand);
    fail_at(file, key_where, "sweep: " + unknown_key_message(written_as, candidates));
  }
  FileAxis result{{key, {}}, written_as, node.source()};
  if (const auto* array = node.as_array()) {
    if (array->empty()) fail_at(file, node.source(), "sweep axis " + in_quotes(key) + " has no values");
    for (const toml::node& element : *array) {
      result.axis.values.push_back(scalar_value(file, *spec, element));
    }
  } else if (const auto* range = node.as_table()) {
    result.axis.values = range_values(file, *spec, *range);
  } else {
    fail_at(file, node.source(),
            "sweep axis " + in_quotes(key) + " expects a list of values or a range table, got " +
                node_type_name(node));
  }
  // Check each value on its own now, so that a bad one is reported with its line.
  RunConfig scratch;
  const auto* array = node.as_array();
  for (std::size_t v = 0; v < result.axis.values.size(); ++v) {
    const toml::source_region& where = array ? array->get(v)->source() : node.source();
    set_checked(file, where, *spec, scratch, result.axis.values[v]);
  }
  return result;
}

/// The axes of a [sweep] table in the order they are written (toml++ iterates keys sorted).
std::vector<FileAxis> read_sweep(const SourceFile& file, const toml::table& sweep) {
  struct Entry {
    std::string key;
    toml::source_region key_where;
    const toml::node* node;
  };
  std::vector<Entry> entries;
  for (auto&& [name, node] : sweep) {
    const std::string key(name.str());
    // `optim.eta = [...]` without quotes is a dotted key: a nested table per section.
    if (const auto* nested = node.as_table(); nested != nullptr && is_section(key)) {
      for (auto&& [child, child_node] : *nested) {
        entries.push_back({key + "." + std::string(child.str()), child.source(), &child_node});
      }
    } else {
      entries.push_back({key, name.source(), &node});
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) {
    return std::tie(x.key_where.begin.line, x.key_where.begin.column) <
           std::tie(y.key_where.begin.line, y.key_where.begin.column);
  });
  std::vector<FileAxis> axes;
  for (const Entry& entry : entries) {
    FileAxis axis = read_axis(file, entry.key, entry.key_where, *entry.node);
    for (const FileAxis& earlier : axes) {
      if (earlier.axis.key == axis.axis.key) {
        fail_at(file, entry.key_where,
                "sweep axis " + in_quotes(axis.axis.key) + " is given twice (as " +
                    in_quotes(earlier.written_as) + " and " + in_quotes(axis.written_as) + ")");
      }
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

/// Refuses any non-ASCII byte outside strings and comments, before toml++ sees the text. toml++
/// 3.3.0 (Debian 12) reaches undefined behaviour (TOML_UNREACHABLE in its Unicode tables) on some
/// stray characters of U+00A1-U+0499 in bare positions (e.g. a key "½"; fixed upstream after
/// 3.3.0). TOML allows non-ASCII there only in quoted keys, so an experiment file loses nothing.
void check_bare_characters(const SourceFile& file, const std::string& text) {
  enum class State { Bare, Comment, Basic, Literal, MultiBasic, MultiLiteral } state = State::Bare;
  std::size_t line = 1, column = 0;
  const auto starts = [&](std::size_t i, std::string_view token) {
    return text.compare(i, token.size(), token) == 0;
  };
  constexpr std::string_view kBasicFence = "\"\"\"", kLiteralFence = "'''";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      if (state == State::Comment || state == State::Basic || state == State::Literal) state = State::Bare;
      continue;
    }
    switch (state) {
      case State::Bare:
        if (c == '#') {
          state = State::Comment;
        } else if (starts(i, kBasicFence)) {
          state = State::MultiBasic;
          i += 2;
        } else if (starts(i, kLiteralFence)) {
          state = State::MultiLiteral;
          i += 2;
        } else if (c == '"') {
          state = State::Basic;
        } else if (c == '\'') {
          state = State::Literal;
        } else if (static_cast<unsigned char>(c) >= 0x80) {
          char code[8];
          std::snprintf(code, sizeof code, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
          throw InputError(file.display + ":" + std::to_string(line) + ":" + std::to_string(column) +
                           ": unexpected non-ASCII byte " + code +
                           " outside a string or comment (quote keys that are not ASCII)");
        }
        break;
      case State::Comment: break;
      case State::Basic:
      case State::MultiBasic:
        if (c == '\\') {
          ++i;  // the escaped character
          if (i < text.size() && text[i] == '\n') {
            ++line;
            column = 0;
          }
        } else if (state == State::Basic && c == '"') {
          state = State::Bare;
        } else if (state == State::MultiBasic && starts(i, kBasicFence)) {
          state = State::Bare;
          i += 2;
        }
        break;
      case State::Literal:
        if (c == '\'') state = State::Bare;
        break;
      case State::MultiLiteral:
        if (starts(i, kLiteralFence)) {
          state = State::Bare;
          i += 2;
        }
        break;
    }
  }
}

toml::table parse_toml(const SourceFile& file, const std::string& text) {
  check_bare_characters(file, text);
  try {
    return toml::parse(text, file.display);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    throw InputError(file.display + ":" + std::to_string(begin.line) + ":" +
                     std::to_string(begin.column) + ": TOML syntax error: " +
                     std::string(e.description()));
  }
}

std::optional<std::string> read_text(const fs::path& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

fs::path identity_of(const fs::path& path) {
  std::error_code error;
  fs::path canonical = fs::weakly_canonical(fs::absolute(path), error);
  return error ? fs::absolute(path).lexically_normal() : canonical;
}

/// What the files read so far have set.
struct Layers {
  ExperimentSpec spec;
  bool has_name = false;
};

void apply_file(const SourceFile& file, const std::string& text, Layers& layers,
                std::vector<SourceFile>& stack);

void apply_include(const SourceFile& file, const toml::node& node, Layers& layers,
                   std::vector<SourceFile>& stack) {
  const auto* name = node.as_string();
  if (name == nullptr) {
    fail_at(file, node.source(), "key 'include' expects a string, got " + node_type_name(node));
  }
  const fs::path relative(name->get());
  const fs::path path = (relative.is_absolute() ? relative : file.dir / relative).lexically_normal();
  SourceFile included{path.string(), identity_of(path), path.parent_path()};
  if (stack.size() >= static_cast<std::size_t>(limits::kMaxIncludeDepth)) {
    fail_at(file, node.source(), "includes nested deeper than " +
                                     std::to_string(limits::kMaxIncludeDepth) + " files");
  }
  for (std::size_t i = 0; i < stack.size(); ++i) {
    if (stack[i].identity == included.identity) {
      std::string chain;
      for (std::size_t j = i; j < stack.size(); ++j) chain += stack[j].display + " -> ";
      fail_at(file, node.source(), "include cycle: " + chain + included.display);
    }
  }
  const std::optional<std::string> text = read_text(path);
  if (!text) {
    std::error_code error;
    fail_at(file, node.source(),
            "included file " + in_quotes(included.display) +
                (fs::exists(path, error) ? " cannot be read" : " not found"));
  }
  apply_file(included, *text, layers, stack);
}

void apply_section(const SourceFile& file, const std::string& section, const toml::table& table,
                   RunConfig& config) {
  for (auto&& [name, node] : table) {
    const std::string key = section + "." + std::string(name.str());
    const ParamSpec* spec = find_parameter(key);
    if (spec == nullptr) fail_at(file, name.source(), unknown_key_message(key, parameter_keys()));
    set_checked(file, node.source(), *spec, config, scalar_value(file, *spec, node));
  }
}

void apply_file(const SourceFile& file, const std::string& text, Layers& layers,
                std::vector<SourceFile>& stack) {
  stack.push_back(file);
  const toml::table root = parse_toml(file, text);
  // The included file is applied first, wherever the include line stands.
  if (const toml::node* include = root.get("include")) apply_include(file, *include, layers, stack);

  std::vector<std::string> top_level = section_names();
  top_level.insert(top_level.end(), {"name", "include", "sweep"});
  for (auto&& [name, node] : root) {
    const std::string key(name.str());
    if (key == "include") continue;
    if (key == "name") {
      const auto* value = node.as_string();
      if (value == nullptr) {
        fail_at(file, node.source(), "key 'name' expects a string, got " + node_type_name(node));
      }
      layers.spec.name = value->get();
      layers.has_name = true;
      continue;
    }
    if (std::find(top_level.begin(), top_level.end(), key) == top_level.end()) {
      std::vector<std::string> candidates = top_level;
      const std::vector<std::string> keys = parameter_keys();
      candidates.insert(candidates.end(), keys.begin(), keys.end());
      fail_at(file, name.source(), unknown_key_message(key, candidates));
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      fail_at(file, node.source(), "key " + in_quotes(key) + " expects a table, got " + node_type_name(node));
    }
    if (key != "sweep") {
      apply_section(file, key, *table, layers.spec.base);
      continue;
    }
    // This file's axes replace those of the same key from included files and append new ones.
    for (FileAxis& axis : read_sweep(file, *table)) {
      auto existing = std::find_if(layers.spec.axes.begin(), layers.spec.axes.end(),
                                   [&](const SweepAxis& a) { return a.key == axis.axis.key; });
      if (existing != layers.spec.axes.end()) {
        existing->values = std::move(axis.axis.values);
      } else {
        layers.spec.axes.push_back(std::move(axis.axis));
      }
    }
  }
  stack.pop_back();
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

/// `text` as a value of `spec`'s type (the right-hand side of a "key=value" override).
std::optional<ParamValue> parse_override_value(const ParamSpec& spec, std::string_view text) {
  switch (spec.type) {
    case ParamType::Int:
    case ParamType::UInt: {
      if (!text.empty() && text.front() == '+') text.remove_prefix(1);
      std::int64_t value = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
      return ParamValue(value);
    }
    case ParamType::Double: {
      if (!text.empty() && text.front() == '+') text.remove_prefix(1);
      double value = 0.0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
      return ParamValue(value);
    }
    case ParamType::Bool:
      if (text == "true") return ParamValue(true);
      if (text == "false") return ParamValue(false);
      return std::nullopt;
    case ParamType::String:
      if (text.size() >= 2 && ((text.front() == '"' && text.back() == '"') ||
                               (text.front() == '\'' && text.back() == '\''))) {
        text = text.substr(1, text.size() - 2);
      }
      return ParamValue(std::string(text));
  }
  return std::nullopt;
}

void apply_override(const std::string& override_text, ExperimentSpec& spec) {
  const std::string context = "override " + in_quotes(override_text) + ": ";
  const auto equals = override_text.find('=');
  if (equals == std::string::npos) throw InputError(context + "expected key=value");
  const std::string key(trim(std::string_view(override_text).substr(0, equals)));
  const std::string_view text = trim(std::string_view(override_text).substr(equals + 1));
  const ParamSpec* parameter = find_parameter(key);
  if (parameter == nullptr) throw InputError(context + unknown_key_message(key, parameter_keys()));
  std::optional<ParamValue> value = parse_override_value(*parameter, text);
  if (!value) {
    throw InputError(context + "key " + in_quotes(key) + " expects " + expected_text(parameter->type) +
                     ", got " + in_quotes(text));
  }
  if (key == "data.file") {
    // On the command line a relative path is relative to the working directory.
    value = resolve_data_file(fs::current_path(), std::get<std::string>(*value));
  }
  try {
    parameter->set(spec.base, *value);
  } catch (const InputError& e) {
    throw InputError(context + e.what());
  }
  // The command line wins over the file: a swept key that is overridden is no longer swept.
  std::erase_if(spec.axes, [&](const SweepAxis& axis) { return axis.key == key; });
}

ExperimentSpec read_layers(const SourceFile& top, const std::string& text,
                           const std::vector<std::string>& overrides) {
  Layers layers;
  std::vector<SourceFile> stack;
  apply_file(top, text, layers, stack);
  if (!layers.has_name) layers.spec.name = fs::path(top.display).stem().string();
  for (const std::string& override_text : overrides) apply_override(override_text, layers.spec);
  return layers.spec;
}

}  // namespace

ExperimentSpec read_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  const std::optional<std::string> text = read_text(path);
  if (!text) throw InputError(path + ": cannot read the experiment file");
  const SourceFile top{path, identity_of(path), fs::path(path).parent_path()};
  return read_layers(top, *text, overrides);
}

ExperimentSpec parse_experiment(const std::string& text, const std::string& name,
                                const std::string& base_dir,
                                const std::vector<std::string>& overrides) {
  // The text stands for the file `name` in `base_dir` (for include cycles and relative paths).
  const fs::path dir(base_dir);
  const SourceFile top{name, identity_of(dir / fs::path(name).filename()), dir};
  return read_layers(top, text, overrides);
}

}  // namespace relustab::config
