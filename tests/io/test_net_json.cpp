// SPDX-License-Identifier: MIT
// Network JSON: the documented layout, strict validation of every field, and exact number round trips.
#include <relustab/io/atomic_file.h>
#include <relustab/io/formats.h>

#include "io/io_test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace relustab {
namespace {

using testing::ScratchDir;
using testing::same_bits;

constexpr const char* kValidNet = R"({
  "format": "relustab-net",
  "version": 1,
  "input_dim": 2,
  "width": 3,
  "W1": [[1, 2], [3, 4], [5, 6.5]],
  "b1": [-1, -2, -3],
  "w2": [0.1, 0.2, 0.3],
  "b2": 7,
  "activation": "relu",
  "meta": {"note": "ignored", "eta": 0.5}
})";

/// kValidNet with `from` replaced by `to` (which must occur exactly once).
std::string edited(const std::string& from, const std::string& to) {
  std::string text = kValidNet;
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(NetJson, ReadsTheDocumentedLayoutIntoThetaOrder) {
  const ShallowReluNet net = io::parse_net_json(kValidNet, "net.json");
  ASSERT_EQ(net.input_dim(), 2);
  ASSERT_EQ(net.width(), 3);
  // Oracle: shallow_relu.h's layout written out by hand: W1 row-major, b1, w2, b2.
  const Vec expected{{1, 2, 3, 4, 5, 6.5, -1, -2, -3, 0.1, 0.2, 0.3, 7}};
  EXPECT_TRUE(same_bits(net.theta(), expected));
}

TEST(NetJson, ActivationAndMetaAreOptional) {
  const std::string text = R"({"format":"relustab-net","version":1,"input_dim":1,"width":1,
                               "W1":[[2]],"b1":[0],"w2":[-1],"b2":0.25})";
  const ShallowReluNet net = io::parse_net_json(text, "net.json");
  EXPECT_EQ(net.W1()(0, 0), 2.0);
  EXPECT_EQ(net.b2(), 0.25);
}

TEST(NetJson, WriteThenReadIsBitExact) {
  const ScratchDir dir;
  // 2 x 2500 + 2 x 2500 + 1 = 10001 parameters: random bit patterns and hard decimal cases, checking that
  // nlohmann's number printing round-trips (the writer relies on it).
  for (const auto& [d, k] : {std::pair<Index, Index>{2, 2500}, {1, 7}, {5, 1}}) {
    const ShallowReluNet net(d, k, testing::stress_values(ShallowReluNet::n_params(d, k), 5 + d * k));
    const ShallowReluNet from_text = io::parse_net_json(io::net_to_json(net), "net.json");
    EXPECT_EQ(from_text.input_dim(), d);
    EXPECT_EQ(from_text.width(), k);
    EXPECT_TRUE(same_bits(from_text.theta(), net.theta()));

    const std::string path = dir.file("net.json");
    io::write_net_json(path, net, R"({"run": {"eta": 0.1, "seed": 3}, "label": "a\nb"})");
    const ShallowReluNet from_file = io::read_net_json(path);
    EXPECT_TRUE(same_bits(from_file.theta(), net.theta()));
    EXPECT_TRUE(same_bits(io::read_net(path).theta(), net.theta()));
  }
}

TEST(NetJson, WriterOutputIsTheDocumentedFormatWithMeta) {
  const ShallowReluNet net(1, 2, Vec{{0.5, -1.0, 0.25, 2.0, 3.0, -4.0, 0.125}});
  const std::string text = io::net_to_json(net, R"({"run": {"eta": 0.1}, "label": "a\nb"})");
  // Oracle: an independent JSON parser's view of the document.
  const auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc.at("format"), "relustab-net");
  EXPECT_EQ(doc.at("version"), 1);
  EXPECT_EQ(doc.at("input_dim"), 1);
  EXPECT_EQ(doc.at("width"), 2);
  EXPECT_EQ(doc.at("activation"), "relu");
  EXPECT_EQ(doc.at("W1"), nlohmann::json::parse("[[0.5], [-1.0]]"));
  EXPECT_EQ(doc.at("b1"), nlohmann::json::parse("[0.25, 2.0]"));
  EXPECT_EQ(doc.at("w2"), nlohmann::json::parse("[3.0, -4.0]"));
  EXPECT_EQ(doc.at("b2"), 0.125);
  EXPECT_EQ(doc.at("meta").at("run").at("eta"), 0.1);
  EXPECT_EQ(doc.at("meta").at("label"), "a\nb");
  EXPECT_EQ(doc.size(), 10u);
  EXPECT_FALSE(io::net_to_json(net).empty());
  EXPECT_EQ(nlohmann::json::parse(io::net_to_json(net)).count("meta"), 0u);
}

