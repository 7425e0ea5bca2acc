"""
Every tensor datatype the engine serves, sent by tritonclient as JSON and as binary data and
given back exactly: a model (written by write_all_dtypes_model.ts) whose each output is its
input of the same type through Identity.
"""
import numpy as np
import pytest
import tritonclient.http as http
from tritonclient.utils import InferenceServerException

from conftest import wait_ready, write_all_dtypes_model

I64, U64 = np.iinfo(np.int64), np.iinfo(np.uint64)

# Per engine dtype: the protocol's datatype, and two rows of three values at the edges of the type.
CASES = {
    "bool": ("BOOL", np.array([[True, False, True], [False, False, True]])),
    "uint8": ("UINT8", np.array([[0, 1, 255], [7, 128, 254]], np.uint8)),
    "uint16": ("UINT16", np.array([[0, 1, 65535], [300, 32768, 2]], np.uint16)),
    "uint32": ("UINT32", np.array([[0, 1, 2**32 - 1], [70000, 2**31, 5]], np.uint32)),
    "uint64": ("UINT64", np.array([[0, 1, U64.max], [2**53 + 1, 2**63, 9]], np.uint64)),
    "int8": ("INT8", np.array([[-128, 0, 127], [-1, 1, 42]], np.int8)),
    "int16": ("INT16", np.array([[-32768, 0, 32767], [-300, 300, 1]], np.int16)),
    "int32": ("INT32", np.array([[-(2**31), 0, 2**31 - 1], [-70000, 70000, 3]], np.int32)),
    "int64": ("INT64", np.array([[I64.min, 0, I64.max], [-(2**53) - 1, 2**53 + 1, 4]], np.int64)),
    "float16": ("FP16", np.array([[0.0, -2.5, 65504.0], [6.1e-5, 0.1, -1.0]], np.float16)),
    "float32": ("FP32", np.array([[0.0, -2.5, 3.4e38], [1e-40, 0.1, -1.0]], np.float32)),
    "float64": ("FP64", np.array([[0.0, -2.5, 1.7e308], [5e-324, 0.1, -1.0]], np.float64)),
    "string": ("BYTES", np.array([[b"", b"a", "h\u00e9llo \u2603".encode()], [b"x" * 300, b"0", b" "]], np.object_)),
}


def json_safe(dtype, values):
    """JSON numbers are doubles: 64-bit integers beyond 2^53 go as binary data only (the server refuses them in JSON)."""
    if dtype == "int64":
        return np.clip(values, -(2**53 - 1), 2**53 - 1)
    if dtype == "uint64":
        return np.minimum(values, np.uint64(2**53 - 1))
    return values


@pytest.fixture(scope="module")
def server(start_switchboard, tmp_path_factory):
    model = tmp_path_factory.mktemp("all_dtypes") / "all_dtypes.onnx"
    write_all_dtypes_model(model)
    switchboard = start_switchboard("--model", str(model), "--name", "all_dtypes")
    client = http.InferenceServerClient(switchboard.endpoints["http"])
    wait_ready(client, "all_dtypes", switchboard.headers)
    return client, switchboard


def test_metadata_lists_every_datatype(server):
    client, switchboard = server
    meta = client.get_model_metadata("all_dtypes", headers=switchboard.headers)
    assert {i["name"]: i["datatype"] for i in meta["inputs"]} == {f"x_{d}": t for d, (t, _) in CASES.items()}
    assert all(i["shape"] == [-1, 3] for i in meta["inputs"] + meta["outputs"])


def test_statistics_list_the_loaded_version_before_any_request(server):
    client, switchboard = server
    stats = client.get_inference_statistics("all_dtypes", headers=switchboard.headers)["model_stats"]
    assert [(s["name"], s["version"], s["inference_count"]) for s in stats] == [("all_dtypes", "1", 0)]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_every_datatype_comes_back_exactly(server, binary):
    client, switchboard = server
    inputs, outputs, sent = [], [], {}
    for dtype, (datatype, values) in CASES.items():
        values = values if binary else json_safe(dtype, values)
        tensor = http.InferInput(f"x_{dtype}", list(values.shape), datatype)
        tensor.set_data_from_numpy(values, binary_data=binary)
        inputs.append(tensor)
        outputs.append(http.InferRequestedOutput(f"y_{dtype}", binary_data=binary))
        sent[dtype] = values
    result = client.infer("all_dtypes", inputs, outputs=outputs, headers=switchboard.headers)
    for dtype, values in sent.items():
        got = result.as_numpy(f"y_{dtype}")
        assert got.shape == values.shape, dtype
        if dtype == "string":
            # Binary BYTES come back as bytes; JSON has only strings, which tritonclient hands over as str.
            expected = values if binary else np.vectorize(lambda b: b.decode(), otypes=[object])(values)
            assert got.tolist() == expected.tolist()
        else:
            assert got.dtype == values.dtype, dtype
            np.testing.assert_array_equal(got, values, err_msg=dtype)


def test_int64_beyond_json_precision_is_refused_naming_the_tensor(server):
    client, switchboard = server
    tensors = []
    for dtype, (datatype, values) in CASES.items():
        tensor = http.InferInput(f"x_{dtype}", list(values.shape), datatype)
        tensor.set_data_from_numpy(values if dtype == "int64" else json_safe(dtype, values), binary_data=False)
        tensors.append(tensor)
    with pytest.raises(InferenceServerException, match=r'tensor "x_int64": element 0 is beyond'):
        client.infer("all_dtypes", tensors, headers=switchboard.headers)
