// SPDX-License-Identifier: MIT
// Files as PyTorch and numpy users write them: a state_dict saved with np.savez, an output layer of
// shape (1, k), np.savetxt's "# x,y" header (fixtures made by tests/io/data/make_fixture.py), and the
// broken variants (InputError naming the file and the field).
#include <relustab/io/atomic_file.h>
#include <relustab/io/formats.h>

#include "io/io_test_util.h"

#include <gtest/gtest.h>

namespace relustab {
namespace {

using testing::ScratchDir;
using testing::check_input_error;
using testing::same_bits;

using testing::fixture;

TEST(PyTorchFiles, ReadsAStateDictOfSequentialLinearActLinear) {
  // make_fixture.py: 0.weight (3, 2), 0.bias (3,), 2.weight (1, 3), 2.bias (1,), float32; every value
  // is exact in float32, so the oracle is the decimal literals.
  const ShallowReluNet net = io::read_net(fixture("net_state_dict.npz"));
  ASSERT_EQ(net.width(), 3);
  ASSERT_EQ(net.input_dim(), 2);
  Vec expected(net.n_params());
  expected << 0.5, -1.25, 2.0, 0.75, -3.5, 0.125,  // W1 row-major
      0.25, -0.5, 1.0,                             // b1
      1.5, -0.25, 0.0625,                          // w2
      -0.375;                                      // b2
  EXPECT_TRUE(same_bits(net.theta(), expected));
  EXPECT_EQ(net.activation(), Activation::Relu);
}

TEST(PyTorchFiles, ReadsAnOutputRowAndA1x1Bias) {
  // net_output_row.npz holds the arrays of net_savez_compressed.npz with w2 (1, 3) and b2 (1, 1).
  const ShallowReluNet row = io::read_net_npz(fixture("net_output_row.npz"));
  const ShallowReluNet plain = io::read_net_npz(fixture("net_savez_compressed.npz"));
  EXPECT_TRUE(same_bits(row.theta(), plain.theta()));
  EXPECT_EQ(row.b2(), -0.125);
  EXPECT_EQ(row.w2()[1], -1e10);
}

TEST(PyTorchFiles, RefusesTwoHiddenLayersAndTwoOutputsNamingTheField) {
  check_input_error([] { io::read_net_npz(fixture("net_state_dict_deep.npz")); },
                    {"net_state_dict_deep.npz", "'4.weight'", "two hidden layers"});
  check_input_error([] { io::read_net_npz(fixture("net_state_dict_two_outputs.npz")); },
                    {"net_state_dict_two_outputs.npz", "array '2.weight'", "(2, 3)", "(1, 3)"});
}

TEST(PyTorchFiles, NetJsonTakesTheOutputLayerInTorchShapes) {
  const std::string vector_form =
      R"({"format":"relustab-net","version":1,"input_dim":1,"width":2,"W1":[[1.0],[-0.5]],)"
      R"("b1":[0.1,0.25],"w2":[0.3,-0.7],"b2":0.05})";
  const ShallowReluNet plain = io::parse_net_json(vector_form, "plain.json");
  for (const auto& [w2, b2] : {std::pair<std::string, std::string>{"[[0.3,-0.7]]", "[0.05]"},
                               {"[[0.3,-0.7]]", "[[0.05]]"},
                               {"[0.3,-0.7]", "[0.05]"}}) {
    const std::string text = R"({"format":"relustab-net","version":1,"input_dim":1,"width":2,)"
                             R"("W1":[[1.0],[-0.5]],"b1":[0.1,0.25],"w2":)" + w2 + R"(,"b2":)" + b2 + "}";
    EXPECT_TRUE(same_bits(io::parse_net_json(text, "torch.json").theta(), plain.theta())) << text;
  }
  // Two output rows, or two biases, are not one output: refused naming the field.
  const std::string two_rows = R"({"format":"relustab-net","version":1,"input_dim":1,"width":2,)"
                               R"("W1":[[1.0],[-0.5]],"b1":[0.1,0.25],"w2":[[0.3,-0.7],[1,2]],"b2":0.05})";
  check_input_error([&] { io::parse_net_json(two_rows, "two.json"); }, {"two.json", "'w2'"});
  const std::string two_biases = R"({"format":"relustab-net","version":1,"input_dim":1,"width":2,)"
                                 R"("W1":[[1.0],[-0.5]],"b1":[0.1,0.25],"w2":[0.3,-0.7],"b2":[0.05,1]})";
  check_input_error([&] { io::parse_net_json(two_biases, "bias.json"); }, {"bias.json", "'b2'"});
}

TEST(PyTorchFiles, ReadsNumpySavetxtWithItsCommentedHeader) {
  // np.savetxt(..., header="x,y", delimiter=",") writes "# x,y" and %.18e numbers.
  const Dataset data = io::read_csv(fixture("data_savetxt.csv"));
  ASSERT_EQ(data.n(), 3);
  ASSERT_EQ(data.dim(), 1);
  EXPECT_TRUE(same_bits(data.X.col(0), Vec{{-1.0, 0.25, 0.75}}));
  EXPECT_TRUE(same_bits(data.y, Vec{{0.5, -0.125, 2.0}}));
  const Dataset two = io::read_csv(fixture("data_savetxt_2d.csv"));
  ASSERT_EQ(two.dim(), 2);
  EXPECT_EQ(two.X(1, 1), -0.125);
  EXPECT_EQ(two.y[1], -2.5);
  // Also "#x,y" and "#  x,y"; a commented header still has to name the columns.
  EXPECT_EQ(io::parse_csv("#x,y\n1,2\n", "a.csv").y[0], 2.0);
  EXPECT_EQ(io::parse_csv("#   x,y\n1,2\n", "a.csv").X(0, 0), 1.0);
  check_input_error([] { io::parse_csv("# a,b\n1,2\n", "bad.csv"); }, {"bad.csv:1", "'a'", "'x'"});
  check_input_error([] { io::parse_csv("#\n1,2\n", "empty.csv"); }, {"empty.csv:1"});
  // A '#' is allowed on the header line only.
  check_input_error([] { io::parse_csv("# x,y\n1,2\n# 3,4\n", "rows.csv"); }, {"rows.csv:3"});
}

}  // namespace
}  // namespace relustab
