// SPDX-License-Identifier: MIT
// Networks as JSON ("relustab-net" version 1): a strict reader and a writer whose numbers round-trip exactly.
#include <relustab/io/formats.h>

#include <relustab/core/error.h>
#include <relustab/io/atomic_file.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

namespace relustab::io {
namespace {

using nlohmann::json;

constexpr std::string_view kFormatTag = "relustab-net";
constexpr std::int64_t kFormatVersion = 1;
constexpr std::array<std::string_view, 10> kKnownKeys{"format", "version", "input_dim", "width", "activation",
                                                      "W1",     "b1",      "w2",        "b2",    "meta"};
constexpr std::array<std::string_view, 8> kRequiredKeys{"format", "version", "input_dim", "width",
                                                        "W1",     "b1",      "w2",        "b2"};

/// "<name>:<line>:<column>" for the 0-based byte `index` of `text` (clamped to its end).
std::string position(const std::string& name, const std::string& text, std::size_t index) {
  index = std::min(index, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return name + ":" + std::to_string(line) + ":" + std::to_string(index - line_start + 1);
}

/// nlohmann's message without its "[json.exception...] parse error at line L, column C: " prefix, since we
/// print the position ourselves.
std::string reason(const std::string& what) {
  const std::size_t column = what.find(", column ");
  const std::size_t colon = column == std::string::npos ? std::string::npos : what.find(": ", column);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

std::string type_of(const json& value) {
  if (value.is_number_integer()) return "integer " + value.dump();
  if (value.is_number()) return "number " + value.dump();
  if (value.is_string()) return "string " + value.dump();
  return value.type_name();
}

std::string join(const auto& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : ", ") + std::string(word);
  return out;
}

Index positive_integer(const json& doc, const std::string& name, const char* field) {
  const json& value = doc.at(field);
  bool ok = false;
  if (value.is_number_unsigned()) {  // nlohmann stores non-negative integer literals as unsigned
    const auto x = value.get<std::uint64_t>();
    ok = x >= 1 && x <= static_cast<std::uint64_t>(std::numeric_limits<Index>::max());
  } else if (value.is_number_integer()) {
    ok = value.get<std::int64_t>() >= 1;
  }
  if (!ok) throw InputError(name + ": field '" + field + "': expected integer >= 1, got " + type_of(value));
  return static_cast<Index>(value.get<std::int64_t>());
}

double finite_number(const json& value, const std::string& where) {
  if (!value.is_number()) throw InputError(where + ": expected a number, got " + type_of(value));
  const double x = value.get<double>();
  if (!std::isfinite(x)) throw InputError(where + ": value is not finite: values must be finite");
  return x;
}

/// Copies a JSON array of exactly `count` finite numbers into `out`. `where` names the field (and row).
void read_numbers(const json& value, Index count, const std::string& where, double* out) {
  if (!value.is_array()) {
    throw InputError(where + ": expected an array of " + std::to_string(count) + " numbers, got " +
                     type_of(value));
  }
  if (static_cast<Index>(value.size()) != count) {
    throw InputError(where + ": expected " + std::to_string(count) + " numbers, got " +
                     std::to_string(value.size()));
  }
  for (Index i = 0; i < count; ++i) {
    out[i] = finite_number(value[static_cast<std::size_t>(i)], where + " element " + std::to_string(i + 1));
  }
}

json parse_json_text(const std::string& text, const std::string& name, std::string* duplicate_top_key) {
  std::set<std::string, std::less<>> top_keys;
  // nlohmann keeps the last of repeated keys silently; a repeated top-level key is an error for us.
  json::parser_callback_t note_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    if (duplicate_top_key != nullptr && event == json::parse_event_t::key && depth == 1 &&
        !top_keys.insert(parsed.get<std::string>()).second && duplicate_top_key->empty()) {
      *duplicate_top_key = parsed.get<std::string>();
    }
    return true;
  };
  try {
    return json::parse(text, note_keys);
  } catch (const json::parse_error& e) {
    // e.byte counts the characters read, so the offending one is at index byte - 1.
    throw InputError(position(name, text, e.byte > 0 ? e.byte - 1 : 0) + ": invalid JSON: " + reason(e.what()));
  } catch (const json::out_of_range& e) {
    // nlohmann refuses literals such as 1e999 ("number overflow parsing '1e999'"): locate the literal.
    const std::string what = e.what();
    const std::size_t open = what.find('\'');
    const std::size_t close = open == std::string::npos ? open : what.find('\'', open + 1);
    if (close != std::string::npos) {
      const std::string literal = what.substr(open + 1, close - open - 1);
      const std::size_t at = text.find(literal);
      if (at != std::string::npos) {
        throw InputError(position(name, text, at) + ": number " + literal +
                         " is outside the range of a double: values must be finite");
      }
    }
    throw InputError(name + ": " + what);
  } catch (const json::exception& e) {
    throw InputError(name + ": invalid JSON: " + std::string(e.what()));
  }
}

}  // namespace

ShallowReluNet parse_net_json(const std::string& text, const std::string& name) {
  std::string duplicate;
  const json doc = parse_json_text(text, name, &duplicate);
  if (!doc.is_object()) {
    throw InputError(name + ": expected a JSON object {\"format\": \"relustab-net\", ...}, got " + type_of(doc));
  }
  if (!doc.contains("format") || !doc["format"].is_string() || doc["format"].get<std::string>() != kFormatTag) {
    throw InputError(name + ": field 'format': expected \"relustab-net\", got " +
                     (doc.contains("format") ? type_of(doc["format"]) : std::string("nothing (missing)")));
  }
  if (!duplicate.empty()) throw InputError(name + ": key '" + duplicate + "' appears more than once");
  for (const auto& [key, value] : doc.items()) {
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) == kKnownKeys.end()) {
      throw InputError(name + ": unknown key '" + key + "' (expected " + join(kKnownKeys) + ")");
    }
  }
  for (const std::string_view key : kRequiredKeys) {
    if (!doc.contains(std::string(key))) throw InputError(name + ": missing field '" + std::string(key) + "'");
  }
  const json& version = doc["version"];
  if (!version.is_number_integer() || version.get<std::int64_t>() != kFormatVersion) {
    throw InputError(name + ": field 'version': expected 1, got " + type_of(version));
  }
  // No field: a ReLU net (files written before the field existed, and hand-written ones).
  Activation activation = Activation::Relu;
  if (doc.contains("activation")) {
    const json& field = doc["activation"];
    if (!field.is_string()) {
      throw InputError(name + ": field 'activation': expected \"relu\" or \"gelu\", got " +
                       type_of(field));
    }
    activation = parse_activation(field.get<std::string>(), name + ": field 'activation'");
  }
  if (doc.contains("meta") && !doc["meta"].is_object()) {
    throw InputError(name + ": field 'meta': expected a JSON object, got " + type_of(doc["meta"]));
  }

  const Index input_dim = positive_integer(doc, name, "input_dim");
  const Index width = positive_integer(doc, name, "width");
  const json& W1 = doc["W1"];
  if (!W1.is_array()) {
    throw InputError(name + ": field 'W1': expected an array of " + std::to_string(width) +
                     " rows (width), got " + type_of(W1));
  }
  if (static_cast<Index>(W1.size()) != width) {
    throw InputError(name + ": field 'W1': expected " + std::to_string(width) + " rows (width), got " +
                     std::to_string(W1.size()));
  }
  // The width is bounded by the document (W1 has that many rows); the input dimension only once
  // every row is checked to hold that many entries, before the net is allocated.
  for (Index i = 0; i < width; ++i) {
    const json& row = W1[static_cast<std::size_t>(i)];
    const std::string where = name + ": field 'W1' row " + std::to_string(i + 1);
    if (!row.is_array()) {
      throw InputError(where + ": expected an array of " + std::to_string(input_dim) +
                       " numbers, got " + type_of(row));
    }
    if (static_cast<Index>(row.size()) != input_dim) {
      throw InputError(where + ": expected " + std::to_string(input_dim) + " numbers, got " +
                       std::to_string(row.size()));
    }
  }
  ShallowReluNet net(input_dim, width);
  for (Index i = 0; i < width; ++i) {
    read_numbers(W1[static_cast<std::size_t>(i)], input_dim, name + ": field 'W1' row " + std::to_string(i + 1),
                 net.theta().data() + i * input_dim);
  }
  read_numbers(doc["b1"], width, name + ": field 'b1'", net.theta().data() + net.offset_b1());
  // The output layer may also be written as numpy/PyTorch shape it: w2 as one row [[...]] (1, k),
  // b2 as [b] (1,) or [[b]] (1, 1), as json.dump(tensor.tolist()) writes nn.Linear(k, 1).
  const auto single_row = [](const json& field) -> const json& {
    return field.is_array() && field.size() == 1 && field[0].is_array() ? field[0] : field;
  };
  const json& w2 = single_row(doc["w2"]);
  read_numbers(w2, width, name + ": field 'w2'", net.theta().data() + net.offset_w2());
  const json& b2 = single_row(doc["b2"]);
  const json& b2_value = b2.is_array() && b2.size() == 1 ? b2[0] : b2;
  net.b2() = finite_number(b2_value, name + ": field 'b2'");
  net.set_activation(activation);
  return net;
}