TEST(NetJson, TheActivationIsPartOfTheNetAndItsFile) {
  ShallowReluNet net(2, 3, testing::stress_values(ShallowReluNet::n_params(2, 3), 11));
  net.set_activation(Activation::Gelu);
  const std::string text = io::net_to_json(net);
  EXPECT_EQ(nlohmann::json::parse(text).at("activation"), "gelu");
  const ShallowReluNet back = io::parse_net_json(text, "net.json");
  EXPECT_EQ(back.activation(), Activation::Gelu);
  EXPECT_TRUE(same_bits(back.theta(), net.theta()));
  // Without the field (files older than it, hand-written ones): a ReLU net.
  auto doc = nlohmann::json::parse(text);
  doc.erase("activation");
  EXPECT_EQ(io::parse_net_json(doc.dump(), "net.json").activation(), Activation::Relu);
  // .npz has no place for it: a GeLU net is refused there rather than read back as ReLU.
  const ScratchDir dir;
  RELUSTAB_EXPECT_INPUT_ERROR(io::write_net_npz(dir.file("net.npz"), net), "net.npz",
                              "cannot write a gelu net as .npz", ".json");
  EXPECT_FALSE(std::filesystem::exists(dir.file("net.npz")));
}

TEST(NetJson, WriterRejectsBadMetaAndNonFiniteParameters) {
  const ShallowReluNet net(1, 1, Vec{{1.0, 2.0, 3.0, 4.0}});
  RELUSTAB_EXPECT_INPUT_ERROR(io::net_to_json(net, "[1, 2]"), "meta", "expected a JSON object");
  RELUSTAB_EXPECT_INPUT_ERROR(io::net_to_json(net, "{\"a\": "), "meta", "invalid JSON");
  const ShallowReluNet diverged(1, 1, Vec{{1.0, std::nan(""), 3.0, 4.0}});
  const ScratchDir dir;
  RELUSTAB_EXPECT_INPUT_ERROR(io::write_net_json(dir.file("bad.json"), diverged), dir.file("bad.json"),
                              "NaN or infinity");
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.json")));
}

struct BrokenJson {
  std::string text;
  std::vector<std::string> fragments;
};

