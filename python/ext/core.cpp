// SPDX-License-Identifier: MIT
// relustab._core: the nanobind module under the Python package `relustab`. A thin shell over the
// library's run API (relustab/api.h), like the command line, so Python and the CLI compute the same
// numbers with the same functions. Arrays arrive as float64 C-contiguous numpy arrays (the Python
// layer converts and checks shapes, so its messages name the arguments); nets travel as
// (depth, d, width, width2, activation, theta). Long computations release the GIL; training and
// sweeps check for Ctrl-C (and run the Python callback) from the library's progress hooks.
#include <relustab/api.h>
#include <relustab/experiment/result_directory.h>
#include <relustab/experiment/toml_reader.h>
#include <relustab/io/formats.h>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace nb = nanobind;
using namespace nb::literals;

namespace relustab::python {
namespace {

using Array1 = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Array2 = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using NumpyArray = nb::ndarray<nb::numpy, double>;

/// A net as Python passes it: depth 1 or 2, input dimension, widths, activation name, parameters.
using NetSpec = std::tuple<int, Index, Index, Index, std::string, Array1>;
using NetTuple = std::tuple<int, Index, Index, Index, std::string, NumpyArray>;

/// A numpy array that owns a copy of `values`, of shape `shape` (C order).
NumpyArray to_numpy(const double* values, std::vector<size_t> shape) {
  size_t size = 1;
  for (const size_t s : shape) size *= s;
  auto* data = new std::vector<double>(values, values + size);
  nb::capsule owner(data, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
  return NumpyArray(data->data(), shape.size(), shape.data(), owner);
}
NumpyArray to_numpy(const Vec& v) { return to_numpy(v.data(), {static_cast<size_t>(v.size())}); }
NumpyArray to_numpy(const std::vector<double>& v) { return to_numpy(v.data(), {v.size()}); }
NumpyArray to_numpy(const RowMatrix& m) {
  return to_numpy(m.data(), {static_cast<size_t>(m.rows()), static_cast<size_t>(m.cols())});
}

Vec to_vec(const Array1& a) { return Eigen::Map<const Vec>(a.data(), static_cast<Index>(a.shape(0))); }

AnyNet make_net(const NetSpec& spec) {
  const auto& [depth, d, k1, k2, activation, theta] = spec;
  if (depth == 2) return DeepReluNet(d, k1, k2, to_vec(theta));
  return ShallowReluNet(d, k1, to_vec(theta), parse_activation(activation, "activation"));
}

const ShallowReluNet& shallow(const AnyNet& net, const char* what) {
  const auto* s = std::get_if<ShallowReluNet>(&net);
  if (s == nullptr) {
    throw InputError(std::string(what) + ": expected a net with one hidden layer, got two");
  }
  return *s;
}

NetTuple net_tuple(const AnyNet& any) {
  if (const auto* s = std::get_if<ShallowReluNet>(&any)) {
    return {1, s->input_dim(), s->width(), 0, std::string(activation_name(s->activation())),
            to_numpy(s->theta())};
  }
  const auto& d = std::get<DeepReluNet>(any);
  return {2, d.input_dim(), d.width1(), d.width2(), "relu", to_numpy(d.theta())};
}

Dataset make_data(const Array2& X, const Array1& y, const std::optional<Array1>& y_clean) {
  Dataset data;
  data.X = Eigen::Map<const RowMatrix>(X.data(), static_cast<Index>(X.shape(0)),
                                       static_cast<Index>(X.shape(1)));
  data.y = to_vec(y);
  if (y_clean) data.y_clean = to_vec(*y_clean);
  return data;
}

nb::object metric_value(const MetricValue& value) {
  return std::visit([](const auto& v) -> nb::object { return nb::cast(v); }, value);
}

/// The metrics in their order, as (name, value) pairs (NaN stays NaN: Python maps it to None).
nb::list metrics_list(const Metrics& metrics) {
  nb::list out;
  for (const Metric& m : metrics) out.append(nb::make_tuple(m.name, metric_value(m.value)));
  return out;
}

nb::dict eigen_dict(const EigenResult& r) {
  nb::dict d;
  d["value"] = r.value;
  d["residual"] = r.residual;
  d["converged"] = r.converged;
  d["iterations"] = r.iterations;
  d["vector"] = to_numpy(r.vector);
  return d;
}

CurvatureKind curvature_kind(const std::string& name) {
  if (name == "hessian") return CurvatureKind::Hessian;
  if (name == "gauss_newton") return CurvatureKind::GaussNewton;
  throw InputError("kind: expected hessian or gauss_newton, got '" + name + "'");
}

/// v -> H v for a net and its data: owns copies of both, since the operator refers to them.
class Curvature {
 public:
  Curvature(AnyNet net, Dataset data, CurvatureKind kind, const LossRequest& request, int threads)
      : net_(std::make_unique<AnyNet>(std::move(net))),
        data_(std::make_unique<Dataset>(std::move(data))),
        context_{threads} {
    op_ = net_curvature(*net_, *data_, kind, request, context_);
  }
  Index size() const { return op_->size(); }
  NumpyArray apply(const Array1& v) const {
    if (static_cast<Index>(v.shape(0)) != op_->size()) {
      throw InputError("v: expected a vector of length " + std::to_string(op_->size()) +
                       " (the number of parameters), got " + std::to_string(v.shape(0)));
    }
    const Vec in = to_vec(v);
    Vec out;
    {
      nb::gil_scoped_release release;
      op_->apply(in, out);
    }
    return to_numpy(out);
  }

 private:
  std::unique_ptr<AnyNet> net_;
  std::unique_ptr<Dataset> data_;
  RunContext context_;
  std::unique_ptr<LinearOperator> op_;
};

nb::dict flattest_dict(const FlattestResult& f) {
  nb::dict d;
  for (const Metric& m : flattest_metrics(f)) d[m.name.c_str()] = metric_value(m.value);
  d["initial_sharpness"] = f.initial_sharpness;
  d["warm_start_sharpness"] = f.warm_start_sharpness;
  d["scales"] = to_numpy(f.scales);
  d["optimised_neurons"] = f.optimised_neurons;
  d["net"] = net_tuple(AnyNet(f.net));
  return d;
}

nb::dict flattest_all_dict(const FlattestAllResult& f) {
  nb::dict d;
  for (const Metric& m : flattest_all_metrics(f)) d[m.name.c_str()] = metric_value(m.value);
  d["rescaling_sharpness"] = f.rescaling_sharpness;
  d["rescaling_lower_bound"] = f.rescaling_lower_bound;
  d["net_lower_bound"] = f.net_lower_bound;
  return d;
}

ParamValue param_value(const nb::handle& value) {
  // bool before int: Python's True is an int too.
  if (nb::isinstance<nb::bool_>(value)) return ParamValue(nb::cast<bool>(value));
  if (nb::isinstance<nb::int_>(value)) return ParamValue(nb::cast<std::int64_t>(value));
  if (nb::isinstance<nb::float_>(value)) return ParamValue(nb::cast<double>(value));
  if (nb::isinstance<nb::str>(value)) return ParamValue(nb::cast<std::string>(value));
  throw InputError("a parameter value must be a bool, int, float or str, got " +
                   std::string(nb::cast<std::string>(nb::str(value.type()))));
}

nb::object param_object(const ParamValue& value) {
  return std::visit([](const auto& v) -> nb::object { return nb::cast(v); }, value);
}

nb::dict log_row_dict(const LogRow& row) {
  nb::dict d;
  d["step"] = row.step;
  d["eta"] = row.eta;
  d["loss"] = row.loss;
  d["grad_norm"] = row.grad_norm;
  d["mse_clean"] = row.mse_clean;
  d["sharpness"] = row.sharpness;
  d["sharpness_residual"] = row.sharpness_residual;
  for (const auto& [name, value] : row.extra) d[name.c_str()] = value;
  return d;
}

/// Raised through the library from the progress hook when Python has an error pending (Ctrl-C or
/// an exception of the callback); nanobind turns it back into that Python exception.
struct PythonErrorPending {};

/// The body of a progress hook called by the library with the GIL released: takes the GIL, stops the
/// computation on Ctrl-C, and calls `callback` (when set) with make_argument(), stopping it when the
/// callback raises.
template <class Callback, class MakeArgument>
void check_in_with_python(const Callback& callback, const MakeArgument& make_argument) {
  nb::gil_scoped_acquire acquire;
  if (PyErr_CheckSignals() != 0) throw PythonErrorPending{};
  if (!callback) return;
  try {
    callback(make_argument());
  } catch (nb::python_error& e) {
    e.restore();
    throw PythonErrorPending{};
  }
}

}  // namespace
}  // namespace relustab::python

NB_MODULE(_core, m) {
  using namespace relustab;
  using namespace relustab::python;
  m.doc() = "relustab's compiled core (use the package relustab, not this module)";

  // InputError is the user's mistake: ValueError with the library's message.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const PythonErrorPending&) {
      // The error is already set (restored below, after the GIL came back).
    }
  });

  m.def("read_net", [](const std::string& path) { return net_tuple(AnyNet(io::read_net(path))); },
        "path"_a);
  m.def("read_data", [](const std::string& path) {
    const Dataset data = io::read_csv(path);
    nb::object clean = nb::none();
    if (data.has_clean()) clean = nb::cast(to_numpy(data.y_clean));
    return nb::make_tuple(to_numpy(data.X), to_numpy(data.y), clean);
  }, "path"_a);
  m.def("net_to_json", [](const NetSpec& spec) {
    return io::net_to_json(shallow(make_net(spec), "net_to_json"));
  }, "net"_a);
  m.def("write_net", [](const NetSpec& spec, const std::string& path) {
    const AnyNet any = make_net(spec);
    const ShallowReluNet& net = shallow(any, "save");
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npz") == 0) {
      io::write_net_npz(path, net);
    } else {
      io::write_net_json(path, net);
    }
  }, "net"_a, "path"_a);
  m.def("predict", [](const NetSpec& spec, const Array2& X) {
    const AnyNet net = make_net(spec);
    const RowMatrix x = Eigen::Map<const RowMatrix>(X.data(), static_cast<Index>(X.shape(0)),
                                                    static_cast<Index>(X.shape(1)));
    Vec f;
    {
      nb::gil_scoped_release release;
      f = std::visit([&](const auto& n) { return Vec(n.predict(x)); }, net);
    }
    return to_numpy(f);
  }, "net"_a, "X"_a);

  m.def("analyze", [](const NetSpec& spec, const Array2& X, const Array1& y,
                      const std::optional<Array1>& y_clean, std::optional<double> eta,
                      const std::string& loss, bool flattest, double edge_tolerance,
                      const std::string& backend, int threads, int top_k, bool lambda_min,
                      int trace_samples, int density_probes, int density_steps,
                      std::uint64_t spectrum_seed) {
    const AnyNet net = make_net(spec);
    const Dataset data = make_data(X, y, y_clean);
    AnalyzeRequest request;
    request.eta = eta;
    request.loss = parse_loss(loss);
    request.flattest = flattest;
    request.edge_tolerance = edge_tolerance;
    request.backend = backend;
    request.spectrum.top_k = top_k;
    request.spectrum.lambda_min = lambda_min;
    request.spectrum.trace_samples = trace_samples;
    request.spectrum.density_probes = density_probes;
    request.spectrum.density_steps = density_steps;
    request.spectrum.seed = spectrum_seed;
    AnalysisOutput out;
    {
      nb::gil_scoped_release release;
      out = analyze(net, data, request, RunContext{threads});
    }
    nb::dict extra;
    extra["backend"] = out.backend;
    extra["sharpness_vector"] = to_numpy(out.report.sharpness.vector);
    if (out.flattest) extra["flattest"] = flattest_dict(*out.flattest);
    if (out.flattest_all) extra["flattest_all"] = flattest_all_dict(*out.flattest_all);
    if (out.spectrum && out.spectrum->density) {
      // The density as arrays, as `relustab analyze --json` writes it under spectral_density.
      const SpectralDensity& density = *out.spectrum->density;
      nb::dict d;
      d["nodes"] = to_numpy(density.nodes);
      d["weights"] = to_numpy(density.weights);
      d["probe_steps"] = density.probe_steps;
      d["probes"] = density.probes;
      d["steps"] = density.steps;
      extra["spectral_density"] = d;
    }
    return nb::make_tuple(metrics_list(analysis_metrics(out)), extra);
  }, "net"_a, "X"_a, "y"_a, "y_clean"_a, "eta"_a, "loss"_a, "flattest"_a, "edge_tolerance"_a,
     "backend"_a, "threads"_a, "top_k"_a, "lambda_min"_a, "trace_samples"_a, "density_probes"_a,
     "density_steps"_a, "spectrum_seed"_a);

  m.def("loss", [](const NetSpec& spec, const Array2& X, const Array1& y, const std::string& loss,
                   bool gradient, const std::string& backend, int threads) {
    const AnyNet net = make_net(spec);
    const Dataset data = make_data(X, y, std::nullopt);
    LossRequest request{parse_loss(loss), backend};
    Vec grad;
    double value = 0.0;
    {
      nb::gil_scoped_release release;
      value = net_loss(net, data, gradient ? &grad : nullptr, request, RunContext{threads});
    }
    nb::object g = nb::none();
    if (gradient) g = nb::cast(to_numpy(grad));
    return nb::make_tuple(value, g);
  }, "net"_a, "X"_a, "y"_a, "loss"_a, "gradient"_a, "backend"_a, "threads"_a);

  m.def("sharpness", [](const NetSpec& spec, const Array2& X, const Array1& y, const std::string& kind,
                        const std::string& loss, const std::string& backend, int threads) {
    const AnyNet net = make_net(spec);
    const Dataset data = make_data(X, y, std::nullopt);
    const CurvatureKind k = curvature_kind(kind);
    LossRequest request{parse_loss(loss), backend};
    EigenResult r;
    {
      nb::gil_scoped_release release;
      r = net_sharpness(net, data, k, request, RunContext{threads});
    }
    return eigen_dict(r);
  }, "net"_a, "X"_a, "y"_a, "kind"_a, "loss"_a, "backend"_a, "threads"_a);

  nb::class_<Curvature>(m, "Curvature")
      .def("__init__", [](Curvature* self, const NetSpec& spec, const Array2& X, const Array1& y,
                          const std::string& kind, const std::string& loss,
                          const std::string& backend, int threads) {
        new (self) Curvature(make_net(spec), make_data(X, y, std::nullopt), curvature_kind(kind),
                             LossRequest{parse_loss(loss), backend}, threads);
      }, "net"_a, "X"_a, "y"_a, "kind"_a, "loss"_a, "backend"_a, "threads"_a)
      .def_prop_ro("size", &Curvature::size)
      .def("apply", &Curvature::apply, "v"_a);

  m.def("curves", [](const NetSpec& spec, const Array2& X, const Array1& y, std::optional<double> from,
                     std::optional<double> to, Index points, std::optional<double> bandwidth) {
    const AnyNet net = make_net(spec);
    const Dataset data = make_data(X, y, std::nullopt);
    CurvesRequest request;
    request.from = from;
    request.to = to;
    request.points = points;
    request.bandwidth = bandwidth;
    FunctionCurves c;
    {
      nb::gil_scoped_release release;
      c = function_curves(shallow(net, "curves"), data, request);
    }
    std::vector<double> locations, jumps;
    for (const Knot& k : c.knots) {
      locations.push_back(k.location);
      jumps.push_back(k.slope_jump);
    }
    nb::dict d;
    d["x"] = to_numpy(c.x);
    d["f"] = to_numpy(c.f);
    d["abs_f2_smoothed"] = to_numpy(c.abs_f2_smoothed);
    d["g"] = to_numpy(c.g);
    d["knots"] = to_numpy(locations);
    d["slope_jumps"] = to_numpy(jumps);
    d["bandwidth"] = c.bandwidth;
    return d;
  }, "net"_a, "X"_a, "y"_a, "from_"_a, "to"_a, "points"_a, "bandwidth"_a);

  m.def("knots", [](const NetSpec& spec) {
    std::vector<double> locations, jumps;
    for (const Knot& k : knots(shallow(make_net(spec), "knots"))) {
      locations.push_back(k.location);
      jumps.push_back(k.slope_jump);
    }
    return nb::make_tuple(to_numpy(locations), to_numpy(jumps));
  }, "net"_a);

  m.def("empirical_weight", [](const Array1& inputs, const Array1& points) {
    const std::vector<double> x(inputs.data(), inputs.data() + inputs.shape(0));
    const EmpiricalWeight g(x);
    return to_numpy(g.evaluate(std::span<const double>(points.data(), points.shape(0))));
  }, "inputs"_a, "points"_a);
  m.def("population_weight", [](const std::string& law, const Array1& points) {
    Distribution d = Distribution::Uniform;
    if (law == "gaussian") {
      d = Distribution::Gaussian;
    } else if (law == "laplace") {
      d = Distribution::Laplace;
    } else if (law != "uniform") {
      throw InputError("law: expected uniform, gaussian or laplace (zero mean, unit variance), got '" +
                       law + "'");
    }
    Vec out(static_cast<Index>(points.shape(0)));
    for (Index i = 0; i < out.size(); ++i) out[i] = population_weight(d, points.data()[i]);
    return to_numpy(out);
  }, "law"_a, "points"_a);
  m.def("weighted_tv", [](const NetSpec& spec, const Array1& inputs) {
    const std::vector<double> x(inputs.data(), inputs.data() + inputs.shape(0));
    return weighted_tv(shallow(make_net(spec), "weighted_tv"), EmpiricalWeight(x));
  }, "net"_a, "inputs"_a);

  m.def("flattest", [](const NetSpec& spec, const Array2& X, const Array1& y, bool all) {
    const AnyNet net = make_net(spec);
    const Dataset data = make_data(X, y, std::nullopt);
    const ShallowReluNet& s = shallow(net, "flattest");
    require_relu(s, "flattest");
    FlattestResult f;
    std::optional<FlattestAllResult> a;
    {
      nb::gil_scoped_release release;
      f = flattest_implementation(s, data);
      if (all) a = flattest_over_implementations(s, data);
    }
    nb::dict d = flattest_dict(f);
    if (a) d["all"] = flattest_all_dict(*a);
    return d;
  }, "net"_a, "X"_a, "y"_a, "all"_a);

  m.def("kinks", [](const NetSpec& spec, const Array2& X, const Array1& y, std::optional<double> eta,
                    const std::string& loss) {
    const AnyNet net = make_net(spec);
    const Dataset data = make_data(X, y, std::nullopt);
    KinkAnalysis k;
    {
      nb::gil_scoped_release release;
      k = kink_analysis(shallow(net, "kinks"), data, eta, parse_loss(loss));
    }
    nb::dict d;
    std::vector<std::pair<Index, Index>> points;
    for (const KinkPoint& p : k.kinks) points.emplace_back(p.neuron, p.sample);
    d["kink_points"] = points;
    d["kink_neurons"] = k.kink_neurons;
    d["p_max"] = k.p_max;
    d["exhaustive"] = k.exhaustive;
    d["modes"] = k.modes.size();
    d["lambda_upper"] = k.lambda_upper;
    d["lambda_lower"] = k.lambda_lower;
    d["delta"] = k.delta;
    d["gamma"] = k.gamma;
    d["max_gradient_norm"] = k.max_gradient_norm;
    d["lemma5_bound"] = k.lemma5_bound;
    d["q"] = to_numpy(k.q);
    if (k.eta) {
      d["eta"] = *k.eta;
      d["lemma3_stable"] = k.lemma3_stable;
      d["lemma2_unstable"] = k.lemma2_unstable;
      d["thm2_delta"] = k.thm2_delta;
    }
    return d;
  }, "net"_a, "X"_a, "y"_a, "eta"_a, "loss"_a);

  m.def("parameters", [] {
    const RunConfig defaults;
    nb::list out;
    for (const ParamSpec& spec : run_parameters()) {
      out.append(nb::make_tuple(std::string(spec.key), param_object(spec.get(defaults)),
                                std::string(spec.help)));
    }
    return out;
  });

  m.def("train", [](const nb::dict& params, const std::optional<Array2>& X,
                    const std::optional<Array1>& y, const std::optional<Array1>& y_clean,
                    const std::optional<NetSpec>& initial, int threads,
                    const std::function<void(nb::dict)>& on_row) {
    RunConfig config;
    for (const auto& [key, value] : params) {
      const std::string name = nb::cast<std::string>(key);
      const ParamSpec* spec = find_parameter(name);
      if (spec == nullptr) throw InputError("unknown parameter '" + name + "'");
      spec->set(config, param_value(value));
    }
    validate_run_config(config);
    RunInputs inputs;
    inputs.load_data = [](const std::string& path) { return io::read_csv(path); };
    if (X && y) inputs.data = make_data(*X, *y, y_clean);
    if (initial) inputs.initial_net = shallow(make_net(*initial), "initial net");
    RunOutput out;
    {
      nb::gil_scoped_release release;
      out = run(config, inputs, RunContext{threads}, [&](const LogRow& row) {
        check_in_with_python(on_row, [&] { return log_row_dict(row); });
      });
    }
    nb::list log;
    for (const LogRow& row : out.training.log) log.append(log_row_dict(row));
    nb::dict extra;
    extra["key"] = out.key;
    extra["backend"] = out.backend;
    extra["outcome"] = std::string(outcome_name(out.training.outcome));
    extra["wall_seconds"] = out.wall_seconds;
    extra["config"] = canonical_json(config);
    return nb::make_tuple(metrics_list(run_metrics(out)), log, net_tuple(out.net), extra);
  }, "params"_a, "X"_a, "y"_a, "y_clean"_a, "initial"_a, "threads"_a, "on_row"_a.none());

  // `relustab sweep`: the same library calls (read the file, choose the directory, store::sweep_experiment).
  m.def("sweep", [](const std::string& path, const std::vector<std::string>& overrides,
                    const std::string& out, int jobs, const std::optional<std::string>& shard_text,
                    const std::function<void(nb::dict)>& on_progress) {
    const ExperimentSpec spec = config::read_experiment(path, overrides);
    std::optional<store::Shard> shard;
    if (shard_text) shard = store::parse_shard(*shard_text);
    const std::string dir = store::sweep_directory(path, out, shard);
    const SweepOptions options = store::sweep_options(jobs, shard);
    const auto progress_dict = [](const SweepProgress& p) {
      nb::dict d;
      d["total"] = p.total;
      d["done"] = p.done;
      d["failed"] = p.failed;
      d["running"] = p.running;
      d["elapsed_s"] = p.elapsed_s;
      d["eta_s"] = p.eta_s;
      return d;
    };
    SweepProgress result;
    {
      nb::gil_scoped_release release;
      result = store::sweep_experiment(spec, dir, options, [&](const SweepProgress& p) {
        check_in_with_python(on_progress, [&] { return progress_dict(p); });
      });
    }
    nb::dict d = progress_dict(result);
    d["name"] = spec.name;
    d["dir"] = dir;
    return d;
  }, "path"_a, "overrides"_a, "out"_a, "jobs"_a, "shard"_a.none(), "on_progress"_a.none());
}