ShallowReluNet read_net_json(const std::string& path) { return parse_net_json(read_file(path), path); }

std::string net_to_json(const ShallowReluNet& net, const std::string& meta_json) {
  require(net.width() >= 1 && net.input_dim() >= 1, "network: cannot write an empty network");
  require(net.theta().allFinite(), "network: cannot write parameters that contain NaN or infinity");
  json meta;
  if (!meta_json.empty()) {
    meta = parse_json_text(meta_json, "meta", nullptr);
    require(meta.is_object(), "meta: expected a JSON object, got " + type_of(meta));
  }
  // nlohmann prints doubles with the shortest digits that read back to the same bits (Grisu2 with
  // round-trip guarantee); the tests check that over random and extreme values.
  const auto number = [](double x) { return json(x).dump(); };
  const auto list = [&](const double* values, Index count) {
    std::string out = "[";
    for (Index i = 0; i < count; ++i) out += (i > 0 ? ", " : "") + number(values[i]);
    return out + "]";
  };
  std::string out = "{\n";
  out += "  \"format\": \"" + std::string(kFormatTag) + "\",\n";
  out += "  \"version\": " + std::to_string(kFormatVersion) + ",\n";
  out += "  \"input_dim\": " + std::to_string(net.input_dim()) + ",\n";
  out += "  \"width\": " + std::to_string(net.width()) + ",\n";
  out += "  \"activation\": \"" + std::string(activation_name(net.activation())) + "\",\n";
  out += "  \"W1\": [\n";
  for (Index i = 0; i < net.width(); ++i) {
    out += "    " + list(net.theta().data() + i * net.input_dim(), net.input_dim());
    out += i + 1 < net.width() ? ",\n" : "\n";
  }
  out += "  ],\n";
  out += "  \"b1\": " + list(net.theta().data() + net.offset_b1(), net.width()) + ",\n";
  out += "  \"w2\": " + list(net.theta().data() + net.offset_w2(), net.width()) + ",\n";
  out += "  \"b2\": " + number(net.b2());
  if (!meta_json.empty()) {
    std::string nested = meta.dump(2);
    for (std::size_t at = nested.find('\n'); at != std::string::npos; at = nested.find('\n', at + 3)) {
      nested.replace(at, 1, "\n  ");  // JSON strings escape newlines, so every '\n' is layout
    }
    out += ",\n  \"meta\": " + nested;
  }
  return out + "\n}\n";
}

void write_net_json(const std::string& path, const ShallowReluNet& net, const std::string& meta_json) {
  std::string text;
  try {
    text = net_to_json(net, meta_json);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  write_file_atomically(path, text);
}

}  // namespace relustab::io
