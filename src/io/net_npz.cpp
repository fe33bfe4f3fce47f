// SPDX-License-Identifier: MIT
// Networks as numpy .npz archives (W1, b1, w2, b2), and choosing a reader by file extension.
#include <relustab/io/formats.h>

#include <relustab/core/error.h>
#include <relustab/io/atomic_file.h>

#include "npy.h"
#include "zip_archive.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

namespace relustab::io {
namespace {

using detail::NpyArray;
using detail::shape_to_string;

/// The numpy index, e.g. "[2, 0]", of the `flat`-th element in C order.
std::string numpy_index(std::size_t flat, const std::vector<std::int64_t>& shape) {
  std::vector<std::size_t> index(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    const auto extent = static_cast<std::size_t>(shape[k]);
    index[k] = flat % extent;
    flat /= extent;
  }
  std::string out = "[";
  for (std::size_t k = 0; k < index.size(); ++k) out += (k > 0 ? ", " : "") + std::to_string(index[k]);
  return out + "]";
}

/// Reads member `<array>.npy`. Members other than the four arrays are ignored, so an archive may carry
/// extra arrays (a training history, say) beside the network.
NpyArray load_array(const detail::ZipReader& zip, const std::string& path, const std::string& array) {
  const detail::ZipEntry* entry = zip.find(array + ".npy");
  if (entry == nullptr) {
    throw InputError(path + ": missing array '" + array + "' (expected a member '" + array + ".npy')");
  }
  const std::string context = path + ": array '" + array + "'";
  NpyArray result = detail::parse_npy(zip.extract(*entry), context);
  for (std::size_t i = 0; i < result.values.size(); ++i) {
    if (!std::isfinite(result.values[i])) {
      throw InputError(context + ": element " + numpy_index(i, result.shape) + " is NaN/inf: values must be "
                       "finite");
    }
  }
  return result;
}

std::string lowercase_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace

ShallowReluNet read_net_npz(const std::string& path) {
  const std::string bytes = read_file(path);
  const detail::ZipReader zip(bytes, path);
  // Two spellings of the same four arrays: relustab's (W1, b1, w2, b2) and a PyTorch state_dict of
  // nn.Sequential(Linear, activation, Linear) saved with np.savez(**{k: v.numpy() ...}): 0.weight
  // (k, d), 0.bias (k), 2.weight (1, k), 2.bias (1,).
  const bool torch_names = zip.find("W1.npy") == nullptr && zip.find("0.weight.npy") != nullptr;
  if (torch_names && zip.find("4.weight.npy") != nullptr) {
    throw InputError(path + ": arrays '0.weight', '2.weight' and '4.weight' describe a net with two hidden "
                     "layers; an .npz file holds a two-layer net (one hidden layer): 0.weight, 0.bias, "
                     "2.weight, 2.bias");
  }
  const char* const names_relustab[] = {"W1", "b1", "w2", "b2"};
  const char* const names_torch[] = {"0.weight", "0.bias", "2.weight", "2.bias"};
  const char* const* names = torch_names ? names_torch : names_relustab;
  if (!torch_names && zip.find("W1.npy") == nullptr) {
    throw InputError(path + ": missing array 'W1' (expected members W1.npy, b1.npy, w2.npy, b2.npy, or a "
                     "PyTorch state_dict's 0.weight.npy, 0.bias.npy, 2.weight.npy, 2.bias.npy)");
  }
  const NpyArray W1 = load_array(zip, path, names[0]);
  const NpyArray b1 = load_array(zip, path, names[1]);
  const NpyArray w2 = load_array(zip, path, names[2]);
  const NpyArray b2 = load_array(zip, path, names[3]);
  const auto field = [&](int i) { return std::string("'") + names[i] + "'"; };

  if (W1.shape.size() != 2) {
    throw InputError(path + ": array " + field(0) + " has shape " + shape_to_string(W1.shape) +
                     " but expected 2 dimensions (width, input_dim)");
  }
  const std::int64_t width = W1.shape[0];
  const std::int64_t input_dim = W1.shape[1];
  if (width < 1 || input_dim < 1) {
    throw InputError(path + ": array " + field(0) + " has shape " + shape_to_string(W1.shape) +
                     " but expected at least one row (neuron) and one column (input)");
  }
  const std::vector<std::int64_t> per_neuron{width};
  if (b1.shape != per_neuron) {
    throw InputError(path + ": array " + field(1) + " has shape " + shape_to_string(b1.shape) +
                     " but expected " + shape_to_string(per_neuron) + " to match the " +
                     std::to_string(width) + " rows of " + field(0));
  }
  // The output layer as a vector (k,) or as the weight of one output unit, (1, k) (nn.Linear(k, 1)).
  const std::vector<std::int64_t> one_output{1, width};
  if (w2.shape != per_neuron && w2.shape != one_output) {
    throw InputError(path + ": array " + field(2) + " has shape " + shape_to_string(w2.shape) +
                     " but expected " + shape_to_string(per_neuron) + " or " + shape_to_string(one_output) +
                     " (one output) to match the " + std::to_string(width) + " rows of " + field(0));
  }
  if (!(b2.shape.empty() || b2.shape == std::vector<std::int64_t>{1} ||
        b2.shape == std::vector<std::int64_t>{1, 1})) {
    throw InputError(path + ": array " + field(3) + " has shape " + shape_to_string(b2.shape) +
                     " but expected a scalar: shape (), (1,) or (1, 1) (one output)");
  }

  ShallowReluNet net(input_dim, width);
  net.W1() = Eigen::Map<const RowMatrix>(W1.values.data(), width, input_dim);
  net.b1() = Eigen::Map<const Vec>(b1.values.data(), width);
  net.w2() = Eigen::Map<const Vec>(w2.values.data(), width);
  net.b2() = b2.values[0];
  return net;
}

void write_net_npz(const std::string& path, const ShallowReluNet& net) {
  require(net.width() >= 1 && net.input_dim() >= 1, path + ": cannot write an empty network");
  require(net.theta().allFinite(),
          path + ": cannot write the network: its parameters contain NaN or infinity");
  // The archive holds the four arrays only, which numpy users read as a ReLU net.
  require(net.activation() == Activation::Relu,
          path + ": cannot write a " + std::string(activation_name(net.activation())) +
              " net as .npz (the archive's arrays describe ReLU nets); write it as .json, which "
              "records the activation");
  const std::int64_t k = net.width();
  const std::int64_t d = net.input_dim();
  const auto block = [&](Index offset, Index length) {
    return std::vector<double>(net.theta().data() + offset, net.theta().data() + offset + length);
  };
  // theta is W1 row-major, b1, w2, b2 (shallow_relu.h), which is exactly numpy's C order per array.
  const std::vector<std::pair<std::string, std::string>> members{
      {"W1.npy", detail::encode_npy({k, d}, block(0, k * d))},
      {"b1.npy", detail::encode_npy({k}, block(net.offset_b1(), k))},
      {"w2.npy", detail::encode_npy({k}, block(net.offset_w2(), k))},
      {"b2.npy", detail::encode_npy({}, block(net.offset_b2(), 1))},
  };
  std::string archive;
  try {
    archive = detail::write_stored_zip(members);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  write_file_atomically(path, archive);
}

ShallowReluNet read_net(const std::string& path) {
  const std::string ext = lowercase_extension(path);
  if (ext == ".json") return read_net_json(path);
  if (ext == ".npz") return read_net_npz(path);
  throw InputError(path + ": unknown network file type '" + ext + "': expected a .json or .npz file");
}

}  // namespace relustab::io
