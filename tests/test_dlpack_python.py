"""CuPy -> hetmath -> PyTorch through DLPack 1.0 capsules on a GPU, with no copy.

An FFT in place: a CuPy array's versioned capsule becomes a hetmath view (the same pointer, its
read-only flag clear), hetmath transforms it on the device, exports it as a new versioned
managed tensor, and PyTorch takes that capsule: its tensor has CuPy's pointer and the transform
of the original values (against NumPy in double precision). A product: CuPy's A and B in, D
allocated by hetmath and handed to PyTorch with its ownership (PyTorch's deleter call frees it
through the context). Also: a consumed capsule is renamed, a read-only export is flagged.

Usage: python3 test_dlpack_python.py LIBHETMATH.so   (exit 77: skipped, no CuPy, PyTorch or GPU)
"""
import ctypes
import gc
import sys


def skip(why):
    print(f"test_dlpack_python: skipped, {why}")
    sys.exit(77)


try:
    import numpy as np
    import cupy as cp
    import torch
except Exception as e:  # noqa: BLE001 - any import failure means "not here"
    skip(f"no NumPy, CuPy or PyTorch ({e.__class__.__name__}: {e})")
try:
    if cp.cuda.runtime.getDeviceCount() == 0 or not torch.cuda.is_available():
        skip("no CUDA device")
except Exception as e:  # noqa: BLE001 - CuPy without a driver raises here
    skip(f"no CUDA device ({e})")

MAX_NDIM = 8
HOST, CUDA = 1, 2  # hm_device_type: DLPack's numbering
C64, F32 = 5, 3  # hm_dtype
KDL_CUDA = 2
TRANSFER_OWNERSHIP, READ_ONLY = 1, 2


class Device(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("id", ctypes.c_int)]


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", Device), ("dtype", ctypes.c_int),
                ("ndim", ctypes.c_int), ("shape", ctypes.c_int64 * MAX_NDIM),
                ("strides", ctypes.c_int64 * MAX_NDIM)]


class Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class ManagedVersioned(ctypes.Structure):  # only the head: version, manager_ctx, deleter, flags
    _fields_ = [("version", Version), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64)]


lib = ctypes.CDLL(sys.argv[1])
if not hasattr(lib, "hm_tensor_from_dlpack_versioned"):
    skip("hetmath was built without DLPack")
P = ctypes.POINTER
lib.hm_context_create.argtypes = [ctypes.c_void_p, P(ctypes.c_void_p)]
lib.hm_context_last_error.restype = ctypes.c_char_p
lib.hm_context_last_error.argtypes = [ctypes.c_void_p]
lib.hm_status_name.restype = ctypes.c_char_p
lib.hm_tensor_from_dlpack_versioned.argtypes = [ctypes.c_void_p, P(Tensor), P(ctypes.c_int)]
lib.hm_tensor_to_dlpack_versioned.argtypes = [ctypes.c_void_p, P(Tensor), ctypes.c_int,
                                              P(ctypes.c_void_p)]
lib.hm_fft.argtypes = [ctypes.c_void_p, P(Tensor), P(Tensor), ctypes.c_void_p]
lib.hm_matmul.argtypes = [ctypes.c_void_p, P(Tensor), P(Tensor), ctypes.c_void_p, P(Tensor),
                          ctypes.c_void_p]
lib.hm_tensor_alloc.argtypes = [ctypes.c_void_p, Device, ctypes.c_int, ctypes.c_int,
                                P(ctypes.c_int64), P(Tensor)]
lib.hm_context_synchronize.argtypes = [ctypes.c_void_p]
lib.hm_context_destroy.argtypes = [ctypes.c_void_p]

api = ctypes.pythonapi
api.PyCapsule_GetPointer.restype = ctypes.c_void_p
api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
api.PyCapsule_New.restype = ctypes.py_object
api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
api.PyCapsule_IsValid.restype = ctypes.c_int
api.PyCapsule_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]

checks = failures = 0


