import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
# Under Keras's JAX backend (KERAS_BACKEND=jax) float64 needs JAX's x64
# mode, read once when jax is first imported: set it before Keras loads
# (the float64 conformance cases need it; float32 cases are unaffected).
# Harmless under the other backends, which never read it.
os.environ.setdefault("JAX_ENABLE_X64", "1")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
