"""Graph networks over weave features: weave modules, gathers, W{k}N{d} models, PyG wrapper."""
from molattr.nn.gather import GaussianHistogramGather, SumGather
from molattr.nn.weave import WeaveConfig, WeaveModel
from molattr.nn.weave_layer import WeaveLayer
from molattr.nn.wrapper import PyGModelWrapper

__all__ = ["GaussianHistogramGather", "PyGModelWrapper", "SumGather", "WeaveConfig", "WeaveLayer", "WeaveModel"]