def check(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print(f"test_dlpack_python: CHECK failed: {what}")


ctx = ctypes.c_void_p()


def ok(status, what):
    if status != 0:
        msg = lib.hm_context_last_error(ctx).decode() if ctx.value else ""
        sys.exit(f"test_dlpack_python: {what} failed: {lib.hm_status_name(status).decode()}: {msg}")


def view_of(array):
    """A hetmath view of a CuPy array through its DLPack 1.0 capsule (the capsule stays
    CuPy's: its destructor calls its deleter when it is collected, unconsumed)."""
    cap = array.__dlpack__(max_version=(1, 0))
    check(api.PyCapsule_IsValid(cap, b"dltensor_versioned") == 1, "CuPy gave a 1.0 capsule")
    m = api.PyCapsule_GetPointer(cap, b"dltensor_versioned")
    t, read_only = Tensor(), ctypes.c_int(-1)
    ok(lib.hm_tensor_from_dlpack_versioned(m, ctypes.byref(t), ctypes.byref(read_only)),
       "hm_tensor_from_dlpack_versioned")
    check(t.data == array.data.ptr, "the view has CuPy's pointer (no copy)")
    check(read_only.value == 0, "CuPy's array is writable")
    check(t.device.type == CUDA and t.device.id == array.device.id, "the view is on its device")
    return t, cap


class Producer:
    """What torch.from_dlpack asks of a producer: our capsule, and where its data is."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        check(max_version is not None and max_version[0] >= 1, "PyTorch asked for DLPack 1.x")
        return self.capsule

    def __dlpack_device__(self):
        return (KDL_CUDA, 0)


def export(t, options):
    out = ctypes.c_void_p()
    ok(lib.hm_tensor_to_dlpack_versioned(ctx, ctypes.byref(t), options, ctypes.byref(out)),
       "hm_tensor_to_dlpack_versioned")
    head = ManagedVersioned.from_address(out.value)
    check(head.version.major == 1 and head.version.minor == 0, "hetmath exports DLPack 1.0")
    check(bool(head.flags & 1) == bool(options & READ_ONLY), "the read-only flag as asked")
    return api.PyCapsule_New(out.value, b"dltensor_versioned", None), head


ok(lib.hm_context_create(None, ctypes.byref(ctx)), "hm_context_create")
rng = np.random.default_rng(7)

# The FFT in place: CuPy's memory transformed by hetmath, read by PyTorch.
n = 4096
x_host = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
ref = np.fft.fft(x_host.astype(np.complex128))
a = cp.asarray(x_host)
cp.cuda.Device(0).synchronize()  # CuPy's stream, then hetmath's
x, cap = view_of(a)
ok(lib.hm_fft(ctx, ctypes.byref(x), ctypes.byref(x), None), "hm_fft")
ok(lib.hm_context_synchronize(ctx), "hm_context_synchronize")
capsule, _ = export(x, 0)
t = torch.from_dlpack(Producer(capsule))
check(t.data_ptr() == a.data.ptr, "PyTorch's tensor has CuPy's pointer (no copy)")
check(api.PyCapsule_IsValid(capsule, b"used_dltensor_versioned") == 1,
      "PyTorch renamed the capsule it consumed")
err = np.max(np.abs(t.cpu().numpy().astype(np.complex128) - ref)) / np.max(np.abs(ref))
check(err < 1e-5, f"the transform against NumPy's in double (error {err:.2e})")
check(np.array_equal(cp.asnumpy(a), t.cpu().numpy()), "CuPy sees the same values")
del t
gc.collect()

# The product: D allocated by hetmath, its ownership handed to PyTorch.
m_, k_, n_ = 64, 48, 32
A_host = rng.standard_normal((m_, k_)).astype(np.float32)
B_host = rng.standard_normal((k_, n_)).astype(np.float32)
A, B = cp.asarray(A_host), cp.asarray(B_host)
cp.cuda.Device(0).synchronize()
tA, capA = view_of(A)
tB, capB = view_of(B)
D = Tensor()
shape = (ctypes.c_int64 * 2)(m_, n_)
ok(lib.hm_tensor_alloc(ctx, Device(CUDA, 0), F32, 2, shape, ctypes.byref(D)), "hm_tensor_alloc")
ok(lib.hm_matmul(ctx, ctypes.byref(tA), ctypes.byref(tB), None, ctypes.byref(D), None),
   "hm_matmul")
ok(lib.hm_context_synchronize(ctx), "hm_context_synchronize")
capsule, _ = export(D, TRANSFER_OWNERSHIP)
d = torch.from_dlpack(Producer(capsule))
check(d.data_ptr() == D.data, "PyTorch's tensor has hetmath's pointer (no copy)")
want = A_host.astype(np.float64) @ B_host.astype(np.float64)
err = np.max(np.abs(d.cpu().numpy() - want)) / (k_ * np.max(np.abs(A_host)) * np.max(np.abs(B_host)))
check(err < 1e-6, f"the product against NumPy's in double (error {err:.2e})")
del d  # PyTorch calls the deleter: D freed through the context

# A read-only export, never consumed: flagged, and its deleter is the producer's to call.
capsule, head = export(x, READ_ONLY)
exported = api.PyCapsule_GetPointer(capsule, b"dltensor_versioned")
ctypes.CFUNCTYPE(None, ctypes.c_void_p)(head.deleter)(exported)
gc.collect()
torch.cuda.synchronize()
del cap, capA, capB
gc.collect()
lib.hm_context_destroy(ctx)

print(f"test_dlpack_python: {checks - failures} of {checks} checks passed "
      f"(CuPy {cp.__version__}, PyTorch {torch.__version__})")
sys.exit(1 if failures else 0)
