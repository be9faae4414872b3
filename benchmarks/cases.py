"""The drop-ins the benchmarks compare, and the bytes an update must move."""

#: name -> (keyword arguments of both optimizers, slots per parameter)
CONFIGS = {
    "SGD": ({}, 0),
    "SGD-momentum": ({"momentum": 0.9}, 1),
    "SGD-nesterov": ({"momentum": 0.9, "nesterov": True}, 1),
    "Adagrad": ({}, 1),
    "Adadelta": ({}, 2),
    "RMSprop": ({}, 1),
    "RMSprop-centered-momentum": ({"centered": True, "momentum": 0.9}, 3),
    "Adam": ({}, 2),
    "AdamW": ({}, 2),
    "Nadam": ({}, 2),
    "Adamax": ({}, 2),
    "Lion": ({}, 1),
}


def floor_bytes(n_slots: int) -> int:
    """Bytes per float32 parameter an update must read and write, at the
    least: parameter, gradient and each slot read; parameter and each slot
    written."""
    return 4 * (2 + n_slots) + 4 * (1 + n_slots)