TEST(NetJson, RejectsBrokenDocumentsNamingFileAndField) {
  const std::vector<BrokenJson> cases{
      {"", {"net.json:1:1: invalid JSON"}},
      {"{\"format\": \"relustab-net\",\n  \"version\": 1,\n  \"W1\": [[1, 2],", {"net.json:3:17:", "invalid JSON"}},
      {std::string(kValidNet) + " x", {"net.json:12:", "invalid JSON"}},
      {edited("\"b1\": [-1, -2, -3],", "\"b1\": [-1 -2, -3],"), {"net.json:7:", "invalid JSON"}},
      {"[1, 2]", {"net.json: expected a JSON object", "array"}},
      {edited("\"format\": \"relustab-net\",", ""), {"net.json: field 'format': expected \"relustab-net\""}},
      {edited("\"relustab-net\"", "\"relustab-nett\""), {"net.json: field 'format'", "relustab-nett"}},
      {edited("\"relustab-net\"", "7"), {"net.json: field 'format'", "integer 7"}},
      {edited("\"version\": 1", "\"version\": 2"), {"net.json: field 'version': expected 1, got integer 2"}},
      {edited("\"version\": 1", "\"version\": \"1\""), {"net.json: field 'version': expected 1"}},
      {edited("\"width\": 3", "\"width\": 0"), {"net.json: field 'width': expected integer >= 1"}},
      {edited("\"width\": 3", "\"width\": -3"), {"net.json: field 'width': expected integer >= 1"}},
      {edited("\"width\": 3", "\"width\": 3.0"), {"net.json: field 'width': expected integer >= 1"}},
      {edited("\"width\": 3", "\"width\": \"3\""), {"net.json: field 'width': expected integer >= 1"}},
      {edited("\"input_dim\": 2", "\"input_dim\": 0"), {"net.json: field 'input_dim': expected integer >= 1"}},
      {edited("\"input_dim\": 2", "\"input_dim\": true"), {"net.json: field 'input_dim': expected integer"}},
      {edited("\"width\": 3,", ""), {"net.json: missing field 'width'"}},
      {edited("\"b1\": [-1, -2, -3],", ""), {"net.json: missing field 'b1'"}},
      {edited("\"b2\": 7,", ""), {"net.json: missing field 'b2'"}},
      {edited("\"b2\": 7,", "\"b2\": 7, \"bias\": 1,"), {"net.json: unknown key 'bias'"}},
      {edited("\"b2\": 7,", "\"b2\": 7, \"b2\": 8,"), {"net.json: key 'b2' appears more than once"}},
      {edited("[[1, 2], [3, 4], [5, 6.5]]", "[[1, 2], [3, 4]]"), {"net.json: field 'W1': expected 3 rows"}},
      {edited("[[1, 2], [3, 4], [5, 6.5]]", "{}"), {"net.json: field 'W1': expected an array of 3 rows"}},
      {edited("[5, 6.5]", "[5]"), {"net.json: field 'W1' row 3: expected 2 numbers, got 1"}},
      {edited("[3, 4]", "3"), {"net.json: field 'W1' row 2: expected an array of 2 numbers"}},
      {edited("[3, 4]", "[3, \"4\"]"), {"net.json: field 'W1' row 2 element 2: expected a number, got string"}},
      {edited("[-1, -2, -3]", "[-1, -2]"), {"net.json: field 'b1': expected 3 numbers, got 2"}},
      {edited("[0.1, 0.2, 0.3]", "[null, 0.2, 0.3]"), {"net.json: field 'w2' element 1: expected a number"}},
      {edited("\"b2\": 7", "\"b2\": [7, 8]"), {"net.json: field 'b2': expected a number, got array"}},
      {edited("\"b2\": 7", "\"b2\": 1e999"), {"net.json:9:", "1e999", "finite"}},
      {edited("[0.1, 0.2, 0.3]", "[0.1, -1e400, 0.3]"), {"net.json:8:", "-1e400", "finite"}},
      {edited("\"relu\"", "\"tanh\""), {"net.json: field 'activation': expected \"relu\" or \"gelu\"", "tanh"}},
      {edited("\"relu\"", "1"), {"net.json: field 'activation': expected \"relu\" or \"gelu\", got integer 1"}},
      {edited("{\"note\": \"ignored\", \"eta\": 0.5}", "3"), {"net.json: field 'meta': expected a JSON object"}},
  };
  for (const BrokenJson& broken : cases) {
    SCOPED_TRACE(broken.text);
    try {
      (void)io::parse_net_json(broken.text, "net.json");
      ADD_FAILURE() << "no InputError";
    } catch (const InputError& e) {
      for (const std::string& fragment : broken.fragments) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
            << "message \"" << e.what() << "\" lacks \"" << fragment << "\"";
      }
    }
  }
}

TEST(NetJson, EveryTruncationIsAnErrorWithAPosition) {
  const std::string text = io::net_to_json(ShallowReluNet(2, 3, Vec::LinSpaced(13, -1.0, 2.0)));
  const std::size_t complete = text.rfind('}') + 1;  // dropping only the final newline leaves valid JSON
  for (std::size_t length = 0; length < complete; ++length) {
    SCOPED_TRACE(length);
    RELUSTAB_EXPECT_INPUT_ERROR(io::parse_net_json(text.substr(0, length), "cut.json"), "cut.json:",
                                "invalid JSON");
  }
}

TEST(NetJson, MissingFileAndWrongExtension) {
  const ScratchDir dir;
  RELUSTAB_EXPECT_INPUT_ERROR(io::read_net_json(dir.file("none.json")), dir.file("none.json"));
  testing::write_bytes(dir.file("net.txt"), kValidNet);
  RELUSTAB_EXPECT_INPUT_ERROR(io::read_net(dir.file("net.txt")), dir.file("net.txt"), ".json or .npz");
  testing::write_bytes(dir.file("NET.JSON"), kValidNet);
  EXPECT_EQ(io::read_net(dir.file("NET.JSON")).width(), 3);
}

}  // namespace
}  // namespace relustab

namespace relustab {
namespace {

// A 100-byte file that promises 2e9 (or 2^62) inputs per neuron allocated 16 GB (or threw
// std::bad_alloc) before the rows were checked; the rows are now checked first.
TEST(NetJsonLimits, AHugeInputDimensionIsRefusedBeforeTheNetIsAllocated) {
  for (const char* dim : {"2000000000", "4611686018427387904"}) {
    const std::string text = std::string(R"({"format":"relustab-net","version":1,"input_dim":)") + dim +
                             R"(,"width":1,"W1":[[0.5]],"b1":[0],"w2":[1],"b2":0})";
    try {
      (void)io::parse_net_json(text, "huge.json");
      ADD_FAILURE() << "accepted input_dim " << dim;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("huge.json: field 'W1' row 1: expected " + std::string(dim)),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace relustab
